"""The direct_sum algorithm: a layer's channel sum in compiled loops, filters in blocks.

The sum ``y[f, i] = Σ_{c,t} w[f, c, t]·P[c, i·stride + t·dilation]`` over channels
``c`` and taps ``t`` (``P`` the padded signal) is taken as it stands, with nothing
gathered: each pass of the loops (``_direct_sum_kernels``) reads four taps' signal
values once and adds them into eight filters' outputs at a time, so a value loaded
serves eight multiply-adds, which keeps the loops busy multiplying rather than
loading. The outputs are computed along one flat line over the padded grid's rows
(the few outputs in each row's overhang are computed and dropped), so every tap is
one shifted read of that line and the loops vectorise along it.

A stride first splits the padded signal into its phases (the samples at ``i·s + r``
for each remainder ``r``, along each axis), a copy of the signal: in phase ``r``
with stride 1 each tap is again a shifted read. Filters and taps are padded to whole
blocks with zero weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import costs
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import launch
from .gemm import lay_out, restore, sizes


@cache
def _loops():
    """The compiled loops' module (importing it imports numba)."""
    from . import _direct_sum_kernels

    return _direct_sum_kernels


FILTERS, TAPS = 8, 4
"""The loops' block of filters and pass of taps (``_direct_sum_kernels``)."""


@dataclass(frozen=True)
class _Layout:
    """Where the loops read and write, for one spec."""

    phases: tuple[int, ...]
    """The phase grid's shape along each convolved axis (``ceil(grid / stride)``)."""
    lines: tuple[int, ...]
    """Element strides of the phase grid, per convolved axis."""
    length: int
    """Outputs per line: from the first output to the last on the phase grid, and on to
    a whole number of vectors."""
    pitch: int
    """Values from one output line to the next (`_pitch`)."""
    slack: int
    """The line's outputs past the last one: values read past the signals' end."""
    at: np.ndarray
    """Each tap's offset into a signal's phase planes (zero-weight taps at 0)."""
    taps: int
    blocks: int
    geo: np.ndarray
    jobs: int
    """Jobs per call: runs of one signal's line for one block of filters."""


