"""Compiled loops of the lanes_fft algorithm; importing this module imports numba.

A group of ``2 L`` frames (``L`` = `lanes`, 8 float64 or 16 float32 values) of ``B``
samples each, ``B`` a power of two, is transformed as ``L`` complex lines at once,
frame ``s`` in lane ``s`` of the real parts and frame ``L + s`` in lane ``s`` of the
imaginary parts. The kernel is real, so the circular convolution of ``a + i b`` with
it is ``a * h + i (b * h)``: one complex transform serves two frames and needs no
unpacking. A group's buffer ``z`` holds point ``t`` as one vector of real parts and one
of imaginary parts, ``z[2 L t + s]`` for slot ``s`` (the group's frame ``s``).

An image is cut into tiles of ``B0 x B1`` pixels, and a pair of tiles is transformed
as one complex tile, the first as the real parts and the second as the imaginary
parts (`convolve_tiles`): along its rows with a row in each lane (the buffer holds
``L`` rows' point ``t`` as two vectors, the rows' groups one after another), then,
laid out again by columns with a column in each lane (`_regroup`), along its columns.

The forward transform runs radix-4 decimation in frequency in place and leaves the
spectrum in bit-reversed order; the product with the kernel's spectrum is taken in
that order, and the inverse runs decimation in time from bit-reversed order back to
the natural one, so that no pass reorders anything. Twiddle tables hold
``exp(-2 pi i t / B)`` for ``t < B / 2``; the inverse is given their conjugates.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._simd import (
    add,
    fma,
    lanes,
    load,
    mul,
    splat,
    store,
    sub,
    transpose,
    transposed_copy,
    wide_vectors,
)


@nb.njit(cache=True, nogil=True, inline="always")
def _times(xr, xi, c, d):
    """``(xr + i xi) (c + i d)``."""
    return sub(mul(xr, c), mul(xi, d)), fma(xr, d, mul(xi, c))


@nb.njit(cache=True, nogil=True, inline="always")
def _halves(z, p0, p1, L):
    """The butterfly without twiddle of the points at ``p0`` and ``p1``."""
    ar, ai, br, bi = load(z, p0), load(z, p0 + L), load(z, p1), load(z, p1 + L)
    store(z, p0, add(ar, br))
    store(z, p0 + L, add(ai, bi))
    store(z, p1, sub(ar, br))
    store(z, p1 + L, sub(ai, bi))


@nb.njit(cache=True, nogil=True, inline="always")
def _pair_twiddles(wr, wi, j, q, step):
    """Butterfly ``j``'s twiddles in a pair of stages of lengths ``4q`` and ``2q``:
    ``w^j``, ``w^(j+q)`` and ``w^2j`` as splats of their real and imaginary parts."""
    return (
        splat(wr, j * step),
        splat(wi, j * step),
        splat(wr, (j + q) * step),
        splat(wi, (j + q) * step),
        splat(wr, 2 * j * step),
        splat(wi, 2 * j * step),
    )


@nb.njit(cache=True, nogil=True, inline="always")
def _quarters(L, t, q):
    """Where points ``t``, ``t + q``, ``t + 2q`` and ``t + 3q`` start in a buffer."""
    p0 = 2 * L * t
    return p0, p0 + 2 * L * q, p0 + 4 * L * q, p0 + 6 * L * q


@nb.njit(cache=True, nogil=True)
def _down(z, wr, wi, lo, hi, m, last):
    """`forward`'s stages on points ``[lo, hi)``, in pairs of lengths ``m``, ``m / 4``, ...
    down to ``last`` (4, or 8 followed by the stage of length 2), for lines of the
    twiddle tables' length."""
    wide_vectors()
    L = lanes(z)
    n = 2 * wr.shape[0]
    while m >= last:
        q = m >> 2
        step = n // m
        for s in range(lo, hi, m):
            for j in range(q):
                # Two radix-2 stages: lengths m (twiddles w^j, w^(j+q)), then m/2 (w^2j).
                c1, d1, c2, d2, c3, d3 = _pair_twiddles(wr, wi, j, q, step)
                p0, p1, p2, p3 = _quarters(L, s + j, q)
                a0r, a0i, a1r, a1i = load(z, p0), load(z, p0 + L), load(z, p1), load(z, p1 + L)
                a2r, a2i, a3r, a3i = load(z, p2), load(z, p2 + L), load(z, p3), load(z, p3 + L)
                b0r, b0i = add(a0r, a2r), add(a0i, a2i)
                b1r, b1i = add(a1r, a3r), add(a1i, a3i)
                b2r, b2i = _times(sub(a0r, a2r), sub(a0i, a2i), c1, d1)
                b3r, b3i = _times(sub(a1r, a3r), sub(a1i, a3i), c2, d2)
                store(z, p0, add(b0r, b1r))
                store(z, p0 + L, add(b0i, b1i))
                yr, yi = _times(sub(b0r, b1r), sub(b0i, b1i), c3, d3)
                store(z, p1, yr)
                store(z, p1 + L, yi)
                store(z, p2, add(b2r, b3r))
                store(z, p2 + L, add(b2i, b3i))
                yr, yi = _times(sub(b2r, b3r), sub(b2i, b3i), c3, d3)
                store(z, p3, yr)
                store(z, p3 + L, yi)
        m >>= 2
    if last == 8:
        for s in range(lo, hi, 2):
            _halves(z, 2 * L * s, 2 * L * (s + 1), L)


