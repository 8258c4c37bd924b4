"""The gemm algorithm: windows gathered into matrices, multiplied by BLAS.

Two layouts (`layout` picks the faster):

* ``windows``: every window of the padded signal becomes one column of a matrix with
  a row per (channel, tap), ``cols[c·T + t, i] = P[c, i·stride + t·dilation]``. The
  kernels, flattened the same way, form a (filters × channels·taps) matrix, and
  their product is every filter's output at once: the usual way to compute a
  neural-network layer. The matrix is gathered by compiled loops in chunks of output
  rows small enough to stay in cache, each multiplied as soon as it is gathered;
  with a single tap at stride 1 and no padding the signal itself is the matrix.
* ``taps``: the roles turned round, for a large kernel and a small output (a weight
  gradient): one product per output position ``i``, ``y[:, :, i] = P_i · Kᵀ``, where
  ``K`` holds each kernel spread onto the padded grid (zeros between its taps, a
  row per filter, the channels end to end) and ``P_i`` is each padded signal read
  from output ``i``'s first tap on: a strided view, nothing gathered.

Chunks (of output rows, or of output positions) run on up to ``workers`` Python
threads, each calling BLAS on one thread, so the result does not depend on the
thread count, and no BLAS threads are left spinning after a call.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from queue import SimpleQueue

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _heap, costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import blas_threads, each_in_threads


@lru_cache(maxsize=1024)
def batch_roles(spec: Spec) -> tuple[tuple[int, ...], ...]:
    """The batch axes by role: shared by both operands, the signal's own (signals),
    the kernel's own (filters), and those of length 1 in both."""
    shared, signals, filters, ones = [], [], [], []
    for i, (s, k) in enumerate(zip(spec.signal_batch, spec.kernel_batch, strict=True)):
        if s > 1 and k > 1:
            shared.append(i)
        elif s > 1:
            signals.append(i)
        elif k > 1:
            filters.append(i)
        else:
            ones.append(i)
    return tuple(shared), tuple(signals), tuple(filters), tuple(ones)


@lru_cache(maxsize=1024)
def sizes(spec: Spec) -> tuple[int, int, int]:
    """Products of the shared, signal and filter batch lengths."""
    shared, signals, filters, _ = batch_roles(spec)
    return tuple(math.prod(spec.batch[i] for i in axes) for axes in (shared, signals, filters))


def one_filter(spec: Spec) -> str | None:
    """Why a layer algorithm (gemm, direct_sum, winograd) does not take ``spec``: one
    kernel and no channel sum, a matrix-vector product that direct computes faster; or
    None."""
    if spec.contract is None and sizes(spec)[2] == 1:
        return "one kernel and no channel sum: a matrix-vector product (direct is faster)"
    return None


def _grid_strides(spec: Spec) -> tuple[int, ...]:
    """Element strides of the padded grid, read as one flat line."""
    shape = spec.padded_n
    return tuple(math.prod(shape[a + 1 :]) for a in range(spec.ndim))


def _span(counts, steps, line) -> int:
    """Flat positions from the first to the last of a strided grid of ``counts``."""
    return sum((c - 1) * s * ln for c, s, ln in zip(counts, steps, line, strict=True)) + 1


@lru_cache(maxsize=1024)
def _taps_depth(spec: Spec) -> int:
    """The ``taps`` layout's products' inner length: every channel's padded grid end
    to end, the last one only up to the kernel's last tap."""
    line = _grid_strides(spec)
    plane = math.prod(spec.padded_n)
    return (spec.channels - 1) * plane + _span(spec.m, spec.dilation, line)


@lru_cache(maxsize=1024)
def _unfolded(spec: Spec) -> bool:
    """The ``windows`` matrix is the signal itself: one tap, stride 1, no padding."""
    return (
        math.prod(spec.m) == 1
        and all(s == 1 for s in spec.stride)
        and not any(lo or hi for lo, hi in spec.pads)
    )