@lru_cache(maxsize=1024)
def _layout(spec: Spec) -> _Layout:
    loops = _loops()
    shared, signals, filters = sizes(spec)
    grid = tuple(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))
    phases = tuple(-(-g // s) for g, s in zip(grid, spec.stride, strict=True))
    lines = tuple(math.prod(phases[a + 1 :]) for a in range(spec.ndim))
    plane, count = math.prod(phases), math.prod(spec.stride)
    valid = sum((o - 1) * line for o, line in zip(spec.out, lines, strict=True)) + 1
    length = -(-valid // loops.VECTOR) * loops.VECTOR
    offsets = []
    for c in range(spec.channels):
        for tap in np.ndindex(*spec.m):
            where = [t * d for t, d in zip(tap, spec.dilation, strict=True)]
            remainders = [p % s for p, s in zip(where, spec.stride, strict=True)]
            phase = np.ravel_multi_index(remainders, spec.stride)
            shift = sum(p // s * line for p, s, line in zip(where, spec.stride, lines, strict=True))
            offsets.append((c * count + int(phase)) * plane + shift)
    taps = -(-len(offsets) // TAPS) * TAPS
    at = np.zeros(taps, np.int64)
    at[: len(offsets)] = offsets
    blocks = -(-filters // FILTERS)
    chunk = max(loops.VECTOR, costs.DIRECT_SUM_CHUNK_BYTES // spec.acc_dtype.itemsize)
    chunk -= chunk % loops.VECTOR
    chunks = -(-length // chunk)
    pitch = _pitch(length, spec.acc_dtype.itemsize)
    geo = np.zeros(8, np.int64)
    geo[[loops.SIGNALS, loops.X_SIZE, loops.LENGTH, loops.BLOCKS]] = (
        signals,
        spec.channels * count * plane,
        length,
        blocks,
    )
    geo[[loops.TAP_COUNT, loops.CHUNK, loops.CHUNKS, loops.PITCH]] = taps, chunk, chunks, pitch
    jobs = shared * signals * chunks * blocks
    return _Layout(phases, lines, length, pitch, length - valid, at, taps, blocks, geo, jobs)


def _pitch(length: int, itemsize: int) -> int:
    """The distance between a block's output lines: at least ``length``, and in bytes
    576 past a multiple of 4096, so that the 8 lines' stores and loads fall on
    different cache sets and the processor does not take loads from one line for
    reloads of a store to another (4 KiB aliasing: lines 4 KiB apart ran 2-3x slower).

    >>> _pitch(1024, 4), _pitch(1024, 4) * 4 % 4096
    (1168, 576)
    """
    size = length * itemsize
    return (size + (576 - size) % 4096) // itemsize


def _work(spec: Spec) -> float:
    """One thread's estimated seconds in the loops."""
    lay = _layout(spec)
    shared, signals, _ = sizes(spec)
    passes = lay.jobs * lay.taps // TAPS
    macs = shared * signals * lay.blocks * FILTERS * lay.taps * lay.length
    return macs * costs.DIRECT_SUM_MAC_S[spec.acc_dtype.name] + passes * costs.DIRECT_SUM_PASS_S


def _buffers(spec: Spec) -> tuple[int, int, int]:
    """Bytes of the buffers around the loops: those copied in (the padded signal, where
    there is padding; the signal as the loops read it, split by the stride; the
    weights in blocks), and the output lines."""
    lay = _layout(spec)
    shared, signals, _ = sizes(spec)
    item = spec.acc_dtype.itemsize
    per = shared * signals * item
    grid = math.prod(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))
    padded = per * spec.channels * grid if any(lo or hi for lo, hi in spec.pads) else 0
    flat = per * spec.channels * math.prod(spec.stride) * math.prod(lay.phases)
    weights = shared * lay.blocks * lay.taps * FILTERS * item
    return padded + flat + weights, per * lay.blocks * FILTERS * lay.pitch


def _threads(spec: Spec, workers: int) -> int:
    return workers if _work(spec) >= costs.DIRECT_SUM_PARALLEL_MIN_S else 1


@register
class DirectSum(Algorithm):
    name = "direct_sum"
    summary = "compiled loops over channels and taps, eight filters per signal value loaded"
    channel_sum = True
    local_nonfinite = False  # zero weights pad the taps: 0 * inf in the signal is NaN

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind != "f":
            return f"real floating-point sums only, not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to slide"
        if spec.contract is None and sizes(spec)[2] == 1:
            return "one kernel and no channel sum: one filter (direct is faster)"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.GEMM_CALL_OVERHEAD_S, 0)
        copied, lines = _buffers(spec)
        seconds = (
            costs.DIRECT_SUM_CALL_S
            + costs.on_threads(_work(spec), _threads(spec, workers))
            + (copied + spec.out_bytes) / costs.DIRECT_SUM_COPY_BYTES_PER_S
        )
        return Cost(seconds, copied + lines)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        loops, lay = _loops(), _layout(spec)
        x, weights, y, order = lay_out(spec, signal, kernel)
        shared, signals, filters = sizes(spec)
        dtype = spec.acc_dtype
        X = _flat_signals(spec, x, lay)
        W = _blocked_weights(weights, lay)
        Y = np.empty(shared * signals * lay.blocks * FILTERS * lay.pitch, dtype)
        launch(
            _threads(spec, workers),
            lambda _: loops.correlate_parallel(X, lay.at, W, Y, lay.geo, lay.jobs),
            lambda: loops.correlate_serial(X, lay.at, W, Y, lay.geo, lay.jobs),
            fewest=1,  # the parallel loops run faster on one thread too
        )
        line = Y.reshape(shared, signals, lay.blocks * FILTERS, lay.pitch)[:, :, :filters]
        item = Y.itemsize
        steps = tuple(step * item for step in lay.lines)
        y[...] = as_strided(line, (*line.shape[:3], *spec.out), (*line.strides[:3], *steps))
        return restore(spec, y, order)


def _blocked_weights(weights: np.ndarray, lay: _Layout) -> np.ndarray:
    """The kernels ``weights`` (shared, filters, taps) as the loops read them, flat:
    ``(shared, blocks, taps, FILTERS)``, zeros in the padding."""
    shared, filters, taps = weights.shape
    W = np.zeros((shared, lay.blocks, lay.taps, FILTERS), weights.dtype)
    full = filters // FILTERS
    blocks = weights[:, : full * FILTERS].reshape(shared, full, FILTERS, taps)
    W[:, :full, :taps] = blocks.transpose(0, 1, 3, 2)
    if filters % FILTERS:
        W[:, full, :taps, : filters % FILTERS] = weights[:, full * FILTERS :].transpose(0, 2, 1)
    return W.reshape(-1)


def _flat_signals(spec: Spec, x: np.ndarray, lay: _Layout) -> np.ndarray:
    """The padded signals ``x`` (shared, signals, channels, *grid) as the loops read
    them: split by the stride into ``(shared, signals, channels, *stride, *phases)``,
    ``[..., r, i] = x[..., i·s + r]`` (zeros past the grid's end), flat, and followed
    by ``lay.slack`` zeros."""
    head = x.shape[:3]
    size = math.prod(head) * math.prod(spec.stride) * math.prod(lay.phases)
    if all(s == 1 for s in spec.stride):
        flat = np.empty(size + lay.slack, x.dtype)
        flat[:size].reshape(x.shape)[...] = x
        flat[size:] = 0
        return flat
    flat = np.zeros(size + lay.slack, x.dtype)
    split = flat[:size].reshape(*head, math.prod(spec.stride), *lay.phases)
    for r, phase in enumerate(np.ndindex(*spec.stride)):
        part = x[(..., *(slice(p, None, s) for p, s in zip(phase, spec.stride, strict=True)))]
        split[(..., r, *(slice(0, n) for n in part.shape[3:]))] = part
    return flat
