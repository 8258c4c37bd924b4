"""Per-machine calibration of the cost model, cached on disk like FFTW's wisdom.

Each algorithm's ``cost()`` formula carries the shape of its work, with constants
measured on the developer machine (`convolib.costs`). Another machine differs by
roughly a constant factor per algorithm, so `calibrate` times every algorithm on a
few small problems, divides its fastest run (other work on the machine only ever
adds time; the constants were fitted to fastest runs too) by the estimated seconds,
and keeps a typical ratio over the problems (`typical`: the geometric mean of the
middle half) as that algorithm's correction factor.
The planner multiplies estimates by it.

The factors live in the user's cache folder, keyed by convolib's version and the
CPU. The first plan of a process loads them, measuring them first (about a second)
if there are none. That measurement compiles nothing: numba compiles a loop on its
first call and keeps it on disk, and compiling every algorithm's loops for the sake
of timing them took three minutes in a fresh environment, where the call that asked
for a plan needs one algorithm's. So it times only the calls whose loops are compiled
already (`convolib.compiling.compiling_refused`), and notes the algorithms it could
not time; the first plan of a process an hour or more later times those whose loops
have been compiled since, for calls that needed them. `calibrate` (``convolib calibrate``)
compiles whatever it needs and times everything. ``CONVOLIB_CALIBRATION=off`` in the
environment uses the built-in constants unchanged (the test suite does, so its golden
plans do not depend on the machine); a cache that cannot be written is simply not
kept.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np

from ._version import __version__
from .compiling import CompilingRefusedError, compiling_refused
from .errors import check_progress

CASES = (
    # (op, x shape, k shape, dtype, mode): small, quick, spread over the algorithms' ranges
    ("convolve", (20_000,), (9,), "float64", "full"),
    ("convolve", (20_000,), (257,), "float64", "full"),
    ("correlate", (256, 256), (3, 3), "float32", "same"),
    ("correlate", (256, 256), (15, 15), "float32", "same"),
    ("convolve", (128, 128), (31, 31), "float64", "same"),
    ("convolve", (24, 24, 24), (5, 5, 5), "float32", "same"),
    ("convolve", (20_000,), (64,), "int64", "full"),
    ("convolve", (300,), (20,), "object", "full"),
    # neural-network layers: 16 -> 16 channels, 3x3 and 1x1 (x: N, groups, 1, C; k: 1, groups, K, C)
    ("correlate", (2, 1, 1, 16, 32, 32), (1, 1, 16, 16, 3, 3), "float32", "layer"),
    ("correlate", (2, 1, 1, 16, 32, 32), (1, 1, 16, 16, 1, 1), "float32", "layer"),
    ("correlate", (4, 1, 1, 32, 32, 32), (1, 1, 32, 32, 3, 3), "float32", "layer"),
    # a depthwise layer: 32 planes, each its own 5x5 kernel, no channel sum
    ("correlate", (4, 32, 1, 1, 24, 24), (1, 32, 1, 1, 5, 5), "float32", "layer"),
)
ROUNDS = 3
"""Rounds of timings over every call; with two, one run in five here still met a burst
long enough to raise direct's factor from 1.4 to 2.2."""

_LIMITS = (0.1, 10.0)
"""Factors outside this range mean a broken measurement, not a different machine."""

RETRY_SECONDS = 3600
"""How long after a first plan left algorithms untimed (their loops not compiled) the
first plan of a process looks for them again: a look that finds nothing new costs
about half a second (numba imported, each untimed call tried up to its first loop)."""

_factors: dict[str, float] | None = None
_missing: list[str] = []
"""The algorithms whose calls the loaded factors could not time (loops not compiled)."""


