"""Compiled loop of the separable algorithm: two 1-D passes fused through a ring buffer.

The problem arrives flattened: ``S`` holds the signal batches, each (n0, n1), ``Y``
the output batches, each (o0, o1); ``u`` correlates along axis 0 and ``v`` along axis
1 (the contiguous one), each with its own padding ``lo``, stride and dilation
(`geometry`); the result is written into ``Y``, or added to what it holds
(``accumulate``). ``S`` may be narrower than the sums (uint8 read as it is) and ``Y``
of another dtype (int64 for integer sums run exactly in floats: `separable._operands`).

A task is one block of output columns of one strip of output rows. Walking down the
strip, it correlates each input row it needs with ``v`` once, into a ring buffer
that holds the rows of one window (the intermediate image never goes through
memory), and adds ``u``-weighted ring rows into the output rows. Rows outside the
signal are zero rows in the ring, and each input row is first copied (and converted
to the sums' dtype) into a zero-padded line, so no pass tests for edges: the zeros
add exact zeros, and the kernel holds no NaN or inf (`convolib.factor` gives such
kernels no rank). Every inner loop runs over contiguous columns ("axpy" order) and
adds up to `TAPS_PER_PASS` taps per pass; with unit stride and dilation along axis 0
a pass of the column pass adds taps into `ROWS_PER_PASS` output rows at once, each ring
row loaded once for all of them, into a buffer ``T`` of those rows converted into
``Y`` at the end. As in ``_direct_kernels``, the loops index flattened arrays with
unsigned integers (``U``) and make no array views, so they vectorise and do no
reference counting. Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.core import types
from numba.extending import overload, register_jitable

from ._direct_kernels import LINE_MIN_TAPS, _line, _put_row
from ._launch import each_in_threads
from ._simd import AVX512, lanes, wide_vectors, window_sums

U = nb.uint64

TAPS_PER_PASS = 8
"""Taps added in one pass over a row (register blocking: one load and store of an
output per eight multiply-adds)."""

ROWS_PER_PASS = 4
"""Output rows one pass of the column pass adds into (``_add4``)."""

BLOCK = 2048
"""Output columns of one task: `costs.SEPARABLE_BLOCK` (a literal here: numba's cache
of this module does not see changes to other modules)."""

PAD = 16
"""Values past each row of the ring and of ``T``: rows a multiple of 4 KiB apart fall
on the same sets of the core's first-level cache, and a pass of ``_add4`` reads eleven
ring rows and writes four rows of ``T`` at once (a 2048-column block of float32 rows
8 KiB apart ran 1.1-1.3x slower)."""

LINES = AVX512
"""Whether rows of `LINE_MIN_TAPS` taps or more (unit stride and dilation) run as one
line, their float sums in registers (``_direct_kernels._line``), rather than in passes:
with AVX-512's 32 registers, 2048 float32 columns with 49 taps took 1.9 µs against
3.3 µs in passes, with 25 taps 1.2 against 1.6 (two-core Zen 4); with 16 registers
(Zen 3) lines ran slower than passes."""

WINDOWS = AVX512
"""Whether float rows of 2 to `WINDOW_MAX_TAPS` taps (unit stride and dilation) run
in registers, four vectors of sums at a time, each over all taps (`_windows`), rather
than in passes or as lines: 2048 float32 columns took 0.21 ns an output with 9 taps
against 0.30 in passes, 0.36 against 0.47 with 15, 0.38 against 0.58 as a line with
16 (two-core Zen 4, rows in the second-level cache)."""

WINDOW_MAX_TAPS = {"float32": 20, "float64": LINE_MIN_TAPS - 1}
"""The longest rows `_windows` runs, by the sums' dtype: longer ones ran as fast or
faster as lines (float32: 0.48 against 0.60 ns an output with 20 taps, 0.63 against
0.62 with 24; float64: 0.99 against 0.85 with 20)."""

LINE_PAD = 80
"""Values past the end of a task's zero-padded line: `_windows` reads up to five
vectors of float32 past the start of its last vector of outputs."""

T_PITCH = BLOCK + PAD
"""The distance between the rows of ``T``, a constant so the compiler vectorises
``_add4`` without run-time overlap checks."""


@nb.njit(cache=True, nogil=True, inline="always")
def _put(D, k, s, first):
    """``D[k] = s``, or ``D[k] += s`` after the first pass."""
    if first:
        D[k] = s
    else:
        D[k] += s


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _add(D, d, A, at, q, w, j, g, n, first):
    """``D[d + i] += Σ w[j + t]·A[at[q + t] + i]`` over ``t < g`` (1 to 8 taps; ``at`` and
    ``w`` readable 8 entries on), for ``i < n``; ``=`` if ``first``."""
    wide_vectors()
    a, b, c, e = U(at[q]), U(at[q + 1]), U(at[q + 2]), U(at[q + 3])
    f, h, k, m = U(at[q + 4]), U(at[q + 5]), U(at[q + 6]), U(at[q + 7])
    w0, w1, w2, w3 = w[j], w[j + 1], w[j + 2], w[j + 3]
    w4, w5, w6, w7 = w[j + 4], w[j + 5], w[j + 6], w[j + 7]
    if g == 1:
        for i in range(n):
            _put(D, d + i, w0 * A[a + i], first)
    elif g == 2:
        for i in range(n):
            _put(D, d + i, w0 * A[a + i] + w1 * A[b + i], first)
    elif g == 3:
        for i in range(n):
            _put(D, d + i, w0 * A[a + i] + w1 * A[b + i] + w2 * A[c + i], first)
    elif g == 4:
        for i in range(n):
            _put(D, d + i, w0 * A[a + i] + w1 * A[b + i] + w2 * A[c + i] + w3 * A[e + i], first)
    elif g == 5:
        for i in range(n):
            _put(
                D,
                d + i,
                w0 * A[a + i] + w1 * A[b + i] + w2 * A[c + i] + w3 * A[e + i] + w4 * A[f + i],
                first,
            )
    elif g == 6:
        for i in range(n):
            _put(
                D,
                d + i,
                w0 * A[a + i]
                + w1 * A[b + i]
                + w2 * A[c + i]
                + w3 * A[e + i]
                + w4 * A[f + i]
                + w5 * A[h + i],
                first,
            )
    elif g == 7:
        for i in range(n):
            _put(
                D,
                d + i,
                w0 * A[a + i]
                + w1 * A[b + i]
                + w2 * A[c + i]
                + w3 * A[e + i]
                + w4 * A[f + i]
                + w5 * A[h + i]
                + w6 * A[k + i],
                first,
            )
    else:
        for i in range(n):
            _put(
                D,
                d + i,
                w0 * A[a + i]
                + w1 * A[b + i]
                + w2 * A[c + i]
                + w3 * A[e + i]
                + w4 * A[f + i]
                + w5 * A[h + i]
                + w6 * A[k + i]
                + w7 * A[m + i],
                first,
            )


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _add4(T, A, at, w, j, g, n, first):
    """``T[r·T_PITCH + i] += Σ w[j + t]·A[at[r + t] + i]`` over ``t < g`` (1 to 8 taps)
    for the four rows ``r < 4`` of ``T``, for ``i < n`` (``=`` if ``first``): the taps
    of four consecutive output rows, each ring row (``at``) loaded once. ``T``'s rows lie
    a constant distance apart, which lets the compiler vectorise without run-time overlap
    checks (with four rows of ``Y`` it does not vectorise at all). Every count has its
    own loop: in passes of 4 and 1 or 3 taps, 5 and 7 taps took 1.1-1.2x as long (2048²
    float32, one thread), as each pass loads and stores the four rows of ``T``."""
    wide_vectors()
    r0, r1, r2, r3 = U(at[0]), U(at[1]), U(at[2]), U(at[3])
    r4, r5, r6 = U(at[4]), U(at[5]), U(at[6])
    w0, w1, w2, w3 = w[j], w[j + 1], w[j + 2], w[j + 3]
    if g == 1:
        for i in range(n):
            _put(T, i, w0 * A[r0 + i], first)
            _put(T, T_PITCH + i, w0 * A[r1 + i], first)
            _put(T, 2 * T_PITCH + i, w0 * A[r2 + i], first)
            _put(T, 3 * T_PITCH + i, w0 * A[r3 + i], first)
    elif g == 2:
        for i in range(n):
            x0, x1, x2, x3, x4 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i], A[r4 + i]
            _put(T, i, w0 * x0 + w1 * x1, first)
            _put(T, T_PITCH + i, w0 * x1 + w1 * x2, first)
            _put(T, 2 * T_PITCH + i, w0 * x2 + w1 * x3, first)
            _put(T, 3 * T_PITCH + i, w0 * x3 + w1 * x4, first)
    elif g == 3:
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5 = A[r4 + i], A[r5 + i]
            _put(T, i, w0 * x0 + w1 * x1 + w2 * x2, first)
            _put(T, T_PITCH + i, w0 * x1 + w1 * x2 + w2 * x3, first)
            _put(T, 2 * T_PITCH + i, w0 * x2 + w1 * x3 + w2 * x4, first)
            _put(T, 3 * T_PITCH + i, w0 * x3 + w1 * x4 + w2 * x5, first)
    elif g == 4:
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5, x6 = A[r4 + i], A[r5 + i], A[r6 + i]
            _put(T, i, w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3, first)
            _put(T, T_PITCH + i, w0 * x1 + w1 * x2 + w2 * x3 + w3 * x4, first)
            _put(T, 2 * T_PITCH + i, w0 * x2 + w1 * x3 + w2 * x4 + w3 * x5, first)
            _put(T, 3 * T_PITCH + i, w0 * x3 + w1 * x4 + w2 * x5 + w3 * x6, first)
    elif g == 5:
        r7, w4 = U(at[7]), w[j + 4]
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5, x6, x7 = A[r4 + i], A[r5 + i], A[r6 + i], A[r7 + i]
            _put(T, i, w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4, first)
            _put(T, T_PITCH + i, w0 * x1 + w1 * x2 + w2 * x3 + w3 * x4 + w4 * x5, first)
            _put(T, 2 * T_PITCH + i, w0 * x2 + w1 * x3 + w2 * x4 + w3 * x5 + w4 * x6, first)
            _put(T, 3 * T_PITCH + i, w0 * x3 + w1 * x4 + w2 * x5 + w3 * x6 + w4 * x7, first)
    elif g == 6:
        r7, r8, w4, w5 = U(at[7]), U(at[8]), w[j + 4], w[j + 5]
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5, x6, x7, x8 = A[r4 + i], A[r5 + i], A[r6 + i], A[r7 + i], A[r8 + i]
            _put(T, i, w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4 + w5 * x5, first)
            _put(T, T_PITCH + i, w0 * x1 + w1 * x2 + w2 * x3 + w3 * x4 + w4 * x5 + w5 * x6, first)
            s = w0 * x2 + w1 * x3 + w2 * x4 + w3 * x5 + w4 * x6 + w5 * x7
            _put(T, 2 * T_PITCH + i, s, first)
            s = w0 * x3 + w1 * x4 + w2 * x5 + w3 * x6 + w4 * x7 + w5 * x8
            _put(T, 3 * T_PITCH + i, s, first)
    elif g == 7:
        r7, r8, r9 = U(at[7]), U(at[8]), U(at[9])
        w4, w5, w6 = w[j + 4], w[j + 5], w[j + 6]
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5, x6, x7 = A[r4 + i], A[r5 + i], A[r6 + i], A[r7 + i]
            x8, x9 = A[r8 + i], A[r9 + i]
            s = w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4 + w5 * x5 + w6 * x6
            _put(T, i, s, first)
            s = w0 * x1 + w1 * x2 + w2 * x3 + w3 * x4 + w4 * x5 + w5 * x6 + w6 * x7
            _put(T, T_PITCH + i, s, first)
            s = w0 * x2 + w1 * x3 + w2 * x4 + w3 * x5 + w4 * x6 + w5 * x7 + w6 * x8
            _put(T, 2 * T_PITCH + i, s, first)
            s = w0 * x3 + w1 * x4 + w2 * x5 + w3 * x6 + w4 * x7 + w5 * x8 + w6 * x9
            _put(T, 3 * T_PITCH + i, s, first)
    else:
        r7, r8, r9, r10 = U(at[7]), U(at[8]), U(at[9]), U(at[10])
        w4, w5, w6, w7 = w[j + 4], w[j + 5], w[j + 6], w[j + 7]
        for i in range(n):
            x0, x1, x2, x3 = A[r0 + i], A[r1 + i], A[r2 + i], A[r3 + i]
            x4, x5, x6, x7 = A[r4 + i], A[r5 + i], A[r6 + i], A[r7 + i]
            x8, x9, x10 = A[r8 + i], A[r9 + i], A[r10 + i]
            _put(
                T,
                i,
                w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4 + w5 * x5 + w6 * x6 + w7 * x7,
                first,
            )
            _put(
                T,
                T_PITCH + i,
                w0 * x1 + w1 * x2 + w2 * x3 + w3 * x4 + w4 * x5 + w5 * x6 + w6 * x7 + w7 * x8,
                first,
            )
            _put(
                T,
                2 * T_PITCH + i,
                w0 * x2 + w1 * x3 + w2 * x4 + w3 * x5 + w4 * x6 + w5 * x7 + w6 * x8 + w7 * x9,
                first,
            )
            _put(
                T,
                3 * T_PITCH + i,
                w0 * x3 + w1 * x4 + w2 * x5 + w3 * x6 + w4 * x7 + w5 * x8 + w6 * x9 + w7 * x10,
                first,
            )


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _row(S, src, line, left, right, ring, slot, v, at, geo, width):
    """Ring row ``slot`` (offset into ``ring``) ``=`` the input row at ``src`` in ``S``
    correlated with ``v`` for this task's ``width`` output columns; ``line`` holds the
    zero-padded row segment they read, of which ``[left, right)`` lies in the signal."""
    s1, d1, m1 = geo[7], geo[9], geo[11]
    for q in range(U(left), U(right)):
        line[q] = S[U(src) + q]
    if s1 == 1 and d1 == 1 and 1 < m1 <= _window_max_taps(ring) and WINDOWS:
        _taps(ring, U(slot), line, at, v, m1, U(width))
        return
    if s1 == 1 and d1 == 1 and m1 >= LINE_MIN_TAPS and LINES:
        for i in range(U(width)):
            ring[U(slot) + i] = 0
        _line(ring, U(slot), line, at, 0, v, 0, m1, 0, U(width))
        return
    if s1 == 1:
        _taps_in_passes(ring, U(slot), line, at, v, m1, U(width))
        return
    for i in range(U(width)):
        ring[U(slot) + i] = 0
    for j in range(m1):  # strided columns: one tap per pass
        w, a = v[j], U(j * d1)
        for i in range(U(width)):
            ring[U(slot) + i] += w * line[a + i * U(s1)]


def _taps(D, d, A, at, w, g, n):
    """``D[d + i] = Σ w[t]·A[at[t] + i]`` over ``t < g``, for ``i < n``, where
    ``at[t] == t``: float sums in registers (`_windows`), others in passes."""


@overload(_taps)
def _taps_overload(D, d, A, at, w, g, n):
    if not isinstance(D.dtype, types.Float):
        return _taps_in_passes

    def in_windows(D, d, A, at, w, g, n):
        _windows(D, d, A, w, g, n)

    return in_windows


def _window_max_taps(D):
    """`WINDOW_MAX_TAPS` for ``D``'s dtype (0 for integers): a constant of the type."""


