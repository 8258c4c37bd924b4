"""The benchmark suite of ``BENCHMARKS.md``: convolib against its peers, in one process.

Run ``python -m convolib.bench [--cases s1,i1,...] [--quick] [--repeats N] [--out DIR]``
(``make bench`` installs the ``bench`` extra first). Each case computes one thing
several ways: convolib (``method="auto"``), every peer the suite lists for it, and
every algorithm convolib can be forced to use. All results are checked against
convolib's before anything is timed (a disagreement is an error, and the exit status
is 1); then all are timed in this one process, interleaved round-robin (each sample
after a few milliseconds of untimed calls of its own, `WARM_S`), with 2 threads each,
and the medians are reported. Outputs: a table on stdout,
``DIR/bench.json`` (machine, roofline figures, every number) and ``DIR/bench.png``
(the ratios as bars). Peers that are not installed are skipped with a note.

What is counted:

- **ratio** = best peer's median time / convolib's median time (above 1: convolib is
  faster). ``scipy.signal.convolve`` is also timed on the s, i and v cases that do not
  list it (a *baseline*, not a peer) for the "against scipy.signal.convolve" figure.
- **regret** = convolib's ``auto`` median / the median of the fastest algorithm it can
  be forced to use (``method=name``, among the plan's candidates whose ``supports()``
  accepts the spec). The plan's own algorithm is not timed again: auto's samples
  stand for it, so regret is at least 1 and measures a wrong choice, not the noise
  between two timings of one computation. A candidate estimated at over 20x the plan
  (and over 1 s) is not timed; one whose first call takes over 10x auto's is timed
  once, not in the rounds. (The e1 chain's calls have plans of their own, so there
  every candidate is timed.)
- **flops** = 2 x terms, terms = the multiply-adds of the direct sum (batch x output
  elements x kernel elements, ``Spec.terms``), whichever algorithm runs.
- **bytes** = input + output bytes, ``x.nbytes + k.nbytes + y.nbytes``: each moved once.
- **roofline**: memory bandwidth from a numba parallel triad ``a = b + s*c`` (24 bytes
  per element: two reads and one write, write-allocate not counted) and FMA throughput
  from numba loops of independent fused multiply-add chains (2 FLOP each), both on 2
  threads, best of several runs; measured at the start and again after every case, and
  the highest figures kept (other work on the machine only lowers them). Per case,
  fraction = (flops / time) / min(peak FLOP/s, bandwidth x flops / bytes). Transform
  algorithms do less work than the direct sum, so their fraction can exceed 1; integer
  cases are held to the float64 FMA peak; object (Python int) cases have no roofline.
- **memory**: ``tracemalloc``'s peak during one convolib call (NumPy and Python
  allocations, including the output; not C-level scratch such as pocketfft's), in MiB
  and as a multiple of input + output bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .api import convolve, plan
from .planner import Plan

THREADS = 2
"""Threads for everyone: convolib, OpenCV, torch, scipy.fft (BENCHMARKS.md)."""

SAMPLE_S = 2e-3
"""A sample of a faster call times a batch of calls lasting about this long."""

WARM_S = 5e-3
"""Before each sample, the same call runs untimed for at least this long (once at
least), so that no sample pays for the call before it: a peer's OpenMP threads spin
for a few milliseconds after it returns, taking the cores from whatever runs next
(measured here: convolib's n3 at 3.1 ms right after torch's call, 1.8 ms after its
own). Calls over `WARM_LIMIT_S` are not warmed: the aftermath is small beside them."""

WARM_LIMIT_S = 50e-3

TIME_BUDGET_S = {False: 6.0, True: 0.3}
"""Seconds of timed rounds per case that the default repeat count aims at (full, quick)."""

REPEATS = {False: (5, 25), True: (3, 5)}
"""The fewest and most rounds per case when ``--repeats`` is not given (full, quick)."""

SLOW_ROUNDS_S = 60.0
"""When the fewest rounds would take longer than this, fewer (down to 1) are run."""

FORCED_SKIP_FACTOR = 20.0
"""Forced algorithms estimated at more than this times the plan's estimate are not timed."""

FMA_CHAINS = 16
"""Fused multiply-adds per element and pass in the FMA kernel (written out below)."""

PENDING: dict[str, str] = {}
"""Cases of BENCHMARKS.md that this suite does not run yet."""

Run = Callable[[], Any]
PeerFactory = Callable[[], Run]
"""Imports a peer and returns its prepared call; raises ImportError if it is missing."""


@dataclass
class Setup:
    """One case's inputs bound into calls: convolib by method name, and its peers."""

    call: Callable[[str], Run]
    """convolib's call with a method, ready to time (nothing wrapped around it)."""
    plan: Callable[[], Plan]
    peers: dict[str, PeerFactory]
    terms: int
    io_bytes: int
    kind: str
    """``float32``, ``float64``, ``int`` or ``object``: which FMA peak applies."""
    exact: bool = False
    rtol: float = 1e-4
    """Float results agree when max|peer - convolib| <= rtol * max|convolib|."""
    baseline: PeerFactory | None = None
    """``scipy.signal.convolve`` where the case does not list it as a peer."""
    latency: bool = False
    one_plan: bool = True
    """Auto runs ``plan()`` alone, so forcing its algorithm would repeat auto's work
    (False for a chain of calls with plans of their own)."""


@dataclass(frozen=True)
class Case:
    """A case of BENCHMARKS.md: an id, a short description, and how to set it up."""

    id: str
    what: str
    build: Callable[[np.random.Generator, bool], Setup]

    @property
    def group(self) -> str:
        return self.id[0]


# --------------------------------------------------------------------------- helpers


def convolve_setup(
    x: np.ndarray,
    k: np.ndarray,
    mode: str = "full",
    *,
    peers: dict[str, PeerFactory],
    baseline: PeerFactory | None = None,
    latency: bool = False,
    **options: Any,
) -> Setup:
    """A `Setup` for ``convolib.convolve(x, k, mode, **options)`` and the given peers."""

    def call(method: str) -> Run:
        if options:
            return partial(convolve, x, k, mode, method=method, workers=THREADS, **options)
        # a call as written, as the peers' are: partial's keyword merging costs about
        # 0.15 µs, 5% of l2
        return lambda: convolve(x, k, mode, method=method, workers=THREADS)

    def planned() -> Plan:
        return plan("convolve", x, k, mode, workers=THREADS, **options)

    spec = planned().spec
    acc = spec.acc_dtype
    kind = acc.name if acc.kind == "f" else ("object" if acc.kind == "O" else "int")
    out_bytes = math.prod(spec.out_shape) * spec.out_dtype.itemsize
    return Setup(
        call=call,
        plan=planned,
        peers=peers,
        terms=spec.terms,
        io_bytes=x.nbytes + k.nbytes + out_bytes,
        kind=kind,
        exact=kind in ("int", "object"),
        rtol=1e-4 if acc == np.float32 else 1e-9,
        baseline=baseline,
        latency=latency,
    )


def compare(got: Any, want: Any, *, exact: bool, rtol: float) -> str | None:
    """``None`` if a peer's result ``got`` agrees with convolib's ``want``, else why not.

    Exact cases need equal values (any dtypes); float cases need
    ``max|got - want| <= rtol * max|want|`` and no NaN where ``want`` has none.
    Tuples (a backward pass's gradients) are compared part by part.
    """
    if isinstance(want, tuple):
        found = [compare(g, w, exact=exact, rtol=rtol) for g, w in zip(got, want, strict=True)]
        return next((f"part {i}: {f}" for i, f in enumerate(found) if f), None)
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape}, convolib's is {want.shape}"
    if got.size == 0:
        return None
    return _differs_exact(got, want) if exact else _differs_float(got, want, rtol)


