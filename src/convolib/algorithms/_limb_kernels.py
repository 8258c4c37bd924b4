"""Compiled loops of the limbs algorithm (``limbs.py``); importing this imports numba.

``xp[j, b]`` is limb plane ``j`` of flattened signal ``b`` and ``kp[q, b]`` limb plane
``q`` of kernel ``b`` (int64, limbs of ``width`` bits). For a chunk of outputs the loops
add ``Z[j + q] += kp[q, t] * xp[j, o + positions[t]]`` in int64 (the caller guarantees
that no ``|Z|`` exceeds ``2**62``), then turn ``sum_s Z[s] 2**(width s)`` into
two's-complement little-endian ``uint32`` limbs by one carry pass per output.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._launch import launch

CHUNK = 512
"""Outputs summed at a time: their partial sums, one row per limb, stay in cache."""


@nb.njit(inline="always")
def _task(task, xp, kp, positions, index, bx, bk, width, out, Z):
    nout = out.shape[1]
    nchunks = (nout + CHUNK - 1) // CHUNK
    b = task // nchunks
    first = (task % nchunks) * CHUNK
    count = min(CHUNK, nout - first)
    Z[:, :count] = 0
    for j in range(xp.shape[0]):
        row = xp[j, bx[b]]
        for q in range(kp.shape[0]):
            z = Z[j + q]
            taps = kp[q, bk[b]]
            for t in range(taps.size):
                c = taps[t]
                if c == 0:
                    continue
                if index.size == 0:
                    src = row[first + positions[t] : first + positions[t] + count]
                    for o in range(count):
                        z[o] += c * src[o]
                else:
                    at = index[first : first + count]
                    for o in range(count):
                        z[o] += c * row[at[o] + positions[t]]
    mask = (np.int64(1) << width) - 1
    digits = out.shape[2] * 32 // width
    for o in range(count):
        dst = out[b, first + o]
        dst[:] = 0
        carry = np.int64(0)
        for s in range(digits):
            v = carry + (Z[s, o] if s < Z.shape[0] else 0)
            carry = v >> width
            bit = s * width
            dst[bit >> 5] |= np.uint32((v & mask) << (bit & 31))


@nb.njit(cache=True, nogil=True)
def planes_serial(xp, kp, positions, index, bx, bk, width, out):
    """All outputs, one chunk after another (see the module docstring)."""
    Z = np.empty((xp.shape[0] + kp.shape[0] - 1, CHUNK), np.int64)
    nchunks = (out.shape[1] + CHUNK - 1) // CHUNK
    for task in range(out.shape[0] * nchunks):
        _task(task, xp, kp, positions, index, bx, bk, width, out, Z)


@nb.njit(cache=True, parallel=True)
def planes_parallel(xp, kp, positions, index, bx, bk, width, out):
    """`planes_serial` with the chunks in parallel."""
    nchunks = (out.shape[1] + CHUNK - 1) // CHUNK
    for task in nb.prange(out.shape[0] * nchunks):
        Z = np.empty((xp.shape[0] + kp.shape[0] - 1, CHUNK), np.int64)
        _task(task, xp, kp, positions, index, bx, bk, width, out, Z)


def correlate_planes(xp, kp, positions, index, bx, bk, width, out, workers: int) -> None:
    """Fill ``out[b, o, :]`` with the limbs of output ``o`` of batch ``b`` on up to
    ``workers`` threads."""
    launch(
        min(workers, out.shape[0] * -(-out.shape[1] // CHUNK)),
        lambda _: planes_parallel(xp, kp, positions, index, bx, bk, width, out),
        lambda: planes_serial(xp, kp, positions, index, bx, bk, width, out),
    )
