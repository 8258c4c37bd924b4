"""convolve/correlate against scipy.signal and numpy on random inputs: shapes, dtypes, values."""

import itertools
import math

import numpy as np
import pytest
import scipy.signal as ss

import convolib
from helpers import assert_close, random_array

OPS = ("convolve", "correlate")
MODES = ("full", "same", "valid")
DTYPES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)

SHAPES = {
    # (x shape, k shape): odd and even kernels, equal sizes, kernels larger than x
    # (valid mode swaps the operands), and sizes larger on different axes (valid raises).
    1: [((7,), (3,)), ((8,), (4,)), ((5,), (5,)), ((3,), (6,)), ((4,), (7,)), ((1,), (1,))],
    2: [((6, 5), (3, 2)), ((5, 4), (2, 4)), ((3, 4), (5, 6)), ((2, 3), (4, 3)), ((4, 7), (5, 3))],
    3: [((4, 5, 3), (2, 3, 2)), ((2, 3, 2), (3, 4, 2)), ((3, 3, 4), (4, 2, 1))],
}

MIXED = [
    ("uint8", "float32"),  # an image with a float kernel
    ("uint8", "float64"),
    ("int16", "float32"),  # numpy: float64
    ("int8", "uint8"),
    ("bool", "int32"),
    ("bool", "float16"),
    ("float16", "float32"),
    ("float16", "int8"),  # numpy: float16
    ("int64", "complex64"),  # numpy: complex128
    ("float32", "complex128"),
    ("complex64", "float64"),
    ("float32", "float64"),
]


def expected_dtype(xd, kd):
    """The documented rule: bool/int -> int64; otherwise numpy's result type."""
    xd, kd = np.dtype(xd), np.dtype(kd)
    if xd.kind in "biu" and kd.kind in "biu":
        return np.dtype(np.int64)
    return np.result_type(xd, kd)


def wide(a, like):
    """``a`` in the precise dtype used by the oracle for a result of dtype ``like``."""
    if like.kind in "biu":
        return a.astype(np.int64)
    return a.astype(np.complex128 if like.kind == "c" else np.float64)


def scipy_oracle(op, x, k, mode):
    """(expected values, |x|*|k| per element) from scipy.signal's direct method."""
    f = ss.convolve if op == "convolve" else ss.correlate
    like = expected_dtype(x.dtype, k.dtype)
    expected = f(wide(x, like), wide(k, like), mode, method="direct")
    scale = f(np.abs(x.astype(np.complex128)), np.abs(k.astype(np.complex128)), mode, "direct")
    return expected, scale


