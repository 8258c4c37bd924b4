"""Compiled loops of the direct_sum algorithm: a tile of filters summed in registers.

Every operand arrives flat. ``X`` holds each signal's phase planes (``x_size`` values
per signal, then a tile's worth of zeros); ``at`` the taps' offsets into them; ``W``
each shared batch's filter blocks, ``(shared, blocks, taps, FILTERS)``, so a tap's
weights are one run. The sums run along rows cut into segments of at most ``segment``
positions, in one of two ways (``by_rows``):

* by rows: each output row (its positions on the phase grid, ``rows`` giving each
  one's first), its sums stored straight into ``out`` (signals, filters, outputs);
  where the rows are whole vectors long, nothing is summed but outputs.
* as a line: one line over the phase grid's rows (``row`` positions, of which the
  first ``width`` are outputs), the few positions in each row's overhang summed too;
  ``rows`` gives each grid row's first output's place in one filter's output (-1:
  none). Rows shorter than a vector waste fewer lanes this way.

A job sums a run of consecutive segments of one signal for one block of filters, tile
by tile, into ``out`` by rows, or into a buffer of `FILTERS` lines ``pitch`` apart
(a line, or a last block of fewer than `FILTERS` filters), whose outputs are then
copied out; a signal's jobs run in order, so the signal values they read stay in
cache. Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import (
    VECTOR_BYTES,
    copy,
    fma,
    lanes,
    load,
    load_evens,
    load_first,
    splat,
    store,
    store_first,
    wide_vectors,
    zeros,
)

U = nb.uint64

FILTERS = 8
"""Filters per block: each signal vector loaded serves this many sums."""

VECTOR = 2 * VECTOR_BYTES // 4
"""Positions per whole tile in float32 (two vectors; float64 tiles are half as long,
so this is a multiple of both): segments of rows longer than one are a whole number
of these long, and ``X`` ends with this many zeros."""

SIGNALS, X_SIZE, BLOCKS, TAP_COUNT, PARTS, PITCH, WIDTH, LENGTH, ROW = range(9)
FILTER_COUNT, OUT_SIZE, TAP_BLOCK, SEGMENT, SEGMENTS, UNITS, UNITS_PER_JOB, BY_ROWS = range(9, 17)
"""Fields of ``geo``: signals per shared batch, values per signal in ``X``, filter
blocks, taps, jobs per signal and block, the distance between the buffer's lines,
outputs per row, positions per row of segments (the output row, or the whole line),
the phase grid's row (the line's); filters, outputs per filter, taps per pass over a
segment, positions per segment, segments per row, segments per signal, segments per
job, and whether the segments are output rows' (else the line's)."""


@nb.njit(cache=True, nogil=True, inline="always")
def _tiles(X, x, at, t0, t1, W, w, Y, y, pitch, n):  # pragma: no cover
    """``Y[y + f·pitch + u] (+)= Σ_t W[w + t·8 + f]·X[x + at[t] + u]`` over taps ``t0 ..
    t1 - 1`` for the 8 filters ``f`` and ``u < n``, ``=`` from the first tap on, ``+=``
    after it: each whole tile's 16 vectors of sums (8 filters, 2 vectors of positions)
    stay in registers through the taps, so a tap costs two vector loads of the signal
    and eight broadcast weights for 16 fused multiply-adds. The last ``n`` modulo two
    vectors' positions are summed a vector at a time (`_tail`)."""
    wide_vectors()
    half = U(lanes(X))
    u, y, pitch, tile = U(0), U(y), U(pitch), half + half
    while u + tile <= U(n):
        p0 = y + u
        p1, p2, p3 = p0 + pitch, p0 + U(2) * pitch, p0 + U(3) * pitch
        p4, p5, p6, p7 = p0 + U(4) * pitch, p0 + U(5) * pitch, p0 + U(6) * pitch, p0 + U(7) * pitch
        if t0 == 0:
            y00 = y01 = y10 = y11 = y20 = y21 = y30 = y31 = zeros(X)
            y40 = y41 = y50 = y51 = y60 = y61 = y70 = y71 = zeros(X)
        else:
            y00, y01 = load(Y, p0), load(Y, p0 + half)
            y10, y11 = load(Y, p1), load(Y, p1 + half)
            y20, y21 = load(Y, p2), load(Y, p2 + half)
            y30, y31 = load(Y, p3), load(Y, p3 + half)
            y40, y41 = load(Y, p4), load(Y, p4 + half)
            y50, y51 = load(Y, p5), load(Y, p5 + half)
            y60, y61 = load(Y, p6), load(Y, p6 + half)
            y70, y71 = load(Y, p7), load(Y, p7 + half)
        for t in range(t0, t1):
            o = U(x + at[t]) + u
            k = U(w + t * FILTERS)
            s0, s1 = load(X, o), load(X, o + half)
            b = splat(W, k)
            y00, y01 = fma(b, s0, y00), fma(b, s1, y01)
            b = splat(W, k + 1)
            y10, y11 = fma(b, s0, y10), fma(b, s1, y11)
            b = splat(W, k + 2)
            y20, y21 = fma(b, s0, y20), fma(b, s1, y21)
            b = splat(W, k + 3)
            y30, y31 = fma(b, s0, y30), fma(b, s1, y31)
            b = splat(W, k + 4)
            y40, y41 = fma(b, s0, y40), fma(b, s1, y41)
            b = splat(W, k + 5)
            y50, y51 = fma(b, s0, y50), fma(b, s1, y51)
            b = splat(W, k + 6)
            y60, y61 = fma(b, s0, y60), fma(b, s1, y61)
            b = splat(W, k + 7)
            y70, y71 = fma(b, s0, y70), fma(b, s1, y71)
        store(Y, p0, y00)
        store(Y, p0 + half, y01)
        store(Y, p1, y10)
        store(Y, p1 + half, y11)
        store(Y, p2, y20)
        store(Y, p2 + half, y21)
        store(Y, p3, y30)
        store(Y, p3 + half, y31)
        store(Y, p4, y40)
        store(Y, p4 + half, y41)
        store(Y, p5, y50)
        store(Y, p5 + half, y51)
        store(Y, p6, y60)
        store(Y, p6 + half, y61)
        store(Y, p7, y70)
        store(Y, p7 + half, y71)
        u += tile
    while u < U(n):
        _tail(X, x, at, t0, t1, W, w, Y, y + u, pitch, u, np.int64(min(half, U(n) - u)))
        u += half


