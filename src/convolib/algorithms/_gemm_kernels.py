"""Compiled loops of the gemm algorithm: gathering windows into a matrix.

The signals arrive flattened, each ``(channels, g0, g1, g2)`` (fewer convolved axes
are padded with length-1 axes in front), and ``geo`` holds the grid, output and
kernel shapes, strides and dilations (three axes each). Output rows (``lines``) are
counted over ``o0 · o1``; each holds ``o2`` outputs. Importing this module imports
numba.
"""

from __future__ import annotations

import numba as nb

U = nb.uint64


@nb.njit(cache=True, nogil=True)
def gather(X, geo, channels, n0, n1, l0, l1, j0, j1, cols):  # pragma: no cover
    """``cols[((c·m0 + t0)·m1 + t1)·m2 + t2, (((n - n0)·(l1 - l0) + l - l0)·(j1 - j0) + j - j0]``
    = signal ``n``'s ``X[c, i0·s0 + t0·d0, i1·s1 + t1·d1, j·s2 + t2·d2]`` for output row
    ``l = i0·o1 + i1``: the windows of outputs ``j0 .. j1 - 1`` of output rows
    ``l0 .. l1 - 1`` of signals ``n0 .. n1 - 1``, a column each."""
    g0, g1, g2, o1 = geo[0], geo[1], geo[2], geo[4]
    m0, m1, m2, s0, s1, s2 = geo[6], geo[7], geo[8], geo[9], geo[10], geo[11]
    d0, d1, d2 = geo[12], geo[13], geo[14]
    run = U(j1 - j0)  # outputs copied per (channel, tap) and row
    width = U((n1 - n0) * (l1 - l0)) * run
    plane = g0 * g1 * g2
    row = U(0)
    for c in range(channels):
        for t0 in range(m0):
            for t1 in range(m1):
                for t2 in range(m2):
                    dst = row * width
                    for n in range(n0, n1):
                        for line in range(l0, l1):
                            i0, i1 = line // o1, line % o1
                            src = U(
                                ((n * channels + c) * plane)
                                + ((i0 * s0 + t0 * d0) * g1 + i1 * s1 + t1 * d1) * g2
                                + j0 * s2
                                + t2 * d2
                            )
                            if s2 == 1:
                                for j in range(run):
                                    cols[dst + j] = X[src + j]
                            else:
                                step = U(s2)
                                for j in range(run):
                                    cols[dst + j] = X[src + j * step]
                            dst += run
                    row += U(1)