def one_case(op, x, k, mode, **kwargs):
    """Compare convolib with the scipy oracle on one pair, errors included."""
    f = getattr(convolib, op)
    try:
        expected, scale = scipy_oracle(op, x, k, mode)
    except ValueError:  # valid mode, neither input as large as the other on every axis
        with pytest.raises(convolib.ArgumentError, match="mode"):
            f(x, k, mode, **kwargs)
        return
    got = f(x, k, mode, **kwargs)
    assert got.dtype == expected_dtype(x.dtype, k.dtype), (x.dtype, k.dtype, got.dtype)
    assert got.shape == expected.shape
    assert_close(got, expected, got.dtype, terms=k.size, scale=scale)


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_scipy_signal(dtype, op, mode, ndim):
    """Every dtype, mode, op and dimension against scipy.signal (direct method)."""
    rng = np.random.default_rng([ndim, MODES.index(mode), OPS.index(op), DTYPES.index(dtype)])
    for sx, sk in SHAPES[ndim]:
        x, k = random_array(rng, sx, dtype), random_array(rng, sk, dtype)
        one_case(op, x, k, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(("xd", "kd"), MIXED)
def test_mixed_dtypes_match_scipy_signal(xd, kd, op, mode):
    """Mixed dtype pairs take numpy's result type (ints -> int64) and scipy's values."""
    rng = np.random.default_rng([MIXED.index((xd, kd)), OPS.index(op), MODES.index(mode)])
    for ndim in (1, 2):
        for sx, sk in SHAPES[ndim][:4]:
            x = random_array(rng, sx, xd)
            if xd == "uint8":
                x = (x * 50).astype(np.uint8)  # image-like values up to 250
            one_case(op, x, random_array(rng, sk, kd), mode)
            one_case(op, random_array(rng, sk, kd), x, mode)  # operands exchanged


@pytest.mark.parametrize("dtype", ["int16", "float32", "complex128"])
def test_zero_dimensional_inputs_match_scipy(dtype):
    """0-d operands: every mode is the plain (conjugated, for correlate) product."""
    complex_ = np.dtype(dtype).kind == "c"
    x = np.array(3 - 2j if complex_ else -3, dtype)
    k = np.array(2 + 1j if complex_ else 2, dtype)
    for op, mode in itertools.product(OPS, MODES):
        got = getattr(convolib, op)(x, k, mode)
        assert got.shape == () and got.dtype == expected_dtype(x.dtype, k.dtype)
        like = expected_dtype(x.dtype, k.dtype)
        assert_close(got, getattr(ss, op)(wide(x, like), wide(k, like), mode), like)


def test_valid_swap_for_correlate_is_scipys_not_the_exchanged_correlation():
    """correlate(x, k, 'valid') with a larger k: scipy's value, derived by hand here.

    scipy defines correlate(x, k) = convolve(x, conj(k[::-1])); convolve's valid mode
    then swaps, so y[i] = sum_j x[j] * conj(k[j + len(k) - len(x) - i]).
    """
    x = np.array([1 + 2j, 3 - 1j])
    k = np.array([1j, 2, 3 - 1j, 4, -2j])
    n, m = len(x), len(k)
    hand = [sum(x[j] * np.conj(k[j + m - n - i]) for j in range(n)) for i in range(m - n + 1)]
    got = convolib.correlate(x, k, "valid")
    np.testing.assert_allclose(got, hand, rtol=1e-15)
    np.testing.assert_allclose(got, ss.correlate(x, k, "valid"), rtol=1e-15)
    # This is the reverse of correlate(k, x) conjugated, not correlate(k, x) itself.
    np.testing.assert_allclose(got, np.conj(ss.correlate(k, x, "valid"))[::-1], rtol=1e-15)


def test_integer_results_are_exact_beyond_float64():
    """Integer inputs accumulate exactly in int64, where float64 would round."""
    x = np.array([2**40 + 1, 2**40 + 3, 2**40 - 7, 5], np.int64)
    k = np.array([2**20 + 1, -(2**20) + 3, 7], np.int64)
    exact = [
        sum(int(x[i - j]) * int(k[j]) for j in range(len(k)) if 0 <= i - j < len(x))
        for i in range(len(x) + len(k) - 1)
    ]
    got = convolib.convolve(x, k)
    assert got.dtype == np.int64
    assert got.tolist() == exact
    assert ss.convolve(x, k, method="direct").tolist() == exact  # the oracle agrees
    assert ss.convolve(x.astype(float), k.astype(float)).astype(np.int64).tolist() != exact


# numpy.convolve / numpy.correlate agree with scipy.signal in 'full' and 'valid' for all
# lengths, and in 'same' when len(k) <= len(x) (also for even kernels and for correlate).
# When len(k) > len(x), numpy's 'same' returns max(len(x), len(k)) values, not len(x).
NUMPY_LENGTHS = [(7, 3), (8, 4), (6, 1), (5, 5), (9, 2), (3, 6), (1, 4), (2, 8)]


@pytest.mark.parametrize("dtype", ["int64", "uint8", "float64", "complex128"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
def test_1d_matches_numpy(op, mode, dtype):
    """1-D against numpy.convolve / numpy.correlate where their definitions coincide."""
    rng = np.random.default_rng([OPS.index(op), MODES.index(mode), len(dtype)])
    f = getattr(np, op)
    for n, m in NUMPY_LENGTHS:
        if mode == "same" and m > n:
            continue
        x, k = random_array(rng, n, dtype), random_array(rng, m, dtype)
        like = expected_dtype(x.dtype, k.dtype)
        expected = f(wide(x, like), wide(k, like), mode)
        got = getattr(convolib, op)(x, k, mode)
        assert got.dtype == like
        assert_close(got, expected, like, terms=m)


AXES_CASES = [
    # (x shape, k shape, axes): batch axes broadcast (length 1 on one operand)
    ((3, 7, 1, 5), (1, 4, 2, 3), (1, 3)),
    ((2, 6, 4), (2, 3, 1), 1),
    ((5, 1, 6), (2, 3, 1), (0, 2)),
    ((4, 2, 6), (3, 1, 2), (-1, 0)),
    ((2, 3, 4), (1, 5, 6), (2, 1)),  # k larger on both axes: valid swaps
    ((1, 6, 3, 2), (4, 3, 1, 2), (3, 1)),  # an even kernel, unsorted axes
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(("sx", "sk", "axes"), AXES_CASES)
def test_axes_match_fftconvolve(sx, sk, axes, op, mode, dtype):
    """``axes=`` with broadcasting batch axes against scipy.signal.fftconvolve/oaconvolve."""
    rng = np.random.default_rng([len(sx), sum(sk), MODES.index(mode), OPS.index(op)])
    x, k = random_array(rng, sx, dtype), random_array(rng, sk, dtype)
    ax = sorted(a % len(sx) for a in np.atleast_1d(axes))
    kk = k.astype(np.complex128 if k.dtype.kind == "c" else np.float64)
    if op == "correlate":  # scipy's definition: convolve with the reversed conjugate
        kk = np.conj(np.flip(kk, axis=ax))
    xx = x.astype(kk.dtype)
    if mode == "same":
        # fftconvolve's 'same' crops batch axes to x's length too (dropping broadcast
        # entries), so crop the full result on the convolved axes only, by definition.
        full = ss.fftconvolve(xx, kk, "full", axes=ax)
        crop = [slice(None)] * len(sx)
        for a in ax:
            start = (sk[a] - 1) // 2
            crop[a] = slice(start, start + sx[a])
        expected = full[tuple(crop)]
    else:
        expected = ss.fftconvolve(xx, kk, mode, axes=ax)
        np.testing.assert_allclose(ss.oaconvolve(xx, kk, mode, axes=ax), expected, atol=1e-12)
    got = getattr(convolib, op)(x, k, mode, axes=axes)
    assert got.dtype == x.dtype
    terms = math.prod(sk[a] for a in ax)
    length = max(math.prod(sx[a] + sk[a] - 1 for a in ax), 2)
    bound = np.linalg.norm(x) * np.linalg.norm(k)  # bounds every |x|*|k| element too
    assert_close(got, expected, got.dtype, terms=max(terms, math.log2(length)), scale=bound)