@nb.njit(cache=True, nogil=True)
def _up(z, wr, wi, lo, hi, first, m):
    """`inverse`'s stages on points ``[lo, hi)``: the one of length 2 if ``first`` is 8,
    then pairs of lengths ``first``, ``4 first``, ... up to ``m``; ``wi`` the conjugate
    twiddles."""
    wide_vectors()
    L = lanes(z)
    n = 2 * wr.shape[0]
    if first == 8:
        for s in range(lo, hi, 2):
            _halves(z, 2 * L * s, 2 * L * (s + 1), L)
    while first <= m:
        q = first >> 2
        step = n // first
        for s in range(lo, hi, first):
            for j in range(q):
                # `forward`'s two stages undone: length m/2 (w^2j), then m (w^j, w^(j+q)).
                c1, d1, c2, d2, c3, d3 = _pair_twiddles(wr, wi, j, q, step)
                p0, p1, p2, p3 = _quarters(L, s + j, q)
                a0r, a0i, a2r, a2i = load(z, p0), load(z, p0 + L), load(z, p2), load(z, p2 + L)
                a1r, a1i = _times(load(z, p1), load(z, p1 + L), c3, d3)
                a3r, a3i = _times(load(z, p3), load(z, p3 + L), c3, d3)
                b0r, b0i = add(a0r, a1r), add(a0i, a1i)
                b1r, b1i = sub(a0r, a1r), sub(a0i, a1i)
                yr, yi = _times(add(a2r, a3r), add(a2i, a3i), c1, d1)
                store(z, p0, add(b0r, yr))
                store(z, p0 + L, add(b0i, yi))
                store(z, p2, sub(b0r, yr))
                store(z, p2 + L, sub(b0i, yi))
                yr, yi = _times(sub(a2r, a3r), sub(a2i, a3i), c2, d2)
                store(z, p1, add(b1r, yr))
                store(z, p1 + L, add(b1i, yi))
                store(z, p3, sub(b1r, yr))
                store(z, p3 + L, sub(b1i, yi))
        first <<= 2


@nb.njit(cache=True, nogil=True, inline="always")
def _last_pair(n):
    """The length of the shortest pair of stages: 4, or 8 where a stage of length 2
    follows it (an odd number of stages)."""
    m = n
    while m > 8:
        m >>= 2
    return max(m, 4)


@nb.njit(cache=True, nogil=True)
def forward(z, wr, wi):
    """The spectrum of ``z``'s lines, in place, in bit-reversed order."""
    n = z.shape[0] // (2 * lanes(z))
    _down(z, wr, wi, 0, n, n, _last_pair(n))


@nb.njit(cache=True, nogil=True)
def inverse(z, wr, wi):
    """``B`` times the lines whose bit-reversed spectrum ``z`` holds, in place (``wi``
    the conjugate twiddles)."""
    n = z.shape[0] // (2 * lanes(z))
    _up(z, wr, wi, 0, n, _last_pair(n), n)


@nb.njit(cache=True, nogil=True, inline="always")
def _product(z, hr, hi, lo, end):
    """Points ``[lo, end)`` of ``z`` times the spectrum ``hr + i hi``, point by point."""
    L = lanes(z)
    for t in range(lo, end):
        p = 2 * L * t
        yr, yi = _times(load(z, p), load(z, p + L), splat(hr, t), splat(hi, t))
        store(z, p, yr)
        store(z, p + L, yi)


