"""The winograd algorithm: 3×3 layers by Winograd's minimal filtering F(m×m, 3×3).

Each output tile of ``m × m`` (``m = 4``, or 2 where float32's accuracy calls for it)
is computed from an input tile of side ``a = m + 2`` as ``Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A``
(Lavin and Gray, 2016, with the points 0, ±1, ±2, ∞ for m = 4). The element-wise
products, summed over channels, are ``a²`` matrix products, one per tile position,
for all tiles and filters at once: ``a² / m²`` multiplications per output and tap
row instead of 9 (2.25 for F(4×4, 3×3), a 4x saving). The tile transforms are matrix
products too (by ``Bᵀ ⊗ Bᵀ`` and ``Aᵀ ⊗ Aᵀ``); compiled loops only move tiles.

Its error is bounded in norm, not per element: the transforms mix values of a whole
tile, with coefficients up to 8 (m = 4) — see `ERROR_FACTOR`.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from .. import costs
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import launch
from .gemm import by_groups, sizes

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
eps · C · 9 · max|x| · max|w|`` for ``C`` input channels (tested in tests/test_nn.py).
The direct sum's bound has factor 2 in place of these."""

TILE_FOR = {"float32": 4, "float64": 4}
"""The output tile side used per dtype."""


@cache
def transforms(m: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Bᵀ ⊗ Bᵀ, G, Aᵀ ⊗ Aᵀ)`` for F(m×m, 3×3), in ``dtype``."""
    bt, g, at = (
        np.array(t, np.float64) for t in ((_BT4, _G4, _AT4) if m == 4 else (_BT2, _G2, _AT2))
    )
    return np.kron(bt, bt).astype(dtype), g.astype(dtype), np.kron(at, at).astype(dtype)


def _tiles(spec: Spec, m: int) -> tuple[int, int]:
    return -(-spec.out[0] // m), -(-spec.out[1] // m)


def _group(spec: Spec, m: int) -> int:
    """Signals per group: enough tiles for efficient products (`WINOGRAD_COLUMNS`), while
    the tile matrices (input, transformed, products) of one group stay under four
    times `costs.GEMM_WORKSPACE_BYTES`."""
    a = m + 2
    rows, cols = _tiles(spec, m)
    filters = sizes(spec)[2]
    per_signal = a * a * rows * cols * (2 * spec.channels + 2 * filters) * spec.acc_dtype.itemsize
    by_memory = max(1, costs.GEMM_WORKSPACE_BYTES // per_signal)
    wanted = -(-WINOGRAD_COLUMNS // (rows * cols))
    return max(by_memory, min(wanted, 4 * costs.GEMM_WORKSPACE_BYTES // per_signal))


WINOGRAD_COLUMNS = 1024
"""Tiles per product worth gathering into one group (see `costs.GEMM_HALF_SPEED_COLUMNS`)."""


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
        if spec.ndim != 2 or spec.m != (3, 3):
            return "3×3 kernels over two axes only"
        if spec.stride != (1, 1) or spec.dilation != (1, 1):
            return "stride 1 and dilation 1 only"
        if spec.contract is None and sizes(spec)[2] == 1:
            return "one kernel and no channel sum (direct is faster)"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        m = TILE_FOR[spec.acc_dtype.name]
        a = m + 2
        shared, signals, filters = sizes(spec)
        c, item = spec.channels, spec.acc_dtype.itemsize
        tiles = shared * signals * math.prod(_tiles(spec, m))
        group = min(signals, _group(spec, m))
        columns = group * math.prod(_tiles(spec, m))
        efficiency = columns / (columns + costs.GEMM_HALF_SPEED_COLUMNS)
        mac = costs.GEMM_MAC_S[spec.acc_dtype.name] / efficiency
        products = tiles * a * a * (filters * c + a * a * c + m * m * filters)
        moved = tiles * a * a * (2 * c + 2 * filters) * item
        workspace = group * math.prod(_tiles(spec, m)) * a * a * (2 * c + 2 * filters) * item
        seconds = (
            costs.GEMM_CALL_OVERHEAD_S
            + products * mac / workers
            + moved / costs.GEMM_GATHER_BYTES_PER_S["contiguous"]
        )
        return Cost(seconds, workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        m = TILE_FOR[spec.acc_dtype.name]
        rows, cols = _tiles(spec, m)
        # Every tile reads a full (m + 2)² patch: pad the far edges with zeros (their
        # outputs are cut away) on top of the spec's own padding.
        extra = tuple(
            (lo, hi + t * m + 2 - (n + lo + hi))
            for (lo, hi), t, n in zip(spec.pads, (rows, cols), spec.n, strict=True)
        )
        grown = _with_pads(spec, extra)
        bb, g, aa = transforms(m, spec.acc_dtype.name)

        def prepare(weights: np.ndarray) -> np.ndarray:
            w = weights.reshape(weights.shape[0], spec.channels, 3, 3)
            u = np.einsum("xi,kcij,yj->xykc", g, w, g, optimize=True)
            return np.ascontiguousarray(u.reshape((m + 2) ** 2, w.shape[0], spec.channels))

        def product(spec_: Spec, padded: np.ndarray, u: np.ndarray) -> np.ndarray:
            return _tiles_product(spec, padded, u, bb, aa, m, rows, cols, workers)

        return by_groups(grown, signal, kernel, workers, _group(spec, m), prepare, product)


def _with_pads(spec: Spec, pads: tuple[tuple[int, int], ...]) -> Spec:
    from dataclasses import replace

    return replace(spec, pads=pads)


def _tiles_product(spec, padded, u, bb, aa, m, rows, cols, workers) -> np.ndarray:
    from ._winograd_kernels import gather, gather_parallel, scatter, scatter_parallel

    a = m + 2
    group, channels = padded.shape[0], padded.shape[1]
    tiles = group * rows * cols
    padded = np.ascontiguousarray(padded)
    d = np.empty((a * a, channels, tiles), padded.dtype)
    threads = workers if d.size >= costs.WINOGRAD_PARALLEL_MIN else 1
    launch(
        threads,
        lambda _: gather_parallel(padded, d, a, m, rows, cols),
        lambda: gather(padded, d, a, m, rows, cols),
    )
    v = (bb @ d.reshape(a * a, -1)).reshape(a * a, channels, tiles)
    products = np.matmul(u, v)  # (a², filters, tiles)
    filters = products.shape[1]
    t = (aa @ products.reshape(a * a, -1)).reshape(m * m, filters, tiles)
    y = np.empty((group, filters, *spec.out), padded.dtype)
    launch(
        threads,
        lambda _: scatter_parallel(t, y, m, rows, cols),
        lambda: scatter(t, y, m, rows, cols),
    )
    return y
