"""Algebraic properties of convolution and correlation, checked with Hypothesis.

Each property is a theorem about the mathematical operation (linearity, the delta
identity, shift equivariance, commutativity, the flip/conjugate relation between
convolve and correlate, the sum rule, separability, boundary invariance of `valid`).
Integer (and Gaussian-integer complex) inputs make both sides exact, so most checks
are equalities; float checks use the documented error bound via `assert_close`.
The oracles are the identities themselves, NumPy (``np.pad``, ``np.roll``, sums) and
``scipy.signal`` — never convolib against itself through the same code path only.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import convolib
from helpers import assert_close

OPS = {"convolve": convolib.convolve, "correlate": convolib.correlate}
SCIPY_OPS = {"convolve": scipy.signal.convolve, "correlate": scipy.signal.correlate}
MODES = ("full", "same", "valid")
METHODS = st.sampled_from(["auto", "direct", "reference"])
LINEAR_BOUNDARIES = ("constant", "edge", "reflect", "symmetric", "wrap", "zeros", "replicate")
"""Boundaries whose padded signal is a linear function of the signal (fill_value 0)."""

SMALL_INT = st.integers(-30, 30)


# ----------------------------------------------------------------------------- strategies


@st.composite
def shape_pairs(draw, mode: str = "full", min_dims: int = 1, max_dims: int = 3):
    """(x shape, k shape) with 1-3 axes, small sides; `valid` pairs are orderable."""
    nd = draw(st.integers(min_dims, max_dims))
    side = 7 if nd == 1 else (5 if nd == 2 else 4)
    xs = tuple(draw(st.integers(1, side)) for _ in range(nd))
    if mode == "valid":
        ks = tuple(draw(st.integers(1, s)) for s in xs)
        if draw(st.booleans()):  # the kernel is the larger operand: the valid-mode swap
            xs, ks = ks, xs
    else:
        ks = tuple(draw(st.integers(1, min(side, 4))) for _ in range(nd))
    return xs, ks


def int_arrays(shape, elements=SMALL_INT):
    return hnp.arrays(np.int64, shape, elements=elements)


def gauss_int_arrays(shape):
    """complex128 arrays with small integer parts: every sum is exact in float64."""
    return st.tuples(int_arrays(shape), int_arrays(shape)).map(
        lambda pair: (pair[0] + 1j * pair[1]).astype(np.complex128)
    )


def float_arrays(shape, dtype=np.float64):
    return hnp.arrays(
        dtype,
        shape,
        elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32),
    )


@st.composite
def problems(draw, mode: str | None = None, complex_: bool = False):
    """(op, mode, x, k) with exact (integer or Gaussian-integer) values."""
    op = draw(st.sampled_from(sorted(OPS)))
    mode = draw(st.sampled_from(MODES)) if mode is None else mode
    xs, ks = draw(shape_pairs(mode))
    make = gauss_int_arrays if complex_ else int_arrays
    return op, mode, draw(make(xs)), draw(make(ks))


def exact_equal(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    np.testing.assert_array_equal(got, expected)


def shifted(x: np.ndarray, offsets) -> np.ndarray:
    """``out[s] = x[s + d]`` per axis (zero where ``s + d`` is outside ``x``)."""
    out = np.zeros_like(x)
    dst, src = [], []
    for n, d in zip(x.shape, offsets, strict=True):
        lo, hi = max(0, -d), min(n, n - d)
        if hi <= lo:
            return out
        dst.append(slice(lo, hi))
        src.append(slice(lo + d, hi + d))
    out[tuple(dst)] = x[tuple(src)]
    return out


# ------------------------------------------------------------------- agreement with scipy


@given(problems(), METHODS)
def test_integer_results_match_scipy_exactly(problem, method):
    op, mode, x, k = problem
    got = OPS[op](x, k, mode, method=method)
    expected = SCIPY_OPS[op](x, k, mode, method="direct")
    assert got.dtype == np.int64
    exact_equal(got, expected)


@given(problems(complex_=True), METHODS)
def test_gaussian_integer_results_match_scipy_exactly(problem, method):
    op, mode, x, k = problem
    got = OPS[op](x, k, mode, method=method)
    expected = SCIPY_OPS[op](x, k, mode, method="direct")
    exact_equal(got, expected)


@given(st.data(), st.sampled_from(MODES), st.sampled_from(sorted(OPS)), METHODS)
def test_float32_results_within_direct_sum_bound(data, mode, op, method):
    xs, ks = data.draw(shape_pairs(mode))
    x = data.draw(float_arrays(xs, np.float32))
    k = data.draw(float_arrays(ks, np.float32))
    got = OPS[op](x, k, mode, method=method)
    assert got.dtype == np.float32
    x64, k64 = x.astype(np.float64), k.astype(np.float64)
    expected = SCIPY_OPS[op](x64, k64, mode, method="direct")
    scale = SCIPY_OPS[op](np.abs(x64), np.abs(k64), mode, method="direct")
    terms = int(min(np.prod(xs), np.prod(ks)))
    assert_close(got, expected, np.float32, terms=terms, scale=scale)


# ----------------------------------------------------------------------------- linearity


@given(
    st.data(),
    st.sampled_from(sorted(OPS)),
    st.sampled_from(MODES),
    st.sampled_from(LINEAR_BOUNDARIES),
    SMALL_INT,
    SMALL_INT,
    METHODS,
)
def test_linear_in_x(data, op, mode, boundary, a, b, method):
    xs, ks = data.draw(shape_pairs(mode))
    x1, x2, k = data.draw(int_arrays(xs)), data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    f = OPS[op]
    kw = {"boundary": boundary, "method": method}
    lhs = f(a * x1 + b * x2, k, mode, **kw)
    rhs = a * f(x1, k, mode, **kw) + b * f(x2, k, mode, **kw)
    exact_equal(lhs, rhs)


@given(
    st.data(),
    st.sampled_from(sorted(OPS)),
    st.sampled_from(MODES),
    st.sampled_from(("constant", "edge", "reflect", "symmetric", "wrap")),
    st.integers(-5, 5),
    SMALL_INT,
    SMALL_INT,
    METHODS,
)
def test_linear_in_k_for_any_boundary(data, op, mode, boundary, fill, a, b, method):
    """The padded signal does not depend on k, so even a non-zero fill keeps k-linearity."""
    xs, ks = data.draw(shape_pairs(mode))
    x, k1, k2 = data.draw(int_arrays(xs)), data.draw(int_arrays(ks)), data.draw(int_arrays(ks))
    f = OPS[op]
    kw = {"boundary": boundary, "method": method}
    if boundary == "constant":
        kw["fill_value"] = fill
    lhs = f(x, a * k1 + b * k2, mode, **kw)
    rhs = a * f(x, k1, mode, **kw) + b * f(x, k2, mode, **kw)
    exact_equal(lhs, rhs)


@given(
    st.data(),
    st.sampled_from(sorted(OPS)),
    st.sampled_from(MODES),
    st.floats(-4, 4, allow_nan=False, width=32),
    st.floats(-4, 4, allow_nan=False, width=32),
)
def test_linear_in_x_floats_within_tolerance(data, op, mode, a, b):
    xs, ks = data.draw(shape_pairs(mode))
    x1, x2 = data.draw(float_arrays(xs)), data.draw(float_arrays(xs))
    k = data.draw(float_arrays(ks))
    f = OPS[op]
    lhs = f(a * x1 + b * x2, k, mode)
    rhs = a * f(x1, k, mode) + b * f(x2, k, mode)
    # Both sides are within 2·m·eps·(|a x1| + |b x2|) * |k| of the exact value.
    scale = 4 * SCIPY_OPS[op](np.abs(a * x1) + np.abs(b * x2), np.abs(k), mode, method="direct")
    terms = int(min(np.prod(xs), np.prod(ks))) + 2
    assert_close(lhs, rhs, np.float64, terms=terms, scale=scale)


# ------------------------------------------------------------------------ delta identity


@given(st.data(), st.sampled_from(sorted(OPS)), METHODS)
def test_delta_kernel_full_places_x_at_the_delta(data, op, method):
    xs, ks = data.draw(shape_pairs("full"))
    x = data.draw(int_arrays(xs))
    c = tuple(data.draw(st.integers(0, m - 1)) for m in ks)
    k = np.zeros(ks, np.int64)
    k[c] = 1
    # convolve: y[i] = sum_j x[i - j] k[j] = x[i - c]; correlate flips k: x[i - (m - 1 - c)].
    offsets = c if op == "convolve" else tuple(m - 1 - ci for m, ci in zip(ks, c, strict=True))
    expected = np.zeros(tuple(n + m - 1 for n, m in zip(xs, ks, strict=True)), np.int64)
    expected[tuple(slice(o, o + n) for o, n in zip(offsets, xs, strict=True))] = x
    exact_equal(OPS[op](x, k, "full", method=method), expected)


@given(st.data(), st.sampled_from(sorted(OPS)), METHODS)
def test_delta_kernel_same_is_identity_at_the_centre(data, op, method):
    """same = full[(m-1)//2 : (m-1)//2 + n] (scipy). With a delta at c:

    convolve:  y[s] = x[s + (m-1)//2 - c]     -> identity for c = (m-1)//2
    correlate: y[s] = x[s + c - m//2]         -> identity for c = m//2
    (correlate(x, k) = convolve(x, flip(conj k)) and m-1-(m-1)//2 = m//2).
    Even kernels make the two centres differ by one sample.
    """
    xs, ks = data.draw(shape_pairs("same"))
    x = data.draw(int_arrays(xs))
    centre = tuple((m - 1) // 2 if op == "convolve" else m // 2 for m in ks)
    k = np.zeros(ks, np.int64)
    k[centre] = 1
    exact_equal(OPS[op](x, k, "same", method=method), x)


@given(st.data(), st.sampled_from(sorted(OPS)), METHODS)
def test_delta_kernel_same_off_centre_shifts(data, op, method):
    xs, ks = data.draw(shape_pairs("same"))
    x = data.draw(int_arrays(xs))
    c = tuple(data.draw(st.integers(0, m - 1)) for m in ks)
    k = np.zeros(ks, np.int64)
    k[c] = 1
    if op == "convolve":
        offsets = tuple((m - 1) // 2 - ci for m, ci in zip(ks, c, strict=True))
    else:
        offsets = tuple(ci - m // 2 for m, ci in zip(ks, c, strict=True))
    exact_equal(OPS[op](x, k, "same", method=method), shifted(x, offsets))


# ---------------------------------------------------------------------- shift equivariance


@given(st.data(), st.sampled_from(sorted(OPS)), METHODS)
def test_shift_equivariance_full(data, op, method):
    xs, ks = data.draw(shape_pairs("full"))
    x, k = data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    s = tuple(data.draw(st.integers(0, 3)) for _ in xs)
    front = [(si, 0) for si in s]
    f = OPS[op]
    exact_equal(
        f(np.pad(x, front), k, "full", method=method), np.pad(f(x, k, method=method), front)
    )


@given(st.data(), st.sampled_from(sorted(OPS)), METHODS)
def test_circular_shift_equivariance_with_wrap(data, op, method):
    """With periodic padding the `same` output rolls with the input."""
    xs, ks = data.draw(shape_pairs("same"))
    x, k = data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    s = tuple(data.draw(st.integers(-3, 3)) for _ in xs)
    axes = tuple(range(x.ndim))
    f = OPS[op]
    lhs = f(np.roll(x, s, axes), k, "same", boundary="wrap", method=method)
    rhs = np.roll(f(x, k, "same", boundary="wrap", method=method), s, axes)
    exact_equal(lhs, rhs)


# ------------------------------------------------------- commutativity and flip/conjugate


@given(st.data(), METHODS)
def test_full_convolution_commutes(data, method):
    xs, ks = data.draw(shape_pairs("full"))
    x, k = data.draw(gauss_int_arrays(xs)), data.draw(gauss_int_arrays(ks))
    exact_equal(convolib.convolve(x, k, method=method), convolib.convolve(k, x, method=method))


@given(st.data(), METHODS)
def test_valid_convolution_commutes(data, method):
    xs, ks = data.draw(shape_pairs("valid"))
    x, k = data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    lhs = convolib.convolve(x, k, "valid", method=method)
    exact_equal(lhs, convolib.convolve(k, x, "valid", method=method))


def _flip(a: np.ndarray) -> np.ndarray:
    return a[(slice(None, None, -1),) * a.ndim]


@given(st.data(), METHODS)
def test_correlate_swapped_is_conjugated_reversal_full(data, method):
    """c_xk[l] = sum_n x[n + l] conj(k[n]) = conj(c_kx[-l]) for full-mode lags."""
    xs, ks = data.draw(shape_pairs("full"))
    x, k = data.draw(gauss_int_arrays(xs)), data.draw(gauss_int_arrays(ks))
    lhs = convolib.correlate(x, k, method=method)
    rhs = np.conj(_flip(convolib.correlate(k, x, method=method)))
    exact_equal(lhs, rhs)


@given(st.data(), st.sampled_from(MODES), st.booleans(), METHODS)
def test_convolve_is_correlate_with_flipped_conjugated_kernel(data, mode, odd, method):
    """convolve(x, k) == correlate(x, conj(flip(k))) for full, same and valid.

    Full/valid: correlate(x, w)[l] = sum_n x[n + l] conj(w[n]); with w = conj(flip k)
    that is the convolution sum. Same: scipy defines both as the slice
    full[(m-1)//2 : (m-1)//2 + n] of these identical full outputs, so the identity
    also holds for even kernels (it is the *delta* centre that moves, see above).
    """
    xs, ks = data.draw(shape_pairs(mode))
    if odd and mode != "valid":
        ks = tuple(m | 1 for m in ks)  # odd lengths
    x, k = data.draw(gauss_int_arrays(xs)), data.draw(gauss_int_arrays(ks))
    lhs = convolib.convolve(x, k, mode, method=method)
    rhs = convolib.correlate(x, np.conj(_flip(k)), mode, method=method)
    exact_equal(lhs, rhs)
    exact_equal(lhs, scipy.signal.convolve(x, k, mode, method="direct"))


@given(st.data(), st.sampled_from(LINEAR_BOUNDARIES[1:5]), METHODS)
def test_convolve_correlate_relation_holds_with_boundaries(data, boundary, method):
    xs, ks = data.draw(shape_pairs("same"))
    x, k = data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    lhs = convolib.convolve(x, k, "same", boundary=boundary, method=method)
    rhs = convolib.correlate(x, _flip(k), "same", boundary=boundary, method=method)
    exact_equal(lhs, rhs)


# ------------------------------------------------------------------------------- sum rule


@given(problems(mode="full", complex_=True), METHODS)
def test_sum_rule(problem, method):
    """sum_i sum_j x[i - j] k[j] = sum(x) sum(k); correlate conjugates k."""
    op, _, x, k = problem
    y = OPS[op](x, k, "full", method=method)
    ksum = k.sum() if op == "convolve" else np.conj(k.sum())
    assert y.sum() == x.sum() * ksum


@given(problems(mode="full"), METHODS)
def test_sum_rule_integers_exact_dtype(problem, method):
    op, _, x, k = problem
    y = OPS[op](x, k, "full", method=method)
    assert y.dtype == np.int64
    assert int(y.sum()) == int(x.sum()) * int(k.sum())


# ---------------------------------------------------------------------------- separability


@given(
    st.data(),
    st.sampled_from(sorted(OPS)),
    st.sampled_from(MODES),
    st.sampled_from(("constant", "edge", "reflect", "symmetric", "wrap")),
    METHODS,
)
def test_separable_kernel_equals_one_dimensional_passes(data, op, mode, boundary, method):
    """k = u0 ⊗ u1 (⊗ u2): one N-D call equals one 1-D pass per axis (axes=).

    Padding by an index map (edge, reflect, symmetric, wrap) or by zeros commutes with
    filtering along the other axes, so the passes may pad axis by axis.
    """
    xs, ks = data.draw(shape_pairs(mode, min_dims=2))
    if mode == "valid" and any(m > n for n, m in zip(xs, ks, strict=True)):
        xs, ks = ks, xs  # keep x the larger operand; the swap is tested elsewhere
    x = data.draw(int_arrays(xs))
    vectors = [data.draw(int_arrays((m,), st.integers(-6, 6))) for m in ks]
    k = vectors[0]
    for v in vectors[1:]:
        k = np.multiply.outer(k, v)
    f = OPS[op]
    kw = {"boundary": boundary, "method": method}
    got = f(x, k, mode, **kw)
    y = x
    for axis, v in enumerate(vectors):
        shape = [1] * x.ndim
        shape[axis] = v.size
        y = f(y, v.reshape(shape), mode, axes=axis, **kw)
    exact_equal(got, y)


@given(st.data(), st.sampled_from(MODES))
def test_separable_float_kernel_within_tolerance(data, mode):
    xs, ks = data.draw(shape_pairs(mode, min_dims=2, max_dims=2))
    if mode == "valid" and any(m > n for n, m in zip(xs, ks, strict=True)):
        xs, ks = ks, xs
    x = data.draw(float_arrays(xs))
    u, v = data.draw(float_arrays((ks[0],))), data.draw(float_arrays((ks[1],)))
    got = convolib.convolve(x, np.outer(u, v), mode)
    passes = convolib.convolve(x, u[:, None], mode, axes=[0])
    passes = convolib.convolve(passes, v[None, :], mode, axes=[-1])
    scale = 4 * scipy.signal.convolve(np.abs(x), np.outer(np.abs(u), np.abs(v)), mode)
    assert_close(got, passes, np.float64, terms=int(np.prod(ks)) + 2, scale=scale)


# --------------------------------------------------------------- valid ignores the boundary


@given(
    st.data(),
    st.sampled_from(sorted(OPS)),
    st.sampled_from(
        ("constant", "edge", "reflect", "symmetric", "wrap", "zeros", "replicate", "circular")
    ),
    st.integers(-50, 50),
    METHODS,
)
def test_valid_mode_ignores_the_boundary(data, op, boundary, fill, method):
    xs, ks = data.draw(shape_pairs("valid"))
    x, k = data.draw(int_arrays(xs)), data.draw(int_arrays(ks))
    f = OPS[op]
    kw = {"fill_value": fill} if boundary == "constant" else {}
    got = f(x, k, "valid", boundary=boundary, method=method, **kw)
    exact_equal(got, f(x, k, "valid", method=method))
    exact_equal(got, SCIPY_OPS[op](x, k, "valid", method="direct"))