@nb.njit(cache=True, nogil=True)
def _filtered(z, wr, wi, wi_back, hr, hi, most):
    """`forward`, the product with ``hr + i hi``, then `inverse`. Stages of up to
    ``most`` points touch only runs of that many, so those run on one run at a time,
    forward, product and back, while the run is in cache."""
    n = z.shape[0] // (2 * lanes(z))
    last = _last_pair(n)
    inner = n  # the length of a pair of stages (or the shortest pair) within reach
    while inner > most and inner > 8:
        inner >>= 2
    if inner < n:
        _down(z, wr, wi, 0, n, n, 4 * inner)
    for lo in range(0, n, inner):
        _down(z, wr, wi, lo, lo + inner, inner, last)
        _product(z, hr, hi, lo, lo + inner)
        _up(z, wr, wi_back, lo, lo + inner, last, inner)
    if inner < n:
        _up(z, wr, wi_back, 0, n, 4 * inner, n)


@nb.njit(cache=True, nogil=True, inline="always")
def _frames_in(z, T, x, n, pitch, frame0, frames, total, valid, lo):
    """Frames ``frame0 ...`` into ``z``, frame ``frame0 + s`` into slot ``s``: `lanes`
    samples of `lanes` frames at a time, transposed (`transposed_copy` where the
    frames lie in one line, whole, else through ``T``)."""
    L = lanes(z)
    B = z.shape[0] // (2 * L)
    for half in range(2):
        first = frame0 + half * L
        row, f = divmod(first, frames)
        begin = f * valid - lo  # the first frame's first sample in its line
        one_line = f + L <= frames and first + L <= total
        for t0 in range(0, B, L):
            if one_line and begin + t0 >= 0 and begin + (L - 1) * valid + t0 + L <= n:
                at = row * pitch + begin + t0
                transposed_copy(z, 2 * L * t0 + half * L, 2 * L, x, at, valid)
                continue
            for i in range(L):
                frame = first + i
                line, g = divmod(frame, frames)
                start = g * valid - lo + t0  # the tile's first sample in its line
                if frame < total and start >= 0 and start + L <= n:
                    store(T, i * L, load(x, line * pitch + start))
                    continue
                for j in range(L):
                    inside = frame < total and 0 <= start + j < n
                    T[i * L + j] = x[line * pitch + start + j] if inside else 0
            transposed_copy(z, 2 * L * t0 + half * L, 2 * L, T, 0, L)