def _differs_exact(got: np.ndarray, want: np.ndarray) -> str | None:
    equal = np.asarray(got == want, dtype=bool)
    bad = int(equal.size - np.count_nonzero(equal))
    if not bad:
        return None
    first = np.unravel_index(int(np.argmin(equal)), equal.shape)
    return (
        f"{bad} of {equal.size} values differ, first at {tuple(map(int, first))}: "
        f"{got[first]!r} instead of {want[first]!r}"
    )


def _differs_float(got: np.ndarray, want: np.ndarray, rtol: float) -> str | None:
    g, w = got.astype(np.float64), want.astype(np.float64)
    if np.isnan(g).any() and not np.isnan(w).any():
        return "NaN where convolib has none"
    scale = float(np.max(np.abs(w))) or 1.0
    error = float(np.max(np.abs(g - w))) / scale
    if not error <= rtol:
        return f"max error {error:.2e} of max|y|, over the tolerance {rtol:.0e}"
    return None


def _timed(fn: Run) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _primed(fn: Run, compiles: bool = False) -> tuple[Any, float]:
    """Call ``fn`` (filling caches), then again unless that took over a second, or
    always where the first call may have compiled (convolib's: numba's compilation
    can take minutes, and a first call's time sizes the rounds); the last result and
    the last call's time."""
    out, seconds = _timed(fn)
    if seconds < 1.0 or compiles:
        del out
        out, seconds = _timed(fn)
    return out, seconds


def traced_peak(fn: Run) -> int:
    """Bytes of the ``tracemalloc`` peak during one call of ``fn``, above its start."""
    gc.collect()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        del out
    finally:
        if not tracing:
            tracemalloc.stop()
    return max(0, peak)


def interleaved(
    runs: dict[str, Run], single: dict[str, float], repeats: int | None, quick: bool
) -> tuple[dict[str, list[float]], int]:
    """Time ``runs`` in rounds, each in a new random (seeded) order.

    A call pays for what ran before it (threads woken from sleep, a peer's threads
    still spinning, output pages faulted in after a peer's large temporaries were
    returned to the system); each sample of a call under `WARM_LIMIT_S` is therefore
    preceded by `WARM_S` of untimed calls of its own, and a fixed or rotating order
    would charge what is left to the same call in most rounds.

    ``single`` holds one call's time of each, to size the batches of fast calls and,
    without ``repeats``, the number of rounds. Returns seconds per call and rounds.
    """
    number = {
        name: 1 if single[name] >= SAMPLE_S else math.ceil(SAMPLE_S / max(single[name], 1e-7))
        for name in runs
    }
    warm = {name: WARM_S if single[name] < WARM_LIMIT_S else 0.0 for name in runs}
    warm_s = {name: max(warm[name], single[name]) if warm[name] else 0.0 for name in runs}
    round_s = sum(number[name] * single[name] + warm_s[name] for name in runs)
    if repeats is None:
        low, high = REPEATS[quick]
        repeats = max(low, min(high, int(TIME_BUDGET_S[quick] / max(round_s, 1e-9))))
        if round_s * low > SLOW_ROUNDS_S:
            repeats = max(1, int(SLOW_ROUNDS_S / round_s))
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        order = np.random.default_rng(len(names))
        for _ in range(repeats):
            for name in order.permutation(names).tolist():
                fn, n = runs[name], number[name]
                start = time.perf_counter()
                while warm[name]:
                    fn()
                    if time.perf_counter() - start >= warm[name]:
                        break
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - start) / n)
    finally:
        if enabled:
            gc.enable()
    return samples, repeats


