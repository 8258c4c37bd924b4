"""Compiled loops of the direct_sum algorithm: a block of filters summed in registers.

Every operand arrives flat. ``X`` holds each signal's phase planes (``x_size`` values
per signal; a vector's worth of values past its end); ``at`` the taps' offsets into
them, padded with zero-weight taps to a multiple of `TAPS`; ``W`` each shared batch's
filter blocks, ``(shared, blocks, taps, FILTERS)``, so a pass reads its weights as one
run. The sums run along a line of ``length`` positions (a whole number of vectors) on
the phase grid, rows of ``row`` positions of which the first ``width`` are outputs;
``rows`` gives each row's first output's place in one filter's output (-1: none).
A job is one run of ``chunk`` positions of one signal's block of filters, all taps,
summed into a buffer of `FILTERS` lines ``pitch`` apart and then copied out into
``out`` (signals, filters, outputs); a signal's jobs run in order of their runs, so
the signal values they read stay in cache. Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import wide_vectors

U = nb.uint64

FILTERS = 8
"""Filters per block: each signal value loaded once serves this many sums."""
TAPS = 4
"""Taps per pass over a block's outputs."""

VECTOR = 16
"""Lines and jobs are a multiple of this many outputs long: no loop ends in a
remainder shorter than a vector."""

SIGNALS, X_SIZE, LENGTH, BLOCKS, TAP_COUNT, CHUNK, CHUNKS, PITCH = range(8)
ROW, WIDTH, FILTER_COUNT, OUT_SIZE = range(8, 12)
"""Fields of ``geo``: signals per shared batch, values per signal in ``X``, outputs per
line, filter blocks, taps (a multiple of `TAPS`), outputs per job, runs per line, the
distance between a job's buffer lines; the line's row length (the phase grid's last
axis), outputs per row, filters, and outputs per filter."""


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _pass(X, x, at, t, W, w, Y, pitch, n, assign):  # pragma: no cover
    """``Y[f·pitch + u] += Σ_g W[w + g·8 + f]·X[x + at[t + g] + u]`` for the 8 filters
    ``f``, the 4 taps ``g`` and ``u < n``; with ``assign`` (a literal at each call),
    ``=`` in place of ``+=``."""
    wide_vectors()
    a, b, c, d = U(x + at[t]), U(x + at[t + 1]), U(x + at[t + 2]), U(x + at[t + 3])
    w00, w01, w02, w03 = W[w], W[w + 8], W[w + 16], W[w + 24]
    w10, w11, w12, w13 = W[w + 1], W[w + 9], W[w + 17], W[w + 25]
    w20, w21, w22, w23 = W[w + 2], W[w + 10], W[w + 18], W[w + 26]
    w30, w31, w32, w33 = W[w + 3], W[w + 11], W[w + 19], W[w + 27]
    w40, w41, w42, w43 = W[w + 4], W[w + 12], W[w + 20], W[w + 28]
    w50, w51, w52, w53 = W[w + 5], W[w + 13], W[w + 21], W[w + 29]
    w60, w61, w62, w63 = W[w + 6], W[w + 14], W[w + 22], W[w + 30]
    w70, w71, w72, w73 = W[w + 7], W[w + 15], W[w + 23], W[w + 31]
    y0, y1, y2, y3 = U(0), U(pitch), U(2 * pitch), U(3 * pitch)
    y4, y5, y6, y7 = U(4 * pitch), U(5 * pitch), U(6 * pitch), U(7 * pitch)
    for u in range(U(n)):
        s0, s1, s2, s3 = X[a + u], X[b + u], X[c + u], X[d + u]
        if assign:
            Y[y0 + u] = w00 * s0 + w01 * s1 + w02 * s2 + w03 * s3
            Y[y1 + u] = w10 * s0 + w11 * s1 + w12 * s2 + w13 * s3
            Y[y2 + u] = w20 * s0 + w21 * s1 + w22 * s2 + w23 * s3
            Y[y3 + u] = w30 * s0 + w31 * s1 + w32 * s2 + w33 * s3
            Y[y4 + u] = w40 * s0 + w41 * s1 + w42 * s2 + w43 * s3
            Y[y5 + u] = w50 * s0 + w51 * s1 + w52 * s2 + w53 * s3
            Y[y6 + u] = w60 * s0 + w61 * s1 + w62 * s2 + w63 * s3
            Y[y7 + u] = w70 * s0 + w71 * s1 + w72 * s2 + w73 * s3
        else:  # from the outputs on: four fused multiply-adds in a chain per filter
            Y[y0 + u] = Y[y0 + u] + w00 * s0 + w01 * s1 + w02 * s2 + w03 * s3
            Y[y1 + u] = Y[y1 + u] + w10 * s0 + w11 * s1 + w12 * s2 + w13 * s3
            Y[y2 + u] = Y[y2 + u] + w20 * s0 + w21 * s1 + w22 * s2 + w23 * s3
            Y[y3 + u] = Y[y3 + u] + w30 * s0 + w31 * s1 + w32 * s2 + w33 * s3
            Y[y4 + u] = Y[y4 + u] + w40 * s0 + w41 * s1 + w42 * s2 + w43 * s3
            Y[y5 + u] = Y[y5 + u] + w50 * s0 + w51 * s1 + w52 * s2 + w53 * s3
            Y[y6 + u] = Y[y6 + u] + w60 * s0 + w61 * s1 + w62 * s2 + w63 * s3
            Y[y7 + u] = Y[y7 + u] + w70 * s0 + w71 * s1 + w72 * s2 + w73 * s3


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _job(X, at, W, out, rows, geo, job):  # pragma: no cover
    """Job ``job``: positions ``u0 .. u0 + n - 1`` of one signal's line for one block of
    filters, all taps summed in a buffer, then those that are outputs copied to
    ``out``."""
    chunks, length, chunk, blocks = geo[CHUNKS], geo[LENGTH], geo[CHUNK], geo[BLOCKS]
    taps, pitch = geo[TAP_COUNT], geo[PITCH]
    b, rest = job % blocks, job // blocks
    item, part = rest // chunks, rest % chunks
    u0 = part * chunk
    n = min(length, u0 + chunk) - u0
    x = item * geo[X_SIZE] + u0
    w = (item // geo[SIGNALS] * blocks + b) * taps * FILTERS
    Y = np.empty(FILTERS * pitch, X.dtype)
    _pass(X, x, at, 0, W, w, Y, pitch, n, True)
    for t in range(TAPS, taps, TAPS):
        _pass(X, x, at, t, W, w + t * FILTERS, Y, pitch, n, False)
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
            for i in range(U(max(0, hi - lo))):
                out[dst + i] = Y[src + i]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def correlate_serial(X, at, W, out, rows, geo, jobs):  # pragma: no cover
    """Every job, in order, on the calling thread."""
    for job in range(jobs):
        _job(X, at, W, out, rows, geo, job)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, parallel=True)
def correlate_parallel(X, at, W, out, rows, geo, jobs):  # pragma: no cover
    """Every job, shared out over numba's threads."""
    for job in nb.prange(jobs):
        _job(X, at, W, out, rows, geo, job)
