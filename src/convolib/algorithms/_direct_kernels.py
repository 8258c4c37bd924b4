"""Compiled loops of the direct algorithm; importing this module imports numba.

The problem arrives flattened, with three spatial axes (fewer are padded with
length-1 axes): ``S`` holds the signal batches, each (n0, n1, n2), ``W`` the kernel
batches, each (m0, m1, m2), and ``Y`` the output batches, each (o0, o1, o2); ``geo``
holds the shapes, padding, strides and dilations, which loop to run, and last the
batch indices: ``bx[b]`` and ``bk[b]`` say which signal and kernel batch output batch
``b`` uses (`geometry`). The sum is written into ``Y``, or added to what it holds
(``accumulate``).

Every loop adds ``w * signal`` along contiguous output columns ("axpy" order), up to
`TAPS_PER_PASS` taps per pass over the outputs (``_add``), or a whole kernel row of
`LINE_MIN_TAPS` or more taps at once (``_line``: float sums in registers, each
vector of the signal loaded once for up to four taps), and runs serially or in
parallel over runs of output rows. Two loops share those passes
(`costs.direct_padded` picks one):

* ``_rows``: tasks of one block of one output row. Taps that fall outside the signal
  are skipped, so implicit zero padding costs nothing; near a row's ends the taps
  are added one by one, which costs most where rows are short.
* ``_padded``: tasks of one band of output rows. The signal rows a band reads are
  first copied into a zero-padded buffer the size of a core's cache, so every pass
  covers a whole output row without edge tests and takes its taps from any kernel
  row. A kernel holding NaN or inf runs on ``_rows`` instead: ``0 * inf`` is NaN
  where the sum has no term. A kernel of few taps on long rows reads the bands
  that lie inside the signal in place (`_band_in_place`,
  `costs.direct_bands_in_place`), as copying would cost as much as the sum of its
  rows. On CPUs with AVX-512, float sums run four rows at a time with their
  sums in registers (`_tile_rows`), but kernels of one row run as lines. Where rows
  are short and the stride is 1 along the last two axes, ``_planes`` runs over whole
  planes, each padded on its own (`costs.direct_planes`): the same tiles for large
  kernels (where `TILES`), passes over the plane as one wide row for others.

Each loop has a serial and a parallel entry (`entries`), so that a call compiles only
the loop it runs.

The loops index flattened arrays with unsigned integers (``U``), which numba does
not wrap around as it does negative indices, so the passes vectorise; and they make
no array views, each of which costs two atomic reference-count updates.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.core import types
from numba.extending import overload, register_jitable

from .. import costs
from ._launch import launch
from ._simd import (
    AVX512,
    Vector,
    add,
    copy,
    fma,
    fma_if,
    lanes,
    load,
    load_first,
    load_first_if,
    splat,
    store,
    store_first,
    wide_vectors,
    zeros,
)

U = nb.uint64

TAPS_PER_PASS = 8
"""Taps added in one pass over the outputs, as `_add` is written: the cost model's
`costs.DIRECT_TAPS_PER_PASS` (a literal here: numba's cache of this module does not
see changes to other modules)."""


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _add(Y, y, S, at, q, w, v, g, shift, n, assign):
    """``Y[y + i] += Σ w[v + t]·S[at[q + t] + shift + i]`` over ``t < g`` (1 to 8 taps: the
    lists ``at``, offsets into ``S``, and ``w``, weights, each readable 8 entries on),
    for ``i < n``; with ``assign`` (a literal at each call, so the loop is compiled
    without the other branch), ``Y[y + i] = Σ ...``: the first group of taps starts
    the outputs, with no pass of its own to zero them."""
    wide_vectors()
    a, b = U(at[q] + shift), U(at[q + 1] + shift)
    c, d = U(at[q + 2] + shift), U(at[q + 3] + shift)
    e, f = U(at[q + 4] + shift), U(at[q + 5] + shift)
    h, k = U(at[q + 6] + shift), U(at[q + 7] + shift)
    w0, w1, w2, w3 = w[v], w[v + 1], w[v + 2], w[v + 3]
    w4, w5, w6, w7 = w[v + 4], w[v + 5], w[v + 6], w[v + 7]
    if g == 1:
        for i in range(n):
            t = w0 * S[a + i]
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 2:
        for i in range(n):
            t = w0 * S[a + i] + w1 * S[b + i]
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 3:
        for i in range(n):
            t = w0 * S[a + i] + w1 * S[b + i] + w2 * S[c + i]
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 4:
        for i in range(n):
            t = w0 * S[a + i] + w1 * S[b + i] + w2 * S[c + i] + w3 * S[d + i]
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 5:
        for i in range(n):
            t = w0 * S[a + i] + w1 * S[b + i] + w2 * S[c + i] + w3 * S[d + i] + w4 * S[e + i]
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 6:
        for i in range(n):
            t = (
                w0 * S[a + i]
                + w1 * S[b + i]
                + w2 * S[c + i]
                + w3 * S[d + i]
                + w4 * S[e + i]
                + w5 * S[f + i]
            )
            Y[y + i] = t if assign else Y[y + i] + t
    elif g == 7:
        for i in range(n):
            t = (
                w0 * S[a + i]
                + w1 * S[b + i]
                + w2 * S[c + i]
                + w3 * S[d + i]
                + w4 * S[e + i]
                + w5 * S[f + i]
                + w6 * S[h + i]
            )
            Y[y + i] = t if assign else Y[y + i] + t
    else:
        for i in range(n):
            t = (
                w0 * S[a + i]
                + w1 * S[b + i]
                + w2 * S[c + i]
                + w3 * S[d + i]
                + w4 * S[e + i]
                + w5 * S[f + i]
                + w6 * S[h + i]
                + w7 * S[k + i]
            )
            Y[y + i] = t if assign else Y[y + i] + t


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _taps_in_passes(Y, y, S, at, w, v, M, shift, n, accumulate):
    """All ``M`` taps in passes of up to 8 (`_add`), the first of them starting the
    outputs unless ``accumulate``. Like `_row`, compiled apart from the loops that call
    it, once per dtype (callers pass ``uint64`` positions): numba copies an inlined
    function's variables once for every block of its code, and inlined into each loop
    these two made a cold first call take 55 s instead of 35 (64² float32, 3×3)."""
    g = min(TAPS_PER_PASS, M)
    if accumulate:
        _add(Y, y, S, at, 0, w, v, g, shift, n, False)
    else:
        _add(Y, y, S, at, 0, w, v, g, shift, n, True)
    for j in range(TAPS_PER_PASS, M, TAPS_PER_PASS):
        _add(Y, y, S, at, j, w, v + j, min(TAPS_PER_PASS, M - j), shift, n, False)


LINE_MIN_TAPS = 16
"""`_rows` adds a kernel row's taps as one run (`_line`) where it has at least this
many, and in passes of `TAPS_PER_PASS` otherwise."""

LINE_VECTORS = 8
"""Output vectors that one of `_line`'s tiles sums in registers."""


