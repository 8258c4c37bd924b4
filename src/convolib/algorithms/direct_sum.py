"""The direct_sum algorithm: a layer's channel sum in compiled loops, filters in blocks.

The sum ``y[f, i] = Σ_{c,t} w[f, c, t]·P[c, i·stride + t·dilation]`` over channels
``c`` and taps ``t`` (``P`` the padded signal) is taken as it stands, with nothing
gathered. The loops (``_direct_sum_kernels``) keep a tile of sums in registers, eight
filters by two vectors of positions, through a pass of `costs.DIRECT_SUM_TAP_BLOCK`
taps (over channels and kernel taps): a tap loads two vectors of signal values and
eight weights for sixteen vector multiply-adds, so the loops are busy multiplying
rather than loading, and sums go to memory once a pass. Every tap is one shifted read
of the grid. Where output rows are a whole number of vectors long, the sums run along
each output row and go straight into the output (a first layer's 112 outputs a row
are 7 float32 vectors); elsewhere they run along one flat line over the padded grid's
rows, the few positions in each row's overhang summed and dropped (rows shorter than
a vector waste fewer lanes so), each job's run of the line summed for eight filters
into a buffer that stays in cache, whose outputs are copied out.

The signal is copied once before the loops: among zeros where the padding is zeros
(padded first by other boundary rules), and, with a stride, split into its phases
(the samples at ``i·s + r`` for each remainder ``r``, along each axis), in each of
which every tap is again a shifted read. Filters are padded to whole blocks with zero
weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .. import costs
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import launch
from .gemm import lay_out, one_filter, restore, sizes


@cache
def _loops():
    """The compiled loops' module (importing it imports numba)."""
    from . import _direct_sum_kernels

    return _direct_sum_kernels


FILTERS = 8
"""The loops' block of filters (``_direct_sum_kernels``)."""


@dataclass(frozen=True)
class _Layout:
    """Where the loops read and write, for one spec (``_direct_sum_kernels``)."""

    phases: tuple[int, ...]
    """The phase grid's shape along each convolved axis (``ceil(grid / stride)``)."""
    at: np.ndarray
    """Each tap's offset into a signal's phase planes."""
    rows: np.ndarray
    """By rows, each output row's first position on a signal's phase grid; as a line,
    each of its rows' first output's place in one filter's outputs, or -1."""
    taps: int
    blocks: int
    positions: int
    """Positions summed per signal and filter."""
    geo: np.ndarray
    jobs: int
    """Jobs per call: runs of one signal's segments of rows for one block of filters."""


