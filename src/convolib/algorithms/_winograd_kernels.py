"""Compiled loops of the winograd algorithm: moving tiles, no arithmetic.

``gather`` copies the overlapping input tiles of side ``a`` (stepping by ``step``)
into ``D[i·a + j, c, p]``; ``scatter`` writes the output tiles ``T[i·step + j, k, p]``
back into the image, cutting the tiles that pass its edge. Tile ``p`` of signal
``n`` is ``(n·rows + ty)·cols + tx``. Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb


@nb.njit(cache=True)
def _gather(X, D, a, step, rows, cols, job):  # pragma: no cover - compiled
    channels = X.shape[1]
    n = job // (channels * rows)
    c = (job // rows) % channels
    ty = job % rows
    p0 = (n * rows + ty) * cols
    for i in range(a):
        line = X[n, c, ty * step + i]
        for j in range(a):
            out = D[i * a + j, c]
            for tx in range(cols):
                out[p0 + tx] = line[tx * step + j]


@nb.njit(cache=True)
def _scatter(T, Y, step, rows, cols, job):  # pragma: no cover - compiled
    _, filters, height, width = Y.shape
    n = job // (filters * rows)
    k = (job // rows) % filters
    ty = job % rows
    p0 = (n * rows + ty) * cols
    for i in range(min(step, height - ty * step)):
        line = Y[n, k, ty * step + i]
        for j in range(step):
            tile = T[i * step + j, k]
            for tx in range(cols):
                x = tx * step + j
                if x < width:
                    line[x] = tile[p0 + tx]


@nb.njit(parallel=True, cache=True)
def gather_parallel(X, D, a, step, rows, cols):  # pragma: no cover - compiled
    for job in nb.prange(X.shape[0] * X.shape[1] * rows):
        _gather(X, D, a, step, rows, cols, job)


@nb.njit(cache=True)
def gather(X, D, a, step, rows, cols):  # pragma: no cover - compiled
    for job in range(X.shape[0] * X.shape[1] * rows):
        _gather(X, D, a, step, rows, cols, job)


@nb.njit(parallel=True, cache=True)
def scatter_parallel(T, Y, step, rows, cols):  # pragma: no cover - compiled
    for job in nb.prange(Y.shape[0] * Y.shape[1] * rows):
        _scatter(T, Y, step, rows, cols, job)


@nb.njit(cache=True)
def scatter(T, Y, step, rows, cols):  # pragma: no cover - compiled
    for job in range(Y.shape[0] * Y.shape[1] * rows):
        _scatter(T, Y, step, rows, cols, job)
