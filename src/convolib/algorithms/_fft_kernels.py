"""Compiled loops of four-step transforms of long lines (`fft.long_rfft`,
`fft.long_irfft`, `fft.long_fft`, `fft.long_ifft`); importing this module imports numba.

A complex line ``z`` of ``m = m1 m2`` values is transformed as ``m1`` transforms of
length ``m2``, a twiddle, and ``m2`` transforms of length ``m1``, each line contiguous.
A real line of ``n = 2 m`` values is transformed as the ``m`` complex ones ``z[j] =
x[2j] + i x[2j + 1]``, its spectrum then split into the even and odd values' (the real
trick). With ``j = j1 + m1 j2`` and ``k = k2 + m2 k1``:

- ``A[j1, j2] = z[j1 + m1 j2]`` (`pack`, or `pack_spectrum` for an inverse real
  transform), a transform along the last axis gives ``B[j1, k2]``;
- ``D[k2, j1] = B[j1, k2] w^(j1 k2)``, ``w = exp(-+2 pi i / m)`` (`twiddle`), a transform
  along the last axis gives ``E[k2, k1] = Z[k2 + m2 k1]``;
- ``E`` is read back in the order of ``k`` (`unpack`, or `unpack_spectrum` for a real
  transform).

Each loop is a transposition: a task is one row of the line (or of its spectrum, or
of ``D``), which it walks along, reading or writing ``A``, ``D`` or ``E`` across their
rows. Those are views of buffers with padded rows (`padded`): rows a power of two
bytes apart share cache sets, and the walk across them would evict its own lines
(a transposition of 1024 x 1024 complex values ran 2.4x faster with padded rows).

Twiddles (complex128, whatever the data) are products of two table entries, so that no
table holds one value per point and no loop divides. Arrays carry a leading axis of lines.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._launch import in_runs

PAD = 8
"""Values of padding after each row of ``A`` and ``D``."""


def padded(lines: int, rows: int, length: int, dtype) -> np.ndarray:
    """An empty ``(lines, rows, length)`` array whose rows lie `PAD` values apart."""
    return np.empty((lines, rows, length + PAD), dtype)[:, :, :length]


@nb.njit(cache=True, nogil=True, inline="always")
def _pack_real_row(task, x, A):
    m1, m2 = A.shape[1], A.shape[2]
    line, j2 = divmod(task, m2)
    src = x[line]
    dst = A[line]
    base = 2 * m1 * j2
    whole = max(0, min(m1, (src.shape[0] - base) // 2))  # values j1 with both parts in x
    for j1 in range(whole):
        i = base + 2 * j1
        dst[j1, j2] = complex(src[i], src[i + 1])
    for j1 in range(whole, m1):
        i = base + 2 * j1
        dst[j1, j2] = complex(src[i], 0.0) if i < src.shape[0] else 0.0


@nb.njit(cache=True, nogil=True)
def _pack_real(t0, t1, x, A):
    for task in range(t0, t1):
        _pack_real_row(task, x, A)


@nb.njit(cache=True, nogil=True, inline="always")
def _pack_complex_row(task, x, A):
    m1, m2 = A.shape[1], A.shape[2]
    line, j2 = divmod(task, m2)
    src = x[line]
    dst = A[line]
    base = m1 * j2
    whole = max(0, min(m1, src.shape[0] - base))
    for j1 in range(whole):
        dst[j1, j2] = src[base + j1]
    for j1 in range(whole, m1):
        dst[j1, j2] = 0.0


@nb.njit(cache=True, nogil=True)
def _pack_complex(t0, t1, x, A):
    for task in range(t0, t1):
        _pack_complex_row(task, x, A)


def pack(x, A, workers: int) -> None:
    """``A[l, j1, j2] = z[l, j1 + m1 j2]``, zeros past the end of ``x``, where ``z`` is
    ``x`` (complex) or its values in pairs, ``z[j] = x[2j] + i x[2j + 1]`` (real)."""
    loop = _pack_real if x.dtype.kind == "f" else _pack_complex
    in_runs(workers, A.shape[0] * A.shape[2], lambda t0, t1: loop(t0, t1, x, A))


@nb.njit(cache=True, nogil=True, inline="always")
def _twiddle_row(task, B, D, near, far):
    m2, m1 = D.shape[1], D.shape[2]
    line, k2 = divmod(task, m2)
    step = near.shape[1]
    src = B[line]
    row = D[line, k2]
    for a in range(far.shape[1]):
        w = far[k2, a]
        first = a * step
        for b in range(min(step, m1 - first)):
            row[first + b] = src[first + b, k2] * (near[k2, b] * w)


@nb.njit(cache=True, nogil=True)
def _twiddle(t0, t1, B, D, near, far):
    for task in range(t0, t1):
        _twiddle_row(task, B, D, near, far)


def twiddle(B, D, near, far, workers: int) -> None:
    """``D[l, k2, j1] = B[l, j1, k2] w^(j1 k2)`` where, for ``j1 = a s + b``,
    ``w^(j1 k2) = near[k2, b] far[k2, a]`` (``s`` is ``near``'s row length)."""
    in_runs(workers, D.shape[0] * D.shape[1], lambda t0, t1: _twiddle(t0, t1, B, D, near, far))


@nb.njit(cache=True, nogil=True, inline="always")
def _halves(a, b, w, sign):
    """The pair of the real trick: ``(a + b) / 2 + sign i w (a - b) / 2`` and the
    conjugate of ``(a + b) / 2 - sign i w (a - b) / 2``, in complex128 (float32 data
    too, rounded once, at the store)."""
    a, b = np.complex128(a), np.complex128(b)
    even = 0.5 * (a + b)
    odd = (a - b) * complex(0.0, 0.5 * sign) * w
    return even + odd, (even - odd).conjugate()


@nb.njit(cache=True, nogil=True, inline="always")
def _half_row(row, length, m):
    """How many values of natural row ``row`` (of ``length``) lie at or below ``m // 2``."""
    return max(0, min(length, m // 2 + 1 - row * length))


@nb.njit(cache=True, nogil=True, inline="always")
def _unpack_spectrum_row(task, E, X, outer, inner, rows):
    m2, m1 = E.shape[1], E.shape[2]
    m = m1 * m2
    line, k1 = divmod(task, rows)
    count = _half_row(k1, m2, m)
    if count == 0:
        return
    src = E[line]
    dst = X[line]
    first = k1 * m2
    w = outer[k1]
    b = src[0, (m1 - k1) % m1].conjugate()
    dst[first], dst[m - first] = _halves(src[0, k1], b, w, -1.0)
    for k2 in range(1, count):
        b = src[m2 - k2, m1 - 1 - k1].conjugate()
        dst[first + k2], dst[m - first - k2] = _halves(src[k2, k1], b, w * inner[k2], -1.0)


@nb.njit(cache=True, nogil=True)
def _unpack_spectrum(t0, t1, E, X, outer, inner, rows):
    for task in range(t0, t1):
        _unpack_spectrum_row(task, E, X, outer, inner, rows)


def unpack_spectrum(E, X, outer, inner, workers: int) -> None:
    """The real line's spectrum ``X[l, 0..m]`` from ``Z[k] = E[l, k % m2, k // m2]``:
    ``X[k] = (Z[k] + Z*[m - k]) / 2 - i w^k (Z[k] - Z*[m - k]) / 2`` and ``X[m - k]``
    its conjugate mirror, with ``w^(k1 m2 + k2) = outer[k1] inner[k2]``."""
    m2 = E.shape[1]
    rows = (X.shape[1] // 2 + m2) // m2
    in_runs(
        workers,
        E.shape[0] * rows,
        lambda t0, t1: _unpack_spectrum(t0, t1, E, X, outer, inner, rows),
    )


@nb.njit(cache=True, nogil=True, inline="always")
def _pack_spectrum_row(task, X, A, outer, inner, rows):
    m1, m2 = A.shape[1], A.shape[2]
    m = m1 * m2
    line, j2 = divmod(task, rows)
    count = _half_row(j2, m1, m)
    if count == 0:
        return
    src = X[line]
    dst = A[line]
    first = j2 * m1
    w = outer[j2]
    a, b = src[first], src[m - first].conjugate()
    if first == 0:  # as an inverse real transform, ignore the imaginary parts there
        a, b = np.complex128(a.real), np.complex128(b.real)
    dst[0, j2], there = _halves(a, b, w, 1.0)
    if 0 < first < m - first:
        dst[0, m2 - j2] = there
    for j1 in range(1, count):
        k = first + j1
        dst[j1, j2], there = _halves(src[k], src[m - k].conjugate(), w * inner[j1], 1.0)
        if k < m - k:
            dst[m1 - j1, m2 - 1 - j2] = there


@nb.njit(cache=True, nogil=True)
def _pack_spectrum(t0, t1, X, A, outer, inner, rows):
    for task in range(t0, t1):
        _pack_spectrum_row(task, X, A, outer, inner, rows)


def pack_spectrum(X, A, outer, inner, workers: int) -> None:
    """The inverse of `unpack_spectrum`, laid out as `pack`'s ``A``:
    ``Z[k] = (X[k] + X*[m - k]) / 2 + i w^-k (X[k] - X*[m - k]) / 2`` and ``Z[m - k]``
    its conjugate mirror, with ``w^-(j2 m1 + j1) = outer[j2] inner[j1]``."""
    m1 = A.shape[1]
    rows = (X.shape[1] // 2 + m1) // m1
    in_runs(
        workers, A.shape[0] * rows, lambda t0, t1: _pack_spectrum(t0, t1, X, A, outer, inner, rows)
    )


@nb.njit(cache=True, nogil=True, inline="always")
def _unpack_real_row(task, E, y, first):
    m2, m1 = E.shape[1], E.shape[2]
    line, k1 = divmod(task, m1)
    src = E[line]
    dst = y[line]
    offset = 2 * m2 * k1 - first  # where the row's first value goes in y
    lo = max(0, -offset)
    hi = min(2 * m2, y.shape[1] - offset)
    if lo >= hi:
        return
    for k2 in range((lo + 1) // 2, hi // 2):
        z = src[k2, k1]
        dst[offset + 2 * k2] = z.real
        dst[offset + 2 * k2 + 1] = z.imag
    if lo & 1:
        dst[offset + lo] = src[lo // 2, k1].imag
    if hi & 1:
        dst[offset + hi - 1] = src[hi // 2, k1].real


@nb.njit(cache=True, nogil=True)
def _unpack_real(t0, t1, E, y, first):
    for task in range(t0, t1):
        _unpack_real_row(task, E, y, first)


@nb.njit(cache=True, nogil=True, inline="always")
def _unpack_complex_row(task, E, y, first):
    m2, m1 = E.shape[1], E.shape[2]
    line, k1 = divmod(task, m1)
    src = E[line]
    dst = y[line]
    offset = m2 * k1 - first  # where the row's first value goes in y
    for k2 in range(max(0, -offset), min(m2, y.shape[1] - offset)):
        dst[offset + k2] = src[k2, k1]


@nb.njit(cache=True, nogil=True)
def _unpack_complex(t0, t1, E, y, first):
    for task in range(t0, t1):
        _unpack_complex_row(task, E, y, first)


def unpack(E, y, first: int, workers: int) -> None:
    """``y[l, t] = z[l, first + t]`` where ``z[k] = E[l, k % m2, k // m2]`` is ``y``'s
    value (complex ``y``) or a pair of them, ``y[2k] + i y[2k + 1]`` (real)."""
    loop = _unpack_real if y.dtype.kind == "f" else _unpack_complex
    in_runs(workers, E.shape[0] * E.shape[2], lambda t0, t1: loop(t0, t1, E, y, first))
