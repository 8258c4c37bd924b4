"""The direct algorithm: the sum itself, in compiled loops (``_direct_kernels``).

Output columns are innermost and contiguous so the loops vectorise; runs of output
rows go in parallel above a size threshold. Implicit zero padding costs nothing:
taps that fall outside the signal are skipped; or the loops copy the signal rows of
one band of output rows at a time into a zero-padded buffer, with no row ends to test
(`costs.direct_padded`), and where rows are short, whole planes at once
(`costs.direct_planes`). The band copies also pad by the other boundary rules (a
constant other than zero excepted); elsewhere the signal is padded first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .. import _heap, costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register

MAX_AXES = 3


@cache
def batch_index(operand_batch: tuple[int, ...], batch: tuple[int, ...]) -> np.ndarray:
    """For each flattened output batch, the flattened batch of an operand that broadcasts to it."""
    index = np.arange(math.prod(operand_batch), dtype=np.int64).reshape(operand_batch)
    return np.ascontiguousarray(np.broadcast_to(index, batch).reshape(-1))


@cache
def _loops():
    """The compiled loops' module (importing it imports numba)."""
    from . import _direct_kernels

    return _direct_kernels


@dataclass(frozen=True)
class _Layout:
    """What the compiled loops need for a spec, beyond the operands."""

    shape: tuple[int, ...]
    geo: np.ndarray
    workers: int
    pad_first: bool
    """`costs.direct_pads_first`."""


@lru_cache(maxsize=1024)
def _layout(spec: Spec, workers: int, reverse: bool = False) -> _Layout:
    loops = _loops()
    pad_first = costs.direct_pads_first(spec)
    if pad_first:
        n = spec.padded_n
        lo = (0,) * spec.ndim
    else:
        n, lo = spec.n, tuple(p[0] for p in spec.pads)
    geo = loops.geometry(
        n,
        spec.m,
        spec.out,
        batch_index(spec.signal_batch, spec.batch),
        batch_index(spec.kernel_batch, spec.batch),
        lo,
        spec.stride,
        spec.dilation,
        spec.acc_dtype.itemsize,
        rule=loops.ZEROS if spec.zero_padding or pad_first else loops.RULES[spec.boundary],
        padded=costs.direct_padded(spec),
        planes=costs.direct_planes(spec),
        reverse=reverse,
        in_place_columns=(
            costs.direct_inner_columns(spec) if costs.direct_bands_in_place(spec) else 0
        ),
    )
    return _Layout(
        shape=spec.batch + spec.out,
        geo=geo,
        workers=workers if spec.terms >= costs.PARALLEL_MIN_TERMS else 1,
        pad_first=pad_first,
    )


def _compiled(serial: Callable, acc: np.dtype) -> Callable:
    """The serial loop ``serial`` compiled for 1-D operands of ``acc`` (C-contiguous,
    aligned, writeable), called past numba's dispatcher, whose type checks of five
    arguments took 0.2 of a 1-D call's 2.8 µs. Arguments are unboxed as those types,
    whatever they are (numba compares item sizes only): the runner's operands have the
    plan's dtype, and it checks their layout."""
    from numba import from_dtype, types

    array = types.Array(from_dtype(acc), 1, "C")
    return serial.compile((array, array, types.Array(types.int64, 1, "C"), array, types.boolean))


@register
class Direct(Algorithm):
    name = "direct"
    summary = "compiled loops (numba), output columns innermost, parallel over row blocks"

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.name not in costs.DIRECT_TERM_S:
            compiled = ", ".join(costs.DIRECT_TERM_S)
            return f"no compiled loop for {spec.acc_dtype} (only {compiled})"
        if spec.ndim > MAX_AXES:
            return f"compiled for at most {MAX_AXES} convolved axes, not {spec.ndim}"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        workspace = 0
        if costs.direct_pads_first(spec):
            workspace = costs.padded_signal_bytes(spec)
        elif costs.direct_padded(spec) and not costs.direct_planes(spec):
            workspace = costs.direct_padded_bytes(spec, workers)
        return Cost(costs.direct_seconds(spec, workers), workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        return self.bind(spec, workers)(signal, kernel)

    def bind(
        self, spec: Spec, workers: int, reverse: bool = False
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        layout, loops, acc = _layout(spec, workers, reverse), _loops(), spec.acc_dtype
        geo, threads, shape = layout.geo, layout.workers, layout.shape
        new_output = _heap.allocator(shape, acc)

        if layout.pad_first or threads > 1:

            def run(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
                if layout.pad_first:
                    signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
                out = new_output()
                loops.run(signal.ravel(), kernel.ravel(), geo, out.ravel(), threads, False)
                return out

            return run

        (serial, _), rows, flat = loops.entries(geo), loops.rows_serial, len(shape) == 1
        compiled = _compiled(serial, acc)

        def run_serially(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
            out = new_output()
            S, W, Y = (
                (signal, kernel, out) if flat else (signal.ravel(), kernel.ravel(), out.ravel())
            )
            if S.flags.carray and W.flags.carray:  # contiguous, aligned (and writeable)
                ran = compiled(S, W, geo, Y, False)
            else:
                S, W = S.ravel(), W.ravel()
                ran = serial(S, W, geo, Y, False)
            if not ran:
                rows(S, W, geo, Y, False)
            return out

        return run_serially  # small problems: the sum on one thread, with nothing between