@overload(_window_max_taps)
def _window_max_taps_overload(D):
    taps = WINDOW_MAX_TAPS.get(str(D.dtype), 0)
    return lambda D: taps


@register_jitable
def _taps_in_passes(D, d, A, at, w, g, n):
    for j in range(0, g, TAPS_PER_PASS):
        _add(D, d, A, at, j, w, j, min(TAPS_PER_PASS, g - j), n, j == 0)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _windows(D, d, A, w, g, n):
    """``D[d + i] = Σ w[t]·A[t + i]`` over ``t < g`` (2 to 20 taps: `WINDOW_MAX_TAPS`), for
    ``i < n``: four vectors of sums at a time in registers, each in tap order
    (`window_sums`), so every output gets its terms in one order wherever it lies; the
    last four vectors store only the outputs below ``n``."""
    wide_vectors()
    if g == 2:
        _windows_of(D, d, A, w, n, 2)
    elif g == 3:
        _windows_of(D, d, A, w, n, 3)
    elif g == 4:
        _windows_of(D, d, A, w, n, 4)
    elif g == 5:
        _windows_of(D, d, A, w, n, 5)
    elif g == 6:
        _windows_of(D, d, A, w, n, 6)
    elif g == 7:
        _windows_of(D, d, A, w, n, 7)
    elif g == 8:
        _windows_of(D, d, A, w, n, 8)
    elif g == 9:
        _windows_of(D, d, A, w, n, 9)
    elif g == 10:
        _windows_of(D, d, A, w, n, 10)
    elif g == 11:
        _windows_of(D, d, A, w, n, 11)
    elif g == 12:
        _windows_of(D, d, A, w, n, 12)
    elif g == 13:
        _windows_of(D, d, A, w, n, 13)
    elif g == 14:
        _windows_of(D, d, A, w, n, 14)
    elif g == 15:
        _windows_of(D, d, A, w, n, 15)
    elif g == 16:
        _windows_of(D, d, A, w, n, 16)
    elif g == 17:
        _windows_of(D, d, A, w, n, 17)
    elif g == 18:
        _windows_of(D, d, A, w, n, 18)
    elif g == 19:
        _windows_of(D, d, A, w, n, 19)
    else:
        _windows_of(D, d, A, w, n, 20)


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _windows_of(D, d, A, w, n, taps):
    """`_windows` for a literal number of ``taps``."""
    L = U(lanes(D))
    for i in range(U(0), n, U(4) * L):
        s0, s1, s2, s3 = window_sums(A, i, w, taps, 4)
        _put_row(D, d + i, L, np.int64(n) - np.int64(i), True, s0, s1, s2, s3, False)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _task(t, S, u, v, geo, Y, accumulate):
    """Task ``t``: column block ``t % blocks`` of strip ``t // blocks % strips`` of
    batch ``t // blocks // strips`` (module docstring)."""
    n0, n1, o0, o1, lo0, lo1, s0, s1, d0, d1, m0, m1, rows = geo[:13]
    blocks = (o1 + BLOCK - 1) // BLOCK
    strips = (o0 + rows - 1) // rows
    c, r, b = t % blocks, t // blocks % strips, t // blocks // strips
    c0 = c * BLOCK
    width = min(o1, c0 + BLOCK) - c0
    extent = d0 * (m0 - 1) + 1
    group = ROWS_PER_PASS if s0 == 1 and d0 == 1 else 1
    slots = extent + group - 1
    # the zero-padded line: input columns start .. start + span - 1 of each row
    span = (width - 1) * s1 + d1 * (m1 - 1) + 1
    start = c0 * s1 - lo1
    line = np.zeros(span + LINE_PAD, v.dtype)
    left, right = max(0, -start), max(0, min(span, n1 - start))
    pitch = width + PAD  # ring rows apart
    ring = np.empty(slots * pitch, v.dtype)
    T = np.empty(ROWS_PER_PASS * T_PITCH, v.dtype)  # the sums of a pass's output rows
    at_row = np.zeros(m1 + TAPS_PER_PASS, np.int64)  # the row pass's tap offsets in line
    for j in range(m1):
        at_row[j] = j * d1
    at = np.zeros(TAPS_PER_PASS + ROWS_PER_PASS - 1, np.int64)  # ring offsets of a pass's rows
    ready = -(2**62)  # the last input row in the ring
    i = r * rows
    end = min(o0, i + rows)
    while i < end:
        g = group if end - i >= group else 1
        top = i * s0 - lo0
        for p in range(max(top, ready + 1), top + (g - 1) * s0 + extent):
            slot = (p % slots) * pitch
            if 0 <= p < n0:
                src = (b * n0 + p) * n1 + start
                _row(S, src, line, left, right, ring, slot, v, at_row, geo, width)
            else:
                for q in range(U(width)):
                    ring[U(slot) + q] = 0
            ready = p
        if g == ROWS_PER_PASS:
            for j in range(0, m0, TAPS_PER_PASS):
                taps = min(TAPS_PER_PASS, m0 - j)
                for k in range(taps + ROWS_PER_PASS - 1):
                    at[k] = ((top + j + k) % slots) * pitch
                _add4(T, ring, at, u, j, taps, U(width), j == 0)
        else:
            for j in range(0, m0, TAPS_PER_PASS):
                for k in range(TAPS_PER_PASS):
                    at[k] = ((top + (j + k) * d0) % slots) * pitch
                g0 = min(TAPS_PER_PASS, m0 - j)
                _add(T, U(0), ring, at, 0, u, j, g0, U(width), j == 0)
        y = (b * o0 + i) * o1 + c0
        for q in range(g):
            _store(Y, U(y + q * o1), T, U(q * T_PITCH), U(width), accumulate)
        i += g