def cache_path() -> Path:
    """Where this machine's factors are kept."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1] for line in f if line.startswith("model name")), cpu)
    except OSError:
        cpu = platform.processor() or cpu
    key = "".join(c if c.isalnum() else "-" for c in f"{platform.machine()}-{cpu.strip()}")
    return root / "convolib" / f"calibration-{__version__}-{key}-{os.cpu_count()}cpu.json"


def _operand(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: str, kernel: bool = False
) -> np.ndarray:
    """Random values of the sizes the exact algorithms' models assume: sums near 2**60
    for int64 (as many primes as the dtypes call for), and for objects a signal of Python
    ints of about 150 bits (a chain of dice, say) with a kernel of small counts."""
    if dtype == "object":
        small = rng.integers(-9, 10, shape).astype(object)
        return small if kernel else small * 2**140 + 12345
    if dtype.startswith("int"):
        bound = 2**13 if kernel else 2**40
        return rng.integers(-bound, bound, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def model_key() -> str:
    """A fingerprint of the cost model: the registered algorithms and every constant in
    `convolib.costs`. Factors measured against another model are measured again."""
    import hashlib

    from . import costs
    from .algorithms import registry

    constants = {n: repr(v) for n, v in vars(costs).items() if n.isupper()}
    text = json.dumps([sorted(registry()), constants], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibrate(
    *, save: bool = True, repeats: int = 2, progress: Callable[[int, int], object] | None = None
) -> dict[str, float]:
    """Measure this machine's correction factor per algorithm (and keep them).

    Returns ``{algorithm: measured / estimated seconds}``; a factor of 2 means the
    algorithm runs twice as slowly here as its cost model says. Each call's time is
    the best of ``repeats`` in a row, in each of `ROUNDS` rounds. Loops not yet
    compiled are compiled first (minutes in a fresh environment);
    ``progress(done, total)`` is called as each call has run once and after each
    round.
    """
    global _factors, _missing
    check_progress(progress)
    factors, missing = _measure(repeats, compiles=True, progress=progress)
    _factors, _missing = factors, missing
    _keep(factors, missing, save)
    return dict(factors)


def complete() -> None:
    """Time the algorithms that the first plans could not (`calibrate`, compiling what
    they need), if any: for runs that should plan as a fully calibrated machine does,
    such as the benchmark suite."""
    factor("reference")  # loaded, or measured as far as compiled loops allow
    if _missing:
        calibrate()


def _measure(
    repeats: int,
    compiles: bool,
    names: frozenset[str] | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """The factors of the algorithms in ``names`` (all if None), and the algorithms
    whose calls could not all be timed: where ``compiles`` is false, those whose loops
    are not compiled yet (`compiling_refused`)."""
    from .algorithms import cannot_run, registry
    from .execute import prepare
    from .spec import build_spec
    from .threads import resolve

    workers = resolve(None)
    rng = np.random.default_rng(0)
    calls = []  # (algorithm name, the call, its estimate)
    for op, sx, sk, dtype, mode in CASES:
        x, k = _operand(rng, sx, dtype), _operand(rng, sk, dtype, kernel=True)
        options = {}
        if mode == "layer":  # the layout of convolib.nn: channels summed, padded "same"
            pads = tuple(((m - 1) // 2, m // 2) for m in sk[-2:])
            options = {"axes": (4, 5), "pads": pads, "contract": 3}
        spec = build_spec(op, x, k, "valid" if options else mode, **options)
        spec, signal, kernel = prepare(spec, x, k)
        for name, algorithm in registry().items():
            if names is not None and name not in names:
                continue
            estimate = (
                algorithm.cost(spec, workers).seconds
                if cannot_run(algorithm, spec) is None
                else math.inf
            )
            if math.isfinite(estimate):  # an infinite one: auto never plans it there
                call = partial(algorithm.run, spec, signal, kernel, workers)
                calls.append((name, call, estimate))
    report = progress or (lambda done, total: None)
    runs, missing = [], set()
    for done, (name, call, estimate) in enumerate(calls, 1):
        try:
            with nullcontext() if compiles else compiling_refused():
                call()  # compile, or find compiled
            runs.append((name, call, estimate))
        except CompilingRefusedError:
            missing.add(name)
        report(done, len(calls) + ROUNDS)
    # Rounds over every call, each warmed up and then timed in a row (as a repeated
    # call runs), the best kept: a burst of load from elsewhere slows one round of
    # every algorithm rather than every timing of one.
    best = [math.inf] * len(runs)
    for round_ in range(ROUNDS):
        for i, (_, call, _) in enumerate(runs):
            call()
            for _ in range(repeats):
                start = time.perf_counter()
                call()
                best[i] = min(best[i], time.perf_counter() - start)
        report(len(calls) + round_ + 1, len(calls) + ROUNDS)
    ratios: dict[str, list[float]] = {}
    for (name, _, estimate), seconds in zip(runs, best, strict=True):
        ratios.setdefault(name, []).append(seconds / estimate)
    factors = {name: min(max(typical(r), _LIMITS[0]), _LIMITS[1]) for name, r in ratios.items()}
    return factors, sorted(missing)


def typical(ratios: list[float]) -> float:
    """The geometric mean of the middle half of ``ratios`` (a quarter of them, rounded
    down, left out at each end). Like the median it ignores a burst that slows one
    problem; unlike it, it moves a little, not a lot, when the ratios fall in two
    groups and one problem crosses from one to the other (direct's, over problems its
    model fits differently, sat near 0.7 and near 1.5, and the median of eight took
    either 1.19 or 1.94 between runs minutes apart).

    >>> round(typical([0.5, 0.7, 0.9, 1.5, 1.6, 9.0]), 2)
    1.11
    """
    ordered = sorted(ratios)
    cut = len(ordered) // 4
    middle = ordered[cut : len(ordered) - cut]
    return math.exp(statistics.fmean(math.log(r) for r in middle))


def _keep(factors: dict[str, float], missing: list[str], save: bool) -> None:
    """Plans made with the old factors forgotten, and the factors written to the cache
    (with the algorithms still to time) if ``save``."""
    from .planner import forget_plans

    forget_plans()
    if not save:
        return
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        saved = {
            "version": __version__,
            "model": model_key(),
            "factors": factors,
            "missing": missing,
            "tried": time.time(),
        }
        tmp.write_text(json.dumps(saved, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache: the factors still serve this process


def factor(name: str) -> float:
    """The correction factor for algorithm ``name`` (1.0 when uncalibrated)."""
    global _factors
    if _factors is None:
        if os.environ.get("CONVOLIB_CALIBRATION", "").lower() in ("off", "0", "no"):
            _factors = {}
        else:
            _factors = {}  # set first: measuring plans nothing, but be safe
            _factors = _load_or_measure()
    return float(_factors.get(name, 1.0))


def _load_or_measure() -> dict[str, float]:
    """The cached factors, with those of algorithms not timed before timed now if their
    loops have been compiled since (looked for at most every `RETRY_SECONDS`); or, with
    none cached, the factors of every algorithm whose loops are compiled."""
    global _missing
    try:
        saved = json.loads(cache_path().read_text())
        if saved["model"] != model_key():
            raise ValueError("factors of another cost model")
        factors, missing = dict(saved["factors"]), list(saved.get("missing", []))
        tried = float(saved.get("tried", 0))
    except (OSError, ValueError, KeyError, TypeError):
        factors, missing, tried = {}, None, 0.0
    if missing == [] or (missing and time.time() - tried < RETRY_SECONDS):
        _missing = missing
        return factors
    names = None if missing is None else frozenset(missing)
    more, _missing = _measure(2, compiles=False, names=names)
    factors.update(more)
    _keep(factors, _missing, save=True)
    return factors