@nb.njit(cache=True, nogil=True, inline="always")
def _tail(X, x, at, t0, t1, W, w, Y, p, pitch, u, count):  # pragma: no cover
    """`_tiles` for the ``count`` (at most a vector's) positions from ``u``, their sums
    at ``Y[p + f·pitch]``: 8 vectors of sums, of which only the first ``count`` lanes
    are read from and written to ``Y`` (the signal is read a whole vector wide)."""
    p1, p2, p3 = p + pitch, p + U(2) * pitch, p + U(3) * pitch
    p4, p5, p6, p7 = p + U(4) * pitch, p + U(5) * pitch, p + U(6) * pitch, p + U(7) * pitch
    if t0 == 0:
        y0 = y1 = y2 = y3 = y4 = y5 = y6 = y7 = zeros(X)
    else:
        y0, y1 = load_first(Y, p, count), load_first(Y, p1, count)
        y2, y3 = load_first(Y, p2, count), load_first(Y, p3, count)
        y4, y5 = load_first(Y, p4, count), load_first(Y, p5, count)
        y6, y7 = load_first(Y, p6, count), load_first(Y, p7, count)
    for t in range(t0, t1):
        s = load(X, U(x + at[t]) + u)
        k = U(w + t * FILTERS)
        y0, y1 = fma(splat(W, k), s, y0), fma(splat(W, k + 1), s, y1)
        y2, y3 = fma(splat(W, k + 2), s, y2), fma(splat(W, k + 3), s, y3)
        y4, y5 = fma(splat(W, k + 4), s, y4), fma(splat(W, k + 5), s, y5)
        y6, y7 = fma(splat(W, k + 6), s, y6), fma(splat(W, k + 7), s, y7)
    store_first(Y, p, y0, count)
    store_first(Y, p1, y1, count)
    store_first(Y, p2, y2, count)
    store_first(Y, p3, y3, count)
    store_first(Y, p4, y4, count)
    store_first(Y, p5, y5, count)
    store_first(Y, p6, y6, count)
    store_first(Y, p7, y7, count)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _job(X, at, W, out, rows, geo, job, Y):  # pragma: no cover
    """Job ``job``: its run of segments of one signal for one block of filters, all
    taps summed straight into ``out`` by rows, or into the buffer ``Y`` and copied out
    (a line, or a block of fewer than `FILTERS` filters)."""
    blocks, taps, parts, per = geo[BLOCKS], geo[TAP_COUNT], geo[PARTS], geo[UNITS_PER_JOB]
    b, rest = job % blocks, job // blocks
    item, part = rest // parts, rest % parts
    w = (item // geo[SIGNALS] * blocks + b) * taps * FILTERS
    filters, size, width, length = geo[FILTER_COUNT], geo[OUT_SIZE], geo[WIDTH], geo[LENGTH]
    count = min(FILTERS, filters - b * FILTERS)
    base = (item * filters + b * FILTERS) * size
    segment, segments, step, by_rows = geo[SEGMENT], geo[SEGMENTS], geo[TAP_BLOCK], geo[BY_ROWS]
    direct = by_rows and count == FILTERS
    into, pitch = (out, size) if direct else (Y, geo[PITCH])
    for unit in range(part * per, min(geo[UNITS], (part + 1) * per)):
        r, start = unit // segments, unit % segments * segment
        n = min(length, start + segment) - start
        x = item * geo[X_SIZE] + (rows[r] if by_rows else 0) + start
        y = base + r * width + start
        for t0 in range(0, taps, step):
            _tiles(X, x, at, t0, min(taps, t0 + step), W, w, into, y if direct else 0, pitch, n)
        if direct:
            continue
        if by_rows:
            for f in range(count):
                copy(out, U(y + f * size), Y, U(f * pitch), U(n))
            continue
        row = geo[ROW]  # the line's rows (rows[r]: the row's first output's place, or -1)
        for r in range(start // row, (start + n - 1) // row + 1):
            if rows[r] < 0:
                continue
            lo, hi = max(start, r * row), min(start + n, r * row + width)
            for f in range(count):
                src = U(f * pitch + lo - start)
                copy(out, U(base + f * size + rows[r] + lo - r * row), Y, src, U(max(0, hi - lo)))


@nb.njit(cache=True, nogil=True, inline="always")
def _split_plane(x, n, lo, stride, phases, X, G):  # pragma: no cover
    """Rows ``G·p1 .. G·p1 + p1 - 1`` of `split_phases`'s ``X``, each a run of ``p2``
    values (``p`` the phase grid's shape): those of one signal, phase and ``i0``."""
    n0, n1, n2 = n[0], n[1], n[2]
    s0, s1, s2 = stride[0], stride[1], stride[2]
    p0, p1, p2 = phases[0], phases[1], phases[2]
    i0, t = G % p0, G // p0
    r2, t = t % s2, t // s2
    r1, t = t % s1, t // s1
    r0, c = t % s0, t // s0
    a = i0 * s0 + r0 - lo[0]
    first = max(0, -((r2 - lo[2]) // s2))  # the columns e with e·s2 + r2 - lo[2] in x
    last = max(first, min(p2, -((r2 - lo[2] - n2) // s2)))
    step = U(lanes(X))
    for i1 in range(p1):
        b = i1 * s1 + r1 - lo[1]
        dst = U((G * p1 + i1) * p2)
        if not (0 <= a < n0 and 0 <= b < n1):
            copy(X, dst, None, 0, p2)
            continue
        copy(X, dst, None, 0, first)
        src = U(((c * n0 + a) * n1 + b) * n2 + first * s2 + r2 - lo[2])
        at, count, done = dst + U(first), U(last - first), U(0)
        if s2 == 1:
            copy(X, at, x, src, count)
            done = count
        elif s2 == 2:  # a vector at a time, while its loads stay inside x
            while done + step <= count and src + U(2) * (done + step) <= U(x.size):
                store(X, at + done, load_evens(x, src + U(2) * done))
                done += step
        for e in range(done, count):
            X[at + e] = x[src + e * U(s2)]
        copy(X, dst + U(last), None, 0, p2 - last)


@nb.njit(cache=True, nogil=True)
def split_phases(x, count, n, lo, stride, phases, X):  # pragma: no cover
    """Each of the ``count`` signals in ``x`` (flat, each of shape ``n``, three axes)
    placed at ``lo`` on a grid of zeros and split by ``stride`` into ``X``: flat, each
    signal ``(*stride, *phases)`` with ``[r0, r1, r2, i0, i1, i2]`` the grid's ``i·s +
    r`` along each axis, then zeros to ``X``'s end. Every value of ``X`` is written."""
    planes = count * stride[0] * stride[1] * stride[2] * phases[0]
    for G in range(planes):
        _split_plane(x, n, lo, stride, phases, X, G)
    X[planes * phases[1] * phases[2] :] = 0


@nb.njit(cache=True, nogil=True, parallel=True)
def split_phases_parallel(x, count, n, lo, stride, phases, X):  # pragma: no cover
    """`split_phases`, shared out over numba's threads."""
    planes = count * stride[0] * stride[1] * stride[2] * phases[0]
    for G in nb.prange(planes):
        _split_plane(x, n, lo, stride, phases, X, G)
    X[planes * phases[1] * phases[2] :] = 0


@nb.njit(cache=True, nogil=True)
def block_weights(w, shared, filters, taps, W):  # pragma: no cover
    """``W[((s·blocks + b)·taps + t)·8 + f] = w[(s·filters + b·8 + f)·taps + t]``: each
    shared batch's kernels ``w`` (filters, taps) in blocks of `FILTERS`, a tap's
    weights together, zeros past the last filter."""
    blocks = (filters + FILTERS - 1) // FILTERS
    for s in range(shared):
        for b in range(blocks):
            count = min(FILTERS, filters - b * FILTERS)
            src = U((s * filters + b * FILTERS) * taps)
            dst = U((s * blocks + b) * taps * FILTERS)
            if count < FILTERS:
                W[dst : dst + U(taps * FILTERS)] = 0
                for f in range(U(count)):
                    for t in range(U(taps)):
                        W[dst + t * U(FILTERS) + f] = w[src + f * U(taps) + t]
                continue
            r0, r1, r2, r3 = src, src + U(taps), src + U(2 * taps), src + U(3 * taps)
            r4, r5, r6, r7 = r3 + U(taps), r3 + U(2 * taps), r3 + U(3 * taps), r3 + U(4 * taps)
            for t in range(U(taps)):
                at = dst + t * U(FILTERS)
                W[at], W[at + 1], W[at + 2] = w[r0 + t], w[r1 + t], w[r2 + t]
                W[at + 3], W[at + 4], W[at + 5] = w[r3 + t], w[r4 + t], w[r5 + t]
                W[at + 6], W[at + 7] = w[r6 + t], w[r7 + t]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def correlate_serial(X, at, W, out, rows, geo, jobs):  # pragma: no cover
    """Every job, in order, on the calling thread."""
    Y = np.empty(FILTERS * geo[PITCH], X.dtype)
    for job in range(jobs):
        _job(X, at, W, out, rows, geo, job, Y)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, parallel=True)
def correlate_parallel(X, at, W, out, rows, geo, jobs, threads):  # pragma: no cover
    """Every job, shared out over ``threads`` of numba's threads in runs of consecutive
    jobs, one buffer each."""
    for c in nb.prange(threads):
        Y = np.empty(FILTERS * geo[PITCH], X.dtype)
        for job in range(c * jobs // threads, (c + 1) * jobs // threads):
            _job(X, at, W, out, rows, geo, job, Y)
