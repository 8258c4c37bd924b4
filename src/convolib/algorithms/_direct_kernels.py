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

import threading

import numba as nb
import numpy as np


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
            for j2 in range(m2):
                w = W[bk[b], j0, j1, j2]
                off = j2 * dl[2] - lo[2]
                first = c0
                if off < 0:
                    first = max(c0, (s2 - 1 - off) // s2)
                last = min(c1, (n2 - 1 - off) // s2 + 1)
                if last <= first:
                    continue
                # Slices, then a loop from 0: indices provably non-negative, so it vectorises.
                dst = out[first:last]
                if s2 == 1:
                    src = row[first + off : last + off]
                    for i in range(dst.shape[0]):
                        dst[i] += w * src[i]
                else:
                    strided = row[first * s2 + off : (last - 1) * s2 + off + 1 : s2]
                    for i in range(dst.shape[0]):
                        dst[i] += w * strided[i]


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


_parallel_lock = threading.Lock()
"""One parallel launch at a time: numba's fallback threading layer (workqueue) aborts
on concurrent launches from several Python threads; a call that finds the lock taken
runs serially instead, with the same result."""


def run(S: np.ndarray, W: np.ndarray, bx, bk, lo, st, dl, Y: np.ndarray, workers: int) -> None:
    """Accumulate the correlation into the zeroed ``Y`` (see the module docstring)."""
    block = max(64, 16384 // Y.itemsize)
    if workers > 1 and _parallel_lock.acquire(blocking=False):
        try:
            nb.set_num_threads(min(workers, nb.config.NUMBA_NUM_THREADS))
            correlate_parallel(S, W, bx, bk, lo, st, dl, Y, block)
        finally:
            _parallel_lock.release()
    else:
        correlate_serial(S, W, bx, bk, lo, st, dl, Y, block)
