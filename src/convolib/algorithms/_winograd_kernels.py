"""Compiled loops of the winograd algorithm: the tile transforms, fused with moving tiles.

Tiles are counted in tile rows ``r`` over all signals of a grid (``r = n·rows + ty``)
and, within a chunk of tile rows ``r0 .. r1 - 1``, tile ``p = (r - r0)·cols + tx``.
``transform_input`` writes ``V[i·a + j, c, p] = (Bᵀ d B)[i, j]`` for the input tile
``d`` of side ``a`` at ``(ty·m, tx·m)``; ``transform_output`` writes the output tile
``Aᵀ M A`` (side ``m``) back into the image, cutting tiles that pass its edge.

Each transform is two passes of 1-D transforms over long contiguous runs, so that
they vectorise: along the input rows of the chunk's tile rows (all columns of all of
them at once, for one channel: rows of a small image are short), then across
the tiles of a chunk (all at once), with the row results split by tile column in
between (``D[i, l, p]``: column ``l`` of tile ``p``). A pass computes every output of
a transform from one load of each input (`_combine6` and friends), with the
matrices' entries held in registers. Only F(4×4, 3×3) (``a = 6``) and F(2×2, 3×3)
(``a = 4``) are compiled. Arrays arrive flattened and are indexed with unsigned
integers, as in ``_direct_kernels``. Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import wide_vectors

U = nb.uint64


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def transform_input(X, grid, BT, V, tiles, r0, r1, rows, cols):  # pragma: no cover
    """``X``: the signals, flat (signals, channels, height, width) with ``grid`` =
    (channels, height, width, top, left): the tiles' grid starts ``top`` rows above and
    ``left`` columns before the signal, and reads zeros wherever it passes the signal.
    ``V``: flat (a², channels, tiles)."""
    wide_vectors()
    channels, height, width, top, left = grid[0], grid[1], grid[2], grid[3], grid[4]
    a = BT.shape[0]
    m = a - 2
    count = U((r1 - r0) * cols)
    n = U(cols * m + 2)  # columns of the input rows that a tile row reads
    span = U(r1 - r0) * n  # those of every tile row of the chunk, side by side
    first, last = max(0, left), min(cols * m + 2, left + width)  # where rows hold signal
    R = np.zeros(a * span, X.dtype)  # R[l, t, :]: input row l of tile row t, zero-padded
    L = np.empty(a * span, X.dtype)  # L[i] = Σ_l BT[i, l] · R[l]
    D = np.empty(a * a * count, X.dtype)
    step = U(channels * tiles)  # from V[i, j] to V[i, j + 1]
    for c in range(channels):
        for r in range(r0, r1):
            g, ty = r // rows, r % rows
            t = U(r - r0) * n
            for row in range(a):
                y, d = ty * m + row - top, U(row) * span + t
                if 0 <= y < height:
                    s = U(((g * channels + c) * height + y) * width - left)
                    for x in range(U(first), U(last)):
                        R[d + x] = X[s + x]
                else:
                    for x in range(U(first), U(last)):
                        R[d + x] = 0
        if a == 6:
            _combine6(R, U(0), span, L, U(0), span, span, BT)
        else:
            _combine4(R, U(0), span, L, U(0), span, span, BT)
        for i in range(a):
            for r in range(U(r1 - r0)):
                d, x = U(i * a) * count + r * U(cols), U(i) * span + r * n
                if a == 6:
                    for t in range(U(cols)):
                        D[d + t] = L[x]
                        D[d + count + t] = L[x + U(1)]
                        D[d + U(2) * count + t] = L[x + U(2)]
                        D[d + U(3) * count + t] = L[x + U(3)]
                        D[d + U(4) * count + t] = L[x + U(4)]
                        D[d + U(5) * count + t] = L[x + U(5)]
                        x += U(4)
                else:
                    for t in range(U(cols)):
                        D[d + t] = L[x]
                        D[d + count + t] = L[x + U(1)]
                        D[d + U(2) * count + t] = L[x + U(2)]
                        D[d + U(3) * count + t] = L[x + U(3)]
                        x += U(2)
        for i in range(a):
            d, o = U(i * a) * count, U((i * a * channels + c) * tiles)
            if a == 6:
                _combine6(D, d, count, V, o, step, count, BT)
            else:
                _combine4(D, d, count, V, o, step, count, BT)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def transform_output(M, AT, Y, image, tiles, r0, r1, rows, cols):  # pragma: no cover
    """``M``: flat (a², filters, tiles), ``filters`` of the ``image[0]`` in ``Y``: flat
    (signals, image[0], height, width), starting at the first of them, with ``image`` =
    (image[0], height, width)."""
    wide_vectors()
    planes, height, width = image[0], image[1], image[2]
    m, a = AT.shape[0], AT.shape[1]
    filters = M.size // (a * a * tiles)
    count = U((r1 - r0) * cols)
    pitch = U(cols * m)
    Q = np.empty(m * a * count, M.dtype)  # Q[ii, j, p] = Σ_i AT[ii, i] · M[i, j, p]
    out = np.empty(m * count, M.dtype)  # output row ii of each tile row, end to end
    step = U(a * filters * tiles)  # from M[i, j] to M[i + 1, j]
    for k in range(filters):
        for j in range(a):
            s, q = U((j * filters + k) * tiles), U(j) * count
            if a == 6:
                _reduce6(M, s, step, Q, q, U(a) * count, count, AT)
            else:
                _reduce4(M, s, step, Q, q, U(a) * count, count, AT)
        for ii in range(m):
            q = U(ii * a) * count
            if a == 6:
                _interleave6(Q, q, count, out, AT)
            else:
                _interleave4(Q, q, count, out, AT)
            for row in range(r1 - r0):
                g, ty = (r0 + row) // rows, (r0 + row) % rows
                y = ty * m + ii
                if y < height:
                    d, s = U(((g * planes + k) * height + y) * width), U(row) * pitch
                    for x in range(U(width)):
                        Y[d + x] = out[s + x]


# The passes: Y[o + i·ostep + x] = Σ_l B[i, l] · X[s + l·istep + x] for x < n, one
# load of each input for all outputs. (Not inlined by numba: LLVM inlines them, and
# vectorises them only then.)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _combine6(X, s, istep, Y, o, ostep, n, B):  # pragma: no cover
    b00, b01, b02, b03, b04, b05 = B[0, 0], B[0, 1], B[0, 2], B[0, 3], B[0, 4], B[0, 5]
    b10, b11, b12, b13, b14, b15 = B[1, 0], B[1, 1], B[1, 2], B[1, 3], B[1, 4], B[1, 5]
    b20, b21, b22, b23, b24, b25 = B[2, 0], B[2, 1], B[2, 2], B[2, 3], B[2, 4], B[2, 5]
    b30, b31, b32, b33, b34, b35 = B[3, 0], B[3, 1], B[3, 2], B[3, 3], B[3, 4], B[3, 5]
    b40, b41, b42, b43, b44, b45 = B[4, 0], B[4, 1], B[4, 2], B[4, 3], B[4, 4], B[4, 5]
    b50, b51, b52, b53, b54, b55 = B[5, 0], B[5, 1], B[5, 2], B[5, 3], B[5, 4], B[5, 5]
    s1, s2, s3, s4, s5 = (
        s + istep,
        s + U(2) * istep,
        s + U(3) * istep,
        s + U(4) * istep,
        s + U(5) * istep,
    )
    o1, o2, o3, o4, o5 = (
        o + ostep,
        o + U(2) * ostep,
        o + U(3) * ostep,
        o + U(4) * ostep,
        o + U(5) * ostep,
    )
    for x in range(n):
        x0, x1, x2 = X[s + x], X[s1 + x], X[s2 + x]
        x3, x4, x5 = X[s3 + x], X[s4 + x], X[s5 + x]
        Y[o + x] = b00 * x0 + b01 * x1 + b02 * x2 + b03 * x3 + b04 * x4 + b05 * x5
        Y[o1 + x] = b10 * x0 + b11 * x1 + b12 * x2 + b13 * x3 + b14 * x4 + b15 * x5
        Y[o2 + x] = b20 * x0 + b21 * x1 + b22 * x2 + b23 * x3 + b24 * x4 + b25 * x5
        Y[o3 + x] = b30 * x0 + b31 * x1 + b32 * x2 + b33 * x3 + b34 * x4 + b35 * x5
        Y[o4 + x] = b40 * x0 + b41 * x1 + b42 * x2 + b43 * x3 + b44 * x4 + b45 * x5
        Y[o5 + x] = b50 * x0 + b51 * x1 + b52 * x2 + b53 * x3 + b54 * x4 + b55 * x5


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _combine4(X, s, istep, Y, o, ostep, n, B):  # pragma: no cover
    b00, b01, b02, b03 = B[0, 0], B[0, 1], B[0, 2], B[0, 3]
    b10, b11, b12, b13 = B[1, 0], B[1, 1], B[1, 2], B[1, 3]
    b20, b21, b22, b23 = B[2, 0], B[2, 1], B[2, 2], B[2, 3]
    b30, b31, b32, b33 = B[3, 0], B[3, 1], B[3, 2], B[3, 3]
    s1, s2, s3 = s + istep, s + U(2) * istep, s + U(3) * istep
    o1, o2, o3 = o + ostep, o + U(2) * ostep, o + U(3) * ostep
    for x in range(n):
        x0, x1, x2, x3 = X[s + x], X[s1 + x], X[s2 + x], X[s3 + x]
        Y[o + x] = b00 * x0 + b01 * x1 + b02 * x2 + b03 * x3
        Y[o1 + x] = b10 * x0 + b11 * x1 + b12 * x2 + b13 * x3
        Y[o2 + x] = b20 * x0 + b21 * x1 + b22 * x2 + b23 * x3
        Y[o3 + x] = b30 * x0 + b31 * x1 + b32 * x2 + b33 * x3


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _reduce6(X, s, istep, Y, o, ostep, n, B):  # pragma: no cover
    """Six inputs to four outputs (Aᵀ of F(4×4, 3×3))."""
    b00, b01, b02, b03, b04, b05 = B[0, 0], B[0, 1], B[0, 2], B[0, 3], B[0, 4], B[0, 5]
    b10, b11, b12, b13, b14, b15 = B[1, 0], B[1, 1], B[1, 2], B[1, 3], B[1, 4], B[1, 5]
    b20, b21, b22, b23, b24, b25 = B[2, 0], B[2, 1], B[2, 2], B[2, 3], B[2, 4], B[2, 5]
    b30, b31, b32, b33, b34, b35 = B[3, 0], B[3, 1], B[3, 2], B[3, 3], B[3, 4], B[3, 5]
    s1, s2, s3, s4, s5 = (
        s + istep,
        s + U(2) * istep,
        s + U(3) * istep,
        s + U(4) * istep,
        s + U(5) * istep,
    )
    o1, o2, o3 = o + ostep, o + U(2) * ostep, o + U(3) * ostep
    for x in range(n):
        x0, x1, x2 = X[s + x], X[s1 + x], X[s2 + x]
        x3, x4, x5 = X[s3 + x], X[s4 + x], X[s5 + x]
        Y[o + x] = b00 * x0 + b01 * x1 + b02 * x2 + b03 * x3 + b04 * x4 + b05 * x5
        Y[o1 + x] = b10 * x0 + b11 * x1 + b12 * x2 + b13 * x3 + b14 * x4 + b15 * x5
        Y[o2 + x] = b20 * x0 + b21 * x1 + b22 * x2 + b23 * x3 + b24 * x4 + b25 * x5
        Y[o3 + x] = b30 * x0 + b31 * x1 + b32 * x2 + b33 * x3 + b34 * x4 + b35 * x5


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _reduce4(X, s, istep, Y, o, ostep, n, B):  # pragma: no cover
    """Four inputs to two outputs (Aᵀ of F(2×2, 3×3))."""
    b00, b01, b02, b03 = B[0, 0], B[0, 1], B[0, 2], B[0, 3]
    b10, b11, b12, b13 = B[1, 0], B[1, 1], B[1, 2], B[1, 3]
    s1, s2, s3 = s + istep, s + U(2) * istep, s + U(3) * istep
    for x in range(n):
        x0, x1, x2, x3 = X[s + x], X[s1 + x], X[s2 + x], X[s3 + x]
        Y[o + x] = b00 * x0 + b01 * x1 + b02 * x2 + b03 * x3
        Y[o + ostep + x] = b10 * x0 + b11 * x1 + b12 * x2 + b13 * x3


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _interleave6(Q, q, n, Y, A):  # pragma: no cover
    """``Y[4p + jj] = Σ_j A[jj, j] · Q[q + j·n + p]``: the four outputs of tile ``p``, in place."""
    a00, a01, a02, a03, a04, a05 = A[0, 0], A[0, 1], A[0, 2], A[0, 3], A[0, 4], A[0, 5]
    a10, a11, a12, a13, a14, a15 = A[1, 0], A[1, 1], A[1, 2], A[1, 3], A[1, 4], A[1, 5]
    a20, a21, a22, a23, a24, a25 = A[2, 0], A[2, 1], A[2, 2], A[2, 3], A[2, 4], A[2, 5]
    a30, a31, a32, a33, a34, a35 = A[3, 0], A[3, 1], A[3, 2], A[3, 3], A[3, 4], A[3, 5]
    q1, q2, q3, q4, q5 = q + n, q + U(2) * n, q + U(3) * n, q + U(4) * n, q + U(5) * n
    for p in range(n):
        x0, x1, x2 = Q[q + p], Q[q1 + p], Q[q2 + p]
        x3, x4, x5 = Q[q3 + p], Q[q4 + p], Q[q5 + p]
        t = p * U(4)
        Y[t] = a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3 + a04 * x4 + a05 * x5
        Y[t + U(1)] = a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3 + a14 * x4 + a15 * x5
        Y[t + U(2)] = a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3 + a24 * x4 + a25 * x5
        Y[t + U(3)] = a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3 + a34 * x4 + a35 * x5


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _interleave4(Q, q, n, Y, A):  # pragma: no cover
    """`_interleave6` for tiles of four: the two outputs of tile ``p``."""
    a00, a01, a02, a03 = A[0, 0], A[0, 1], A[0, 2], A[0, 3]
    a10, a11, a12, a13 = A[1, 0], A[1, 1], A[1, 2], A[1, 3]
    q1, q2, q3 = q + n, q + U(2) * n, q + U(3) * n
    for p in range(n):
        x0, x1, x2, x3 = Q[q + p], Q[q1 + p], Q[q2 + p], Q[q3 + p]
        t = p * U(2)
        Y[t] = a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
        Y[t + U(1)] = a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
