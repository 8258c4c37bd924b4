"""Compiled loops of the number-theoretic transform (``exact.py``); importing this imports numba.

Arithmetic is modulo primes ``p`` with ``2**29 < p < 2**30``; residues are stored as
``uint32`` and computed in ``uint64``, where the product of two residues is one
32x32->64-bit multiply that vectorises. Values are kept *lazily reduced* in
``[0, 2p)`` between steps (Harvey's butterflies), so no step needs a division:

* a twiddle factor ``w`` is multiplied by Shoup's method, with ``w' = floor(w 2**32 / p)``
  precomputed: ``u w - floor(u w' / 2**32) p`` lies in ``[0, 2p)`` for any ``u < 2**32``;
* two arbitrary residues are multiplied by Montgomery's method (``R = 2**32``), which
  gives ``a b / R``; the kernel is scaled by ``R / L`` beforehand, so the pointwise
  product also undoes the ``1/L`` of the inverse transform;
* ``min(t, t - 2p)`` in unsigned arithmetic reduces ``[0, 4p)`` to ``[0, 2p)``.

A transform of length ``L = G * R`` (``R = min(16, L)``) runs its stages of half-length
``h >= R`` on the array itself, with the contiguous ``j`` loop innermost, then
transposes it to ``R`` rows of ``G`` and runs the last stages between whole rows, so
every inner loop is long and contiguous. Stages are fused in pairs (radix 4) to halve
the passes over memory. The forward transform is decimation in frequency (natural
order in, a permuted order out) and the inverse is decimation in time (that order in,
natural order out), so no bit-reversal pass is needed: pointwise products do not care
about the order.

Tables, per prime and length, are one ``uint32`` array ``(4, L)``: forward twiddles,
their Shoup factors, inverse twiddles, their Shoup factors; ``tw[0, h + j]`` is
``omega_{2h} ** j``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._launch import launch

U32 = np.uint32
U64 = np.uint64
_SHIFT = np.uint64(32)
_MASK = np.uint64(0xFFFFFFFF)
ROWS = 16
"""Group size of the last stages, which run between rows after a transpose."""


@nb.njit(inline="always")
def _red(t, m):
    """``t`` in ``[0, 2m)`` reduced to ``[0, m)`` (unsigned wrap-around makes it a min)."""
    return min(t, t - m)


@nb.njit(inline="always")
def _shoup(u, w, wp, p):
    """``u * w mod p`` in ``[0, 2p)`` for ``u < 2**32``, with ``wp = floor(w 2**32 / p)``."""
    return u * w - ((u * wp) >> _SHIFT) * p


@nb.njit(inline="always")
def _mont(a, b, p, pinv):
    """``a * b / 2**32 mod p`` in ``[0, 2p)`` for ``a, b < 2p``; ``pinv = -1/p mod 2**32``."""
    t = a * b
    m = ((t & _MASK) * pinv) & _MASK
    return (t + m * p) >> _SHIFT


@nb.njit(inline="always")
def _dif4(x0, x1, x2, x3, wa, wap, wb, wbp, c, cp, p, p2):
    t0 = _red(x0 + x2, p2)
    t2 = _shoup(x0 - x2 + p2, wa, wap, p)
    t1 = _red(x1 + x3, p2)
    t3 = _shoup(x1 - x3 + p2, wb, wbp, p)
    return (
        _red(t0 + t1, p2),
        _shoup(t0 - t1 + p2, c, cp, p),
        _red(t2 + t3, p2),
        _shoup(t2 - t3 + p2, c, cp, p),
    )


@nb.njit(inline="always")
def _dit4(x0, x1, x2, x3, wa, wap, wb, wbp, c, cp, p, p2):
    t = _shoup(x1, c, cp, p)
    y0, y1 = _red(x0 + t, p2), _red(x0 - t + p2, p2)
    t = _shoup(x3, c, cp, p)
    y2, y3 = _red(x2 + t, p2), _red(x2 - t + p2, p2)
    t = _shoup(y2, wa, wap, p)
    z0, z2 = _red(y0 + t, p2), _red(y0 - t + p2, p2)
    t = _shoup(y3, wb, wbp, p)
    z1, z3 = _red(y1 + t, p2), _red(y1 - t + p2, p2)
    return z0, z1, z2, z3


@nb.njit(inline="always")
def _dif2(x, y, w, wp, p, p2):
    return _red(x + y, p2), _shoup(x - y + p2, w, wp, p)


@nb.njit(inline="always")
def _dit2(x, y, w, wp, p, p2):
    t = _shoup(y, w, wp, p)
    return _red(x + t, p2), _red(x - t + p2, p2)


@nb.njit(cache=True)
def make_tables(p: int, root: int, iroot: int, log_len: int) -> np.ndarray:
    """Twiddle tables ``(4, L)`` for ``L = 2**log_len``; ``root`` has order ``L`` mod ``p``."""
    n = 1 << log_len
    tw = np.zeros((4, max(n, 2)), np.uint32)
    pp = U64(p)
    for row, r in ((0, U64(root)), (2, U64(iroot))):
        half = n // 2
        v = U64(1)
        for j in range(half):
            tw[row, half + j] = U32(v)
            v = v * r % pp
        h = half // 2
        while h >= 1:
            for j in range(h):
                tw[row, h + j] = tw[row, 2 * h + 2 * j]
            h //= 2
        for j in range(n):
            tw[row + 1, j] = U32((U64(tw[row, j]) << _SHIFT) // pp)
    return tw


@nb.njit(inline="always")
def _dif_blocks(a, w, wp, p, p2, lo):
    """Forward stages of half-length ``h = L/2 .. lo`` on ``a``."""
    n = a.size
    count = 0
    h = n // 2
    while h >= lo:
        count += 1
        h //= 2
    h = n // 2
    while count > 0:
        if count % 2 == 1:
            wa, wap = w[h : 2 * h], wp[h : 2 * h]
            for s in range(0, n, 2 * h):
                b0, b1 = a[s : s + h], a[s + h : s + 2 * h]
                for j in range(h):
                    y0, y1 = _dif2(U64(b0[j]), U64(b1[j]), U64(wa[j]), U64(wap[j]), p, p2)
                    b0[j], b1[j] = U32(y0), U32(y1)
            h //= 2
            count -= 1
        else:
            q = h // 2
            wa, wap = w[2 * q : 3 * q], wp[2 * q : 3 * q]
            wb, wbp = w[3 * q : 4 * q], wp[3 * q : 4 * q]
            wc, wcp = w[q : 2 * q], wp[q : 2 * q]
            for s in range(0, n, 4 * q):
                b0, b1 = a[s : s + q], a[s + q : s + 2 * q]
                b2, b3 = a[s + 2 * q : s + 3 * q], a[s + 3 * q : s + 4 * q]
                for j in range(q):
                    y0, y1, y2, y3 = _dif4(
                        U64(b0[j]), U64(b1[j]), U64(b2[j]), U64(b3[j]),
                        U64(wa[j]), U64(wap[j]), U64(wb[j]), U64(wbp[j]), U64(wc[j]), U64(wcp[j]),
                        p, p2,
                    )  # fmt: skip
                    b0[j], b1[j], b2[j], b3[j] = U32(y0), U32(y1), U32(y2), U32(y3)
            h //= 4
            count -= 2


@nb.njit(inline="always")
def _dit_blocks(a, w, wp, p, p2, lo):
    """Inverse stages of half-length ``h = lo .. L/2`` on ``a``."""
    n = a.size
    count = 0
    h = lo
    while h < n:
        count += 1
        h *= 2
    h = lo
    while count > 0:
        if count % 2 == 1:
            wa, wap = w[h : 2 * h], wp[h : 2 * h]
            for s in range(0, n, 2 * h):
                b0, b1 = a[s : s + h], a[s + h : s + 2 * h]
                for j in range(h):
                    y0, y1 = _dit2(U64(b0[j]), U64(b1[j]), U64(wa[j]), U64(wap[j]), p, p2)
                    b0[j], b1[j] = U32(y0), U32(y1)
            h *= 2
            count -= 1
        else:
            q = h
            wa, wap = w[2 * q : 3 * q], wp[2 * q : 3 * q]
            wb, wbp = w[3 * q : 4 * q], wp[3 * q : 4 * q]
            wc, wcp = w[q : 2 * q], wp[q : 2 * q]
            for s in range(0, n, 4 * q):
                b0, b1 = a[s : s + q], a[s + q : s + 2 * q]
                b2, b3 = a[s + 2 * q : s + 3 * q], a[s + 3 * q : s + 4 * q]
                for j in range(q):
                    y0, y1, y2, y3 = _dit4(
                        U64(b0[j]), U64(b1[j]), U64(b2[j]), U64(b3[j]),
                        U64(wa[j]), U64(wap[j]), U64(wb[j]), U64(wbp[j]), U64(wc[j]), U64(wcp[j]),
                        p, p2,
                    )  # fmt: skip
                    b0[j], b1[j], b2[j], b3[j] = U32(y0), U32(y1), U32(y2), U32(y3)
            h *= 4
            count -= 2


@nb.njit(inline="always")
def _dif_rows(s, cols, rows, w, wp, p, p2):
    """Forward stages ``h = rows/2 .. 1`` where element ``e`` of every group is row ``e``."""
    count = 0
    h = rows // 2
    while h >= 1:
        count += 1
        h //= 2
    h = rows // 2
    while count > 0:
        if count % 2 == 1:
            for base in range(0, rows, 2 * h):
                for j in range(h):
                    e = base + j
                    r0, r1 = s[e * cols : (e + 1) * cols], s[(e + h) * cols : (e + h + 1) * cols]
                    c, cp = U64(w[h + j]), U64(wp[h + j])
                    for g in range(cols):
                        y0, y1 = _dif2(U64(r0[g]), U64(r1[g]), c, cp, p, p2)
                        r0[g], r1[g] = U32(y0), U32(y1)
            h //= 2
            count -= 1
        else:
            q = h // 2
            for base in range(0, rows, 4 * q):
                for j in range(q):
                    e = base + j
                    r0, r1 = s[e * cols : (e + 1) * cols], s[(e + q) * cols : (e + q + 1) * cols]
                    r2 = s[(e + 2 * q) * cols : (e + 2 * q + 1) * cols]
                    r3 = s[(e + 3 * q) * cols : (e + 3 * q + 1) * cols]
                    wa, wap = U64(w[2 * q + j]), U64(wp[2 * q + j])
                    wb, wbp = U64(w[3 * q + j]), U64(wp[3 * q + j])
                    c, cp = U64(w[q + j]), U64(wp[q + j])
                    for g in range(cols):
                        y0, y1, y2, y3 = _dif4(
                            U64(r0[g]), U64(r1[g]), U64(r2[g]), U64(r3[g]),
                            wa, wap, wb, wbp, c, cp, p, p2,
                        )  # fmt: skip
                        r0[g], r1[g], r2[g], r3[g] = U32(y0), U32(y1), U32(y2), U32(y3)
            h //= 4
            count -= 2


@nb.njit(inline="always")
def _dit_rows(s, cols, rows, w, wp, p, p2):
    """Inverse stages ``h = 1 .. rows/2`` between rows (see `_dif_rows`)."""
    count = 0
    h = 1
    while h < rows:
        count += 1
        h *= 2
    h = 1
    while count > 0:
        if count % 2 == 1:
            for base in range(0, rows, 2 * h):
                for j in range(h):
                    e = base + j
                    r0, r1 = s[e * cols : (e + 1) * cols], s[(e + h) * cols : (e + h + 1) * cols]
                    c, cp = U64(w[h + j]), U64(wp[h + j])
                    for g in range(cols):
                        y0, y1 = _dit2(U64(r0[g]), U64(r1[g]), c, cp, p, p2)
                        r0[g], r1[g] = U32(y0), U32(y1)
            h *= 2
            count -= 1
        else:
            q = h
            for base in range(0, rows, 4 * q):
                for j in range(q):
                    e = base + j
                    r0, r1 = s[e * cols : (e + 1) * cols], s[(e + q) * cols : (e + q + 1) * cols]
                    r2 = s[(e + 2 * q) * cols : (e + 2 * q + 1) * cols]
                    r3 = s[(e + 3 * q) * cols : (e + 3 * q + 1) * cols]
                    wa, wap = U64(w[2 * q + j]), U64(wp[2 * q + j])
                    wb, wbp = U64(w[3 * q + j]), U64(wp[3 * q + j])
                    c, cp = U64(w[q + j]), U64(wp[q + j])
                    for g in range(cols):
                        y0, y1, y2, y3 = _dit4(
                            U64(r0[g]), U64(r1[g]), U64(r2[g]), U64(r3[g]),
                            wa, wap, wb, wbp, c, cp, p, p2,
                        )  # fmt: skip
                        r0[g], r1[g], r2[g], r3[g] = U32(y0), U32(y1), U32(y2), U32(y3)
            h *= 4
            count -= 2


@nb.njit(cache=True, nogil=True)
def _forward(a, s, tw, p):
    """Transform ``a`` (values in ``[0, 2p)``; overwritten) into ``s`` (permuted order)."""
    n = a.size
    rows = min(ROWS, n)
    cols = n // rows
    p2 = p + p
    _dif_blocks(a, tw[0], tw[1], p, p2, rows)
    for e in range(rows):
        dst = s[e * cols : (e + 1) * cols]
        for g in range(cols):
            dst[g] = a[g * rows + e]
    _dif_rows(s, cols, rows, tw[0], tw[1], p, p2)


@nb.njit(cache=True, nogil=True)
def _inverse(s, a, tw, p):
    """Undo `_forward` (without the ``1/L``): ``s`` (overwritten) into ``a``, natural order."""
    n = a.size
    rows = min(ROWS, n)
    cols = n // rows
    p2 = p + p
    _dit_rows(s, cols, rows, tw[2], tw[3], p, p2)
    for g in range(cols):
        dst = a[g * rows : (g + 1) * rows]
        for e in range(rows):
            dst[e] = s[e * cols + g]
    _dit_blocks(a, tw[2], tw[3], p, p2, rows)


@nb.njit(cache=True)
def roundtrip(a: np.ndarray, tw: np.ndarray, p: int) -> np.ndarray:
    """Forward then inverse transform of ``a`` (a copy); for tests: gives ``L * a mod p``."""
    x = a.copy()
    s = np.empty_like(x)
    _forward(x, s, tw, U64(p))
    _inverse(s, x, tw, U64(p))
    return x


# --- residues -----------------------------------------------------------------------------


@nb.njit(cache=True)
def residues_int64(src, dst, offset, consts):
    """``dst[i, b, offset + t] = src[b, t] mod p_i`` in ``[0, p)``, zeros elsewhere.

    ``consts[i]`` holds ``p, 2**32 mod p`` and its Shoup factor, ``floor(2**32 / p)``.
    A value is split as ``hi * 2**32 + lo`` so that no division is needed.
    """
    n = src.shape[1]
    for i in range(dst.shape[0]):
        p = U64(consts[i, 0])
        c32, c32p, onep = U64(consts[i, 1]), U64(consts[i, 2]), U64(consts[i, 3])
        p2, p4 = p + p, np.int64(p + p + p + p)
        for b in range(dst.shape[1]):
            out = dst[i, b]
            out[:offset] = 0
            out[offset + n :] = 0
            row = out[offset : offset + n]
            v = src[b]
            for t in range(n):
                hi = v[t] >> 32
                hi = hi + p4 if hi < 0 else hi
                lo = U64(v[t]) & _MASK
                r = _red(_shoup(U64(hi), c32, c32p, p) + _shoup(lo, U64(1), onep, p), p2)
                row[t] = U32(_red(r, p))


@nb.njit(cache=True)
def residues_limbs(limbs, negative, dst, offset, consts):
    """Residues of integers given as little-endian ``uint32`` limbs and signs.

    ``limbs`` is ``(batches, n, limbs)``; ``consts[i, 0]`` is ``p_i`` and
    ``consts[i, 2 + 2 l]``, ``consts[i, 3 + 2 l]`` hold ``2**(32 l) mod p_i`` and its
    Shoup factor.
    """
    n, nl = limbs.shape[1], limbs.shape[2]
    for i in range(dst.shape[0]):
        p = U64(consts[i, 0])
        p2 = p + p
        for b in range(dst.shape[1]):
            out = dst[i, b]
            out[:offset] = 0
            out[offset + n :] = 0
            for t in range(n):
                acc = U64(0)
                for k in range(nl):
                    c, cp = U64(consts[i, 2 + 2 * k]), U64(consts[i, 3 + 2 * k])
                    acc = _red(acc + _shoup(U64(limbs[b, t, k]), c, cp, p), p2)
                acc = _red(acc, p)
                if negative[b, t] and acc != 0:
                    acc = p - acc
                out[offset + t] = U32(acc)


# --- convolution of blocks ------------------------------------------------------------------


@nb.njit(cache=True)
def kernel_spectra(taps, positions, tws, consts, out):
    """Transforms of the kernels, scaled by ``2**32 / L`` for the Montgomery product.

    ``taps[i, b, j]`` is tap ``j`` of kernel batch ``b`` mod ``p_i``; it goes to index
    ``-positions[j] mod L``, so that the cyclic convolution with a signal block is the
    correlation. ``consts[i]`` holds ``p``, the scale and its Shoup factor.
    """
    n = out.shape[2]
    a = np.empty(n, np.uint32)
    for i in range(out.shape[0]):
        p = U64(consts[i, 0])
        c, cp = U64(consts[i, 1]), U64(consts[i, 2])
        for b in range(out.shape[1]):
            a[:] = 0
            for j in range(positions.size):
                k = (n - positions[j]) & (n - 1)
                a[k] = U32(_red(_red(U64(a[k]) + _shoup(U64(taps[i, b, j]), c, cp, p), p + p), p))
            _forward(a, out[i, b], tws[i], p)


@nb.njit(inline="always")
def _block(task, sres, khat, tws, consts, bx, bk, step, Y, a, s):
    """One task: a block of outputs of one batch modulo one prime (overlap-save)."""
    n = a.size
    nblocks = (Y.shape[2] + step - 1) // step
    q = task % nblocks
    b = (task // nblocks) % Y.shape[1]
    i = task // (nblocks * Y.shape[1])
    p = U64(consts[i, 0])
    pinv = U64(consts[i, 3])
    t0 = q * step
    src = sres[i, bx[b]]
    have = min(n, src.size - t0)
    a[:have] = src[t0 : t0 + have]
    a[have:] = 0
    _forward(a, s, tws[i], p)
    k = khat[i, bk[b]]
    for j in range(n):
        s[j] = U32(_mont(U64(s[j]), U64(k[j]), p, pinv))
    _inverse(s, a, tws[i], p)
    count = min(step, Y.shape[2] - t0)
    Y[i, b, t0 : t0 + count] = a[:count]


@nb.njit(cache=True)
def blocks_serial(sres, khat, tws, consts, bx, bk, step, Y):
    """All blocks, one after another (see `_block`)."""
    n = khat.shape[2]
    a = np.empty(n, np.uint32)
    s = np.empty(n, np.uint32)
    nblocks = (Y.shape[2] + step - 1) // step
    for task in range(Y.shape[0] * Y.shape[1] * nblocks):
        _block(task, sres, khat, tws, consts, bx, bk, step, Y, a, s)


@nb.njit(cache=True, parallel=True)
def blocks_parallel(sres, khat, tws, consts, bx, bk, step, Y, chunks):
    """All blocks, in ``chunks`` parallel runs of consecutive tasks."""
    n = khat.shape[2]
    nblocks = (Y.shape[2] + step - 1) // step
    tasks = Y.shape[0] * Y.shape[1] * nblocks
    for c in nb.prange(chunks):
        a = np.empty(n, np.uint32)
        s = np.empty(n, np.uint32)
        for task in range(c * tasks // chunks, (c + 1) * tasks // chunks):
            _block(task, sres, khat, tws, consts, bx, bk, step, Y, a, s)


# --- Chinese remaindering -------------------------------------------------------------------

CHUNK = 2048
"""Outputs recombined at a time: the digit arrays of a chunk stay in cache."""


@nb.njit(inline="always")
def _digits(Y, b, index, first, count, garner, D):
    """Mixed-radix digits of ``y + H`` for ``count`` outputs from ``first``.

    ``garner[i, 0..3]``: ``p_i``, ``H mod p_i``; ``garner[i, 4 + 2j ..]``: ``1/p_j mod p_i``
    and its Shoup factor (``j < i``). ``index`` maps outputs to positions in ``Y``
    (empty: the identity). The value is ``sum_i D[i] * prod_{j<i} p_j``.
    """
    r = Y.shape[0]
    for i in range(r):
        p = U64(garner[i, 0])
        off = U64(garner[i, 1])
        d = D[i]
        row = Y[i, b]
        if index.size == 0:
            src = row[first : first + count]
            for o in range(count):
                d[o] = U32(_red(_red(U64(src[o]), p) + off, p))
        else:
            for o in range(count):
                d[o] = U32(_red(_red(U64(row[index[first + o]]), p) + off, p))
        for j in range(i):
            c, cp = U64(garner[i, 4 + 2 * j]), U64(garner[i, 5 + 2 * j])
            prev = D[j]
            for o in range(count):
                t = U64(d[o]) + p - _red(U64(prev[o]), p)
                d[o] = U32(_red(_shoup(t, c, cp, p), p))


@nb.njit(inline="always")
def _crt_int64_task(task, Y, index, garner, weights, half, out, D):
    nout = out.shape[1]
    nchunks = (nout + CHUNK - 1) // CHUNK
    b = task // nchunks
    first = (task % nchunks) * CHUNK
    count = min(CHUNK, nout - first)
    _digits(Y, b, index, first, count, garner, D)
    dst = out[b, first : first + count]
    for o in range(count):
        v = U64(0) - half
        for i in range(Y.shape[0]):
            v += U64(D[i, o]) * weights[i]
        dst[o] = np.int64(v)


@nb.njit(cache=True)
def crt_int64_serial(Y, index, garner, weights, half, out):
    """Signed results (known to lie in int64) from their residues, wrapping mod 2**64.

    ``weights[i] = prod_{j<i} p_j mod 2**64`` and ``half = H mod 2**64``.
    """
    D = np.empty((Y.shape[0], CHUNK), np.uint32)
    nchunks = (out.shape[1] + CHUNK - 1) // CHUNK
    for task in range(out.shape[0] * nchunks):
        _crt_int64_task(task, Y, index, garner, weights, half, out, D)


@nb.njit(cache=True, parallel=True)
def crt_int64_parallel(Y, index, garner, weights, half, out):
    """`crt_int64_serial` with the chunks in parallel."""
    nchunks = (out.shape[1] + CHUNK - 1) // CHUNK
    for task in nb.prange(out.shape[0] * nchunks):
        D = np.empty((Y.shape[0], CHUNK), np.uint32)
        _crt_int64_task(task, Y, index, garner, weights, half, out, D)


@nb.njit(cache=True)
def crt_limbs(Y, index, garner, out):
    """``y + H`` as little-endian ``uint32`` limbs ``out[b, o, :]`` (Horner on the digits)."""
    r = Y.shape[0]
    nl = out.shape[2]
    D = np.empty((r, CHUNK), np.uint32)
    nout = out.shape[1]
    for b in range(out.shape[0]):
        for first in range(0, nout, CHUNK):
            count = min(CHUNK, nout - first)
            _digits(Y, b, index, first, count, garner, D)
            for o in range(count):
                limbs = out[b, first + o]
                limbs[:] = 0
                limbs[0] = D[r - 1, o]
                for i in range(r - 2, -1, -1):
                    p = U64(garner[i, 0])
                    carry = U64(D[i, o])
                    for k in range(nl):
                        t = U64(limbs[k]) * p + carry
                        limbs[k] = U32(t & _MASK)
                        carry = t >> _SHIFT


# --- entry points -----------------------------------------------------------------------------


def convolve_blocks(sres, khat, tws, consts, bx, bk, step, Y, workers: int) -> None:
    """Fill ``Y[i, b, :]`` with the correlation mod ``p_i`` (see `_block`)."""
    nblocks = -(-Y.shape[2] // step)
    tasks = Y.shape[0] * Y.shape[1] * nblocks
    launch(
        min(workers, tasks),
        lambda used: blocks_parallel(
            sres, khat, tws, consts, bx, bk, step, Y, min(tasks, 4 * used)
        ),
        lambda: blocks_serial(sres, khat, tws, consts, bx, bk, step, Y),
    )


def crt_int64(Y, index, garner, weights, half, out, workers: int) -> None:
    """Recombine residues into int64 results (see `crt_int64_serial`)."""
    launch(
        workers if out.size > 4 * CHUNK else 1,
        lambda _: crt_int64_parallel(Y, index, garner, weights, half, out),
        lambda: crt_int64_serial(Y, index, garner, weights, half, out),
    )
