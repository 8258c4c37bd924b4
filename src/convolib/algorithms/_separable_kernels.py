"""Compiled loop of the separable algorithm: two 1-D passes fused through a ring buffer.

``S`` is (batches, n0, n1), ``Y`` is (batches, o0, o1); ``u`` correlates along axis 0
and ``v`` along axis 1 (the contiguous one), each with its own padding ``lo``, stride
and dilation; the result is added into ``Y``. A task is one block of output columns
of one strip of output rows. Walking down the strip, it correlates each input row it
needs with ``v`` once, into a ring buffer that holds the rows of one window (small
enough for the L2 cache), and adds ``u``-weighted rows of the ring into the output
row: the intermediate image never goes through memory. Taps that fall outside the
signal are skipped in both passes (implicit zero padding, absent terms), and every
inner loop runs over contiguous columns ("axpy" order), as in ``_direct_kernels``;
importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._launch import launch

TAPS_PER_PASS = 4
"""Taps added in one pass over a row (register blocking: one load and store of an
output per four multiply-adds)."""


@nb.njit(cache=True, nogil=True, fastmath={"contract"}, inline="always")
def _span(c0, c1, off, n2):
    """Outputs of ``[c0, c1)`` whose tap at ``off`` lies inside the row of ``n2`` samples."""
    return max(c0, -off), min(c1, n2 - off)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _taps(out, base, row, w, j2, g, d2, lo2, c0, c1, n2):
    """Add taps ``j2 .. j2 + g - 1`` (``g <= 4``) of the kernel row ``w`` to outputs
    ``c0 .. c1 - 1``, which ``out`` holds from index ``base`` on.

    Where all ``g`` taps are inside the row, one fused pass; the edges, where some
    tap falls on implicit zeros, tap by tap.
    """
    first, last = c0, c1
    for q in range(g):
        f, e = _span(c0, c1, (j2 + q) * d2 - lo2, n2)
        first, last = max(first, f), min(last, e)
    if last > first:
        o = j2 * d2 - lo2
        dst = out[first - base : last - base]
        a = row[first + o : last + o]
        if g == 1:
            w0 = w[j2]
            for i in range(dst.shape[0]):
                dst[i] += w0 * a[i]
        elif g == 2:
            w0, w1 = w[j2], w[j2 + 1]
            b = row[first + o + d2 : last + o + d2]
            for i in range(dst.shape[0]):
                dst[i] += w0 * a[i] + w1 * b[i]
        elif g == 3:
            w0, w1, w2 = w[j2], w[j2 + 1], w[j2 + 2]
            b = row[first + o + d2 : last + o + d2]
            c = row[first + o + 2 * d2 : last + o + 2 * d2]
            for i in range(dst.shape[0]):
                dst[i] += w0 * a[i] + w1 * b[i] + w2 * c[i]
        else:
            w0, w1, w2, w3 = w[j2], w[j2 + 1], w[j2 + 2], w[j2 + 3]
            b = row[first + o + d2 : last + o + d2]
            c = row[first + o + 2 * d2 : last + o + 2 * d2]
            e = row[first + o + 3 * d2 : last + o + 3 * d2]
            for i in range(dst.shape[0]):
                dst[i] += w0 * a[i] + w1 * b[i] + w2 * c[i] + w3 * e[i]
    for q in range(g):
        off = (j2 + q) * d2 - lo2
        f, e = _span(c0, c1, off, n2)
        wq = w[j2 + q]
        if last <= first:
            _axpy(out, base, row, wq, off, f, e)
        else:
            _axpy(out, base, row, wq, off, f, min(e, first))
            _axpy(out, base, row, wq, off, max(f, last), e)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _axpy(out, base, row, w, off, first, last):
    if last > first:
        dst = out[first - base : last - base]
        src = row[first + off : last + off]
        for i in range(dst.shape[0]):
            dst[i] += w * src[i]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _task(t, S, u, v, lo, st, dl, Y, rows, cols, nstrips, ncols):
    n0, n1 = S.shape[1], S.shape[2]
    o0, o1 = Y.shape[1], Y.shape[2]
    m0, m1 = u.shape[0], v.shape[0]
    c = t % ncols
    r = (t // ncols) % nstrips
    b = t // (ncols * nstrips)
    c0 = c * cols
    c1 = min(o1, c0 + cols)
    width = c1 - c0
    extent = dl[0] * (m0 - 1) + 1
    ring = np.empty((extent, width), Y.dtype)
    ready = -(2**62)  # the last input row in the ring
    taps = np.empty(TAPS_PER_PASS, np.int64)
    s1 = st[1]
    for i in range(r * rows, min(o0, (r + 1) * rows)):
        top = i * st[0] - lo[0]
        for p in range(max(top, ready + 1, 0), min(top + extent, n0)):
            dst = ring[p % extent]
            dst[:] = 0
            row = S[b, p]
            if s1 == 1:
                j1 = 0
                while j1 < m1:
                    g = min(TAPS_PER_PASS, m1 - j1)
                    _taps(dst, c0, row, v, j1, g, dl[1], lo[1], c0, c1, n1)
                    j1 += g
            else:
                for j1 in range(m1):
                    w = v[j1]
                    off = j1 * dl[1] - lo[1]
                    first = max(c0, (s1 - 1 - off) // s1) if off < 0 else c0
                    last = min(c1, (n1 - 1 - off) // s1 + 1)
                    if last <= first:
                        continue
                    seg = dst[first - c0 : last - c0]
                    strided = row[first * s1 + off : (last - 1) * s1 + off + 1 : s1]
                    for q in range(seg.shape[0]):
                        seg[q] += w * strided[q]
            ready = p
        _column_pass(Y[b, i, c0:c1], ring, u, top, dl[0], n0, extent, taps)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _column_pass(out, ring, u, top, d0, n0, extent, taps):
    """``out += Σ_j u[j] · ring[row of tap j]`` over the taps inside the signal, four
    ring rows per pass over ``out`` (``taps``: scratch for their indices)."""
    count = 0
    for j0 in range(u.shape[0] + 1):
        if j0 < u.shape[0]:
            p = top + j0 * d0
            if p < 0 or p >= n0:
                continue
            taps[count] = j0
            count += 1
            if count < TAPS_PER_PASS:
                continue
        if count == 0:
            continue
        a = ring[(top + taps[0] * d0) % extent]
        w0 = u[taps[0]]
        if count == 1:
            for q in range(out.shape[0]):
                out[q] += w0 * a[q]
        elif count == 2:
            b, w1 = ring[(top + taps[1] * d0) % extent], u[taps[1]]
            for q in range(out.shape[0]):
                out[q] += w0 * a[q] + w1 * b[q]
        elif count == 3:
            b, w1 = ring[(top + taps[1] * d0) % extent], u[taps[1]]
            c, w2 = ring[(top + taps[2] * d0) % extent], u[taps[2]]
            for q in range(out.shape[0]):
                out[q] += w0 * a[q] + w1 * b[q] + w2 * c[q]
        else:
            b, w1 = ring[(top + taps[1] * d0) % extent], u[taps[1]]
            c, w2 = ring[(top + taps[2] * d0) % extent], u[taps[2]]
            e, w3 = ring[(top + taps[3] * d0) % extent], u[taps[3]]
            for q in range(out.shape[0]):
                out[q] += w0 * a[q] + w1 * b[q] + w2 * c[q] + w3 * e[q]
        count = 0


@nb.njit(cache=True, nogil=True)
def _serial(S, u, v, lo, st, dl, Y, rows, cols):
    nstrips = (Y.shape[1] + rows - 1) // rows
    ncols = (Y.shape[2] + cols - 1) // cols
    for t in range(Y.shape[0] * nstrips * ncols):
        _task(t, S, u, v, lo, st, dl, Y, rows, cols, nstrips, ncols)


@nb.njit(cache=True, nogil=True, parallel=True)
def _parallel(S, u, v, lo, st, dl, Y, rows, cols):
    nstrips = (Y.shape[1] + rows - 1) // rows
    ncols = (Y.shape[2] + cols - 1) // cols
    for t in nb.prange(Y.shape[0] * nstrips * ncols):
        _task(t, S, u, v, lo, st, dl, Y, rows, cols, nstrips, ncols)


def correlate2(
    S: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    lo: tuple[int, int],
    st: tuple[int, int],
    dl: tuple[int, int],
    Y: np.ndarray,
    rows: int,
    cols: int,
    workers: int,
) -> None:
    """Add the correlation of ``S`` with ``u ⊗ v`` into ``Y`` in tasks of ``rows``
    output rows by ``cols`` output columns (module docstring)."""
    launch(
        workers,
        lambda _: _parallel(S, u, v, lo, st, dl, Y, rows, cols),
        lambda: _serial(S, u, v, lo, st, dl, Y, rows, cols),
    )