def geomean(values: list[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def format_seconds(seconds: float | None, latency: bool = False) -> str:
    """``1.23 ms``; latency cases always in microseconds."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if latency or seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


# --------------------------------------------------------------------------- peers


def _cv2() -> Any:
    import cv2

    cv2.setNumThreads(THREADS)
    return cv2


def _torch() -> Any:
    import torch

    torch.set_num_threads(THREADS)
    return torch


def _flipped(k: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(k[(slice(None, None, -1),) * k.ndim])


def numpy_convolve(x: np.ndarray, k: np.ndarray) -> PeerFactory:
    return lambda: lambda: np.convolve(x, k)


def signal_call(name: str, x: np.ndarray, k: np.ndarray, mode: str, **kw: Any) -> PeerFactory:
    """``scipy.signal.<name>(x, k, mode, **kw)``."""

    def make() -> Run:
        from scipy import signal

        fn = getattr(signal, name)
        return lambda: fn(x, k, mode, **kw)

    return make


def cv2_full_1d(x: np.ndarray, k: np.ndarray) -> PeerFactory:
    """A full 1-D convolution with OpenCV ``filter2D`` on a 1xN image.

    ``filter2D`` correlates: the kernel is flipped; the input goes into a buffer of
    the output's length, and the anchor at the last tap with a zero border makes
    output i the sum over x[i - j] k[j].
    """

    def make() -> Run:
        cv2 = _cv2()
        n, m = x.size, k.size
        kf = _flipped(k).reshape(1, m)

        def run() -> np.ndarray:
            buf = np.zeros((1, n + m - 1), x.dtype)
            buf[0, :n] = x
            out = cv2.filter2D(buf, -1, kf, anchor=(m - 1, 0), borderType=cv2.BORDER_CONSTANT)
            return out.reshape(-1)

        return run

    return make


def cv2_filter2d(
    x: np.ndarray, k: np.ndarray, border: str = "BORDER_CONSTANT", ddepth: str | None = None
) -> PeerFactory:
    """A 'same' convolution with OpenCV ``filter2D`` (flipped kernel, centred anchor)."""

    def make() -> Run:
        cv2 = _cv2()
        depth = -1 if ddepth is None else getattr(cv2, ddepth)
        kf = _flipped(k).astype(np.float32 if x.dtype != np.float64 else np.float64)
        b = getattr(cv2, border)
        return lambda: cv2.filter2D(x, depth, kf, borderType=b)

    return make


def cv2_sep_filter2d(x: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> PeerFactory:
    """OpenCV ``sepFilter2D`` given the kernel's factors (``k = outer(gy, gx)``), zero border."""

    def make() -> Run:
        cv2 = _cv2()
        ky, kx = _flipped(gy), _flipped(gx)
        return lambda: cv2.sepFilter2D(x, -1, kx, ky, borderType=cv2.BORDER_CONSTANT)

    return make


def cv2_gaussian_blur(x: np.ndarray, size: int, sigma: float) -> PeerFactory:
    def make() -> Run:
        cv2 = _cv2()
        return lambda: cv2.GaussianBlur(
            x, (size, size), sigma, sigmaY=sigma, borderType=cv2.BORDER_CONSTANT
        )

    return make


def ndimage_convolve(
    x: np.ndarray, k: np.ndarray, mode: str = "constant", output: Any = None
) -> PeerFactory:
    def make() -> Run:
        from scipy import ndimage

        return lambda: ndimage.convolve(x, k, output=output, mode=mode)

    return make


def ndimage_gaussian(x: np.ndarray, sigma: float, truncate: float) -> PeerFactory:
    def make() -> Run:
        from scipy import ndimage

        return lambda: ndimage.gaussian_filter(x, sigma, mode="constant", truncate=truncate)

    return make


def torch_conv2d_same(x: np.ndarray, k: np.ndarray) -> PeerFactory:
    """``torch.nn.functional.conv2d`` (a correlation: flipped kernel), zero padding m//2."""

    def make() -> Run:
        torch = _torch()
        xt = torch.from_numpy(x)[None, None]
        wt = torch.from_numpy(_flipped(k))[None, None]
        pad = (k.shape[0] // 2, k.shape[1] // 2)

        def run() -> np.ndarray:
            with torch.no_grad():
                return torch.nn.functional.conv2d(xt, wt, padding=pad)[0, 0].numpy()

        return run

    return make


def torch_conv1d_full(x: np.ndarray, k: np.ndarray) -> PeerFactory:
    """Full convolution of each row of ``x`` with the one row of ``k``: torch ``conv1d``."""

    def make() -> Run:
        torch = _torch()
        xt = torch.from_numpy(x)[:, None, :]
        wt = torch.from_numpy(_flipped(k.reshape(-1)))[None, None]
        pad = k.shape[-1] - 1

        def run() -> np.ndarray:
            with torch.no_grad():
                return torch.nn.functional.conv1d(xt, wt, padding=pad)[:, 0].numpy()

        return run

    return make


# --------------------------------------------------------------------------- cases


def _size(n: int, quick: bool, shrink: int = 16) -> int:
    return max(1, n // shrink) if quick else n


def _normal(rng: np.random.Generator, shape: Any, dtype: Any) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def gaussian_1d(m: int, sigma: float) -> np.ndarray:
    """The sampled Gaussian of ``m`` taps (m odd), normalised to sum 1, in float64."""
    t = np.arange(m) - (m - 1) / 2
    g = np.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def _s1(rng: np.random.Generator, quick: bool) -> Setup:
    x = _normal(rng, _size(1_000_000, quick), np.float64)
    k = _normal(rng, 16, np.float64)
    peers = {
        "numpy.convolve": numpy_convolve(x, k),
        "scipy.signal.convolve": signal_call("convolve", x, k, "full"),
        "cv2.filter2D 1xN": cv2_full_1d(x, k),
    }
    return convolve_setup(x, k, "full", peers=peers)


def _s2(rng: np.random.Generator, quick: bool) -> Setup:
    x = _normal(rng, _size(10_000_000, quick), np.float32)
    k = _normal(rng, 64, np.float32)
    peers = {
        "numpy.convolve": numpy_convolve(x, k),
        "scipy.signal.convolve": signal_call("convolve", x, k, "full"),
        "scipy.signal.oaconvolve": signal_call("oaconvolve", x, k, "full"),
        "cv2.filter2D 1xN": cv2_full_1d(x, k),
    }
    return convolve_setup(x, k, "full", peers=peers)


def _s3(rng: np.random.Generator, quick: bool) -> Setup:
    x = _normal(rng, _size(1_000_000, quick), np.float64)
    k = _normal(rng, 1001, np.float64)
    peers = {
        "scipy.signal.convolve": signal_call("convolve", x, k, "full"),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "full"),
        "scipy.signal.oaconvolve": signal_call("oaconvolve", x, k, "full"),
        "cv2.filter2D 1xN": cv2_full_1d(x, k),
    }
    return convolve_setup(x, k, "full", peers=peers)


def _s4(rng: np.random.Generator, quick: bool) -> Setup:
    x = _normal(rng, _size(10_000_000, quick), np.float32)
    k = _normal(rng, 4096, np.float32)
    peers = {
        "scipy.signal.oaconvolve": signal_call("oaconvolve", x, k, "full"),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "full"),
        "cv2.filter2D 1xN": cv2_full_1d(x, k),
    }
    baseline = signal_call("convolve", x, k, "full")
    return convolve_setup(x, k, "full", peers=peers, baseline=baseline)


def _s5(rng: np.random.Generator, quick: bool) -> Setup:
    n = 2**16 if quick else 2**20
    x, k = _normal(rng, n, np.float64), _normal(rng, n, np.float64)
    peers = {"scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "full")}
    baseline = signal_call("convolve", x, k, "full")
    return convolve_setup(x, k, "full", peers=peers, baseline=baseline)


def _s6(rng: np.random.Generator, quick: bool) -> Setup:
    x = _normal(rng, (_size(256, quick), 16384), np.float32)
    k = _normal(rng, (1, 128), np.float32)
    peers = {
        "scipy.signal.oaconvolve": signal_call("oaconvolve", x, k, "full", axes=-1),
        "torch conv1d": torch_conv1d_full(x, k),
    }
    baseline = signal_call("convolve", x, k, "full")
    return convolve_setup(x, k, "full", axes=-1, peers=peers, baseline=baseline)


def _image_peers(x: np.ndarray, k: np.ndarray) -> dict[str, PeerFactory]:
    return {
        "cv2.filter2D": cv2_filter2d(x, k),
        "scipy.ndimage.convolve": ndimage_convolve(x, k),
        "scipy.signal.convolve": signal_call("convolve", x, k, "same"),
        "torch conv2d": torch_conv2d_same(x, k),
    }


def _i1(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x, k = _normal(rng, (side, side), np.float32), _normal(rng, (3, 3), np.float32)
    return convolve_setup(x, k, "same", peers=_image_peers(x, k))


def _i2(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x, k = _normal(rng, (side, side), np.float32), _normal(rng, (5, 5), np.float32)
    return convolve_setup(x, k, "same", peers=_image_peers(x, k))


def _i3(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x = _normal(rng, (side, side), np.float32)
    g = gaussian_1d(15, 7 / 3).astype(np.float32)
    k = np.outer(g, g)
    peers = {
        "cv2.filter2D": cv2_filter2d(x, k),
        "cv2.sepFilter2D": cv2_sep_filter2d(x, g, g),
        "scipy.ndimage.convolve": ndimage_convolve(x, k),
    }
    baseline = signal_call("convolve", x, k, "same")
    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _i4(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x, k = _normal(rng, (side, side), np.float32), _normal(rng, (31, 31), np.float32)
    peers = {
        "cv2.filter2D": cv2_filter2d(x, k),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "same"),
    }
    baseline = signal_call("convolve", x, k, "same")
    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _i5(rng: np.random.Generator, quick: bool) -> Setup:
    side = 1024 if quick else 4096
    x = rng.integers(0, 256, (side, side), dtype=np.uint8)
    k = np.ones((5, 5), np.uint8)
    peers = {
        "cv2.filter2D (float32)": cv2_filter2d(x, k, ddepth="CV_32F"),
        "scipy.ndimage.convolve (int64)": ndimage_convolve(x, k, output=np.int64),
    }
    k64 = k.astype(np.int64)

    def baseline() -> Run:  # on uint8 it would wrap: the cast is part of the call
        from scipy import signal

        return lambda: signal.convolve(x.astype(np.int64), k64, "same")

    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _i6(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x, k = _normal(rng, (side, side), np.float32), _normal(rng, (7, 7), np.float32)
    peers = {
        "cv2.filter2D (REFLECT_101)": cv2_filter2d(x, k, border="BORDER_REFLECT_101"),
        "scipy.ndimage.convolve (mirror)": ndimage_convolve(x, k, mode="mirror"),
    }

    def baseline() -> Run:
        from scipy import signal

        return lambda: signal.convolve(np.pad(x, 3, mode="reflect"), k, "valid")

    return convolve_setup(x, k, "same", boundary="reflect", peers=peers, baseline=baseline)


def _i7(rng: np.random.Generator, quick: bool) -> Setup:
    side = 1024 if quick else 4096
    x = _normal(rng, (side, side), np.float32)
    g = gaussian_1d(49, 8.0).astype(np.float32)
    k = np.outer(g, g)
    peers = {
        "cv2.GaussianBlur": cv2_gaussian_blur(x, 49, 8.0),
        "cv2.sepFilter2D": cv2_sep_filter2d(x, g, g),
        "scipy.ndimage.gaussian_filter": ndimage_gaussian(x, 8.0, truncate=3.0),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "same"),
    }
    baseline = signal_call("convolve", x, k, "same")
    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _i8(rng: np.random.Generator, quick: bool) -> Setup:
    side = 512 if quick else 2048
    x, k = _normal(rng, (side, side), np.float64), _normal(rng, (11, 11), np.float64)
    peers = {
        "cv2.filter2D": cv2_filter2d(x, k),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "same"),
    }
    baseline = signal_call("convolve", x, k, "same")
    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _l1(rng: np.random.Generator, quick: bool) -> Setup:
    x, k = _normal(rng, (64, 64), np.float32), _normal(rng, (3, 3), np.float32)
    peers = {"cv2.filter2D": cv2_filter2d(x, k), "scipy.ndimage.convolve": ndimage_convolve(x, k)}
    return convolve_setup(x, k, "same", peers=peers, latency=True)


def _l2(rng: np.random.Generator, quick: bool) -> Setup:
    x, k = _normal(rng, 1000, np.float64), _normal(rng, 8, np.float64)
    return convolve_setup(
        x, k, "full", peers={"numpy.convolve": numpy_convolve(x, k)}, latency=True
    )


def _volume(rng: np.random.Generator, quick: bool, k: np.ndarray) -> Setup:
    side = 100 if quick else 256
    x = _normal(rng, (side,) * 3, np.float32)
    peers = {
        "scipy.ndimage.convolve": ndimage_convolve(x, k),
        "scipy.signal.fftconvolve": signal_call("fftconvolve", x, k, "same"),
    }
    baseline = signal_call("convolve", x, k, "same")
    return convolve_setup(x, k, "same", peers=peers, baseline=baseline)


def _v1(rng: np.random.Generator, quick: bool) -> Setup:
    return _volume(rng, quick, _normal(rng, (5, 5, 5), np.float32))


def _v2(rng: np.random.Generator, quick: bool) -> Setup:
    g = gaussian_1d(9, 4 / 3)
    return _volume(rng, quick, np.einsum("i,j,k->ijk", g, g, g).astype(np.float32))


def _e1(rng: np.random.Generator, quick: bool) -> Setup:
    """The exact distribution (counts out of 20**dice) of the sum of ``dice`` d20s:
    ``dice - 1`` convolutions of Python-int object arrays, one more die each."""
    dice = 25 if quick else 100
    die = np.ones(20, dtype=object)

    def chain(conv: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        dist = die
        for _ in range(dice - 1):
            dist = conv(dist, die)
        return dist

    def run(method: str) -> np.ndarray:
        return chain(lambda a, b: convolve(a, b, method=method, workers=THREADS))

    def planned() -> Plan:  # the last and largest call
        return plan("convolve", np.ones(19 * (dice - 1) + 1, dtype=object), die, workers=THREADS)

    terms = sum((19 * i + 1 + 19) * 20 for i in range(1, dice))
    item = 8 + sys.getsizeof(20**dice)  # a pointer and a Python int as large as the largest
    io_bytes = (19 * (dice - 1) + 1 + 20 + 19 * dice + 1) * item
    peers = {"numpy.convolve (object)": lambda: lambda: chain(np.convolve)}
    return Setup(
        lambda method: partial(run, method),
        planned,
        peers,
        terms,
        io_bytes,
        "object",
        exact=True,
        one_plan=False,
    )


def _e2(rng: np.random.Generator, quick: bool) -> Setup:
    x = rng.integers(0, 2**20, _size(1_000_000, quick), dtype=np.int64)
    k = rng.integers(0, 2**20, 1000, dtype=np.int64)
    peers = {
        "numpy.convolve": numpy_convolve(x, k),
        "scipy.signal.convolve (direct)": signal_call("convolve", x, k, "full", method="direct"),
    }
    return convolve_setup(x, k, "full", peers=peers)


def _layer_setup(
    rng: np.random.Generator,
    quick: bool,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    dtype: Any = np.float32,
    backward: bool = False,
    **options: Any,
) -> Setup:
    """A `convolib.nn` layer (or its backward pass) against ``torch`` on two threads."""
    from . import nn

    if quick:
        x_shape = (1, *x_shape[1:])
    x, w = _normal(rng, x_shape, dtype), _normal(rng, w_shape, dtype)
    g = _normal(rng, nn.output_shape(x.shape, w.shape, **options), dtype)
    fn = {3: "conv1d", 4: "conv2d", 5: "conv3d"}[w.ndim]

    def run(method: str) -> Any:
        if not backward:
            return nn.conv(x, w, method=method, workers=THREADS, **options)
        # A forced method is the input gradient's (the planned layer's candidates); the
        # weight gradient, another shape of problem, always takes auto's choice.
        return (
            nn.conv_grad_input(x.shape, w, g, method=method, workers=THREADS, **options),
            nn.conv_grad_weight(x, w.shape, g, workers=THREADS, **options),
        )

    def planned() -> Plan:
        return nn.plan(x, w, workers=THREADS, **options)

    def peer() -> Run:
        torch = _torch()
        xt, wt, gt = (torch.from_numpy(a) for a in (x, w, g))
        grad = getattr(torch.nn.grad, f"{fn}_input"), getattr(torch.nn.grad, f"{fn}_weight")
        forward = getattr(torch.nn.functional, fn)

        def call() -> Any:
            with torch.no_grad():
                if not backward:
                    return forward(xt, wt, **options).numpy()
                return (
                    grad[0](xt.shape, wt, gt, **options).numpy(),
                    grad[1](xt, wt.shape, gt, **options).numpy(),
                )

        return call

    spec = planned().spec
    terms = spec.terms * (2 if backward else 1)
    io = x.nbytes + w.nbytes + g.nbytes * (2 if backward else 1)
    peer_name = "torch autograd kernels" if backward else f"torch.nn.functional.{fn}"
    return Setup(
        lambda method: partial(run, method),
        planned,
        {peer_name: peer},
        terms,
        io,
        np.dtype(dtype).name,
        rtol=1e-3 if dtype == np.float32 else 1e-9,
    )


def _n1(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 64, 56, 56), (64, 64, 3, 3), padding=1)


def _n2(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 128, 28, 28), (128, 128, 3, 3), padding=1)


def _n3(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (1, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3)


def _n4(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 256, 14, 14), (256, 256, 3, 3), padding=1)


def _n5(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 384, 28, 28), (384, 1, 7, 7), padding=3, groups=384)


def _n6(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 64, 56, 56), (256, 64, 1, 1))


def _n7(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (4, 16, 65536), (16, 16, 1025), padding=512)


def _n8(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 64, 56, 56), (64, 64, 3, 3), backward=True, padding=1)


def _n9(rng: np.random.Generator, quick: bool) -> Setup:
    return _layer_setup(rng, quick, (8, 64, 56, 56), (64, 64, 3, 3), np.float64, padding=1)


CASES = (
    Case("s1", "1-D f64 x 1e6, k 16, full", _s1),
    Case("s2", "1-D f32 x 1e7, k 64, full", _s2),
    Case("s3", "1-D f64 x 1e6, k 1001, full", _s3),
    Case("s4", "1-D f32 x 1e7, k 4096, full", _s4),
    Case("s5", "1-D f64 x 2^20, k 2^20, full", _s5),
    Case("s6", "256 x f32 16384, k 128, last axis, full", _s6),
    Case("i1", "2-D f32 2048², 3×3, same, zeros", _i1),
    Case("i2", "2-D f32 2048², 5×5, same, zeros", _i2),
    Case("i3", "2-D f32 2048², 15×15 Gaussian (2-D array)", _i3),
    Case("i4", "2-D f32 2048², 31×31, same", _i4),
    Case("i5", "2-D uint8 4096², 5×5 ones, exact", _i5),
    Case("i6", "2-D f32 2048², 7×7, same, reflect", _i6),
    Case("i7", "2-D f32 4096², 49×49 Gaussian σ=8 (2-D array)", _i7),
    Case("i8", "2-D f64 2048², 11×11, same", _i8),
    Case("l1", "latency: 2-D f32 64², 3×3, same", _l1),
    Case("l2", "latency: 1-D f64 n=1000, k=8, full", _l2),
    Case("v1", "3-D f32 256³, 5×5×5, same", _v1),
    Case("v2", "3-D f32 256³, 9×9×9 Gaussian (3-D array)", _v2),
    Case("n1", "NN f32 N8 C64 56² → K64 3×3 pad 1", _n1),
    Case("n2", "NN f32 N8 C128 28² → K128 3×3 pad 1", _n2),
    Case("n3", "NN f32 N1 C3 224² → K64 7×7 stride 2 pad 3", _n3),
    Case("n4", "NN f32 N8 C256 14² → K256 3×3 pad 1", _n4),
    Case("n5", "NN f32 depthwise N8 C384 28² 7×7 groups 384 pad 3", _n5),
    Case("n6", "NN f32 N8 C64 56² → K256 1×1", _n6),
    Case("n7", "NN f32 1-D N4 C16 L65536 → K16, kernel 1025, pad 512", _n7),
    Case("n8", "backward of n1 (grad input and grad weight)", _n8),
    Case("n9", "NN f64 N8 C64 56² → K64 3×3 pad 1", _n9),
    Case("e1", "exact: sum of 100 d20 (Python ints)", _e1),
    Case("e2", "exact: int64 x 1e6 < 2^20, k 1000, full", _e2),
)
"""The cases of BENCHMARKS.md that run today (the descriptions give full sizes;
``--quick`` shrinks them about 16x in elements)."""


# --------------------------------------------------------------------------- roofline


@cache
def _roofline_kernels() -> tuple[Any, Any]:
    from numba import njit, prange

    from .algorithms._simd import wide_vectors

    @njit(parallel=True, cache=True)
    def triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:  # pragma: no cover
        for i in prange(a.shape[0]):
            a[i] = b[i] + s * c[i]

    # ``contract`` allows fused multiply-adds but no reassociation, so the chains stay.
    @njit(parallel=True, fastmath={"contract"}, cache=True)
    def fma(x: np.ndarray, reps: int, a: Any, b: Any) -> None:  # pragma: no cover
        for t in prange(x.shape[0]):
            wide_vectors()  # as convolib's loops are compiled
            row = x[t]
            for _ in range(reps):
                for j in range(row.shape[0]):  # vectorised; iterations are independent
                    v = row[j]
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    v = v * a + b
                    row[j] = v

    return triad, fma


def _best_of(fn: Run, times: int) -> float:
    return min(_timed(fn)[1] for _ in range(times))


def _bandwidth(triad: Any, n: int, tries: int) -> float:
    a, b, c = np.empty(n), np.full(n, 1.0), np.full(n, 2.0)
    triad(a, b, c, 3.0)
    return 24 * n / _best_of(lambda: triad(a, b, c, 3.0), tries)


def _fma_peak(fma: Any, dtype: type, target_s: float, tries: int) -> float:
    x = np.ones((2 * THREADS, 1024), dtype)
    half, quarter = dtype(0.5), dtype(0.25)  # v -> v/2 + 1/4 settles at 1/2: no denormals
    fma(x, 1, half, quarter)
    reps, seconds = 16, 0.0
    while reps < 2**30:  # grow the work until launch overhead no longer counts
        seconds = _best_of(lambda r=reps: fma(x, r, half, quarter), 2)
        if seconds >= target_s / 4:
            break
        reps *= 4
    reps = max(1, int(reps * target_s / seconds))
    best = _best_of(lambda: fma(x, reps, half, quarter), tries)
    return 2 * FMA_CHAINS * x.size * reps / best


def measure_roofline(quick: bool = False) -> dict[str, Any]:
    """Memory bandwidth (bytes/s) and FMA peak (FLOP/s per float dtype) on ``THREADS``."""
    import numba

    triad, fma = _roofline_kernels()
    previous = numba.get_num_threads()
    numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
    tries = 3 if quick else 5
    n = 2**23 if quick else 2**25
    try:
        bandwidth = _bandwidth(triad, n, tries)
        peaks = {
            np.dtype(dtype).name: _fma_peak(fma, dtype, 0.02 if quick else 0.1, tries)
            for dtype in (np.float32, np.float64)
        }
    finally:
        numba.set_num_threads(previous)
    return {
        "threads": THREADS,
        "bandwidth_bytes_per_s": bandwidth,
        "peak_flops_per_s": peaks,
        "bandwidth_kernel": f"numba parallel triad a = b + s*c on {n} float64, 24 bytes per "
        f"element (write-allocate not counted), best of {tries}",
        "fma_kernel": f"numba parallel loop, {FMA_CHAINS} dependent FMAs per element on "
        f"independent vector lanes (2 FLOP each), L1-resident rows, best of {tries}",
    }


def best_roofline(measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest bandwidth and peaks of several measurements (a shared machine only
    ever makes them lower), what was counted, and every measurement."""
    bandwidth = max(m["bandwidth_bytes_per_s"] for m in measurements)
    peaks = {
        name: max(m["peak_flops_per_s"][name] for m in measurements)
        for name in measurements[0]["peak_flops_per_s"]
    }
    return {
        "threads": THREADS,
        "bandwidth_bytes_per_s": bandwidth,
        "peak_flops_per_s": peaks,
        "ridge_flop_per_byte": {name: p / bandwidth for name, p in peaks.items()},
        "bandwidth_kernel": measurements[0]["bandwidth_kernel"],
        "fma_kernel": measurements[0]["fma_kernel"],
        "flops_counted": "2 x terms of the direct sum (batch x output elements x kernel "
        "elements), whichever algorithm runs",
        "bytes_counted": "input + output bytes (x.nbytes + k.nbytes + y.nbytes)",
        "fraction": "(flops / time) / min(peak FLOP/s, bandwidth x flops / bytes); integer "
        "cases use the float64 peak; object cases have none",
        "measurements": [
            {
                "bandwidth_bytes_per_s": m["bandwidth_bytes_per_s"],
                "peak_flops_per_s": m["peak_flops_per_s"],
            }
            for m in measurements
        ],
    }


def roofline_of(
    terms: int, io_bytes: int, kind: str, seconds: float, roof: dict[str, Any] | None
) -> dict[str, Any]:
    """Achieved and attainable FLOP/s of one case, and their ratio (module docstring)."""
    flops = 2 * terms
    intensity = flops / io_bytes if io_bytes else math.inf
    result: dict[str, Any] = {"flops": flops, "arithmetic_intensity": intensity}
    if roof is None or kind == "object":
        return result | {"fraction": None, "bound": None}
    peak = roof["peak_flops_per_s"]["float64" if kind == "int" else kind]
    memory = roof["bandwidth_bytes_per_s"] * intensity
    attainable = min(peak, memory)
    achieved = flops / seconds
    return result | {
        "achieved_flops_per_s": achieved,
        "attainable_flops_per_s": attainable,
        "bound": "memory" if memory < peak else "compute",
        "fraction": achieved / attainable,
    }


# --------------------------------------------------------------------------- one case


def run_case(
    case: Case,
    *,
    quick: bool = False,
    repeats: int | None = None,
    roof: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Check and time one case; every number of it, as a JSON-ready dict."""
    setup = case.build(np.random.default_rng(seed), quick)
    errors: list[str] = []
    notes: list[str] = []
    auto = setup.call("auto")
    want, seconds = _primed(auto, compiles=True)
    single = {"convolib": seconds}
    peak = traced_peak(auto)
    chosen = setup.plan()
    runs: dict[str, Run] = {"convolib": auto}

    def prepare(key: str, label: str, factory: PeerFactory) -> dict[str, Any]:
        try:
            fn = factory()
        except ImportError as exc:
            notes.append(f"{label}: skipped, not installed ({exc.name or exc})")
            return {"skipped": f"not installed ({exc.name or exc})"}
        try:
            got, seconds = _primed(fn)
        except Exception as exc:
            notes.append(f"{label}: failed, {type(exc).__name__}: {exc}")
            return {"failed": f"{type(exc).__name__}: {exc}"}
        problem = compare(got, want, exact=setup.exact, rtol=setup.rtol)
        del got
        if problem:
            errors.append(f"{label} disagrees with convolib: {problem}")
            return {"error": problem}
        runs[key], single[key] = fn, seconds
        return {}

    peers = {name: prepare(f"peer:{name}", name, f) for name, f in setup.peers.items()}
    baseline = None
    if setup.baseline is not None:
        baseline = prepare("baseline", "scipy.signal.convolve (baseline)", setup.baseline)

    forced: dict[str, dict[str, Any]] = {}
    for c in chosen.candidates:
        if c.why_not is not None:
            forced[c.name] = {"skipped": c.why_not}
        elif c.name == chosen.algorithm and setup.one_plan:
            # Forced, the plan's own algorithm runs auto's computation again: timed
            # twice, the luckier of two equal timings would set the regret.
            forced[c.name] = {"note": "the plan's algorithm: auto's samples stand for it"}
        elif math.isinf(c.seconds):
            forced[c.name] = {"skipped": "not timed: its cost model rules it out here"}
        elif c.seconds > max(1.0, FORCED_SKIP_FACTOR * chosen.seconds):
            forced[c.name] = {
                "skipped": f"not timed: estimated {format_seconds(c.seconds)}, over "
                f"{FORCED_SKIP_FACTOR:g}x the plan's {format_seconds(chosen.seconds)}"
            }
        else:
            fn = setup.call(c.name)
            try:
                got, seconds = _primed(fn, compiles=True)
            except Exception as exc:
                errors.append(f"method={c.name!r} failed: {type(exc).__name__}: {exc}")
                forced[c.name] = {"failed": f"{type(exc).__name__}: {exc}"}
                continue
            problem = compare(got, want, exact=setup.exact, rtol=setup.rtol)
            del got
            if problem:
                errors.append(f"method={c.name!r} disagrees with auto: {problem}")
                forced[c.name] = {"error": problem}
            elif seconds > max(0.5, 10 * single["convolib"]):
                forced[c.name] = {
                    "median_s": seconds,
                    "samples": [seconds],
                    "note": "timed once: over 10x auto's time",
                }
            else:
                forced[c.name] = {}
                runs[f"forced:{c.name}"], single[f"forced:{c.name}"] = fn, seconds

    samples, rounds = interleaved(runs, single, repeats, quick)
    median = {key: statistics.median(times) for key, times in samples.items()}
    t = median["convolib"]

    def filled(key: str, entry: dict[str, Any]) -> dict[str, Any]:
        if key in median:
            return {"median_s": median[key], "samples": samples[key]}
        return entry

    peers = {name: filled(f"peer:{name}", e) for name, e in peers.items()}
    if baseline is not None:
        baseline = filled("baseline", baseline)
    forced = {name: filled(f"forced:{name}", e) for name, e in forced.items()}
    timed = {name: e["median_s"] for name, e in peers.items() if "median_s" in e}
    best = min(timed, key=timed.__getitem__) if timed else None
    signal_s = (peers.get("scipy.signal.convolve") or baseline or {}).get("median_s")
    if setup.one_plan:
        forced[chosen.algorithm] |= {"median_s": t, "samples": samples["convolib"]}
    speeds = {name: e["median_s"] for name, e in forced.items() if "median_s" in e}
    if chosen.algorithm not in speeds:
        speeds[chosen.algorithm] = t
    fastest = min(speeds, key=speeds.__getitem__)
    return {
        "id": case.id,
        "what": case.what,
        "group": case.group,
        "latency": setup.latency,
        "convolib": {"median_s": t, "samples": samples["convolib"]},
        "peers": peers,
        "baseline": baseline,
        "best_peer": best,
        "best_peer_s": timed.get(best) if best else None,
        "ratio": timed[best] / t if best else None,
        "scipy_signal_convolve_ratio": signal_s / t if signal_s else None,
        "algorithm": chosen.algorithm,
        "plan_reason": chosen.reason,
        "plan_estimate_s": chosen.seconds,
        "candidates": {
            c.name: {"estimate_s": c.seconds, "why_not": c.why_not} for c in chosen.candidates
        },
        "forced": forced,
        "fastest_forced": fastest,
        "regret": t / speeds[fastest],
        "peak_memory_bytes": peak,
        "peak_memory_mib": peak / 2**20,
        "io_bytes": setup.io_bytes,
        "peak_memory_x_io": peak / setup.io_bytes if setup.io_bytes else None,
        "terms": setup.terms,
        "kind": setup.kind,
        "roofline": roofline_of(setup.terms, setup.io_bytes, setup.kind, t, roof),
        "rounds": rounds,
        "errors": errors,
        "notes": notes,
    }


def _crashed(case: Case, exc: BaseException) -> dict[str, Any]:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno}"
    message = f"convolib failed: {type(exc).__name__}: {exc} (at {where})"
    return {
        "id": case.id,
        "what": case.what,
        "group": case.group,
        "latency": False,
        "ratio": None,
        "errors": [message],
        "notes": [],
    }


# --------------------------------------------------------------------------- summary


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometric means and every target of BENCHMARKS.md: met, missed (by how much) or
    not evaluated (``met`` is ``None``)."""
    ok = [r for r in results if r.get("ratio") is not None]
    siv = [r["ratio"] for r in ok if r["group"] in "siv"]
    vs_signal = [
        r["scipy_signal_convolve_ratio"]
        for r in results
        if r["group"] in "siv" and r.get("scipy_signal_convolve_ratio")
    ]
    g_siv, g_signal = geomean(siv), geomean(vs_signal)
    targets = []

    def target(
        name: str,
        rows: list[tuple[str, float]],
        good: Callable[[float], bool],
        show: Callable[[float], str],
    ) -> None:
        if not rows:
            targets.append({"target": name, "met": None, "detail": "no case measured"})
            return
        missed = [(cid, v) for cid, v in rows if not good(v)]
        detail = (
            "missed by " + ", ".join(f"{cid} {show(v)}" for cid, v in missed)
            if missed
            else f"met on {', '.join(cid for cid, _ in rows)}"
        )
        targets.append({"target": name, "met": not missed, "detail": detail})

    ratios = [(r["id"], r["ratio"]) for r in ok]
    target(
        "every case: ratio >= 1.0",
        ratios,
        lambda v: v >= 1.0,
        lambda v: f"{v:.2f}x (needs {1 / v:.2g}x faster)",
    )
    target(
        "latency l1, l2: not slower than the peers",
        [(cid, v) for cid, v in ratios if cid in ("l1", "l2")],
        lambda v: v >= 1.0,
        lambda v: f"{v:.2f}x (needs {1 / v:.2g}x faster)",
    )
    for name, value, goal, count in (
        ("geometric mean ratio over s, i, v >= 3", g_siv, 3.0, len(siv)),
        ("geometric mean against scipy.signal.convolve >= 10", g_signal, 10.0, len(vs_signal)),
    ):
        if value is None:
            targets.append({"target": name, "met": None, "detail": "no case measured"})
        else:
            met = value >= goal
            detail = f"{value:.3g} over {count} cases" + (
                "" if met else f", short by {goal / value:.2g}x"
            )
            targets.append({"target": name, "met": met, "detail": detail})
    target(
        "NN cases n1-n9: ratio >= 1.0 against torch",
        [(cid, v) for cid, v in ratios if cid.startswith("n")],
        lambda v: v >= 1.0,
        lambda v: f"{v:.2f}x (needs {1 / v:.2g}x faster)",
    )
    target(
        "small kernels s1, s2, i1, i2, i6: >= 50% of the bandwidth roofline",
        [
            (r["id"], r["roofline"]["fraction"])
            for r in ok
            if r["id"] in ("s1", "s2", "i1", "i2", "i6") and r["roofline"].get("fraction")
        ],
        lambda v: v >= 0.5,
        lambda v: f"{v:.0%} (needs {0.5 / v:.2g}x faster)",
    )
    target(
        "planner regret <= 1.25 on every case",
        [(r["id"], r["regret"]) for r in ok],
        lambda v: v <= 1.25,
        lambda v: f"{v:.2f}",
    )
    target(
        "memory: tracemalloc peak <= 3x (input + output) bytes (conservative: includes the "
        "output and any FFT workspace NumPy allocates)",
        [(r["id"], r["peak_memory_x_io"]) for r in ok if r.get("peak_memory_x_io") is not None],
        lambda v: v <= 3.0,
        lambda v: f"{v:.2g}x",
    )
    return {
        "geomean_ratio_siv": g_siv,
        "geomean_ratio_siv_cases": len(siv),
        "geomean_vs_scipy_signal_convolve": g_signal,
        "geomean_vs_scipy_signal_convolve_cases": len(vs_signal),
        "targets": targets,
    }


# --------------------------------------------------------------------------- output


def table(results: list[dict[str, Any]]) -> str:
    """The results as a plain-text table, with per-case details underneath."""
    head = (
        "case",
        "what",
        "convolib",
        "best peer",
        "peer",
        "ratio",
        "algorithm",
        "regret",
        "peak MiB (×io)",
        "roofline",
    )
    rows = [head]
    for r in results:
        if r.get("convolib") is None:
            rows.append((r["id"], r["what"], "FAILED", *("",) * 7))
            continue
        lat = r["latency"]
        roof = r["roofline"]
        fraction = roof.get("fraction")
        rows.append(
            (
                r["id"],
                r["what"],
                format_seconds(r["convolib"]["median_s"], lat),
                r["best_peer"] or "-",
                format_seconds(r["best_peer_s"], lat),
                f"{r['ratio']:.2f}×" if r["ratio"] else "-",
                r["algorithm"],
                f"{r['regret']:.2f}",
                f"{r['peak_memory_mib']:.3g} ({r['peak_memory_x_io']:.2g}×)",
                _fraction(fraction, roof["bound"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    details = []
    for r in results:
        if r.get("convolib") is None:
            details.extend(f"  {r['id']}: ERROR {e}" for e in r["errors"])
            continue
        lat = r["latency"]
        timed = [(name, e) for name, e in r["peers"].items() if "median_s" in e]
        parts = [f"{name} {format_seconds(e['median_s'], lat)}" for name, e in timed]
        if r["baseline"] and "median_s" in r["baseline"]:
            parts.append(
                f"baseline scipy.signal.convolve {format_seconds(r['baseline']['median_s'], lat)}"
            )
        forced = [
            f"{name} {format_seconds(e['median_s'], lat)}"
            for name, e in r["forced"].items()
            if "median_s" in e
        ]
        details.append(
            f"  {r['id']}: peers: {'; '.join(parts) or 'none'} | forced: "
            f"{'; '.join(forced)} | {r['rounds']} rounds"
        )
        details.extend(f"      note: {n}" for n in r["notes"])
        details.extend(
            f"      note: method={name!r} {e['skipped']}"
            for name, e in r["forced"].items()
            if "skipped" in e
            and name in r["candidates"]
            and r["candidates"][name]["why_not"] is None
        )
        details.extend(f"      ERROR: {e}" for e in r["errors"])
    return "\n".join([*lines, "", "details (medians):", *details])


def _fraction(fraction: float | None, bound: str | None) -> str:
    """``42% mem``; fractions of 10 and more (transforms) as ``151× com``."""
    if fraction is None or bound is None:
        return "-"
    return f"{fraction:.0%} {bound[:3]}" if fraction < 10 else f"{fraction:.0f}× {bound[:3]}"


def draw_chart(results: list[dict[str, Any]], path: Path, title: str) -> str | None:
    """Horizontal bars of the ratios from a line at 1.0 (log scale); ``None`` or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return "matplotlib is not installed: no chart (pip install matplotlib)"
    rows = [r for r in results if r.get("ratio")]
    if not rows:
        return "no case has a ratio: no chart"
    ratios = [r["ratio"] for r in rows]
    low, high = min([*ratios, 1.0]), max([*ratios, 1.0])
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(rows) + 1.6))
    y = np.arange(len(rows))
    ax.barh(
        y,
        [abs(v - 1.0) for v in ratios],
        left=[min(v, 1.0) for v in ratios],
        color=["#2e8b57" if v >= 1.0 else "#c0392b" for v in ratios],
        height=0.65,
    )
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1.2)
    ax.set_xlim(min(low / 25, 0.1), max(high * 80, 30))  # room for the labels
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.set_yticks(y, labels=[f"{r['id']}  {r['what']}" for r in rows], fontsize=9)
    ax.invert_yaxis()
    for i, (r, v) in enumerate(zip(rows, ratios, strict=True)):
        text = f" {v:.2f}× vs {r['best_peer']} "
        ax.text(v, i, text, va="center", ha="left" if v >= 1.0 else "right", fontsize=8)
    ax.set_xlabel("best peer's median time / convolib's (log scale; right of 1: convolib faster)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


AVX512_BLAS_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")
"""OpenBLAS's kernel sets that use 512-bit vectors."""


def blas_note(machine: dict[str, Any]) -> str | None:
    """A note where OpenBLAS runs 256-bit kernels on a CPU with AVX-512 (as 0.3.31 does
    on AMD Zen 5): gemm and winograd then run at half the machine's FMA peak.

    >>> blas_note({"avx512f": True, "blas": [{"internal_api": "openblas",
    ...     "version": "0.3.31", "architecture": "Haswell"}]}).split(":")[0]
    'OpenBLAS 0.3.31 runs its Haswell kernels'
    """
    if not machine.get("avx512f"):
        return None
    for lib in machine.get("blas", []):
        arch = str(lib.get("architecture"))
        if lib.get("internal_api") == "openblas" and arch.lower() not in AVX512_BLAS_KERNELS:
            return (
                f"OpenBLAS {lib.get('version')} runs its {arch} kernels: 256-bit vectors on "
                f"this AVX-512 CPU, for gemm and winograd (the NN cases) too; "
                f"OPENBLAS_CORETYPE=SkylakeX, set before Python starts, selects its AVX-512 "
                f"kernels"
            )
    return None


def machine_info() -> dict[str, Any]:
    """Where and with what this ran."""
    from importlib import metadata

    from . import calibration, threads
    from .algorithms import registry

    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": threads.cpu_count(),
        "threads": THREADS,
        "convolib": __version__,
        "algorithms": sorted(registry()),
        "calibration_factors": {name: calibration.factor(name) for name in sorted(registry())},
        "calibration_env": os.environ.get("CONVOLIB_CALIBRATION"),
    }
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        text = f.read()
        info["cpu"] = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in text.splitlines()
                if ln.startswith("model name")
            ),
            None,
        )
        info["avx512f"] = " avx512f" in text
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as f:
        info["memory_bytes"] = int(f.readline().split()[1]) * 1024
    versions = {}
    for dist in ("numpy", "scipy", "numba", "opencv-python-headless", "torch", "matplotlib"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {key: lib.get(key) for key in ("internal_api", "version", "architecture")}
            for lib in threadpool_info()
            if lib.get("user_api") == "blas"
        ]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    return info