@nb.njit(cache=True, nogil=True, inline="always")
def _frames_out(z, T, out, length, stride, frame0, frames, total, valid, first):
    """Samples ``first ...`` of the lines in ``z`` into their frames' outputs in
    ``out`` (lines ``length`` long, every ``stride``-th output): `_frames_in` run
    backwards."""
    L = lanes(z)
    B = z.shape[0] // (2 * L)
    for half in range(2):
        head = frame0 + half * L
        row, f = divmod(head, frames)
        one_line = stride == 1 and f + L <= frames and head + L <= total
        for t0 in range(first, B, L):
            at = f * valid - first + t0  # the tile's first output in the first frame's line
            if one_line and t0 + L <= B and at + (L - 1) * valid + L <= length:
                transposed_copy(out, row * length + at, valid, z, 2 * L * t0 + half * L, 2 * L)
                continue
            for j in range(L):
                t = min(t0 + j, B - 1)
                store(T, j * L, load(z, 2 * L * t + half * L))
            transpose(T)
            for i in range(L):
                frame = head + i
                if frame >= total:
                    break
                line, g = divmod(frame, frames)
                at = g * valid - first + t0  # the tile's first output in its line, stride 1
                count = min(L, B - t0)
                if stride == 1 and at + L <= length and count == L:
                    store(out, line * length + at, load(T, i * L))
                    continue
                for j in range((-at) % stride, count, stride):
                    if (at + j) // stride >= length:
                        break
                    out[line * length + (at + j) // stride] = T[i * L + j]


@nb.njit(cache=True, nogil=True)
def convolve_groups(
    g0, g1, x, n, pitch, lo, valid, hr, hi, wr, wi, wi_back, out, length, stride, most
):
    """Groups ``g0 .. g1 - 1`` of the overlap-save convolution of the lines of ``x``
    (``n`` values each, ``pitch`` apart) with the kernel whose bit-reversed spectrum
    over ``B`` is ``hr + i hi`` (divided by ``B``), into the lines of ``out`` (``length``
    values each: every ``stride``-th output).

    Frame ``f`` of a line reads samples ``[f V - lo, f V - lo + B)`` (zeros outside the
    line) and computes stride-1 outputs ``[f V, f V + V)``, ``V`` = ``valid``; frames are
    numbered line after line, and group ``g`` holds frames ``2 L g ... 2 L g + 2 L - 1``.
    Stages of up to ``most`` points run a run of points at a time (`_filtered`).
    """
    wide_vectors()
    L = lanes(hr)
    B = hr.shape[0]
    frames = -(-((length - 1) * stride + 1) // valid)
    total = (out.shape[0] // length) * frames
    z = np.empty(2 * L * B, hr.dtype)
    T = np.empty(L * L, hr.dtype)
    for g in range(g0, g1):
        _frames_in(z, T, x, n, pitch, 2 * L * g, frames, total, valid, lo)
        _filtered(z, wr, wi, wi_back, hr, hi, most)
        _frames_out(z, T, out, length, stride, 2 * L * g, frames, total, valid, B - valid)


@nb.njit(cache=True, nogil=True, inline="always")
def _tile_in(R, T, x, at, n0, n1, pitch, r0, c0, B1, half, inside):
    """Rows ``r0 ...`` and columns ``c0 ... c0 + B1 - 1`` of the image at ``at`` in
    ``x`` (rows ``pitch`` apart; zeros outside it, and everywhere unless ``inside``)
    into part ``half`` of ``R``: row ``g L + i`` of the tile in lane ``i`` of the
    ``B1`` points from ``g B1`` on, `lanes` columns of `lanes` rows at a time
    (`transposed_copy`, through ``T`` at the image's edges)."""
    L = lanes(R)
    for g in range(R.shape[0] // (2 * L * B1)):
        r = r0 + g * L
        for t1 in range(0, B1, L):
            c, to = c0 + t1, 2 * L * (g * B1 + t1) + half * L
            if inside and r >= 0 and r + L <= n0 and c >= 0 and c + L <= n1:
                transposed_copy(R, to, 2 * L, x, at + r * pitch + c, pitch)
                continue
            for i in range(L):
                if inside and 0 <= r + i < n0 and c >= 0 and c + L <= n1:
                    store(T, i * L, load(x, at + (r + i) * pitch + c))
                    continue
                for j in range(L):
                    here = inside and 0 <= r + i < n0 and 0 <= c + j < n1
                    T[i * L + j] = x[at + (r + i) * pitch + c + j] if here else 0
            transposed_copy(R, to, 2 * L, T, 0, L)


@nb.njit(cache=True, nogil=True, inline="always")
def _tile_out(R, T, out, at, out0, out1, s0, s1, o0, o1, first0, first1, B1, half):
    """Part ``half`` of ``R`` (laid out as `_tile_in` leaves it) into the output image
    at ``at`` in ``out`` (``out0`` rows of ``out1``, every ``s0``-th row and ``s1``-th
    column of the stride-1 result): tile row ``t0 >= first0`` is stride-1 output row
    ``o0 + t0 - first0``, tile column ``t1 >= first1`` output column ``o1 + t1 - first1``."""
    L = lanes(R)
    for g in range(R.shape[0] // (2 * L * B1)):
        if (g + 1) * L <= first0:
            continue
        o = o0 + g * L - first0  # the stride-1 output row of the group's first row
        rows = s0 == 1 and g * L >= first0 and o + L <= out0
        for t1 in range(first1, B1, L):
            c = o1 + t1 - first1  # the tile's first column in the stride-1 result
            frm = 2 * L * (g * B1 + t1) + half * L
            if rows and s1 == 1 and t1 + L <= B1 and c + L <= out1:
                transposed_copy(out, at + o * out1 + c, out1, R, frm, 2 * L)
                continue
            for j in range(L):
                store(T, j * L, load(R, 2 * L * (g * B1 + min(t1 + j, B1 - 1)) + half * L))
            transpose(T)
            count = min(L, B1 - t1)
            for i in range(L):
                oi = o + i
                if g * L + i < first0 or oi % s0 or oi // s0 >= out0:
                    continue
                row = at + (oi // s0) * out1
                if s1 == 1 and c + L <= out1 and count == L:
                    store(out, row + c, load(T, i * L))
                    continue
                for j in range((-c) % s1, count, s1):
                    if (c + j) // s1 >= out1:
                        break
                    out[row + (c + j) // s1] = T[i * L + j]


@nb.njit(cache=True, nogil=True, inline="always")
def _regroup(A, C, B0, B1):
    """``C`` from ``A`` laid out by rows (`_tile_in`: lanes are rows, ``B1`` points a
    group): laid out by columns (lanes are columns, ``B0`` points a group), a square
    tile of `lanes` rows and columns at a time. The same call with ``A`` laid out by
    columns and ``B0``, ``B1`` swapped lays it out by rows again."""
    L = lanes(A)
    for g in range(B0 // L):
        for h in range(B1 // L):
            for half in range(2):
                to = 2 * L * (h * B0 + g * L) + half * L
                transposed_copy(C, to, 2 * L, A, 2 * L * (g * B1 + h * L) + half * L, 2 * L)


@nb.njit(cache=True, nogil=True, inline="always")
def _tile_place(tile, F0, F1, valid0, valid1):
    """Tile ``tile``'s image, and its first stride-1 output's row and column there
    (tiles numbered image after image, ``F0`` rows of ``F1``)."""
    b, f = divmod(tile, F0 * F1)
    f0, f1 = divmod(f, F1)
    return b, f0 * valid0, f1 * valid1


@nb.njit(cache=True, nogil=True)
def convolve_tiles(
    p0, p1, x, n0, n1, pitch, plane, lo0, lo1, valid0, valid1, hr, hi,
    wr0, wi0, wb0, wr1, wi1, wb1, out, out0, out1, s0, s1, images,
):  # fmt: skip
    """Pairs ``p0 .. p1 - 1`` of tiles of the 2-D overlap-save convolution of the images
    in ``x`` (``n0`` rows of ``n1`` values, rows ``pitch`` and images ``plane`` apart)
    with the kernel whose spectrum over ``B0 x B1`` is ``hr + i hi`` (rows ``B1`` long,
    both axes in bit-reversed order, divided by ``B0 B1``), into the images of ``out``
    (``out0`` rows of ``out1``, every ``s0``-th row and ``s1``-th column).

    Tile ``(f0, f1)`` of an image reads rows ``f0 V0 - lo0 ...`` and columns
    ``f1 V1 - lo1 ...``; tiles are numbered image after image, row after row, and pair
    ``p`` holds tiles ``2p`` (the real parts) and ``2p + 1`` (the imaginary parts). A
    pair goes forward along its rows (a row per lane), is laid out by columns
    (`_regroup`), forward along its columns, times the spectrum, back along the
    columns, laid out by rows, and back along the rows.
    """
    wide_vectors()
    L = lanes(hr)
    B0, B1 = 2 * wr0.shape[0], 2 * wr1.shape[0]
    F0 = -(-((out0 - 1) * s0 + 1) // valid0)
    F1 = -(-((out1 - 1) * s1 + 1) // valid1)
    total = images * F0 * F1
    R = np.empty(2 * B0 * B1, hr.dtype)
    C = np.empty(2 * B0 * B1, hr.dtype)
    T = np.empty(L * L, hr.dtype)
    last0, last1 = _last_pair(B0), _last_pair(B1)
    for p in range(p0, p1):
        for half in range(2):
            b, o0, o1 = _tile_place(2 * p + half, F0, F1, valid0, valid1)
            inside = 2 * p + half < total
            _tile_in(R, T, x, b * plane, n0, n1, pitch, o0 - lo0, o1 - lo1, B1, half, inside)
        for g in range(B0 // L):
            _down(R, wr1, wi1, g * B1, (g + 1) * B1, B1, last1)
        _regroup(R, C, B0, B1)
        for h in range(B1 // L):
            _down(C, wr0, wi0, h * B0, (h + 1) * B0, B0, last0)
            for t0 in range(B0):
                q, k = 2 * L * (h * B0 + t0), t0 * B1 + h * L
                yr, yi = _times(load(C, q), load(C, q + L), load(hr, k), load(hi, k))
                store(C, q, yr)
                store(C, q + L, yi)
            _up(C, wr0, wb0, h * B0, (h + 1) * B0, last0, B0)
        _regroup(C, R, B1, B0)
        for g in range(B0 // L):
            _up(R, wr1, wb1, g * B1, (g + 1) * B1, last1, B1)
        for half in range(2):
            if 2 * p + half >= total:
                break
            b, o0, o1 = _tile_place(2 * p + half, F0, F1, valid0, valid1)
            at = b * out0 * out1
            _tile_out(R, T, out, at, out0, out1, s0, s1, o0, o1, B0 - valid0, B1 - valid1, B1, half)
