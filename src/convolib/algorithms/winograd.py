"""The winograd algorithm: 3×3 layers by Winograd's minimal filtering F(m×m, 3×3).

Each output tile of ``m × m`` (``m = 4``, or 2 where float32's accuracy calls for it)
is computed from an input tile of side ``a = m + 2`` as ``Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A``
(Lavin and Gray, 2016, with the points 0, ±1, ±2, ∞ for m = 4). The element-wise
products, summed over channels, are ``a²`` matrix products, one per tile position,
for all tiles and filters at once: ``a² / m²`` multiplications per output and tap
row instead of 9 (2.25 for F(4×4, 3×3), a 4x saving). Compiled loops transform the
tiles as they gather and scatter them (``_winograd_kernels``); chunks of tile rows
run on Python threads, each multiplying with BLAS on one thread. A layer with more
filters than tiles (small images, many channels) transforms all its tiles first and
then takes its filters in blocks, so that its transformed kernels (``a²/9`` times the
weights) are never all held (`filter_block`).

The same algorithm, its roles turned round, computes the weight gradient of a 3×3
layer, a correlation whose *output* is 3×3 and whose kernel (the output gradient)
is large: split into ``m × m`` tiles ``h``, each meets a patch ``d`` of side ``a``,
and F(3×3, m×m) gives ``Gᵀ [(A h Aᵀ) ⊙ (Bᵀ d B)] G`` (the transposition of
F(m×m, 3×3)), the products summed over tiles and channels by the same ``a²``
matrix products.

Its error is bounded in norm, not per element: the transforms mix values of a whole
tile, with coefficients up to 8 (m = 4) — see `ERROR_FACTOR`.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from queue import SimpleQueue

import numpy as np

from .. import costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import blas_threads, each_in_threads
from .gemm import batch_roles, lay_out, one_filter, restore, sizes

# Lavin and Gray's F(4, 3): interpolation points 0, 1, -1, 2, -2 and infinity.
_BT4 = [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
]
_G4 = [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
]
_AT4 = [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
]
# F(2, 3): points 0, 1, -1 and infinity.
_BT2 = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
_G2 = [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]]
_AT2 = [[1, 1, 1, 0], [0, 1, -1, -1]]

ERROR_FACTOR = {2: 4.0, 4: 64.0}
"""The documented bound, per tile size ``m``: ``|y - y_exact| <= ERROR_FACTOR[m] ·
eps · T · max|x| · max|w|`` for ``T`` terms per output (``C · 9`` for a layer of
``C`` input channels; for a weight gradient, channels times the kernel's taps), tested
in tests/test_nn.py. The direct sum's bound has factor 2 in place of these."""

TILE_FOR = {"float32": 4, "float64": 4}
"""The output tile side used per dtype."""


@cache
def transforms(m: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Bᵀ, G ⊗ G, Aᵀ)`` for F(m×m, 3×3), in ``dtype``."""
    bt, g, at = (
        np.array(t, np.float64) for t in ((_BT4, _G4, _AT4) if m == 4 else (_BT2, _G2, _AT2))
    )
    return bt.astype(dtype), np.kron(g, g).astype(dtype), at.astype(dtype)


@cache
def gradient_transforms(m: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Bᵀ, [A 0], Gᵀ ⊗ Gᵀ)`` for F(3×3, m×m): ``A`` (``a × m``) padded with zero
    columns to ``a × a``, so that the input transform's loops read an ``m × m`` tile as
    an ``a × a`` one."""
    bt, g, at = (
        np.array(t, np.float64) for t in ((_BT4, _G4, _AT4) if m == 4 else (_BT2, _G2, _AT2))
    )
    a = m + 2
    spread = np.zeros((a, a))
    spread[:, :m] = at.T
    return bt.astype(dtype), spread.astype(dtype), np.kron(g.T, g.T).astype(dtype)


def gradient_form(spec: Spec) -> bool:
    """The weight-gradient form: a 3×3 output from a larger kernel."""
    return spec.m != (3, 3) and spec.out == (3, 3)


def _tiles(spec: Spec, m: int) -> tuple[int, int]:
    """Tile rows and columns: over the output, or the kernel in the gradient form."""
    over = spec.m if gradient_form(spec) else spec.out
    return -(-over[0] // m), -(-over[1] // m)


def chunk_rows(spec: Spec, m: int) -> int:
    """Tile rows per chunk: the chunk's tile matrices stay under
    `costs.WINOGRAD_CHUNK_BYTES`, with at least `costs.WINOGRAD_MIN_TILES` tiles; an
    even number of chunks of nearly equal size (two threads share them evenly)."""
    a = m + 2
    _, signals, filters = sizes(spec)
    rows, cols = _tiles(spec, m)
    ways = signals if gradient_form(spec) else spec.channels  # the other is filters
    lines = rows * (spec.channels if gradient_form(spec) else signals)
    per_tile = a * a * (ways + filters) * spec.acc_dtype.itemsize
    tiles = max(costs.WINOGRAD_MIN_TILES, costs.WINOGRAD_CHUNK_BYTES // per_tile)
    chunks = -(-lines // max(1, tiles // cols))
    chunks += chunks % 2 if chunks > 1 else 0
    return -(-lines // chunks)


def filter_block(spec: Spec, m: int) -> int | None:
    """Filters per block where a layer has more filters than tiles (its kernels'
    transforms outweigh its tiles'): then all tiles are transformed at once, and the
    filters go in blocks (an even number of them), each block's kernels transformed,
    multiplied and transformed back in turn, so that the transformed kernels are never
    all held. None where chunks of tiles go instead."""
    if gradient_form(spec):
        return None
    a = m + 2
    rows, cols = _tiles(spec, m)
    _, signals, filters = sizes(spec)
    tiles = signals * rows * cols
    if filters <= tiles:
        return None
    per_filter = a * a * (spec.channels + tiles) * spec.acc_dtype.itemsize
    blocks = -(-filters // max(1, costs.WINOGRAD_CHUNK_BYTES // per_filter))
    blocks += blocks % 2 if blocks > 1 else 0
    return -(-filters // blocks)


@lru_cache(maxsize=1024)
def _work(spec: Spec) -> tuple[float, int, int]:
    """One thread's estimated seconds (kernel transform and chunks: input transforms,
    products, output transform), the number of chunks and the tiles of one."""
    m = TILE_FOR[spec.acc_dtype.name]
    a = m + 2
    dtype, name = spec.acc_dtype, spec.acc_dtype.name
    shared, signals, filters = sizes(spec)
    c = spec.channels
    rows, cols = _tiles(spec, m)
    if gradient_form(spec):  # tile rows over channels; both operands transformed
        lines = c * rows
        ways, inner, out_rows, columns = signals, lines * cols, 0, signals
    else:
        lines = signals * rows
        ways, inner, out_rows = c, lines * cols, filters
    chunk = min(chunk_rows(spec, m), lines)
    chunks = shared * -(-lines // chunk)
    if not gradient_form(spec):
        columns = chunk * cols
    row = costs.WINOGRAD_INPUT_ROW_S + a * a * cols * costs.WINOGRAD_INPUT_S[name]
    transformed = shared * lines * ways * row
    if gradient_form(spec):
        transformed += shared * lines * filters * row  # the output gradient's tiles
        transformed += chunks * a * a * filters * signals * dtype.itemsize / costs.PAD_BYTES_PER_S
    else:
        transformed += shared * filters * c * a * a * costs.WINOGRAD_WEIGHTS_S[name]
        out = costs.WINOGRAD_OUTPUT_ROW_S + a * a * cols * costs.WINOGRAD_OUTPUT_S[name]
        transformed += shared * lines * out_rows * out
    block = filter_block(spec, m)
    if block is not None:  # all tiles at once, filters in blocks
        columns = lines * cols
        chunks += shared * -(-filters // block)
    products = costs.product_seconds(shared * inner * a * a * filters * ways, columns, dtype)
    return transformed + products + chunks * costs.GEMM_CHUNK_S, chunks, chunk * cols


@register
class Winograd(Algorithm):
    name = "winograd"
    summary = "3×3 layers by Winograd's F(4×4, 3×3): 2.25 multiplications per tap row"
    exact = False
    local_nonfinite = False
    accuracy = "normwise"
    channel_sum = True

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.name not in TILE_FOR:
            return f"float32 and float64 only, not {spec.acc_dtype}"
        if spec.ndim != 2 or (spec.m != (3, 3) and spec.out != (3, 3)):
            return "3×3 kernels (or 3×3 outputs: weight gradients) over two axes only"
        if spec.stride != (1, 1) or spec.dilation != (1, 1):
            return "stride 1 and dilation 1 only"
        return one_filter(spec)

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.GEMM_CALL_OVERHEAD_S, 0)
        m = TILE_FOR[spec.acc_dtype.name]
        a = m + 2
        shared, signals, filters = sizes(spec)
        c, item = spec.channels, spec.acc_dtype.itemsize
        work, chunks, columns = _work(spec)
        threads = costs.layer_threads(work, chunks, workers)
        grid = math.prod(spec.padded_n)
        padded = 0 if spec.zero_padding else shared * signals * c * grid * item
        seconds = (
            costs.GEMM_CALL_OVERHEAD_S
            + costs.on_threads(work, threads)
            + padded / costs.PAD_BYTES_PER_S
        )
        if gradient_form(spec):
            workspace = threads * (signals + filters) * columns + chunks * filters * signals
            workspace *= a * a * item
        elif filter_block(spec, m) is not None:
            tiles = signals * math.prod(_tiles(spec, m))
            block = filter_block(spec, m)
            workspace = (shared * c * tiles + threads * block * (c + tiles)) * a * a * item
        else:
            weights = shared * filters * c * a * a * item
            workspace = weights + threads * columns * a * a * (c + filters) * item
        return Cost(seconds, padded + workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        if gradient_form(spec):
            return _gradient(spec, signal, kernel, workers)
        if filter_block(spec, TILE_FOR[spec.acc_dtype.name]) is not None:
            return _by_filters(spec, signal, kernel, workers)
        return _forward(spec, signal, kernel, workers)


def _layer(spec: Spec, signal: np.ndarray, kernel: np.ndarray):
    """A 3×3 layer's operands (`lay_out`) and the input transform's ``grid``: zero
    padding is read as zeros by the input transform, other rules are padded first;
    tiles past the padded signal's far edges read zeros too (their outputs are cut
    away)."""
    implicit = spec.zero_padding
    x, weights, y, order = lay_out(spec, signal, kernel, padded=not implicit)
    x = np.ascontiguousarray(x)
    top, left = (lo for lo, _ in spec.pads) if implicit else (0, 0)
    grid = np.array((*x.shape[2:], top, left), np.int64)
    return x, weights, y, order, grid


def _forward(spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
    """A 3×3 layer: tiles of the output, chunks of tile rows."""
    from ._winograd_kernels import transform_input, transform_output

    m = TILE_FOR[spec.acc_dtype.name]
    a = m + 2
    rows, cols = _tiles(spec, m)
    x, weights, y, order, grid = _layer(spec, signal, kernel)
    shared, signals, channels = x.shape[:3]
    filters = weights.shape[1]
    bt, gg, at = transforms(m, spec.acc_dtype.name)
    u = np.empty((shared, a * a, filters, channels), spec.acc_dtype)
    work, chunks, _ = _work(spec)
    threads = costs.layer_threads(work, chunks, workers)
    pairs = filters * channels
    step = costs.WINOGRAD_WEIGHTS_PER_RUN  # not cut by threads: BLAS's rounding can
    # depend on a product's shape, and the result must not depend on the thread count
    parts = [(s, lo, min(pairs, lo + step)) for s in range(shared) for lo in range(0, pairs, step)]

    def transform_weights(part: tuple[int, int, int]) -> None:
        """U = G w Gᵀ for a run of kernels, as (G ⊗ G) · vec(w)."""
        s, lo, hi = part
        w = weights[s].reshape(pairs, 9)[lo:hi]
        np.matmul(gg, w.T, out=u[s].reshape(a * a, pairs)[:, lo:hi])

    image = np.array((filters, *spec.out), np.int64)
    chunk = chunk_rows(spec, m)
    total = signals * rows
    items = [(s, r0) for s in range(shared) for r0 in range(0, total, chunk)]
    tiles = min(chunk, total) * cols
    spare: SimpleQueue = SimpleQueue()
    for _ in range(threads):
        spare.put(
            (
                np.empty((a * a, channels, tiles), spec.acc_dtype),
                np.empty((a * a, filters, tiles), spec.acc_dtype),
            )
        )

    def task(item: tuple[int, int]) -> None:
        s, r0 = item
        r1 = min(total, r0 + chunk)
        used = (r1 - r0) * cols
        v, p = spare.get()
        try:
            transform_input(x[s].ravel(), grid, bt, v.ravel(), tiles, r0, r1, rows, cols)
            np.matmul(u[s], v[:, :, :used], out=p[:, :, :used])
            transform_output(p.ravel(), at, y[s].ravel(), image, tiles, r0, r1, rows, cols)
        finally:
            spare.put((v, p))

    with blas_threads(1):
        each_in_threads(threads, transform_weights, parts)
        each_in_threads(threads, task, items)
    return restore(spec, y, order)


def _by_filters(spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
    """A 3×3 layer with more filters than tiles: all tiles transformed (in chunks of
    tile rows), then blocks of filters (`filter_block`)."""
    from ._winograd_kernels import transform_input, transform_output

    m = TILE_FOR[spec.acc_dtype.name]
    a = m + 2
    rows, cols = _tiles(spec, m)
    x, weights, y, order, grid = _layer(spec, signal, kernel)
    shared, signals, channels = x.shape[:3]
    filters = weights.shape[1]
    bt, gg, at = transforms(m, spec.acc_dtype.name)
    work, chunks, _ = _work(spec)
    threads = costs.layer_threads(work, chunks, workers)
    total = signals * rows
    tiles = total * cols
    v = np.empty((shared, a * a, channels, tiles), spec.acc_dtype)
    chunk = chunk_rows(spec, m)

    def transform_tiles(item: tuple[int, int]) -> None:
        s, r0 = item
        r1 = min(total, r0 + chunk)
        transform_input(
            x[s].ravel(), grid, bt, v[s].ravel()[r0 * cols :], tiles, r0, r1, rows, cols
        )

    block = filter_block(spec, m)
    image = np.array((filters, *spec.out), np.int64)
    plane = math.prod(spec.out)
    spare: SimpleQueue = SimpleQueue()
    for _ in range(threads):
        spare.put(
            (
                np.empty(a * a * block * channels, spec.acc_dtype),
                np.empty(a * a * block * tiles, spec.acc_dtype),
            )
        )

    def task(item: tuple[int, int]) -> None:
        s, k0 = item
        k1 = min(filters, k0 + block)
        u_buffer, p_buffer = spare.get()
        try:
            u = u_buffer[: a * a * (k1 - k0) * channels].reshape(a * a, (k1 - k0) * channels)
            np.matmul(gg, weights[s, k0:k1].reshape(-1, 9).T, out=u)  # U = G w Gᵀ
            p = p_buffer[: a * a * (k1 - k0) * tiles].reshape(a * a, k1 - k0, tiles)
            np.matmul(u.reshape(a * a, k1 - k0, channels), v[s], out=p)
            out = y[s].ravel()[k0 * plane :]
            transform_output(p.ravel(), at, out, image, tiles, 0, total, rows, cols)
        finally:
            spare.put((u_buffer, p_buffer))

    with blas_threads(1):
        each_in_threads(
            threads,
            transform_tiles,
            [(s, r) for s in range(shared) for r in range(0, total, chunk)],
        )
        each_in_threads(
            threads, task, [(s, k) for s in range(shared) for k in range(0, filters, block)]
        )
    return restore(spec, y, order)


def _gradient(spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
    """A weight gradient (a 3×3 output): tiles of the kernel, in chunks of tile rows
    over the channels; each chunk's products summed apart, then in order."""
    from ._winograd_kernels import transform_input

    m = TILE_FOR[spec.acc_dtype.name]
    a = m + 2
    rows, cols = _tiles(spec, m)
    shared_axes, signal_axes, filter_axes, ones = batch_roles(spec)
    b = len(spec.batch)
    order = shared_axes + signal_axes + filter_axes + ones
    n_shared, n_signals, n_filters = sizes(spec)
    c = spec.channels
    if spec.contract is None:  # no channel axis: one channel
        signal, kernel = signal[..., None, :, :], kernel[..., None, :, :]
    # both operands as (shared, channels, signals or filters, *grid): for a layer's
    # weight gradient, the input and the output gradient as they lie in memory
    x = signal.transpose(*shared_axes, b, *signal_axes, *filter_axes, *ones, b + 1, b + 2)
    x = x.reshape(n_shared, c, n_signals, *spec.n)
    h = kernel.transpose(*shared_axes, b, *filter_axes, *signal_axes, *ones, b + 1, b + 2)
    h = np.ascontiguousarray(h.reshape(n_shared, c, n_filters, *spec.m))
    if spec.zero_padding:
        top, left = (lo for lo, _ in spec.pads)
    else:
        x, top, left = pad(x, spec.pads, spec.boundary, spec.fill_value), 0, 0
    x = np.ascontiguousarray(x)
    grid_x = np.array((n_signals, *x.shape[3:], top, left), np.int64)
    grid_h = np.array((n_filters, *spec.m, 0, 0), np.int64)
    bt, spread, gg = gradient_transforms(m, spec.acc_dtype.name)
    work, chunks, _ = _work(spec)
    threads = costs.layer_threads(work, chunks, workers)
    chunk = chunk_rows(spec, m)
    total = c * rows
    items = [(s, r0) for s in range(n_shared) for r0 in range(0, total, chunk)]
    tiles = min(chunk, total) * cols
    sums = np.empty((len(items), a * a, n_filters, n_signals), spec.acc_dtype)
    spare: SimpleQueue = SimpleQueue()
    for _ in range(threads):
        spare.put(
            (
                np.empty((a * a, n_signals, tiles), spec.acc_dtype),
                np.empty((a * a, n_filters, tiles), spec.acc_dtype),
            )
        )

    def task(index: int) -> None:
        s, r0 = items[index]
        r1 = min(total, r0 + chunk)
        used = (r1 - r0) * cols
        v, w = spare.get()
        try:
            transform_input(x[s].ravel(), grid_x, bt, v.ravel(), tiles, r0, r1, rows, cols)
            transform_input(h[s].ravel(), grid_h, spread, w.ravel(), tiles, r0, r1, rows, cols)
            np.matmul(w[:, :, :used], v[:, :, :used].transpose(0, 2, 1), out=sums[index])
        finally:
            spare.put((v, w))

    with blas_threads(1):
        each_in_threads(threads, task, range(len(items)))
    total_sums = sums.reshape(n_shared, -1, a * a, n_filters * n_signals).sum(axis=1)
    y = gg @ total_sums  # (shared, 9, filters · signals)
    y = y.reshape(n_shared, 3, 3, n_filters, n_signals).transpose(0, 4, 3, 1, 2)
    return restore(spec, np.ascontiguousarray(y), order)