@nb.njit(cache=True, nogil=True, inline="always")
def _store(Y, y, T, q, n, accumulate):
    """``Y[y + i] = T[q + i]`` (or ``+=``) for ``i < n``, converted to ``Y``'s dtype."""
    if accumulate:
        for i in range(n):
            Y[y + i] += T[q + i]
    else:
        for i in range(n):
            Y[y + i] = T[q + i]


@nb.njit(cache=True, nogil=True)
def _run(t0, t1, S, u, v, geo, Y, accumulate):
    """Tasks ``t0 .. t1 - 1``."""
    for t in range(t0, t1):
        _task(t, S, u, v, geo, Y, accumulate)


def _tasks(geo: np.ndarray) -> int:
    """Tasks: batches times strips times column blocks."""
    o0, o1, rows, batches = (int(v) for v in geo[[2, 3, 12, 13]])
    return batches * -(-o0 // rows) * -(-o1 // BLOCK)


def geometry(
    n: tuple[int, int],
    out: tuple[int, int],
    lo: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    m: tuple[int, int],
    rows: int,
    batches: int,
) -> np.ndarray:
    """``geo`` for the loop: the signal's and output's shapes, padding, strides,
    dilations, kernel lengths, the output rows of one task, and the number of batches."""
    return np.array([*n, *out, *lo, *stride, *dilation, *m, rows, batches], np.int64)


def correlate2(
    S: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    geo: np.ndarray,
    Y: np.ndarray,
    workers: int,
    accumulate: bool,
) -> None:
    """Write (or add) the correlation of ``S`` with ``u ⊗ v`` into ``Y`` (module
    docstring); ``S`` and ``Y`` flattened, ``u`` and ``v`` readable 8 entries on. Tasks
    go to up to ``workers`` threads one at a time, so a thread slowed down by other
    processes takes fewer."""
    tasks = _tasks(geo)
    if workers > 1 and tasks > 1:
        each_in_threads(
            workers, lambda t: _run(t, t + 1, S, u, v, geo, Y, accumulate), range(tasks)
        )
    else:
        _run(0, tasks, S, u, v, geo, Y, accumulate)
