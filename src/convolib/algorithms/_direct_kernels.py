"""Compiled loops of the direct algorithm; importing this module imports numba.

The problem arrives with three spatial axes (fewer are padded with length-1 axes):
``S`` is (signal batches, n0, n1, n2), ``W`` is (kernel batches, m0, m1, m2), ``Y``
is (batch, o0, o1, o2) and zeroed; ``bx[b]`` and ``bk[b]`` say which signal and
kernel batch output batch ``b`` uses. A task is one block of one output row; for
each kernel tap it adds ``w * signal`` along the contiguous output columns ("axpy"
order), skipping taps that fall outside the signal, which is how implicit zero
padding costs nothing.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import costs
from ._launch import launch


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _task(t, S, W, bx, bk, lo, st, dl, Y, block, nblocks):
    O0, O1, O2 = Y.shape[1], Y.shape[2], Y.shape[3]
    n0, n1, n2 = S.shape[1], S.shape[2], S.shape[3]
    m0, m1, m2 = W.shape[1], W.shape[2], W.shape[3]
    c = t % nblocks
    r = t // nblocks
    i1 = r % O1
    r //= O1
    i0 = r % O0
    b = r // O0
    c0 = c * block
    c1 = min(O2, c0 + block)
    out = Y[b, i0, i1]
    s2 = st[2]
    for j0 in range(m0):
        p0 = i0 * st[0] + j0 * dl[0] - lo[0]
        if p0 < 0 or p0 >= n0:
            continue
        for j1 in range(m1):
            p1 = i1 * st[1] + j1 * dl[1] - lo[1]
            if p1 < 0 or p1 >= n1:
                continue
            row = S[bx[b], p0, p1]
            if s2 == 1:
                j2 = 0
                while j2 < m2:
                    g = min(TAPS_PER_PASS, m2 - j2)
                    _taps(out, 0, row, W[bk[b], j0, j1], j2, g, dl[2], lo[2], c0, c1, n2)
                    j2 += g
                continue
            for j2 in range(m2):
                w = W[bk[b], j0, j1, j2]
                off = j2 * dl[2] - lo[2]
                first = max(c0, (s2 - 1 - off) // s2) if off < 0 else c0
                last = min(c1, (n2 - 1 - off) // s2 + 1)
                if last <= first:
                    continue
                # Slices, then a loop from 0: indices provably non-negative, so it vectorises.
                dst = out[first:last]
                strided = row[first * s2 + off : (last - 1) * s2 + off + 1 : s2]
                for i in range(dst.shape[0]):
                    dst[i] += w * strided[i]


TAPS_PER_PASS = 4
"""Taps of one kernel row added in one pass over the output block (register blocking:
one load and store of the output per four multiply-adds instead of per one)."""


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


@nb.njit(cache=True, nogil=True)
def correlate_serial(S, W, bx, bk, lo, st, dl, Y, block):
    nblocks = (Y.shape[3] + block - 1) // block
    for t in range(Y.shape[0] * Y.shape[1] * Y.shape[2] * nblocks):
        _task(t, S, W, bx, bk, lo, st, dl, Y, block, nblocks)


@nb.njit(cache=True, nogil=True, parallel=True)
def correlate_parallel(S, W, bx, bk, lo, st, dl, Y, block):
    nblocks = (Y.shape[3] + block - 1) // block
    for t in nb.prange(Y.shape[0] * Y.shape[1] * Y.shape[2] * nblocks):
        _task(t, S, W, bx, bk, lo, st, dl, Y, block, nblocks)


def run(S: np.ndarray, W: np.ndarray, bx, bk, lo, st, dl, Y: np.ndarray, workers: int) -> None:
    """Accumulate the correlation into the zeroed ``Y`` (see the module docstring)."""
    block = costs.direct_block(Y.itemsize)
    launch(
        workers,
        lambda _: correlate_parallel(S, W, bx, bk, lo, st, dl, Y, block),
        lambda: correlate_serial(S, W, bx, bk, lo, st, dl, Y, block),
    )
