"""The interleaved algorithm: direct sums over blocks of planes, one plane per vector
lane (``_interleaved_kernels``).

Where the planes are small and many, each with its own kernel (a depthwise layer:
N8 C384 28² with 7×7 kernels), loops along a plane's rows run short and every row
end costs a partial vector. Transposing a block of planes so that each pixel is one
vector of the block's values at that place makes every load, multiply-add and store
a whole vector, whatever the planes' sizes, for the price of the transposes in and out.
Implicit zero padding is free (the buffer is zero around the signals); the other
boundary rules pad the signal first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .. import _heap, costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import launch
from .direct import batch_index

MAX_AXES = 3
DTYPES = ("float32", "float64")


@cache
def _loops():
    """The compiled loops' module (importing it imports numba)."""
    from . import _interleaved_kernels

    return _interleaved_kernels


@dataclass(frozen=True)
class _Layout:
    geometry: np.ndarray
    signal_batches: np.ndarray
    kernel_batches: np.ndarray
    buffer_values: int
    """The values of one task's buffers."""


@lru_cache(maxsize=256)
def _layout(spec: Spec) -> _Layout:
    n, lo = spec.n, tuple(low for low, _ in spec.pads)
    if not spec.zero_padding:
        n, lo = spec.padded_n, (0,) * spec.ndim
    loops = _loops()
    g = loops.geometry(n, spec.m, spec.out, lo, spec.stride, spec.dilation, math.prod(spec.batch))
    return _Layout(
        geometry=g,
        signal_batches=batch_index(spec.signal_batch, spec.batch),
        kernel_batches=batch_index(spec.kernel_batch, spec.batch),
        buffer_values=loops.buffer_values(g, spec.acc_dtype.itemsize),
    )


def _blocks(spec: Spec) -> int:
    """Blocks of output batches, one per vector lane."""
    lanes = _loops().VECTOR_BYTES // spec.acc_dtype.itemsize
    return -(-math.prod(spec.batch) // lanes)


def _threads(spec: Spec, workers: int) -> int:
    return min(workers, _blocks(spec)) if spec.terms >= costs.PARALLEL_MIN_TERMS else 1


def _chunks(spec: Spec, threads: int) -> int:
    """Runs of blocks the loops share out (each zeroes buffers of its own)."""
    return 1 if threads == 1 else min(_blocks(spec), threads * costs.INTERLEAVED_CHUNKS)


@register
class Interleaved(Algorithm):
    name = "interleaved"
    summary = "compiled loops over blocks of planes, one plane per vector lane (depthwise layers)"
    local_nonfinite = False  # the padding is zeros in a buffer: 0 * inf in a kernel is NaN

    def local_signal_nonfinite(self, spec: Spec) -> bool:
        # a stored output reads only its own window of the buffer
        return True

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.name not in DTYPES:
            return f"real floating-point sums only (float32, float64), not {spec.acc_dtype}"
        if not 1 <= spec.ndim <= MAX_AXES:
            return f"compiled for 1 to {MAX_AXES} convolved axes, not {spec.ndim}"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.CALL_OVERHEAD_S["direct"], 0)
        lay, loops = _layout(spec), _loops()
        g, threads, item = lay.geometry, _threads(spec, workers), spec.acc_dtype.itemsize
        buffers = lay.buffer_values * item
        if buffers > costs.INTERLEAVED_BUFFER_MAX_BYTES:
            return Cost(math.inf, threads * buffers)
        sums = int(g[loops.O0] * g[loops.O1] * g[loops.WIDTH]) * math.prod(spec.m)
        moved = int(math.prod(g[loops.N0 : loops.N2 + 1])) + math.prod(spec.out)
        work = _blocks(spec) * (
            sums * costs.INTERLEAVED_VECTOR_FMA_S
            + moved * loops.VECTOR_BYTES * costs.INTERLEAVED_TRANSPOSE_BYTE_S
        )
        zeroed = _chunks(spec, threads) * buffers  # each run of blocks'
        work += zeroed * costs.DIRECT_COPY_BYTE_S + costs.output_seconds(spec)
        padded = 0 if spec.zero_padding else costs.padded_signal_bytes(spec)
        seconds = (
            costs.INTERLEAVED_CALL_S
            + costs.on_threads(work, threads)
            + padded / costs.PAD_BYTES_PER_S
        )
        return Cost(seconds, threads * buffers + padded)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        out = _heap.empty(spec.batch + spec.out, spec.acc_dtype)
        if out.size == 0:
            return out
        if not spec.zero_padding:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
        lay, loops = _layout(spec), _loops()
        X, K, Y = signal.ravel(), kernel.ravel(), out.reshape(-1)
        args = (X, K, Y, lay.signal_batches, lay.kernel_batches, lay.geometry)
        launch(
            _threads(spec, workers),
            lambda threads: loops.correlate_parallel(*args, _chunks(spec, threads)),
            lambda: loops.correlate_serial(*args),
        )
        return out
