"""Compiled loops of the direct_sum algorithm: a tile of filters summed in registers.

Every operand arrives flat. ``X`` holds each signal's phase planes (``x_size`` values
per signal; a tile's worth of values past its end); ``at`` the taps' offsets into
them; ``W`` each shared batch's filter blocks, ``(shared, blocks, taps, FILTERS)``, so
a tap's weights are one run. The sums run along a line of ``length`` positions (a
whole number of tiles) on the phase grid, rows of ``row`` positions of which the first
``width`` are outputs; ``rows`` gives each row's first output's place in one filter's
output (-1: none). A job is one run of ``chunk`` positions of one signal's block of
filters, summed tile by tile into a buffer of `FILTERS` lines ``pitch`` apart and then
copied out into ``out`` (signals, filters, outputs); a signal's jobs run in order of
their runs, so the signal values they read stay in cache. Importing this module
imports numba.
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
    splat,
    store,
    wide_vectors,
    zeros,
)

U = nb.uint64

FILTERS = 8
"""Filters per block: each signal vector loaded serves this many sums."""

VECTOR = 2 * VECTOR_BYTES // 4
"""Positions per tile in float32 (two vectors; float64 tiles are half as long, so
this is a multiple of both): lines and jobs are a whole number of these long."""

SIGNALS, X_SIZE, LENGTH, BLOCKS, TAP_COUNT, CHUNK, CHUNKS, PITCH = range(8)
ROW, WIDTH, FILTER_COUNT, OUT_SIZE, TAP_BLOCK = range(8, 13)
"""Fields of ``geo``: signals per shared batch, values per signal in ``X``, outputs per
line, filter blocks, taps, outputs per job, runs per line, the distance between a
job's buffer lines; the line's row length (the phase grid's last axis), outputs per
row, filters, outputs per filter, and taps per pass over a job's tiles."""


@nb.njit(cache=True, nogil=True, inline="always")
def _tiles(X, x, at, t0, t1, W, w, Y, pitch, n):  # pragma: no cover
    """``Y[f·pitch + u] (+)= Σ_t W[w + t·8 + f]·X[x + at[t] + u]`` over taps ``t0 ..
    t1 - 1`` for the 8 filters ``f`` and ``u < n`` (a whole number of tiles), ``=``
    from the first tap on, ``+=`` after it: each tile's 16 vectors of sums (8 filters,
    2 vectors of positions) stay in registers through the taps, so a tap costs two
    vector loads of the signal and eight broadcast weights for 16 fused
    multiply-adds."""
    wide_vectors()
    half = U(lanes(X))
    for u in range(U(0), U(n), 2 * half):
        if t0 == 0:
            y00 = y01 = y10 = y11 = y20 = y21 = y30 = y31 = zeros(X)
            y40 = y41 = y50 = y51 = y60 = y61 = y70 = y71 = zeros(X)
        else:
            y00, y01 = load(Y, u), load(Y, u + half)
            y10, y11 = load(Y, U(pitch) + u), load(Y, U(pitch) + u + half)
            y20, y21 = load(Y, U(2 * pitch) + u), load(Y, U(2 * pitch) + u + half)
            y30, y31 = load(Y, U(3 * pitch) + u), load(Y, U(3 * pitch) + u + half)
            y40, y41 = load(Y, U(4 * pitch) + u), load(Y, U(4 * pitch) + u + half)
            y50, y51 = load(Y, U(5 * pitch) + u), load(Y, U(5 * pitch) + u + half)
            y60, y61 = load(Y, U(6 * pitch) + u), load(Y, U(6 * pitch) + u + half)
            y70, y71 = load(Y, U(7 * pitch) + u), load(Y, U(7 * pitch) + u + half)
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
        store(Y, u, y00)
        store(Y, u + half, y01)
        store(Y, U(pitch) + u, y10)
        store(Y, U(pitch) + u + half, y11)
        store(Y, U(2 * pitch) + u, y20)
        store(Y, U(2 * pitch) + u + half, y21)
        store(Y, U(3 * pitch) + u, y30)
        store(Y, U(3 * pitch) + u + half, y31)
        store(Y, U(4 * pitch) + u, y40)
        store(Y, U(4 * pitch) + u + half, y41)
        store(Y, U(5 * pitch) + u, y50)
        store(Y, U(5 * pitch) + u + half, y51)
        store(Y, U(6 * pitch) + u, y60)
        store(Y, U(6 * pitch) + u + half, y61)
        store(Y, U(7 * pitch) + u, y70)
        store(Y, U(7 * pitch) + u + half, y71)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _job(X, at, W, out, rows, geo, job, Y):  # pragma: no cover
    """Job ``job``: positions ``u0 .. u0 + n - 1`` of one signal's line for one block of
    filters, all taps summed in the buffer ``Y``, then those that are outputs copied to
    ``out``."""
    chunks, length, chunk, blocks = geo[CHUNKS], geo[LENGTH], geo[CHUNK], geo[BLOCKS]
    taps, pitch = geo[TAP_COUNT], geo[PITCH]
    b, rest = job % blocks, job // blocks
    item, part = rest // chunks, rest % chunks
    u0 = part * chunk
    n = min(length, u0 + chunk) - u0
    x = item * geo[X_SIZE] + u0
    w = (item // geo[SIGNALS] * blocks + b) * taps * FILTERS
    step = geo[TAP_BLOCK]
    for t0 in range(0, taps, step):
        _tiles(X, x, at, t0, min(taps, t0 + step), W, w, Y, pitch, n)
    row, width, size = geo[ROW], geo[WIDTH], geo[OUT_SIZE]
    first = b * FILTERS
    count = min(FILTERS, geo[FILTER_COUNT] - first)
    base = (item * geo[FILTER_COUNT] + first) * size
    for r in range(u0 // row, (u0 + n - 1) // row + 1):
        if rows[r] < 0:
            continue
        lo, hi = max(u0, r * row), min(u0 + n, r * row + width)
        for f in range(count):
            src = U(f * pitch + lo - u0)
            dst = U(base + f * size + rows[r] + lo - r * row)
            copy(out, dst, Y, src, U(max(0, hi - lo)))


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
            for e in range(U(p2)):
                X[dst + e] = 0
            continue
        for e in range(U(first)):
            X[dst + e] = 0
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
        for e in range(U(last), U(p2)):
            X[dst + e] = 0


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
