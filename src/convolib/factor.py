"""Kernel factorisation: the one operand fact the planner needs, and the 1-D factors.

A kernel ``k`` with ``d`` axes of lengths ``m_0 .. m_{d-1}`` is separable in ``r``
terms when it is a sum of ``r`` outer products of 1-D vectors,

    k = sum_t  f_t0 ⊗ f_t1 ⊗ ... ⊗ f_t(d-1),

and then a correlation with ``k`` costs ``r * (m_0 + ... + m_{d-1})`` multiply-adds
per output instead of ``m_0 * ... * m_{d-1}`` (the ``separable`` algorithm). Whether
a kernel is separable depends on its values, which a `Spec` never sees; the API
computes `kernel_rank` where it can pay off and attaches it to the spec.

What "is" means, per dtype (``dtype`` is the dtype the sums run in):

* **Integers** (bool, signed, unsigned: int64 sums): exactly. A kernel is separable
  when it is exactly an outer product of integer vectors; the test is exact (Python
  ints where int64 could overflow) and equivalent to every 2×2 minor along every
  pair of axes vanishing: with a pivot ``p`` (a largest entry),
  ``k[i] * k[p]**(d-1) == prod_a k[p with axis a set to i_a]`` for every ``i``. The
  factors are primitive integer vectors (gcd 1, scaled so the product is exactly
  ``k``), so integer passes stay exact. Other integer kernels are not separated.
* **Floats** (float32, float64): within DESIGN.md's elementwise accuracy bound. The
  factors ``F`` (rounded to ``dtype``) are accepted only if, element by element,

      |k - F| + (r·Σm·eps + 2(d + r)·eps_w) · Σ_t |f_t0|⊗...⊗|f_t(d-1)|
          <= 2·M·eps·|k| + s,

  with ``eps`` the dtype's machine epsilon, ``M = Π m``, ``s`` its smallest
  subnormal, and ``eps_w`` the epsilon of the wider type the check runs in. The left
  side bounds, per kernel tap, the factors' own error plus the rounding of the 1-D
  passes; the right side is the direct sum's bound, so the separable result stays
  within it (the argument is in ``algorithms/separable.py``). Rank 1 is tried first,
  in any number of axes, with factors taken from the kernel itself: the fibres
  through a largest entry ``p``, divided by ``k[p]`` on all axes but one. For an
  exact outer product this reproduces each entry to a few rounding errors relative
  to that entry, so tails many orders of magnitude below the peak (a Gaussian's)
  stay accurate. Two-axis kernels may also have rank ``r > 1``: the SVD gives the
  numerical rank at the tolerance ``tol = 2·M·eps·‖k‖_F``; singular values at or
  below ``tol`` are dropped. No ``r`` smaller than that numerical rank can meet the
  bound (Eckart–Young: any rank-``r`` ``F`` has ``‖k - F‖₂ >= σ_{r+1}``, while the
  bound implies ``‖k - F‖_F <= 2·M·eps·‖k‖_F``). From there, ``r`` steps of Gaussian
  elimination with complete pivoting build factors from the kernel's own rows and
  columns, and the check above decides whether the dropped part keeps every tap
  within the bound, taking one more step while separating still saves work.

`kernel_rank` returns ``None`` for kernels it does not factorise (NaN or inf
entries, complex, object or extended-precision dtypes), ``0`` for an all-zero
kernel, the number of terms found otherwise, and `full_rank` (the trivial
decomposition into 1-D fibres along the longest axis, which is exact) when nothing
cheaper than the direct sum meets the bound. `factors` returns that many terms.

>>> g = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
>>> kernel_rank(np.outer(g, g))
1
>>> u, v = factors(np.outer([1, 2, 1], [1, 0, -1]))[0]
>>> u.tolist(), v.tolist()
([1, 2, 1], [1, 0, -1])
"""

from __future__ import annotations

import math
from functools import lru_cache, reduce
from typing import TYPE_CHECKING

import numpy as np

from . import costs

if TYPE_CHECKING:
    from .spec import Spec

Term = tuple[np.ndarray, ...]
"""One separable term: a 1-D vector per kernel axis."""
Found = tuple[np.ndarray, np.dtype, list[Term] | None]

_INT64_MAX = int(np.iinfo(np.int64).max)