def _line(Y, y, S, at, q, w, v, g, shift, n):
    """``Y[y + i] += Σ w[v + t]·S[at[q] + shift + t + i]`` over the ``g`` consecutive taps
    ``t < g`` (``at[q + t] == at[q] + t``), for ``i < n``: float sums in registers
    (`_line_in_registers`), others in passes (`_line_in_passes`)."""


@overload(_line)
def _line_overload(Y, y, S, at, q, w, v, g, shift, n):
    if not _floats_alike(Y, S, w):
        return _line_in_passes

    def in_registers(Y, y, S, at, q, w, v, g, shift, n):
        _line_in_registers(Y, U(y), S, U(at[q] + shift), w, U(v), U(g), U(n))

    return in_registers


@register_jitable
def _line_in_passes(Y, y, S, at, q, w, v, g, shift, n):
    for j in range(0, g, TAPS_PER_PASS):
        _add(Y, y, S, at, q + j, w, v + j, min(TAPS_PER_PASS, g - j), shift, n, False)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _line_in_registers(Y, y, S, o, w, k, g, n):
    """``Y[y + i] += Σ w[k + t]·S[o + t + i]`` over ``t < g``, for ``i < n``: tiles of
    `LINE_VECTORS` vectors of outputs, each summed over all taps in registers
    (`_line_tile`); the outputs after the last whole tile run in one more tile,
    masked, so every output gets its terms in one order wherever it lies. Compiled
    apart from its callers (not inlined), with one signature for each dtype."""
    wide_vectors()
    span = U(LINE_VECTORS) * U(lanes(Y))
    end = n // span * span
    for i in range(U(0), end, span):
        _line_tile(Y, y + i, S, o + i, w, k, g, span, False)
    if end < n:
        _line_tile(Y, y + end, S, o + end, w, k, g, n - end, True)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _line_tile(Y, y, S, o, w, k, g, n, masked):
    """``Y[y + i] += Σ w[k + t]·S[o + t + i]`` over ``t < g`` for the ``i < n`` of one tile
    (``n`` at most its `LINE_VECTORS` vectors). The taps go by their lane ``b``: taps
    ``b``, ``b + L``, ``b + 2L`` and ``b + 3L`` (``L`` lanes) are splatted once, and
    each vector of ``S`` loaded from ``b`` on serves up to four of the tile's vectors
    (`_lane_taps`), so a tap costs fewer loads than multiply-adds. Where ``masked`` (a
    literal), loads stop at the last value the ``n`` outputs read."""
    L = U(lanes(Y))
    y0 = y1 = y2 = y3 = y4 = y5 = y6 = y7 = zeros(Y)
    for c in range(U(0), g, U(4) * L):
        for b in range(min(L, g - c)):
            t = c + b
            count = min(U(4), (g - t + L - U(1)) // L)  # taps t + a·L below g
            v0 = splat(w, k + t)
            v1 = splat(w, k + t + L) if count > 1 else v0
            v2 = splat(w, k + t + U(2) * L) if count > 2 else v0
            v3 = splat(w, k + t + U(3) * L) if count > 3 else v0
            # values of S readable from o + t on: those the n outputs' sums hold
            left = np.int64(n + g) - np.int64(t) - 1
            if count == 4:
                y0, y1, y2, y3, y4, y5, y6, y7 = _lane_taps(
                    S, o + t, L, v0, v1, v2, v3, 4, masked, left, y0, y1, y2, y3, y4, y5, y6, y7
                )
            elif count == 3:
                y0, y1, y2, y3, y4, y5, y6, y7 = _lane_taps(
                    S, o + t, L, v0, v1, v2, v3, 3, masked, left, y0, y1, y2, y3, y4, y5, y6, y7
                )
            elif count == 2:
                y0, y1, y2, y3, y4, y5, y6, y7 = _lane_taps(
                    S, o + t, L, v0, v1, v2, v3, 2, masked, left, y0, y1, y2, y3, y4, y5, y6, y7
                )
            else:
                y0, y1, y2, y3, y4, y5, y6, y7 = _lane_taps(
                    S, o + t, L, v0, v1, v2, v3, 1, masked, left, y0, y1, y2, y3, y4, y5, y6, y7
                )
    for r, value in enumerate((y0, y1, y2, y3, y4, y5, y6, y7)):
        _put(Y, y + U(r) * L, value, np.int64(n) - np.int64(r * L), True)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _lane_taps(S, o, L, v0, v1, v2, v3, taps, masked, left, y0, y1, y2, y3, y4, y5, y6, y7):
    """The 8 vectors of sums plus ``taps`` (a literal, 1 to 4) taps of one lane: the
    vector of ``S`` at ``o + p·L`` is tap ``a``'s term (weights ``v0`` to ``v3``) of
    vector ``p - a``, so vector ``p`` is loaded once for all of them; where ``masked``, only
    the values below ``left`` (counted from ``o``) are read, the rest are zeros."""
    x = load_first_if(masked, S, o, left)
    y0 = fma(v0, x, y0)
    x = load_first_if(masked, S, o + L, left - np.int64(L))
    y1, y0 = fma(v0, x, y1), fma_if(taps > 1, v1, x, y0)
    x = load_first_if(masked, S, o + U(2) * L, left - np.int64(2 * L))
    y2, y1, y0 = fma(v0, x, y2), fma_if(taps > 1, v1, x, y1), fma_if(taps > 2, v2, x, y0)
    x = load_first_if(masked, S, o + U(3) * L, left - np.int64(3 * L))
    y3, y2 = fma(v0, x, y3), fma_if(taps > 1, v1, x, y2)
    y1, y0 = fma_if(taps > 2, v2, x, y1), fma_if(taps > 3, v3, x, y0)
    x = load_first_if(masked, S, o + U(4) * L, left - np.int64(4 * L))
    y4, y3 = fma(v0, x, y4), fma_if(taps > 1, v1, x, y3)
    y2, y1 = fma_if(taps > 2, v2, x, y2), fma_if(taps > 3, v3, x, y1)
    x = load_first_if(masked, S, o + U(5) * L, left - np.int64(5 * L))
    y5, y4 = fma(v0, x, y5), fma_if(taps > 1, v1, x, y4)
    y3, y2 = fma_if(taps > 2, v2, x, y3), fma_if(taps > 3, v3, x, y2)
    x = load_first_if(masked, S, o + U(6) * L, left - np.int64(6 * L))
    y6, y5 = fma(v0, x, y6), fma_if(taps > 1, v1, x, y5)
    y4, y3 = fma_if(taps > 2, v2, x, y4), fma_if(taps > 3, v3, x, y3)
    x = load_first_if(masked, S, o + U(7) * L, left - np.int64(7 * L))
    y7, y6 = fma(v0, x, y7), fma_if(taps > 1, v1, x, y6)
    y5, y4 = fma_if(taps > 2, v2, x, y5), fma_if(taps > 3, v3, x, y4)
    if taps > 1:  # vectors past the tile's: only the later taps read them
        x = load_first_if(masked, S, o + U(8) * L, left - np.int64(8 * L))
        y7, y6, y5 = fma(v1, x, y7), fma_if(taps > 2, v2, x, y6), fma_if(taps > 3, v3, x, y5)
    if taps > 2:
        x = load_first_if(masked, S, o + U(9) * L, left - np.int64(9 * L))
        y7, y6 = fma(v2, x, y7), fma_if(taps > 3, v3, x, y6)
    if taps > 3:
        x = load_first_if(masked, S, o + U(10) * L, left - np.int64(10 * L))
        y7 = fma(v3, x, y7)
    return y0, y1, y2, y3, y4, y5, y6, y7


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _rows(t0, t1, S, W, bx, bk, geo, Y, accumulate):
    """Tasks ``t0 .. t1 - 1``: task ``t`` is column block ``t % blocks`` of output row
    ``t // blocks`` (rows counted over batch, o0 and o1). The taps whose kernel row
    falls inside the signal are listed (``at``: offset of output column 0's term in
    ``S``, ``col``: its column shift, ``w``: weight) and added in groups."""
    lo0, lo1, lo2, s0, s1, s2, d0, d1, d2 = geo[:9]
    n0, n1, n2, m0, m1, m2, O0, O1, O2 = geo[12:21]
    block = geo[22]
    blocks = (O2 + block - 1) // block
    size = m0 * m1 * m2 + TAPS_PER_PASS
    at, col, w = np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros(size, W.dtype)
    # a kernel row's taps in one run (`_line`), contiguous in the signal, or in passes
    lined = _lined(geo)
    step = m2 if lined else TAPS_PER_PASS
    c = t0 % blocks
    i1 = t0 // blocks % O1
    i0 = t0 // blocks // O1 % O0
    b = t0 // blocks // O1 // O0
    for t in range(t0, t1):
        if t > t0:  # the next task: count up, without divisions
            c += 1
            if c == blocks:
                c, i1 = 0, i1 + 1
                if i1 == O1:
                    i1, i0 = 0, i0 + 1
                    if i0 == O0:
                        i0, b = 0, b + 1
        c0 = c * block
        c1 = min(O2, c0 + block)
        yb = ((b * O0 + i0) * O1 + i1) * O2
        if not accumulate:
            y = U(yb + c0)
            for i in range(U(c1 - c0)):
                Y[y + i] = 0
        count = 0
        for j0 in range(m0):
            p0 = i0 * s0 + j0 * d0 - lo0
            if p0 < 0 or p0 >= n0:
                continue
            for j1 in range(m1):
                p1 = i1 * s1 + j1 * d1 - lo1
                if p1 < 0 or p1 >= n1:
                    continue
                sb = ((bx[b] * n0 + p0) * n1 + p1) * n2
                wb = ((bk[b] * m0 + j0) * m1 + j1) * m2
                for j2 in range(m2):
                    off = j2 * d2 - lo2
                    if s2 == 1:
                        at[count], col[count], w[count] = sb + off, off, W[wb + j2]
                        count += 1
                        continue
                    # strided columns: one tap per pass, no edges to split
                    first = max(c0, (s2 - 1 - off) // s2) if off < 0 else c0
                    last = min(c1, (n2 - 1 - off) // s2 + 1)
                    if last > first:
                        v, y, a, step = W[wb + j2], U(yb + first), U(sb + first * s2 + off), U(s2)
                        for i in range(U(last - first)):
                            Y[y + i] += v * S[a + i * step]
        for q in range(0, count, step):
            g = min(step, count - q)
            # [first, last): the outputs for which all g taps lie inside the row
            first, last = c0, c1
            for r in range(q, q + g):
                first, last = max(first, -col[r]), min(last, n2 - col[r])
            if last > first and lined:
                _line(Y, U(yb + first), S, at, q, w, q, g, first, U(last - first))
            elif last > first:
                _add(Y, U(yb + first), S, at, q, w, q, g, first, U(last - first), False)
            for r in range(q, q + g):  # the edges, tap by tap
                f, e = max(c0, -col[r]), min(c1, n2 - col[r])
                for i in range(f, min(e, first) if last > first else e):
                    Y[yb + i] += w[r] * S[at[r] + i]
                if last > first:
                    for i in range(max(f, last), e):
                        Y[yb + i] += w[r] * S[at[r] + i]


@nb.njit(cache=True, nogil=True)
def _taps(W, geo, height):
    """For the padded loops: each kernel tap's offset in a padded buffer of planes of
    ``height`` rows, and the weights as the loops read them (`_oriented`), both with
    room for a pass to read 8 entries on."""
    w = np.zeros(W.size + TAPS_PER_PASS, W.dtype)
    if geo[REVERSE]:
        _reverse(W, geo, w)
    else:
        w[: W.size] = W
    return _offsets(geo, height, geo[11]), w


@nb.njit(cache=True, nogil=True)
def _offsets(geo, height, width):
    """Each kernel tap's offset in planes of ``height`` rows of ``width`` samples, with
    room for a pass to read 8 entries on."""
    d0, d1, d2 = geo[6], geo[7], geo[8]
    m0, m1, m2 = geo[15], geo[16], geo[17]
    at = np.zeros(m0 * m1 * m2 + TAPS_PER_PASS, np.int64)
    for j0 in range(m0):
        for j1 in range(m1):
            for j2 in range(m2):
                at[(j0 * m1 + j1) * m2 + j2] = (j0 * d0 * height + j1 * d1) * width + j2 * d2
    return at


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _row(Y, y, P, row, at, w, wb, geo, n, accumulate):
    """Output row ``Y[y : y + n]`` from the padded buffer ``P``, its window starting at
    ``row``: each kernel row's taps as one run (`_lined`), or every tap in passes of 8
    (stride 1) or one by one. Compiled apart from its callers (`_taps_in_passes`)."""
    s2, m2, M = geo[5], geo[17], geo[15] * geo[16] * geo[17]
    if s2 != 1:
        if not accumulate:
            for i in range(n):
                Y[y + i] = 0
        for j in range(M):
            v, a, step = w[wb + j], U(row + at[j]), U(s2)
            for i in range(n):
                Y[y + i] += v * P[a + i * step]
        return
    if not _lined(geo):
        _taps_in_passes(Y, y, P, at, w, wb, M, row, n, accumulate)
        return
    if not accumulate:
        for i in range(n):
            Y[y + i] = 0
    for j in range(0, M, m2):
        _line(Y, y, P, at, j, w, wb + j, m2, row, n)


@nb.njit(cache=True, nogil=True, inline="always")
def _rows_tile(geo):
    """Whether the padded loops run output rows in `_tile_rows`' tiles (where `TILES`):
    stride 1 along the last two axes, rows not dilated, and kernel rows that tiles
    share or not summed as lines (`_lined`)."""
    s1, s2, d1, m1 = geo[4], geo[5], geo[7], geo[16]
    return s1 == 1 and s2 == 1 and d1 == 1 and (m1 > 1 or not _lined(geo))


@nb.njit(cache=True, nogil=True, inline="always")
def _lined(geo):
    """Whether the loops add each kernel row's taps as one run (`_line`): stride and
    dilation 1 along the last axis, and `LINE_MIN_TAPS` or more taps in a row."""
    return geo[5] == 1 and geo[8] == 1 and geo[17] >= LINE_MIN_TAPS


TILE_ROWS = 4
"""Output rows that `_tile_rows` sums at once."""

PLANE_TILE_MIN_TAPS = 32
"""`_planes` runs tiles (`_tile_rows`) for kernels of at least this many taps, and
passes over the wide row for fewer: on 28² float32 planes, tiles ran 1.1-1.4x faster
for 7×7 kernels, 0.93x for 5×5 and 0.7-0.8x for 1×1 to 3×3."""

TILES = AVX512
"""Whether the padded loops run float sums in `_tile_rows`' tiles, of 4 rows by four
`Vector`s (two where fewer columns are left): only with AVX-512's 32 vector registers.
With 16 (Zen 3) 8 vectors of sums leave no room; and there, tiles one vector wide,
each tap taken once for all four rows, ran slower than the rows' passes (one thread:
5×5 to 11×11 on 2048² and 5×5×5 on 256³ 1.25-1.85x slower; depthwise 7×7 planes, n5,
1.3x on two)."""

TILE_COLUMNS = 32
"""The most columns a tile that ends a row covers: two 64-byte vectors of float32 (a
buffer holds this many values past its last row for such a tile's reads)."""


def _tile_rows(Y, y, O2, n, P, row, len2, height, w, wb, geo, at, accumulate):
    """`TILE_ROWS` output rows ``Y[y + r·O2 : y + r·O2 + n]`` from the padded buffer
    ``P`` (stride 1 along both axes, no dilation between rows), their windows starting
    at ``row + r·len2``; float sums in registers where `TILES`
    (`_tile_rows_in_registers`), others row by row (`_row`)."""


def _tile_columns(Y, P, w):
    """The columns of `_tile_rows`' tiles where it keeps its sums in registers, else 0:
    a constant of the types."""


def _floats_alike(Y, P, w) -> bool:
    return isinstance(Y.dtype, types.Float) and Y.dtype == P.dtype == w.dtype


def _tiled(Y, P, w) -> bool:
    return TILES and _floats_alike(Y, P, w)


@overload(_tile_columns)
def _tile_columns_overload(Y, P, w):
    columns = 2 * Vector(Y.dtype).lanes if _tiled(Y, P, w) else 0
    return lambda Y, P, w: columns


@overload(_tile_rows, jit_options={"fastmath": {"contract"}})
def _tile_rows_overload(Y, y, O2, n, P, row, len2, height, w, wb, geo, at, accumulate):
    return _tile_rows_in_registers if _tiled(Y, P, w) else _tile_rows_by_row


def _tile_rows_by_row(Y, y, O2, n, P, row, len2, height, w, wb, geo, at, accumulate):
    for r in range(TILE_ROWS):
        _row(Y, y + U(r * O2), P, U(row + r * len2), at, w, wb, geo, U(n), accumulate)


def _tile_rows_in_registers(Y, y, O2, n, P, row, len2, height, w, wb, geo, at, accumulate):
    """Tiles of 4 rows by four vectors of columns, then by two, each summed in
    registers over all taps (`_tile_shared`). A last tile that covers fewer columns
    stores only those (`_put`); it runs where ``P`` holds the values its vectors read
    past the row, and otherwise those columns run row by row."""
    wide_vectors()
    d0, m0, m1, m2 = geo[6], geo[15], geo[16], geo[17]
    step = U(2) * U(lanes(Y))  # the columns of a narrow tile
    planes, width, d2 = U(d0 * height * len2), U(len2), U(geo[8])
    wide = U(n) // (U(2) * step) * (U(2) * step)  # the columns in wide tiles
    end = U(n) // step * step
    reach = U(row) + U(m0 - 1) * planes + U(m1 + TILE_ROWS - 2) * width + U(m2 - 1) * d2
    if end < U(n) and reach + end + step <= U(len(P)):
        end = U(n)
    for i in range(U(0), wide, U(2) * step):
        at_y, at_p, left = y + i, U(row) + i, np.int64(n) - np.int64(i)
        _tile_shared(Y, at_y, U(O2), P, at_p, width, planes, d2, w, wb, geo, left, 4, accumulate)
    for i in range(wide, end, step):
        at_y, at_p = y + i, U(row) + i
        left = np.int64(n) - np.int64(i)  # columns from the tile's first on
        _tile_shared(Y, at_y, U(O2), P, at_p, width, planes, d2, w, wb, geo, left, 2, accumulate)
    if end < U(n):
        for r in range(TILE_ROWS):
            y_r, row_r = y + U(r * O2) + end, U(row + r * len2) + end
            _row(Y, y_r, P, row_r, at, w, wb, geo, U(n) - end, accumulate)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _tile_shared(Y, y, O2, P, row, width, planes, d2, w, wb, geo, left, vectors, accumulate):
    """One tile of 4 rows by ``vectors`` (a constant, 2 or 4) vectors, its sums in
    registers: a vector of ``P`` loaded once serves the (up to 4) kernel rows that read
    it for the tile's rows, and a weight splatted once serves the row's vectors, so a
    tap costs fewer loads than multiply-adds (four vectors a row: 16 sums; on two-core
    Zen 4, 1.15-1.45x faster than two on 2048² and 256³ float32 with 5×5 to 11×11
    kernels)."""
    m0, m1, m2 = geo[15], geo[16], geo[17]
    L, four = U(lanes(Y)), vectors == 4
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = zeros(Y)
    c0 = c1 = c2 = c3 = e0 = e1 = e2 = e3 = zeros(Y)
    for j0 in range(U(m0)):
        for p in range(U(m1 + TILE_ROWS - 1)):
            line = row + j0 * planes + p * width
            for j2 in range(U(m2)):
                o = line + j2 * d2
                x0, x1 = load(P, o), load(P, o + L)
                x2, x3 = (load(P, o + U(2) * L), load(P, o + U(3) * L)) if four else (x0, x1)
                k = U(wb) + (j0 * U(m1) + p) * U(m2) + j2  # the tap of kernel row p
                if p < U(m1):
                    v = splat(w, k)
                    a0, a1, a2, a3 = _fma_row(four, v, x0, x1, x2, x3, a0, a1, a2, a3)
                if U(1) <= p < U(m1 + 1):
                    v = splat(w, k - U(1) * U(m2))
                    b0, b1, b2, b3 = _fma_row(four, v, x0, x1, x2, x3, b0, b1, b2, b3)
                if U(2) <= p < U(m1 + 2):
                    v = splat(w, k - U(2) * U(m2))
                    c0, c1, c2, c3 = _fma_row(four, v, x0, x1, x2, x3, c0, c1, c2, c3)
                if U(3) <= p < U(m1 + 3):
                    v = splat(w, k - U(3) * U(m2))
                    e0, e1, e2, e3 = _fma_row(four, v, x0, x1, x2, x3, e0, e1, e2, e3)
    _put_row(Y, y, L, left, four, a0, a1, a2, a3, accumulate)
    _put_row(Y, y + O2, L, left, four, b0, b1, b2, b3, accumulate)
    _put_row(Y, y + U(2) * O2, L, left, four, c0, c1, c2, c3, accumulate)
    _put_row(Y, y + U(3) * O2, L, left, four, e0, e1, e2, e3, accumulate)


@nb.njit(cache=True, nogil=True, inline="always")
def _put_row(Y, at, L, left, four, s0, s1, s2, s3, accumulate):
    """A tile row's 2 or 4 vectors of sums into ``Y[at]`` on (`_put`): ``left``
    columns from there on are the row's."""
    n = np.int64(L)
    _put(Y, at, s0, left, accumulate)
    _put(Y, at + L, s1, left - n, accumulate)
    if four:
        _put(Y, at + U(2) * L, s2, left - 2 * n, accumulate)
        _put(Y, at + U(3) * L, s3, left - 3 * n, accumulate)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _fma_row(four, v, x0, x1, x2, x3, s0, s1, s2, s3):
    """One tap's terms added to a tile row's sums: ``v·x`` for its 2 or 4 vectors."""
    return fma(v, x0, s0), fma(v, x1, s1), fma_if(four, v, x2, s2), fma_if(four, v, x3, s3)


@nb.njit(cache=True, nogil=True, inline="always")
def _put(Y, at, value, count, accumulate):
    """Store the first ``count`` lanes of ``value`` at ``Y[at]`` (all of them if
    ``count`` reaches `lanes`, none if it is not positive), or add them."""
    if count >= lanes(Y):
        store(Y, at, add(value, load(Y, at)) if accumulate else value)
    elif count > 0:
        store_first(Y, at, add(value, load_first(Y, at, count)) if accumulate else value, count)


ZEROS, EDGE, REFLECT, SYMMETRIC, WRAP = range(5)
"""Boundary rules of the padded loop's copies (``geo[24]``), by `RULES` name."""

PADDED, PLANES, REVERSE, IN_PLACE_COLUMNS, BATCH_INDEX = 25, 26, 27, 28, 29
"""Where `geometry` stores its flags, and where the batch indices start."""

RULES = {"edge": EDGE, "reflect": REFLECT, "symmetric": SYMMETRIC, "wrap": WRAP}


@nb.njit(cache=True, nogil=True, inline="always")
def _source(p, n, rule):
    """The signal index that index ``p`` of the padded axis reads under ``rule``
    (``np.pad``'s modes; ``p`` may lie beyond one period), or -1 for a zero."""
    if 0 <= p < n:
        return p
    if rule == ZEROS:
        return -1
    if rule == EDGE:
        return 0 if p < 0 else n - 1
    if rule == WRAP:
        return p % n
    period = max(1, 2 * n - 2) if rule == REFLECT else 2 * n  # one sample reflects itself
    q = p % period
    return q if q < n else (period - q if rule == REFLECT else period - 1 - q)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _padded(t0, t1, S, W, bx, bk, geo, Y, accumulate):
    """Tasks ``t0 .. t1 - 1``: task ``t`` is band ``t % bands`` (`band_rows` output
    rows) of output plane ``t // bands`` (counted over batch and o0). The signal rows
    the band reads, from each signal plane the output plane reads, are copied into a
    zero-padded buffer (``slab``, the size of a core's cache), and the band's rows run
    whole from it: no edges, and each pass takes taps from any kernel row. The copy
    pads with zeros or by a boundary rule (``geo[24]``). A signal that needs no
    padding is read in place, and so is a band whose rows all lie inside the signal
    where only zero columns are missing (`_band_in_place`)."""
    lo0, lo1, lo2, s0, s1, s2, d0, d1 = geo[:8]
    len1, len2, n0, n1, n2 = geo[10], geo[11], geo[12], geo[13], geo[14]
    m0, m1 = geo[15], geo[16]
    M, O0, O1, O2, R, rule = m0 * m1 * geo[17], geo[18], geo[19], geo[20], geo[23], geo[24]
    in_place = geo[9] == n0 and len1 == n1 and len2 == n2
    bands = (O1 + R - 1) // R
    extent = (m0 - 1) * d0 + 1  # signal planes an output plane reads
    height = len1 if in_place else (R - 1) * s1 + (m1 - 1) * d1 + 1  # rows a band reads
    at, w = _taps(W, geo, height)
    bands_in_place = (
        not in_place
        and rule == ZEROS
        and s1 == 1
        and s2 == 1
        and not accumulate
        and geo[IN_PLACE_COLUMNS] > 0
    )
    at_in = _offsets(geo, n1, n2) if bands_in_place else at  # the taps' offsets in S
    size = 0 if in_place else extent * height * len2
    slab = np.empty(size + TILE_COLUMNS, Y.dtype)
    copy(slab, size, None, 0, TILE_COLUMNS)  # zeros for tiles' vectors past the last row
    tiles = _tile_columns(Y, slab, w) > 0
    band = t0 % bands
    i0 = t0 // bands % O0
    b = t0 // bands // O0
    for t in range(t0, t1):
        if t > t0:  # the next task: count up, without divisions
            band += 1
            if band == bands:
                band, i0 = 0, i0 + 1
                if i0 == O0:
                    i0, b = 0, b + 1
        r0 = band * R
        r1 = min(O1, r0 + R)
        wb = bk[b] * M
        top, first = r0 - lo1, i0 * s0 - lo0  # the first signal row and plane read
        if (
            bands_in_place
            and top >= 0
            and (r1 - 1) + (m1 - 1) * d1 - lo1 < n1
            and first >= 0
            and first + extent - 1 < n0
        ):
            y = ((b * O0 + i0) * O1 + r0) * O2
            _band_in_place(S, w, at_in, wb, geo, bx[b] * n0 + first, top, Y, y, r1 - r0)
            continue
        if in_place:
            P, base = S, ((bx[b] * n0 + i0 * s0) * n1 + r0 * s1) * n2
        else:
            P, base = slab, 0
            rows = (r1 - r0 - 1) * s1 + (m1 - 1) * d1 + 1
            for e in range(extent):
                p0 = _source(i0 * s0 + e - lo0, n0, rule)
                for q in range(rows):
                    p1 = _source(r0 * s1 + q - lo1, n1, rule)
                    dst = U((e * height + q) * len2)
                    if p0 < 0 or p1 < 0:
                        for i in range(U(len2)):
                            slab[dst + i] = 0
                        continue
                    src = U(((bx[b] * n0 + p0) * n1 + p1) * n2)
                    for i in range(U(n2)):
                        slab[dst + U(lo2) + i] = S[src + i]
                    if rule == ZEROS:
                        for i in range(U(lo2)):
                            slab[dst + i] = 0
                        for i in range(U(len2 - lo2 - n2)):
                            slab[dst + U(lo2 + n2) + i] = 0
                        continue
                    for i in range(U(lo2)):
                        slab[dst + i] = S[src + U(_source(np.int64(i) - lo2, n2, rule))]
                    for i in range(U(lo2 + n2), U(len2)):
                        slab[dst + i] = S[src + U(_source(np.int64(i) - lo2, n2, rule))]
        tiled = r0
        if tiles and _rows_tile(geo):
            while tiled + TILE_ROWS <= r1:
                y = U(((b * O0 + i0) * O1 + tiled) * O2)
                row = base + (tiled - r0) * len2
                _tile_rows(Y, y, O2, O2, P, row, len2, height, w, wb, geo, at, accumulate)
                tiled += TILE_ROWS
        for i1 in range(tiled, r1):
            y = U(((b * O0 + i0) * O1 + i1) * O2)
            _row(Y, y, P, U(base + (i1 - r0) * s1 * len2), at, w, wb, geo, U(O2), accumulate)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _band_in_place(S, w, at, wb, geo, plane, top, Y, y, rows):
    """``rows`` output rows from ``Y[y]`` on, stride 1 and zero padding, where every
    signal plane and row they read exists (``plane``, ``top``: the first ones): read
    in place from ``S`` (``at``: the taps' offsets in it), with no copy.

    The columns whose taps all lie inside the signal row (``geo[IN_PLACE_COLUMNS]``,
    from column ``lo2`` on) run in tiles and passes as `_padded`'s do, the same terms in the
    same order; the outer columns are summed over their taps inside the row."""
    lo2, d0, d1, d2 = geo[2], geo[6], geo[7], geo[8]
    n1, n2, m0, m1, m2 = geo[13], geo[14], geo[15], geo[16], geo[17]
    O2, M = geo[20], geo[15] * geo[16] * geo[17]
    inner = geo[IN_PLACE_COLUMNS]
    src = (plane * n1 + top) * n2  # the band's first signal row (tap (0, 0, 0) of column lo2)
    tiled = 0
    if _rows_tile(geo):
        while tiled + TILE_ROWS <= rows:
            at_y, row = U(y + tiled * O2 + lo2), src + tiled * n2
            _tile_rows(Y, at_y, O2, inner, S, row, n2, n1, w, wb, geo, at, False)
            tiled += TILE_ROWS
    for r in range(tiled, rows):
        _taps_in_passes(Y, U(y + r * O2 + lo2), S, at, w, wb, M, U(src + r * n2), U(inner), False)
    for r in range(rows):  # the outer columns, over their taps inside the row
        row = src + r * n2 - lo2  # where tap (0, 0, 0) of column 0 would read
        for e in range(O2 - inner):
            i2 = e if e < lo2 else e + inner
            if d2 == 1:  # the taps inside the row, without divisions
                first, last = max(0, lo2 - i2), min(m2, n2 - i2 + lo2)
            else:
                first = max(0, -((i2 - lo2) // d2))
                last = min(m2, (n2 - 1 - i2 + lo2) // d2 + 1)
            total = Y.dtype.type(0)
            for j0 in range(m0):
                for j1 in range(m1):
                    line = row + (j0 * d0 * n1 + j1 * d1) * n2 + i2
                    v = wb + (j0 * m1 + j1) * m2
                    for j2 in range(first, last):
                        total += w[v + j2] * S[line + j2 * d2]
            Y[y + r * O2 + i2] = total


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _planes(q0, q1, S, at, w, bx, bk, geo, Y, accumulate):
    """Output planes ``q0 .. q1 - 1`` (counted over batch and o0), stride 1 along the
    last two axes: the signal rows each plane reads are copied into a zero-padded
    buffer (``slab``). Float sums of `PLANE_TILE_MIN_TAPS` taps or more run from it in
    tiles of rows (`_tile_rows`, where rows are not dilated); others run as one wide
    row (output ``(i1, i2)`` at
    ``i1·len2 + i2``, the columns between rows computed and dropped), so that a pass
    covers a whole plane, and the rows are copied out."""
    lo0, lo1, lo2, s0, d0, d1 = geo[0], geo[1], geo[2], geo[3], geo[6], geo[7]
    len1, len2, n0, n1, n2 = geo[10], geo[11], geo[12], geo[13], geo[14]
    M, O0, O1, O2 = geo[15] * geo[16] * geo[17], geo[18], geo[19], geo[20]
    extent = (geo[15] - 1) * d0 + 1  # signal planes along axis 0 that one output plane reads
    n = U((O1 - 1) * len2 + O2)
    size = extent * len1 * len2
    slab = np.empty(size + TILE_COLUMNS, Y.dtype)
    copy(slab, size, None, 0, TILE_COLUMNS)  # as in `_padded`
    tiles = (
        d1 == 1 and M >= PLANE_TILE_MIN_TAPS and 2 * O2 >= _tile_columns(Y, slab, w) > 0
    )  # tiles half full or more, of enough taps
    wide = np.empty(U(0) if tiles else n, Y.dtype)
    i0 = q0 % O0
    b = q0 // O0
    for plane in range(q0, q1):
        if plane > q0:  # the next plane: count up, without divisions
            i0 += 1
            if i0 == O0:
                i0, b = 0, b + 1
        for t in range(extent):
            p0 = i0 * s0 + t - lo0
            base = U(t * len1 * len2)
            if not 0 <= p0 < n0:
                copy(slab, base, None, 0, len1 * len2)
                continue
            copy(slab, base, None, 0, lo1 * len2 + lo2)  # the border around the rows copied in
            for p1 in range(n1):
                src = U(((bx[b] * n0 + p0) * n1 + p1) * n2)
                dst = base + U((p1 + lo1) * len2 + lo2)
                copy(slab, dst, S, src, n2)
                gap = len2 - n2 if p1 + 1 < n1 else (len1 - lo1 - n1) * len2 + len2 - n2 - lo2
                copy(slab, dst + U(n2), None, 0, gap)
        wb = bk[b] * M
        y = U(plane * O1 * O2)
        if tiles:
            for i1 in range(0, O1 - TILE_ROWS + 1, TILE_ROWS):
                at_y, row = y + U(i1 * O2), i1 * len2
                _tile_rows(Y, at_y, O2, O2, slab, row, len2, len1, w, wb, geo, at, accumulate)
            for i1 in range(O1 // TILE_ROWS * TILE_ROWS, O1):
                _row(Y, y + U(i1 * O2), slab, U(i1 * len2), at, w, wb, geo, U(O2), accumulate)
            continue
        _taps_in_passes(wide, U(0), slab, at, w, wb, M, U(0), U(n), False)
        for i1 in range(O1):
            src, dst = U(i1 * len2), y + U(i1 * O2)
            if accumulate:
                for i in range(U(O2)):
                    Y[dst + i] += wide[src + i]
            else:
                for i in range(U(O2)):
                    Y[dst + i] = wide[src + i]


@nb.njit(cache=True, nogil=True)
def _finite(a):
    for v in a:  # noqa: SIM110 (a loop numba compiles, with no temporary array)
        if v - v != 0:  # x - x is NaN for NaN and ±inf, 0 for other numbers
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _reverse(W, geo, flipped):
    """Write the kernel into ``flipped`` with each of its batches reversed: the flipped
    kernel of a convolution."""
    M = geo[15] * geo[16] * geo[17]
    for start in range(0, W.size, M):
        for j in range(M):
            flipped[start + j] = W[start + M - 1 - j]


@nb.njit(cache=True, nogil=True)
def _kernel_allows_padding(W, geo):
    """Whether the padded loops may run: a boundary rule leaves no term out, or the
    kernel is finite (a zero of the padding times an infinite tap would be NaN where
    the sum has no such term)."""
    return geo[24] != ZEROS or _finite(W)


@nb.njit(cache=True, nogil=True, inline="always")
def _oriented(W, geo):
    """The kernel as the rows loop reads it: each batch reversed if ``geo[REVERSE]``
    (the padded loops' `_taps` reverse it as they copy it)."""
    if not geo[REVERSE]:
        return W
    flipped = np.empty_like(W)
    _reverse(W, geo, flipped)
    return flipped


@nb.njit(cache=True, nogil=True)
def rows_serial(S, W, geo, Y, accumulate):
    """The rows loop on this thread (the kernel reversed first if ``geo[REVERSE]``);
    True, as the other loops' entries return when they ran."""
    W, (bx, bk) = _oriented(W, geo), _batch_indices(geo)
    _rows(np.int64(0), _tasks(geo), S, W, bx, bk, geo, Y, accumulate)
    return True


@nb.njit(cache=True, nogil=True, parallel=True)
def rows_parallel(S, W, geo, Y, accumulate, chunks):
    """`rows_serial` in ``chunks`` runs of nearly equal numbers of tasks."""
    W, (bx, bk) = _oriented(W, geo), _batch_indices(geo)
    tasks = _tasks(geo)
    for c in nb.prange(chunks):
        _rows(c * tasks // chunks, (c + 1) * tasks // chunks, S, W, bx, bk, geo, Y, accumulate)
    return True


@nb.njit(cache=True, nogil=True)
def padded_serial(S, W, geo, Y, accumulate):
    """The padded loop on this thread, as `rows_serial`; False, with nothing written,
    where the kernel does not allow it (`_kernel_allows_padding`)."""
    if not _kernel_allows_padding(W, geo):
        return False
    bx, bk = _batch_indices(geo)
    _padded(np.int64(0), _bands(geo), S, W, bx, bk, geo, Y, accumulate)
    return True


@nb.njit(cache=True, nogil=True, parallel=True)
def padded_parallel(S, W, geo, Y, accumulate, chunks):
    """`padded_serial` in ``chunks`` runs of nearly equal numbers of bands."""
    if not _kernel_allows_padding(W, geo):
        return False
    bx, bk = _batch_indices(geo)
    bands = _bands(geo)
    for c in nb.prange(chunks):
        _padded(c * bands // chunks, (c + 1) * bands // chunks, S, W, bx, bk, geo, Y, accumulate)
    return True


@nb.njit(cache=True, nogil=True)
def planes_serial(S, W, geo, Y, accumulate):
    """The padded loop's plane at a time form on this thread, as `padded_serial`."""
    if not _kernel_allows_padding(W, geo):
        return False
    bx, bk = _batch_indices(geo)
    at, w = _taps(W, geo, geo[10])
    _planes(np.int64(0), _plane_count(geo), S, at, w, bx, bk, geo, Y, accumulate)
    return True


@nb.njit(cache=True, nogil=True, parallel=True)
def planes_parallel(S, W, geo, Y, accumulate, chunks):
    """`planes_serial` in ``chunks`` runs of nearly equal numbers of planes."""
    if not _kernel_allows_padding(W, geo):
        return False
    bx, bk = _batch_indices(geo)
    at, w = _taps(W, geo, geo[10])
    count = _plane_count(geo)
    for c in nb.prange(chunks):
        _planes(
            c * count // chunks, (c + 1) * count // chunks, S, at, w, bx, bk, geo, Y, accumulate
        )
    return True


def entries(geo: np.ndarray) -> tuple:
    """The serial and parallel entries of the loop ``geo`` asks for. Each loop is
    compiled on its first call (minutes for the largest), so only those a call needs
    are compiled; the padded loops' entries return False where the rows loop must run
    instead (`_kernel_allows_padding`)."""
    if not geo[PADDED]:
        return rows_serial, rows_parallel
    if geo[PLANES]:
        return planes_serial, planes_parallel
    return padded_serial, padded_parallel


def correlate_serial(S, W, geo, Y, accumulate) -> None:
    """The correlation on this thread, on the loop ``geo`` asks for, or the rows loop
    where the kernel does not allow it."""
    serial, _ = entries(geo)
    if not serial(S, W, geo, Y, accumulate):
        rows_serial(S, W, geo, Y, accumulate)


@nb.njit(cache=True, nogil=True)
def _batch_indices(geo):
    """``bx`` and ``bk``, stored after the fields of ``geo``."""
    batches = geo[21]
    return geo[BATCH_INDEX : BATCH_INDEX + batches], geo[BATCH_INDEX + batches :]


@nb.njit(cache=True, nogil=True)
def _plane_count(geo):
    """Output planes (batch times o0)."""
    return geo[21] * geo[18]


@nb.njit(cache=True, nogil=True)
def _bands(geo):
    """Output planes times bands of rows."""
    return _plane_count(geo) * ((geo[19] + geo[23] - 1) // geo[23])


@nb.njit(cache=True, nogil=True)
def _tasks(geo):
    """Output rows times column blocks."""
    return _plane_count(geo) * geo[19] * ((geo[20] + geo[22] - 1) // geo[22])


CHUNKS_PER_THREAD = 4
"""Parallel work is split into this many runs of consecutive rows or tasks per thread."""


def geometry(
    n: tuple[int, ...],
    m: tuple[int, ...],
    out: tuple[int, ...],
    bx: np.ndarray,
    bk: np.ndarray,
    lo: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    itemsize: int,
    *,
    rule: int = ZEROS,
    padded: bool = False,
    planes: bool = False,
    reverse: bool = False,
    in_place_columns: int = 0,
) -> np.ndarray:
    """``geo`` for the loops: padding, strides, dilations, the zero-padded signal's
    lengths, the signal's, kernel's and output's shapes (three axes each), the number
    of output batches, the output columns of one task of the rows loop
    (`costs.direct_block`), the output rows of one band of the padded loop
    (`costs.direct_band_rows`), the boundary rule its copies pad by (only the padded
    loop pads by a rule other than zeros), the loop to run (``padded``: the padded
    loop, ``planes``: its plane at a time form, for stride 1 along the last two axes
    only), whether to reverse each kernel batch first (``reverse``), the output
    columns the padded loop sums from the signal in place, in bands that lie inside
    it (``in_place_columns``, `costs.direct_inner_columns`; 0: no band is read in
    place, `costs.direct_bands_in_place`), and last the batch indices ``bx`` and ``bk``
    (module docstring).

    The padded signal is long enough for every output's window: ``lo`` samples
    before the signal, and enough after it.
    """
    reach = (
        (o - 1) * s + (k - 1) * d + 1 for o, s, k, d in zip(out, stride, m, dilation, strict=True)
    )
    lengths = tuple(max(a + b, r) for a, b, r in zip(n, lo, reach, strict=True))
    fields = (lo, 0), (stride, 1), (dilation, 1), (lengths, 1), (n, 1), (m, 1), (out, 1)
    values = [v for axes, fill in fields for v in (fill,) * (3 - len(axes)) + tuple(axes)]
    _, _, _, _, s1, _, d0, d1, _, _, _, len2, _, _, _, m0, m1, _, o0, o1, _ = values
    extent, reach = (m0 - 1) * d0 + 1, (m1 - 1) * d1 + 1
    batch = len(bx)
    band = costs.direct_band_rows(batch * o0, o1, extent, s1, reach, len2, itemsize)
    block = costs.direct_block(itemsize)
    flags = (padded, planes, reverse, in_place_columns)
    return np.concatenate([np.array([*values, batch, block, band, rule, *flags], np.int64), bx, bk])


def run(
    S: np.ndarray, W: np.ndarray, geo: np.ndarray, Y: np.ndarray, workers: int, accumulate: bool
) -> None:
    """Write the correlation into ``Y``, or add it (module docstring), on up to
    ``workers`` threads. The arrays are one-dimensional and contiguous."""
    if workers <= 1:
        correlate_serial(S, W, geo, Y, accumulate)
        return
    _, parallel = entries(geo)

    def on_threads(threads: int) -> None:
        chunks = threads * CHUNKS_PER_THREAD
        if not parallel(S, W, geo, Y, accumulate, chunks):
            rows_parallel(S, W, geo, Y, accumulate, chunks)

    launch(workers, on_threads, lambda: correlate_serial(S, W, geo, Y, accumulate))