@lru_cache(maxsize=1024)
def _layout(spec: Spec) -> _Layout:
    loops = _loops()
    shared, signals, filters = sizes(spec)
    phases = tuple(-(-g // s) for g, s in zip(spec.padded_n, spec.stride, strict=True))
    lines = tuple(math.prod(phases[a + 1 :]) for a in range(spec.ndim))
    plane, count = math.prod(phases), math.prod(spec.stride)
    where = np.indices(spec.m).reshape(spec.ndim, -1) * np.array(spec.dilation)[:, None]
    stride = np.array(spec.stride)[:, None]
    phase = np.ravel_multi_index(tuple(where % stride), spec.stride)
    shift = (where // stride * np.array(lines)[:, None]).sum(axis=0)
    channel = np.arange(spec.channels)[:, None] * count * plane
    at = (channel + phase * plane + shift).reshape(-1).astype(np.int64)
    taps = len(at)
    blocks = -(-filters // FILTERS)
    width, lanes = spec.out[-1], loops.VECTOR_BYTES // spec.acc_dtype.itemsize
    chunk = max(loops.VECTOR, costs.DIRECT_SUM_CHUNK_BYTES // spec.acc_dtype.itemsize)
    chunk -= chunk % loops.VECTOR
    by_rows = width % lanes == 0
    if by_rows:  # each output row's first position on the grid
        index = np.indices(spec.out[:-1]).reshape(spec.ndim - 1, math.prod(spec.out[:-1]))
        rows = (np.array(lines[:-1], np.int64)[:, None] * index).sum(axis=0).astype(np.int64)
        length, row = width, width
        segment = min(width, chunk)
        positions = len(rows) * width
        units = len(rows) * -(-width // segment)
    else:  # one line over the grid's rows
        valid = sum((o - 1) * line for o, line in zip(spec.out, lines, strict=True)) + 1
        length = -(-valid // loops.VECTOR) * loops.VECTOR
        row = lines[-2] if spec.ndim > 1 else length
        rows = _line_rows(spec, phases, length, row)
        segment, positions = chunk, length
        units = -(-length // segment)
    per = max(1, chunk // segment)
    parts = -(-units // per)
    geo = np.zeros(17, np.int64)
    geo[[loops.SIGNALS, loops.X_SIZE, loops.BLOCKS, loops.TAP_COUNT, loops.PARTS]] = (
        signals,
        spec.channels * count * plane,
        blocks,
        taps,
        parts,
    )
    geo[[loops.PITCH, loops.WIDTH, loops.LENGTH, loops.ROW]] = (
        _pitch(segment, spec.acc_dtype.itemsize),
        width,
        length,
        row,
    )
    geo[[loops.FILTER_COUNT, loops.OUT_SIZE, loops.TAP_BLOCK, loops.SEGMENT]] = (
        filters,
        math.prod(spec.out),
        costs.DIRECT_SUM_TAP_BLOCK,
        segment,
    )
    geo[[loops.SEGMENTS, loops.UNITS, loops.UNITS_PER_JOB, loops.BY_ROWS]] = (
        -(-length // segment),
        units,
        per,
        by_rows,
    )
    jobs = shared * signals * parts * blocks
    return _Layout(phases, at, rows, taps, blocks, positions, geo, jobs)


def _line_rows(spec: Spec, phases: tuple[int, ...], length: int, row: int) -> np.ndarray:
    """Each of a line's rows' first output's place in one filter's outputs, or -1."""
    rows = np.full(-(-length // row), -1, np.int64)
    if spec.ndim == 1:
        rows[0] = 0
        return rows
    index = np.indices(phases[:-1]).reshape(spec.ndim - 1, -1)[:, : len(rows)]
    inside = (index < np.array(spec.out[:-1])[:, None]).all(axis=0)
    steps = np.array([math.prod(spec.out[a + 1 :]) for a in range(spec.ndim - 1)])
    rows[: index.shape[1]] = np.where(inside, steps @ index, -1)
    return rows


def _pitch(length: int, itemsize: int) -> int:
    """The distance between the lines of a job's buffer: at least ``length``, and in
    bytes 576 past a multiple of 4096, so that the 8 lines' stores and loads fall on
    different cache sets and the processor does not take loads from one line for
    reloads of a store to another (4 KiB aliasing: lines 4 KiB apart ran 2-3x slower).

    >>> _pitch(1024, 4), _pitch(1024, 4) * 4 % 4096
    (1168, 576)
    """
    size = length * itemsize
    return (size + (576 - size) % 4096) // itemsize


@lru_cache(maxsize=1024)
def _work(spec: Spec) -> float:
    """One thread's estimated seconds in the loops."""
    lay = _layout(spec)
    shared, signals, _ = sizes(spec)
    macs = shared * signals * lay.blocks * FILTERS * lay.taps * lay.positions
    return macs * costs.DIRECT_SUM_MAC_S[spec.acc_dtype.name] + lay.jobs * costs.DIRECT_SUM_JOB_S


@lru_cache(maxsize=1024)
def _copied(spec: Spec) -> int:
    """Bytes copied before the loops: the padded signal (padding by a boundary rule
    other than zeros), the signal as the loops read it (split by the stride), the
    weights in blocks."""
    lay = _layout(spec)
    shared, signals, _ = sizes(spec)
    item = spec.acc_dtype.itemsize
    per = shared * signals * item
    padded = 0 if spec.zero_padding else per * spec.channels * math.prod(spec.padded_n)
    flat = per * spec.channels * math.prod(spec.stride) * math.prod(lay.phases)
    weights = shared * lay.blocks * lay.taps * FILTERS * item
    return padded + flat + weights


def _threads(spec: Spec, workers: int) -> int:
    return workers if _work(spec) >= costs.DIRECT_SUM_PARALLEL_MIN_S else 1


@register
class DirectSum(Algorithm):
    name = "direct_sum"
    summary = "compiled loops over channels and taps, sums of eight filters in registers"
    channel_sum = True
    local_nonfinite = False  # zero padding is materialised: 0 * inf in a kernel is NaN

    def local_signal_nonfinite(self, spec: Spec) -> bool:
        # the sums that read a signal value outside their window (the zero filters that
        # fill the last block, the positions in each row's overhang, the lanes past a
        # row's end) are dropped
        return True

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind != "f":
            return f"real floating-point sums only, not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to slide"
        return one_filter(spec)

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.GEMM_CALL_OVERHEAD_S, 0)
        threads = _threads(spec, workers)
        loops, lay = _loops(), _layout(spec)
        buffers = threads * FILTERS * int(lay.geo[loops.PITCH]) * spec.acc_dtype.itemsize
        copied = _copied(spec)
        seconds = (
            costs.DIRECT_SUM_CALL_S
            + costs.on_threads(_work(spec), threads)
            + copied / costs.DIRECT_SUM_COPY_BYTES_PER_S
        )
        return Cost(seconds, copied + buffers)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        loops, lay = _loops(), _layout(spec)
        implicit = spec.zero_padding  # placed among zeros, not padded first
        x, weights, y, order = lay_out(spec, signal, kernel, padded=not implicit)
        lo = tuple(low if implicit else 0 for low, _ in spec.pads)
        split = _split(spec, x, lay, lo)
        X, W, out = split[-1], _blocked_weights(weights, lay), y.reshape(-1)

        def parallel(threads: int) -> None:
            loops.split_phases_parallel(*split)
            loops.correlate_parallel(X, lay.at, W, out, lay.rows, lay.geo, lay.jobs, threads)

        def serial() -> None:
            loops.split_phases(*split)
            loops.correlate_serial(X, lay.at, W, out, lay.rows, lay.geo, lay.jobs)

        # the parallel loops run faster on one thread too
        launch(_threads(spec, workers), parallel, serial, fewest=1)
        return restore(spec, y, order)


def _blocked_weights(weights: np.ndarray, lay: _Layout) -> np.ndarray:
    """The kernels ``weights`` (shared, filters, taps) as the loops read them, flat:
    ``(shared, blocks, taps, FILTERS)``, zeros in the padding."""
    shared, filters, taps = weights.shape
    W = np.empty(shared * lay.blocks * taps * FILTERS, weights.dtype)
    flat = np.ascontiguousarray(weights).reshape(-1)
    _loops().block_weights(flat, shared, filters, taps, W)
    return W


def _split(spec: Spec, x: np.ndarray, lay: _Layout, lo: tuple[int, ...]) -> tuple:
    """The arguments of ``split_phases``, which writes the signals ``x`` (shared,
    signals, channels, *n) as the loops read them into the last one, a new array:
    placed at ``lo`` on the padded grid (zeros around them), split by the stride into
    ``(shared, signals, channels, *stride, *phases)`` with ``[..., r, i]`` the grid's
    ``i·s + r``, flat, and followed by a tile's worth of zeros (``VECTOR``)."""
    count = math.prod(x.shape[:3])
    size = count * math.prod(spec.stride) * math.prod(lay.phases)

    def three(values: tuple[int, ...], fill: int) -> np.ndarray:
        return np.array((fill,) * (3 - len(values)) + tuple(values), np.int64)

    n, stride, phases = three(x.shape[3:], 1), three(spec.stride, 1), three(lay.phases, 1)
    signals = np.ascontiguousarray(x).reshape(-1)
    X = np.empty(size + _loops().VECTOR, x.dtype)
    return signals, count, n, three(lo, 0), stride, phases, X