def accumulator(dtype: object) -> np.dtype | None:
    """The dtype a kernel of ``dtype`` is factorised for, or None if not supported.

    >>> accumulator(np.uint8), accumulator(np.float16), accumulator(np.complex64)
    (dtype('int64'), dtype('float32'), None)
    """
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    if dt.kind in "biu":
        return np.dtype(np.int64)
    if dt in (np.float16, np.float32):
        return np.dtype(np.float32)
    if dt == np.float64:
        return np.dtype(np.float64)
    return None


def full_rank(shape: tuple[int, ...]) -> int:
    """Terms of the trivial decomposition: 1-D fibres along the longest axis.

    For a matrix this is its largest possible rank, ``min(m0, m1)``.

    >>> full_rank((15, 15)), full_rank((3, 7)), full_rank((5, 5, 5))
    (15, 3, 25)
    """
    return math.prod(shape) // max(shape, default=1) if math.prod(shape) else 0


def kernel_rank(k: np.ndarray, dtype: object = None) -> int | None:
    """The number of separable terms of ``k`` for sums in ``dtype`` (module docstring).

    ``dtype`` defaults to ``k``'s own (bool and integers: exact int64; float16:
    float32). Returns None where ``k`` is not factorised (non-finite, complex, ...).

    >>> kernel_rank(np.ones((5, 5), np.uint8)), kernel_rank(np.eye(3))
    (1, 3)
    >>> kernel_rank(np.array([[1.0, np.nan], [1.0, 1.0]])) is None
    True
    """
    found = _decompose(np.asarray(k), dtype)
    if found is None:
        return None
    a, _, terms = found
    return full_rank(a.shape) if terms is None else len(terms)


def factors(k: np.ndarray, dtype: object = None) -> list[Term]:
    """``kernel_rank(k, dtype)`` terms, each a 1-D vector per axis, in ``dtype``.

    The sum of their outer products is ``k``: exactly for integers, within the
    elementwise bound for floats (module docstring). Raises ValueError where
    `kernel_rank` returns None.

    >>> [t[0].tolist() for t in factors(np.ones((2, 3)))]
    [[1.0, 1.0]]
    """
    found = _decompose(np.asarray(k), dtype)
    if found is None:
        raise ValueError(
            f"k: cannot factorise a {np.asarray(k).dtype} kernel with NaN, inf, complex "
            f"or out-of-range values for {dtype} sums; use the direct sum instead"
        )
    a, dt, terms = found
    return _fibres(a, dt) if terms is None else terms


def cached_factors(k: np.ndarray, dtype: object) -> list[Term]:
    """`factors` of ``k`` for ``dtype`` sums, remembered by value (read-only arrays)."""
    a = np.ascontiguousarray(k)
    return _cached_factors(a.tobytes(), a.dtype.str, a.shape, np.dtype(dtype).str)  # type: ignore[call-overload]


@lru_cache(maxsize=64)
def _cached_factors(data: bytes, dtype: str, shape: tuple[int, ...], acc: str) -> list[Term]:
    terms = factors(np.frombuffer(data, dtype).reshape(shape), acc)
    for term in terms:
        for v in term:
            v.flags.writeable = False
    return terms


def outer(term: Term) -> np.ndarray:
    """The outer product of one term's vectors.

    >>> outer((np.array([1, 2]), np.array([3, 4]))).tolist()
    [[3, 4], [6, 8]]
    """
    return reduce(np.multiply.outer, term)


def _decompose(
    a: np.ndarray, dtype: object
) -> tuple[np.ndarray, np.dtype, list[Term] | None] | None:
    """(kernel, dtype, terms); terms None: no decomposition cheaper than the sum."""
    dt = accumulator(a.dtype if dtype is None else dtype)
    if dt is None or a.dtype.kind not in "biuf" or a.ndim == 0:
        return None
    if dt.kind == "i":
        too_wide = a.dtype == np.uint64 and a.size > 0 and a.max() > _INT64_MAX
        if a.dtype.kind == "f" or too_wide:
            return None
        a = a.astype(np.int64)
    elif a.dtype.kind == "f" and not np.isfinite(a).all():
        return None
    else:
        a = a.astype(dt)
    if not a.any():
        return a, dt, []
    if dt.kind == "f":
        return a, dt, _float_terms(a, dt)
    term = _integer_outer(a)
    return a, dt, None if term is None else [term]


