"""Compiled loops of the interleaved algorithm; importing this module imports numba.

The problem arrives flattened, with three convolved axes (fewer are padded with
length-1 axes in front): ``X`` holds the signal batches, each (n0, n1, n2), ``K`` the
kernel batches, each (m0, m1, m2), ``Y`` the output batches, each (o0, o1, o2); the
output batch ``b`` reads signal batch ``bx[b]`` and kernel batch ``bk[b]``, and ``g``
holds the geometry (`geometry`).

One task is a block of `lanes` output batches, one per lane of a `Vector`:

1. the block's signal planes are transposed, a square tile of vectors at a time
   (`transpose`), into a buffer of pixels, each pixel one vector of the
   planes' values at that place; the buffer is zero around the signals (the padding)
   and sized for every output's window, so the sums test no edges;
2. the sums run over the buffer four output pixels at a time, their sums in
   registers: per tap, one vector of the block's weights and four of pixels;
3. the output pixels are transposed back into the block's output planes.

Every load and store is a whole vector, whatever the planes' sizes: the loops are fast
where the planes are small, many and each has its own kernel (depthwise layers), which
is where loops along a plane's rows run short.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import VECTOR_BYTES, fma, lanes, load, store, transpose, wide_vectors, zeros

PIXELS = 4
"""Output pixels whose sums a task keeps in registers at once."""

(N0, N1, N2, M0, M1, M2, O0, O1, O2, LO0, LO1, LO2) = range(12)
(S0, S1, S2, D0, D1, D2, P0, P1, P2, WIDTH, BATCH) = range(12, 23)
"""Fields of ``g``: the signal's, kernel's and output's lengths, the zero padding before
the signal, strides, dilations, the buffer's lengths (every output's window and the
whole signal), the output rows' length in the buffer of sums (a multiple of `PIXELS`)
and the number of output batches."""


def geometry(n, m, out, lo, stride, dilation, batch: int) -> np.ndarray:
    """``g`` for the loops, from per-axis tuples of up to three axes."""

    def three(values, fill):
        return (fill,) * (3 - len(values)) + tuple(values)

    n, m, out = three(n, 1), three(m, 1), three(out, 1)
    lo, stride, dilation = three(lo, 0), three(stride, 1), three(dilation, 1)
    width = -(-out[2] // PIXELS) * PIXELS
    last = (out[0], out[1], width)
    axes = zip(last, stride, m, dilation, lo, n, strict=True)
    buffer = tuple(max((o - 1) * s + (k - 1) * d + 1, a + b) for o, s, k, d, a, b in axes)
    return np.array([*n, *m, *out, *lo, *stride, *dilation, *buffer, width, batch], np.int64)


def buffer_values(g: np.ndarray, itemsize: int) -> int:
    """The values of one task's buffers (`_blocks`): the signal pixels and the sums."""
    pixels = int(g[P0] * g[P1] * g[P2] + g[O0] * g[O1] * g[WIDTH])
    return pixels * (VECTOR_BYTES // itemsize)


@nb.njit(cache=True, nogil=True, inline="always")
def _advance(at, i1, i2, n1, n2, row_gap, plane_gap):
    """The next pixel's place ``at`` in a buffer and its indices (i1, i2) in a plane of
    lengths (…, n1, n2) that lies in the buffer with gaps between its rows and planes."""
    at += 1
    i2 += 1
    if i2 == n2:
        i2 = 0
        i1 += 1
        at += row_gap
        if i1 == n1:
            i1 = 0
            at += plane_gap
    return at, i1, i2


@nb.njit(cache=True, nogil=True)
def _signals_in(X, bx, g, b0, count, B, T):
    """Step 1: the signal planes of output batches ``b0 …`` (``count`` of them) into B."""
    L = lanes(B)
    n1, n2, p1, p2 = g[N1], g[N2], g[P1], g[P2]
    row_gap, plane_gap = p2 - n2, (p1 - n1) * p2
    plane = g[N0] * n1 * n2
    whole = plane - plane % L
    at, i1, i2 = (g[LO0] * p1 + g[LO1]) * p2 + g[LO2], 0, 0
    for start in range(0, whole, L):
        for lane in range(count):
            store(T, lane * L, load(X, bx[b0 + lane] * plane + start))
        transpose(T)
        for p in range(L):
            store(B, at * L, load(T, p * L))
            at, i1, i2 = _advance(at, i1, i2, n1, n2, row_gap, plane_gap)
    for p in range(whole, plane):
        for lane in range(count):
            B[at * L + lane] = X[bx[b0 + lane] * plane + p]
        at, i1, i2 = _advance(at, i1, i2, n1, n2, row_gap, plane_gap)


@nb.njit(cache=True, nogil=True)
def _weights_in(K, bk, g, b0, count, Wb):
    """The kernels of output batches ``b0 …`` into Wb, a vector per tap."""
    L = lanes(Wb)
    taps = g[M0] * g[M1] * g[M2]
    for lane in range(count):
        at = bk[b0 + lane] * taps
        for t in range(taps):
            Wb[t * L + lane] = K[at + t]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _sums(B, Wb, g, Z):
    """Step 2: every output pixel's sums into Z, the buffer of sums (its rows `WIDTH`
    pixels long)."""
    wide_vectors()
    L = lanes(B)
    m0, m1, m2 = g[M0], g[M1], g[M2]
    s0, s1, s2 = g[S0], g[S1], g[S2]
    d0, d1, d2 = g[D0], g[D1], g[D2]
    p1, p2, width = g[P1], g[P2], g[WIDTH]
    step = s2 * L
    unit = s2 == 1 and d2 == 1
    for a in range(g[O0]):
        for h in range(g[O1]):
            out = (a * g[O1] + h) * width * L
            for c in range(0, width, PIXELS):
                y0, y1, y2, y3 = zeros(B), zeros(B), zeros(B), zeros(B)
                tap = 0
                for i0 in range(m0):
                    for i1 in range(m1):
                        row = ((a * s0 + i0 * d0) * p1 + h * s1 + i1 * d1) * p2 + c * s2
                        if unit:  # constant offsets: the compiler reuses each pixel's load
                            for i2 in range(m2):
                                w = load(Wb, (tap + i2) * L)
                                p = (row + i2) * L
                                y0 = fma(w, load(B, p), y0)
                                y1 = fma(w, load(B, p + L), y1)
                                y2 = fma(w, load(B, p + 2 * L), y2)
                                y3 = fma(w, load(B, p + 3 * L), y3)
                        else:
                            for i2 in range(m2):
                                w = load(Wb, (tap + i2) * L)
                                p = (row + i2 * d2) * L
                                y0 = fma(w, load(B, p), y0)
                                y1 = fma(w, load(B, p + step), y1)
                                y2 = fma(w, load(B, p + 2 * step), y2)
                                y3 = fma(w, load(B, p + 3 * step), y3)
                        tap += m2
                at = out + c * L
                store(Z, at, y0)
                store(Z, at + L, y1)
                store(Z, at + 2 * L, y2)
                store(Z, at + 3 * L, y3)


@nb.njit(cache=True, nogil=True)
def _sums_out(Z, g, b0, count, Y, T):
    """Step 3: the sums in Z into the output planes of batches ``b0 …``."""
    L = lanes(Z)
    o1, o2 = g[O1], g[O2]
    row_gap = g[WIDTH] - o2
    plane = g[O0] * o1 * o2
    whole = plane - plane % L
    at, i1, i2 = 0, 0, 0
    for start in range(0, whole, L):
        for p in range(L):
            store(T, p * L, load(Z, at * L))
            at, i1, i2 = _advance(at, i1, i2, o1, o2, row_gap, 0)
        transpose(T)
        for lane in range(count):
            store(Y, (b0 + lane) * plane + start, load(T, lane * L))
    for p in range(whole, plane):
        for lane in range(count):
            Y[(b0 + lane) * plane + p] = Z[at * L + lane]
        at, i1, i2 = _advance(at, i1, i2, o1, o2, row_gap, 0)


@nb.njit(cache=True, nogil=True, inline="always")
def _aligned_zeros(size, like):
    """``size`` zeros of ``like``'s type starting on a `VECTOR_BYTES` boundary, so that no
    vector load or store of a whole pixel straddles two cache lines."""
    raw = np.zeros(size + lanes(like), like.dtype)
    skip = (-raw.ctypes.data) % VECTOR_BYTES // raw.itemsize
    return raw[skip : skip + size]


@nb.njit(cache=True, nogil=True)
def _blocks(X, K, Y, bx, bk, g, first, last):
    """Blocks ``first … last - 1`` of `lanes` output batches, with buffers of their own."""
    L = lanes(Y)
    B = _aligned_zeros(g[P0] * g[P1] * g[P2] * L, Y)
    Z = _aligned_zeros(g[O0] * g[O1] * g[WIDTH] * L, Y)
    Wb = _aligned_zeros(g[M0] * g[M1] * g[M2] * L, Y)
    T = _aligned_zeros(L * L, Y)
    for block in range(first, last):
        b0 = block * L
        count = min(L, g[BATCH] - b0)
        _weights_in(K, bk, g, b0, count, Wb)
        _signals_in(X, bx, g, b0, count, B, T)
        _sums(B, Wb, g, Z)
        _sums_out(Z, g, b0, count, Y, T)


@nb.njit(cache=True, nogil=True, inline="always")
def _block_count(Y, g):
    """Blocks of `lanes` output batches, the last one maybe partly filled."""
    L = lanes(Y)
    return (g[BATCH] + L - 1) // L


@nb.njit(cache=True, nogil=True)
def correlate_serial(X, K, Y, bx, bk, g):
    """Every block on this thread."""
    _blocks(X, K, Y, bx, bk, g, 0, _block_count(Y, g))


@nb.njit(cache=True, nogil=True, parallel=True)
def correlate_parallel(X, K, Y, bx, bk, g, chunks):
    """The blocks in ``chunks`` runs of consecutive blocks, in parallel."""
    blocks = _block_count(Y, g)
    chunks = min(chunks, blocks)
    for chunk in nb.prange(chunks):
        _blocks(X, K, Y, bx, bk, g, chunk * blocks // chunks, (chunk + 1) * blocks // chunks)