@lru_cache(maxsize=1024)
def layouts(spec: Spec) -> dict[str, float]:
    """The layouts' estimated seconds for all signals on one thread."""
    shared, signals, filters = sizes(spec)
    dtype = spec.acc_dtype
    taps, outputs = math.prod(spec.m), math.prod(spec.out)
    rows = spec.channels * taps
    windows = costs.product_seconds(filters * rows * outputs, _columns(_chunks(spec)[0]), dtype)
    windows *= (filters + costs.GEMM_HALF_SPEED_FILTERS) / filters
    if not _unfolded(spec):
        lines = math.prod(spec.out[:-1])
        rate = costs.GEMM_GATHER_BYTES_PER_S
        if spec.stride[-1] > 1:
            rate = costs.GEMM_GATHER_STRIDED_BYTES_PER_S
        windows += rows * (outputs * dtype.itemsize / rate)
        windows += rows * lines * costs.GEMM_GATHER_SEGMENT_S
    depth = _taps_depth(spec)
    products = shared * outputs * -(-depth // _taps_block(spec))
    taps_s = shared * costs.product_seconds(filters * outputs * depth * signals, signals, dtype)
    taps_s += products * costs.GEMM_PRODUCT_CALL_S
    return {"windows": shared * signals * windows, "taps": taps_s}


@lru_cache(maxsize=1024)
def layout(spec: Spec) -> str:
    """The layout with the lowest estimated time (`layouts`)."""
    found = layouts(spec)
    return min(found, key=found.__getitem__)


@lru_cache(maxsize=1024)
def _chunks(spec: Spec) -> list[tuple[int, int, int, int, int, int]]:
    """The ``windows`` layout's chunks of one shared batch, ``(n0, n1, l0, l1, j0, j1)``:
    outputs ``j0 .. j1 - 1`` of output rows ``l0 .. l1 - 1`` of signals ``n0 .. n1 - 1``,
    each chunk's matrix of about `costs.GEMM_CHUNK_BYTES` (at least
    `costs.GEMM_MIN_COLUMNS` columns): several signals, several rows, or part of one
    row (a long signal)."""
    signals = sizes(spec)[1]
    lines, width = math.prod(spec.out[:-1]), spec.out[-1]
    rows = spec.channels * math.prod(spec.m)
    columns = max(
        costs.GEMM_MIN_COLUMNS, costs.GEMM_CHUNK_BYTES // (rows * spec.acc_dtype.itemsize)
    )
    if width > columns and not _unfolded(spec):
        return [
            (n, n + 1, line, line + 1, j0, min(width, j0 + columns))
            for n in range(signals)
            for line in range(lines)
            for j0 in range(0, width, columns)
        ]
    if lines * width > columns or _unfolded(spec):
        per = max(1, columns // width)
        return [
            (n, n + 1, l0, min(lines, l0 + per), 0, width)
            for n in range(signals)
            for l0 in range(0, lines, per)
        ]
    per = max(1, columns // (lines * width))
    return [(n, min(signals, n + per), 0, lines, 0, width) for n in range(0, signals, per)]


def _columns(chunk: tuple[int, int, int, int, int, int]) -> int:
    """Columns of a chunk's matrix."""
    n0, n1, l0, l1, j0, j1 = chunk
    return (n1 - n0) * (l1 - l0) * (j1 - j0)


@lru_cache(maxsize=1024)
def _taps_block(spec: Spec) -> int:
    """The ``taps`` layout's block of the inner length: signals and kernels of about
    `costs.GEMM_CHUNK_BYTES` together."""
    signals, filters = sizes(spec)[1:]
    per = (signals + filters) * spec.acc_dtype.itemsize
    return max(costs.GEMM_MIN_COLUMNS, costs.GEMM_CHUNK_BYTES // per)


@lru_cache(maxsize=1024)
def _work(spec: Spec) -> tuple[float, int]:
    """One thread's estimated seconds of the chunks (`layouts`), and their number."""
    kind = layout(spec)
    if kind == "windows":
        items = sizes(spec)[0] * len(_chunks(spec))
    else:
        items = sizes(spec)[0] * -(-_taps_depth(spec) // _taps_block(spec))
    return layouts(spec)[kind] + items * costs.GEMM_CHUNK_S, items


@register
class Gemm(Algorithm):
    name = "gemm"
    summary = "windows gathered into matrices in cached chunks, BLAS products"
    channel_sum = True
    local_nonfinite = False  # zero padding is materialised: 0 * inf in a kernel is NaN

    def local_signal_nonfinite(self, spec: Spec) -> bool:
        # a window's column holds only its own signal values (and padding zeros, which
        # meet only finite kernels); the taps layout's spread kernels hold zeros
        return layout(spec) == "windows"

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind not in "fc":
            return f"BLAS multiplies floating-point numbers, not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to gather"
        return one_filter(spec)

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.GEMM_CALL_OVERHEAD_S, 0)
        shared, signals, filters = sizes(spec)
        item = spec.acc_dtype.itemsize
        kind = layout(spec)
        work, items = _work(spec)
        threads = costs.layer_threads(work, items, workers)
        grid = shared * signals * spec.channels * math.prod(spec.padded_n) * item
        padded = grid if any(lo or hi for lo, hi in spec.pads) else 0
        if kind == "windows":
            rows = 0 if _unfolded(spec) else spec.channels * math.prod(spec.m)
            workspace = threads * rows * _columns(_chunks(spec)[0]) * item
            extra = 0.0
        else:
            spread = shared * filters * spec.channels * math.prod(spec.padded_n) * item
            workspace = spread + items * math.prod(spec.out) * signals * filters * item
            extra = spread / costs.PAD_BYTES_PER_S  # zeroed and filled on one thread
        seconds = (
            costs.GEMM_CALL_OVERHEAD_S
            + costs.on_threads(work, threads)
            + padded / costs.PAD_BYTES_PER_S
            + extra
        )
        return Cost(seconds, workspace + padded)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        kind = layout(spec)
        x, weights, y, order = lay_out(spec, signal, kernel, padded=not _unfolded(spec))
        x = np.ascontiguousarray(x)
        with blas_threads(1):
            if kind == "windows":
                _windows(spec, x, np.ascontiguousarray(weights), y, workers)
            else:
                _taps(spec, x, weights, y, workers)
        return restore(spec, y, order)


def lay_out(spec: Spec, signal: np.ndarray, kernel: np.ndarray, padded: bool = True):
    """The operands of a channel sum laid out by batch role: the signals, padded unless
    ``padded`` is false, (shared, signals, channels, *grid); the kernels (shared,
    filters, channels·taps); an empty output (shared, signals, filters, *out); and the
    axis order for `restore`."""
    d, b = spec.ndim, len(spec.batch)
    shared, signals, filters, ones = batch_roles(spec)
    order = shared + signals + filters + ones
    n_shared, n_signals, n_filters = sizes(spec)
    tail = tuple(range(b, signal.ndim))
    if padded:
        signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
    signal = signal.transpose(*order, *tail).reshape(
        (n_shared, n_signals, spec.channels, *signal.shape[-d:])
    )
    weights = kernel.transpose(*order, *tail).reshape(n_shared, n_filters, -1)
    y = _heap.empty((n_shared, n_signals, n_filters, *spec.out), spec.acc_dtype)
    return signal, weights, y, order


def restore(spec: Spec, y: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """The output of `lay_out`'s layout in the canonical one, ``spec.batch + spec.out``."""
    b, d = len(spec.batch), spec.ndim
    y = y.reshape(tuple(spec.batch[i] for i in order) + spec.out)
    return y.transpose(*np.argsort(order), *range(b, b + d))


@cache
def _geometry(spec: Spec) -> np.ndarray:
    """``geo`` of `_gemm_kernels.gather`: grid, output, kernel, strides, dilations."""
    fields = (spec.padded_n, 1), (spec.out, 1), (spec.m, 1), (spec.stride, 1)
    fields += ((spec.dilation, 1),)
    return np.array([v for axes, fill in fields for v in (fill,) * (3 - len(axes)) + tuple(axes)])


def _windows(spec: Spec, x: np.ndarray, weights: np.ndarray, y: np.ndarray, workers: int) -> None:
    """The ``windows`` layout: chunks gathered and multiplied on up to ``workers`` threads."""
    from ._gemm_kernels import gather

    shared, signals, channels = x.shape[:3]
    filters = weights.shape[1]
    width, outputs = spec.out[-1], math.prod(spec.out)
    chunks = _chunks(spec)
    items = [(s, *chunk) for s in range(shared) for chunk in chunks]
    threads = costs.layer_threads(_work(spec)[0], len(items), workers)
    geo = _geometry(spec)
    rows = weights.shape[2]
    flat = y.reshape(shared, signals, filters, outputs)
    spare: SimpleQueue = SimpleQueue()
    if not _unfolded(spec):
        for _ in range(threads):
            spare.put(np.empty(rows * _columns(chunks[0]), spec.acc_dtype))

    def task(item: tuple[int, ...]) -> None:
        s, n0, n1, l0, l1, j0, j1 = item
        columns = slice(l0 * width + j0, (l1 - 1) * width + j1)
        if _unfolded(spec):  # the signal is the matrix
            np.matmul(
                weights[s], x[s, n0].reshape(channels, -1)[:, columns], out=flat[s, n0, :, columns]
            )
            return
        buffer = spare.get()
        try:
            count = _columns(item[1:])
            cols = buffer[: rows * count].reshape(rows, count)
            gather(x[s].ravel(), geo, channels, n0, n1, l0, l1, j0, j1, cols.ravel())
            if n1 - n0 == 1:
                np.matmul(weights[s], cols, out=flat[s, n0, :, columns])
            else:
                product = weights[s] @ cols
                flat[s, n0:n1] = product.reshape(filters, n1 - n0, outputs).swapaxes(0, 1)
        finally:
            spare.put(buffer)

    each_in_threads(threads, task, items)


def _offsets(counts, steps, line) -> np.ndarray:
    """Flat positions on the padded grid of a strided grid of ``counts``, in C order."""
    grid = np.indices(counts).reshape(len(counts), -1)
    return (np.array(steps) * np.array(line)) @ grid


def _taps(spec: Spec, x: np.ndarray, weights: np.ndarray, y: np.ndarray, workers: int) -> None:
    """The ``taps`` layout: for each block of the products' inner length (kept in cache
    across the output positions, which read it shifted), one product per position;
    the blocks' sums are added up in order."""
    shared, signals, channels = x.shape[:3]
    filters = weights.shape[1]
    line = _grid_strides(spec)
    plane = math.prod(spec.padded_n)
    depth = _taps_depth(spec)
    spread = np.zeros((shared, filters, channels, plane), spec.acc_dtype)
    item = spread.itemsize
    steps = tuple(dl * ln * item for dl, ln in zip(spec.dilation, line, strict=True))
    taps = as_strided(spread, (*spread.shape[:3], *spec.m), (*spread.strides[:3], *steps))
    taps[...] = weights.reshape(shared, filters, channels, *spec.m)
    spread = spread.reshape(shared, filters, channels * plane)
    positions = _offsets(spec.out, spec.stride, line).tolist()
    block = _taps_block(spec)
    items = [(s, k0) for s in range(shared) for k0 in range(0, depth, block)]
    sums = np.empty((len(items), len(positions), signals, filters), spec.acc_dtype)
    flat = x.reshape(shared, -1)

    def task(index: int) -> None:
        s, k0 = items[index]
        k1 = min(depth, k0 + block)
        kernels = spread[s, :, k0:k1].T
        for i, at in enumerate(positions):
            view = as_strided(
                flat[s, at + k0 :],
                (signals, k1 - k0),
                (channels * plane * item, item),
                writeable=False,
            )
            np.matmul(view, kernels, out=sums[index, i])

    each_in_threads(
        costs.layer_threads(_work(spec)[0], len(items), workers), task, range(len(items))
    )
    per = len(items) // shared
    total = sums.reshape(shared, per, len(positions), signals, filters).sum(axis=1)
    y.reshape(shared, signals, filters, -1)[...] = total.transpose(0, 2, 3, 1)