def _fibre(a: np.ndarray, p: tuple[int, ...], axis: int) -> np.ndarray:
    return a[(*p[:axis], slice(None), *p[axis + 1 :])]


def _base_axis(shape: tuple[int, ...]) -> int:
    """The axis whose factor carries the kernel's scale: the first longer than 1."""
    return next((axis for axis, m in enumerate(shape) if m > 1), 0)


def _integer_outer(a: np.ndarray) -> Term | None:
    """Integer vectors whose outer product is exactly ``a`` (not all zero), or None."""
    d = a.ndim
    p = np.unravel_index(int(np.argmax(np.abs(a.astype(np.float64)))), a.shape)
    pivot = int(a[p])
    wide = (int(np.abs(a.astype(np.float64)).max()) + 1).bit_length() * d > 62
    work = a.astype(object) if wide else a  # Python ints where int64 could overflow
    fibres = [_fibre(work, p, axis) for axis in range(d)]
    if not np.array_equal(work * pivot ** (d - 1), reduce(np.multiply.outer, fibres)):
        return None
    base = _base_axis(a.shape)
    vectors: list[np.ndarray] = []
    scale = 1
    for axis in range(d):
        f = [int(v) for v in fibres[axis]]
        if axis != base:
            g = reduce(math.gcd, f)
            sign = 1 if f[p[axis]] > 0 else -1
            f = [v // g * sign for v in f]
            scale *= f[p[axis]]
        vectors.append(np.array(f, dtype=object))
    vectors[base] = np.array([v // scale for v in vectors[base]], dtype=object)
    if not np.array_equal(reduce(np.multiply.outer, vectors), work):
        return None  # unreachable (content of primitive vectors is 1); kept as a guard
    return tuple(v.astype(np.int64) for v in vectors)


def _pivot_term(a: np.ndarray, dt: np.dtype) -> Term:
    """Rank-1 factors from the fibres through a largest entry (exact kernels: exact)."""
    wide = a.astype(np.float64)
    p = np.unravel_index(int(np.argmax(np.abs(wide))), a.shape)
    base = _base_axis(a.shape)
    return tuple(
        (_fibre(wide, p, axis) / (1.0 if axis == base else wide[p])).astype(dt)
        for axis in range(a.ndim)
    )


def _within_bound(a: np.ndarray, terms: list[Term], dt: np.dtype) -> bool:
    """The elementwise check of the module docstring, in a wider type."""
    work = np.float64 if dt == np.float32 else np.longdouble
    eps, eps_w = float(np.finfo(dt).eps), float(np.finfo(work).eps)
    target = a.astype(work)
    approx = np.zeros(a.shape, work)
    magnitude = np.zeros(a.shape, work)
    for term in terms:
        product = outer(tuple(v.astype(work) for v in term))
        approx += product
        magnitude += np.abs(product)
    taps = sum(m for m in a.shape if m > 1)
    rounding = len(terms) * taps * eps + 2 * (a.ndim + len(terms)) * eps_w
    budget = 2 * a.size * eps * np.abs(target) + float(np.finfo(dt).smallest_subnormal)
    return bool(np.all(np.abs(target - approx) + rounding * magnitude <= budget))


def _float_terms(a: np.ndarray, dt: np.dtype) -> list[Term] | None:
    one = _pivot_term(a, dt)
    if _within_bound(a, [one], dt):
        return [one]
    live = [axis for axis, m in enumerate(a.shape) if m > 1]
    if len(live) != 2:
        return None  # three or more axes: rank 1 only
    mat = a.astype(np.float64).reshape(a.shape[live[0]], a.shape[live[1]])
    m0, m1 = mat.shape
    most = (m0 * m1 - 1) // (m0 + m1)  # the largest r with r * (m0 + m1) < m0 * m1
    tol = 2 * mat.size * float(np.finfo(dt).eps) * float(np.linalg.norm(mat))
    numerical = int(np.count_nonzero(np.linalg.svd(mat, compute_uv=False) > tol))
    if max(numerical, 2) > most:
        return None
    rest, us, vs = mat.copy(), [], []
    for r in range(1, most + 1):
        i, j = np.unravel_index(int(np.argmax(np.abs(rest))), rest.shape)
        if rest[i, j] == 0:
            return None  # exact rank below r, yet the check failed: rounding too large
        us.append(rest[:, j].copy())
        vs.append(rest[i, :] / rest[i, j])
        rest -= np.outer(us[-1], vs[-1])
        if r < max(numerical, 2):
            continue
        terms = [
            _expand(a.shape, live, u.astype(dt), v.astype(dt)) for u, v in zip(us, vs, strict=True)
        ]
        if _within_bound(a, terms, dt):
            return terms
    return None


def _expand(shape: tuple[int, ...], live: list[int], u: np.ndarray, v: np.ndarray) -> Term:
    """A 2-D term as one vector per axis of ``shape`` (``[1]`` on length-1 axes)."""
    one = np.ones(1, u.dtype)
    return tuple(
        u if axis == live[0] else v if axis == live[1] else one for axis in range(len(shape))
    )


def _fibres(a: np.ndarray, dt: np.dtype) -> list[Term]:
    """The trivial, exact decomposition: unit vectors times fibres along the longest axis."""
    longest = int(np.argmax(a.shape))
    others = [axis for axis in range(a.ndim) if axis != longest]
    terms = []
    for index in np.ndindex(*(a.shape[axis] for axis in others)):
        at = dict(zip(others, index, strict=True))
        term = []
        for axis, m in enumerate(a.shape):
            if axis == longest:
                term.append(a[tuple(at.get(b, slice(None)) for b in range(a.ndim))].astype(dt))
            else:
                unit = np.zeros(m, dt)
                unit[at[axis]] = 1
                term.append(unit)
        terms.append(tuple(term))
    return terms


# --- the fact for a spec ------------------------------------------------------------


def rank_applies(spec: Spec) -> str | None:
    """None if a kernel rank can describe ``spec``'s kernel, else why not.

    >>> from convolib.spec import build_spec
    >>> rank_applies(build_spec("convolve", np.ones((9, 9)), np.ones((3, 1))))
    'the kernel has fewer than two axes longer than 1: nothing to separate'
    """
    taps, most = math.prod(spec.m), costs.SEPARABLE_RANK_MAX_TAPS
    rules = (
        (spec.swap, "valid mode with the kernel larger than x swaps the operands"),
        (spec.empty, "an operand is empty"),
        (math.prod(spec.kernel_batch) != 1, "a batch of kernels (a rank describes one kernel)"),
        (
            spec.acc_dtype.name not in ("float32", "float64", "int64"),
            f"kernels are factorised for float32, float64 and int64 sums, not {spec.acc_dtype}",
        ),
        (
            sum(m > 1 for m in spec.m) < 2,
            "the kernel has fewer than two axes longer than 1: nothing to separate",
        ),
        (taps > most, f"a kernel of {taps} taps is beyond the {most} factorised cheaply"),
    )
    return next((reason for broken, reason in rules if broken), None)


def spec_kernel(spec: Spec, k: np.ndarray) -> np.ndarray:
    """``k`` as the algorithms receive it: convolved axes only, flipped for convolution,
    in ``spec.acc_dtype`` (for a spec that `rank_applies` to).
    """
    d = spec.ndim
    last = tuple(range(k.ndim - d, k.ndim))
    a = np.moveaxis(k, spec.axes, last) if spec.axes != last else k
    a = a.reshape(spec.m)
    if spec.kernel_flip:
        a = a[(slice(None, None, -1),) * d]
    return a


def spec_kernel_rank(spec: Spec, k: np.ndarray) -> int | None:
    """`kernel_rank` of ``k`` as the algorithms see it under ``spec`` (cached by value).

    >>> from convolib.spec import build_spec
    >>> x, k = np.ones((8, 8)), np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> spec_kernel_rank(build_spec("convolve", x, k), k)
    1
    """
    a = np.ascontiguousarray(spec_kernel(spec, k))
    return _cached_rank(a.tobytes(), a.dtype.str, a.shape, spec.acc_dtype.str)


@lru_cache(maxsize=256)
def _cached_rank(data: bytes, dtype: str, shape: tuple[int, ...], acc: str) -> int | None:
    return kernel_rank(np.frombuffer(data, dtype).reshape(shape), acc)