@contextlib.contextmanager
def _thread_limits(notes: list[str]) -> Iterator[None]:
    """scipy.fft (and BLAS, where threadpoolctl is installed) limited to ``THREADS``;
    OpenMP threads (torch's, numba's) sleep when a call ends instead of spinning, so
    one library's idle threads do not take the cores from the next call timed (on a
    2-core Xeon they made convolib's calls 1.5-4x slower in the suite than alone, and
    torch's too). It reaches only the OpenMP runtimes loaded after it is set, which in
    ``convolib bench`` is all of them; OpenCV's own thread pool is not OpenMP."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import scipy.fft

    with contextlib.ExitStack() as stack:
        stack.enter_context(scipy.fft.set_workers(THREADS))
        try:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(THREADS))
        except ImportError:
            notes.append(
                "threadpoolctl not installed: BLAS threads not limited (no peer here calls BLAS)"
            )
        yield


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine shows here."""
    try:
        return list(os.getloadavg())
    except (OSError, AttributeError):
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (JSON has no inf or NaN)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m convolib.bench",
        description="convolib's benchmark suite (BENCHMARKS.md): convolib against its peers.",
    )
    parser.add_argument("--cases", help="comma-separated case ids (default: all), e.g. s1,i1,e1")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--repeats", type=int, help="rounds per case (default: adaptive)")
    parser.add_argument("--out", default="bench-output", help="folder for bench.json, bench.png")
    parser.add_argument(
        "--dask",
        action="store_true",
        help="also convolve a volume larger than a local Dask cluster's memory (_dask_bench)",
    )
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats {args.repeats}: must be at least 1")
    known = {c.id for c in CASES}
    if args.cases:
        wanted = [s.strip() for s in args.cases.split(",") if s.strip()]
        unknown = [c for c in wanted if c not in known and c not in PENDING]
        if unknown:
            parser.error(
                f"--cases: unknown {', '.join(unknown)}; known: {', '.join(c.id for c in CASES)}"
            )
        args.cases = wanted
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the suite; 0 if every result agreed, 1 if any disagreed or failed."""
    from . import calibration

    args = _parse(argv)
    selected = [c for c in CASES if not args.cases or c.id in args.cases]
    pending = [c for c in (args.cases or PENDING) if c in PENDING]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    notes = [f"{', '.join(pending)}: {PENDING[pending[0]]}"] if pending else []
    results = []
    started = time.perf_counter()
    load_before = _load_average()
    with _thread_limits(notes):
        calibration.complete()  # plans as a calibrated machine's, whatever ran before
        print("measuring the roofline ...", file=sys.stderr, flush=True)
        measurements = [measure_roofline(args.quick)]
        for i, case in enumerate(selected, 1):
            print(f"[{i}/{len(selected)}] {case.id} {case.what} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                results.append(run_case(case, quick=args.quick, repeats=args.repeats))
            except Exception as exc:
                results.append(_crashed(case, exc))
            gc.collect()
            measurements.append(measure_roofline(quick=True))  # noise only ever lowers them
            print(f"    {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    dask_report = None
    if args.dask:
        print("dask: a volume larger than the cluster's memory ...", file=sys.stderr, flush=True)
        try:
            from . import _dask_bench

            dask_report = _dask_bench.run(**_dask_bench.sizes(args.quick))
        except ImportError as exc:
            notes.append(f"dask: skipped, not installed ({exc.name})")
    roof = best_roofline(measurements)
    for r in results:
        if r.get("convolib"):
            seconds = r["convolib"]["median_s"]
            r["roofline"] = roofline_of(r["terms"], r["io_bytes"], r["kind"], seconds, roof)
    summary = summarize(results)
    errors = [f"{r['id']}: {e}" for r in results for e in r["errors"]]
    g = summary["geomean_ratio_siv"]
    title = (
        f"convolib vs best peer, {THREADS} threads{' (quick sizes)' if args.quick else ''}; "
        f"geometric mean over s, i, v: {g:.2f}×"
        if g
        else f"convolib vs best peer, {THREADS} threads"
    )
    chart_path = out / "bench.png"
    chart_note = draw_chart(results, chart_path, title)
    if chart_note:
        notes.append(chart_note)
    machine = machine_info()
    if note := blas_note(machine):
        notes.append(note)
    report = {
        "schema": 1,
        "machine": machine,
        "settings": {
            "quick": args.quick,
            "repeats": args.repeats,
            "threads": THREADS,
            "cases": [c.id for c in selected],
            "seconds": time.perf_counter() - started,
            "load_average_before": load_before,
            "load_average_after": _load_average(),
        },
        "roofline": roof,
        "cases": results,
        "dask": dask_report,
        "summary": summary,
        "pending": {c: PENDING[c] for c in PENDING},
        "chart": None if chart_note else chart_path.name,
        "errors": errors,
        "notes": notes,
    }
    (out / "bench.json").write_text(
        json.dumps(_finite(report), indent=1, default=_jsonable) + "\n", encoding="utf-8"
    )
    bw = roof["bandwidth_bytes_per_s"]
    peaks = roof["peak_flops_per_s"]
    if args.quick:
        print("--quick: every case about 16x smaller than its description, few rounds")
    print(table(results))
    print()
    print(
        f"roofline ({THREADS} threads): bandwidth {bw / 1e9:.1f} GB/s (triad); FMA peak "
        f"{peaks['float32'] / 1e9:.0f} GFLOP/s float32, {peaks['float64'] / 1e9:.0f} GFLOP/s "
        f"float64; ridge {peaks['float32'] / bw:.1f} FLOP/byte (float32)"
    )
    print(
        "roofline fraction: (2 x direct-sum terms / time) / min(peak, bandwidth x FLOP/byte),"
        " bytes = input + output"
    )
    if dask_report is not None:
        from ._dask_bench import summary as dask_summary

        print(dask_summary(dask_report))
    for t in summary["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        print(f"[{mark:>6}] {t['target']}: {t['detail']}")
    for n in notes:
        print(f"note: {n}")
    for e in errors:
        print(f"ERROR: {e}")
    print(f"wrote {out / 'bench.json'}" + ("" if chart_note else f" and {chart_path}"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
