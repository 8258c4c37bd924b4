"""How numbers behave: exact integers, overflow, object arrays, out_dtype, float16,
non-finite values, immutability, memory layouts, empty and 0-d inputs.

Expected values come from Python-int / Fraction loops written here, from
``scipy.signal`` / ``numpy``, or from derivations spelled out next to the test.
"""

from __future__ import annotations

import itertools
import zlib
from fractions import Fraction

import numpy as np
import pytest
import scipy.signal

import convolib
from helpers import assert_close, random_array

OPS = {"convolve": convolib.convolve, "correlate": convolib.correlate}
SCIPY_OPS = {"convolve": scipy.signal.convolve, "correlate": scipy.signal.correlate}
METHODS = ("auto", "direct", "reference")
INT64_MAX = 2**63 - 1


# ------------------------------------------------------------------ exact Python oracles


def full_loop(x, k, op="convolve"):
    """Full-mode convolution/correlation of nested arrays with Python arithmetic.

    convolve:  y[i] = sum_j x[i - j] k[j]
    correlate: y[l + (m - 1)] = sum_j x[l + j] conj(k[j])  (lags l = -(m-1) .. n-1)
    which is convolve with k reversed (and conjugated).
    """
    x = np.asarray(x, dtype=object)
    k = np.asarray(k, dtype=object)
    if op == "correlate":
        k = k[(slice(None, None, -1),) * k.ndim]
        k = np.vectorize(lambda v: v.conjugate() if isinstance(v, complex) else v, otypes=[object])(
            k
        )
    shape = tuple(n + m - 1 for n, m in zip(x.shape, k.shape, strict=True))
    y = np.empty(shape, dtype=object)
    for i in np.ndindex(*shape):
        total = 0
        for j in np.ndindex(*k.shape):
            src = tuple(a - b for a, b in zip(i, j, strict=True))
            if all(0 <= s < n for s, n in zip(src, x.shape, strict=True)):
                total += x[src] * k[j]
        y[i] = total
    return y


def mode_slice(full, n_shape, m_shape, mode):
    """scipy.signal's modes as slices of full: same = [(m-1)//2 : +n], valid = [m-1 : n]."""
    if mode == "full":
        return full
    if mode == "same":
        return full[
            tuple(
                slice((m - 1) // 2, (m - 1) // 2 + n) for n, m in zip(n_shape, m_shape, strict=True)
            )
        ]
    return full[tuple(slice(m - 1, n) for n, m in zip(n_shape, m_shape, strict=True))]


def assert_exact(got, expected):
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=object)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    bad = [(i, got[i], expected[i]) for i in np.ndindex(*got.shape) if got[i] != expected[i]]
    assert not bad, f"(index, got, expected): {bad[:5]}"


# -------------------------------------------------------------------------- exact integers


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_int64_exact_where_float64_loses_digits(method, op, mode):
    rng = np.random.default_rng(1)
    # |x| < 2**40 + 2**10, sum|k| < 3 * (2**19 + 2**7): the bound max|x| sum|k| < 2**62,
    # while results near 1.5 * 2**60 need 61 bits, more than float64's 53.
    x = (2**40 + rng.integers(-(2**10), 2**10, 9)).astype(np.int64)
    k = (2**19 + rng.integers(-(2**7), 2**7, 3)).astype(np.int64)
    got = OPS[op](x, k, mode, method=method)
    assert got.dtype == np.int64
    expected = mode_slice(full_loop(x.tolist(), k.tolist(), op), x.shape, k.shape, mode)
    assert_exact(got, expected)
    # The check is meaningful: float64 arithmetic cannot represent these results.
    rounded = SCIPY_OPS[op](x.astype(np.float64), k.astype(np.float64), mode)
    assert any(int(r) != e for r, e in zip(rounded.ravel(), expected.ravel(), strict=True))


@pytest.mark.parametrize("method", METHODS)
def test_int64_exact_2d_large_values(method):
    rng = np.random.default_rng(2)
    x = (2**38 * rng.choice([-1, 1], (4, 5)) + rng.integers(-999, 999, (4, 5))).astype(np.int64)
    k = rng.integers(-(2**20), 2**20, (2, 3)).astype(np.int64)
    got = convolib.convolve(x, k, method=method)
    assert got.dtype == np.int64
    assert_exact(got, full_loop(x.tolist(), k.tolist()))


INT_CASES = [
    # (x dtype, k dtype, x range, k range): values at the types' extremes
    (np.uint8, np.uint8, (200, 255), (200, 255)),
    (np.int8, np.int8, (-128, 127), (-128, 127)),
    (np.int16, np.uint16, (-32768, 32767), (60000, 65535)),
    (np.int32, np.int32, (-(2**31), 2**31 - 1), (-(2**20), 2**20)),
    (np.uint32, np.int8, (2**32 - 1000, 2**32 - 1), (-128, 127)),
    (np.uint64, np.int16, (2**40, 2**41), (-(2**15), 2**15 - 1)),
    (np.bool_, np.int64, (0, 1), (-(2**50), 2**50)),
    (np.bool_, np.bool_, (0, 1), (0, 1)),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("xt", "kt", "xr", "kr"), INT_CASES)
def test_small_integer_types_give_exact_int64(method, xt, kt, xr, kr):
    rng = np.random.default_rng(3)
    x = np.array([int(v) for v in rng.integers(*xr, 7, endpoint=True)], dtype=object).astype(xt)
    k = np.array([int(v) for v in rng.integers(*kr, 3, endpoint=True)], dtype=object).astype(kt)
    for op, mode in itertools.product(sorted(OPS), ["full", "same", "valid"]):
        got = OPS[op](x, k, mode, method=method)
        assert got.dtype == np.int64, (op, mode, got.dtype)
        ints = [int(v) for v in x], [int(v) for v in k]
        assert_exact(got, mode_slice(full_loop(*ints, op), x.shape, k.shape, mode))


def test_bool_inputs_count_overlaps():
    # [1,1] * [1,1] = [1, 2, 1]: the count of overlapping True pairs, not logical or.
    got = convolib.convolve(np.array([True, True]), np.array([True, True]))
    assert got.dtype == np.int64
    assert got.tolist() == [1, 2, 1]


# --------------------------------------------------------------------------------- overflow


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_exact_overflow_raises_with_the_fix(method, op):
    # Two values 2**62 under three taps of 1: the middle output is 2**63 > int64 max.
    x = np.array([2**62, 2**62, 5], np.int64)
    k = np.array([1, 1, 1], np.int64)
    with pytest.raises(convolib.ExactOverflowError) as info:
        OPS[op](x, k, method=method)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, OverflowError)
    assert isinstance(err, convolib.ConvolibError)
    msg = str(err)
    assert "astype(object)" in msg
    assert "int64" in msg


def test_exact_overflow_object_fix_works():
    x = np.array([2**62, 2**62, 5], np.int64)
    k = np.array([1, 1, 1], np.int64)
    got = convolib.convolve(x.astype(object), k)
    assert got.dtype == object
    assert_exact(got, full_loop(x.tolist(), k.tolist()))
    assert got[2] == 2**63 + 5


@pytest.mark.parametrize(
    ("x", "k", "mode"),
    [
        (np.array([2**62, 2**62], np.int64), np.array([1, 1], np.int64), "full"),
        (np.array([-(2**62), -(2**62) - 1], np.int64), np.array([1, 1], np.int64), "valid"),
        (np.array([3, 2**61], np.int64), np.array([-4, -5], np.int64), "same"),
        (np.array([2**63 + 5], np.uint64), np.array([1], np.int64), "full"),
        (np.array([2**31], np.int64), np.array([2**32], np.int64), "full"),
    ],
)
def test_exact_overflow_cases(x, k, mode):
    # Each has an output whose exact value exceeds 2**63 - 1 in magnitude.
    exact = mode_slice(full_loop(x.tolist(), k.tolist()), x.shape, k.shape, mode)
    assert max(abs(v) for v in exact.ravel()) > INT64_MAX
    with pytest.raises(convolib.ExactOverflowError, match=r"astype\(object\)"):
        convolib.convolve(x, k, mode)


def test_overflow_from_fill_value():
    # same mode, constant boundary: y[0] = fill + x[0] + x[1] = 2**62 + 2**62 + 1.
    x = np.array([2**62, 1, 0], np.int64)
    k = np.array([1, 1, 1], np.int64)
    with pytest.raises(convolib.ExactOverflowError):
        convolib.convolve(x, k, "same", fill_value=2**62)


@pytest.mark.parametrize("method", METHODS)
def test_near_the_limit_still_exact(method):
    # max|x| * sum|k| = 3 * 2**61 < 2**63: allowed, and exact.
    x = np.array([2**61, 2**61 - 1, -(2**61), 2**61 - 3], np.int64)
    k = np.array([1, 1, 1], np.int64)
    got = convolib.convolve(x, k, method=method)
    assert_exact(got, full_loop(x.tolist(), k.tolist()))


# --------------------------------------------------------------------------- object dtype


def test_object_python_ints_beyond_2_64_stay_exact():
    x = np.array([2**70 + 1, -(3**50), 2**65 - 7, 12345678901234567890123], dtype=object)
    k = np.array([3**45, -(2**66) + 1, 17], dtype=object)
    for op, mode in itertools.product(sorted(OPS), ["full", "same", "valid"]):
        got = OPS[op](x, k, mode)
        assert got.dtype == object
        assert all(type(v) is int for v in got.ravel())
        assert_exact(got, mode_slice(full_loop(x, k, op), x.shape, k.shape, mode))


def test_object_python_ints_2d():
    x = np.array([[2**80, 1, -(2**70)], [5, 2**64, 3]], dtype=object)
    k = np.array([[2**64 + 1, -1], [7, 3**40]], dtype=object)
    assert_exact(convolib.convolve(x, k), full_loop(x, k))


def test_fractions_stay_exact():
    x = np.array([Fraction(1, 3), Fraction(-2, 7), Fraction(5, 11), Fraction(1, 10**20)], object)
    k = np.array([Fraction(1, 2), Fraction(3, 13), Fraction(-1, 9)], object)
    for op, mode in itertools.product(sorted(OPS), ["full", "same", "valid"]):
        got = OPS[op](x, k, mode)
        assert got.dtype == object
        expected = mode_slice(full_loop(x, k, op), x.shape, k.shape, mode)
        assert_exact(got, expected)
        assert all(isinstance(v, Fraction | int) for v in got.ravel())


def test_object_mixed_with_int64_is_exact_object():
    x = np.array([2**62, 2**62, 2**62], np.int64)
    k = np.array([Fraction(1, 3), 2**10], object)
    got = convolib.convolve(x, k)
    assert got.dtype == object
    assert_exact(got, full_loop(x.tolist(), k))


def test_object_complex_correlate_conjugates_kernel():
    # correlate conjugates a complex kernel whatever the array dtype:
    # c[l] = sum_n x[n + l] conj(k[n]).
    x = np.array([1, 2], object)
    k = np.array([1j, 1], object)
    expected = full_loop(x, k, "correlate")  # [1, 2 - 1j, -2j]
    assert expected.tolist() == [1, 2 - 1j, -2j]
    assert_exact(convolib.correlate(x, k), expected)
    # ... as it does for complex128:
    assert_exact(convolib.correlate(x.astype(complex), k.astype(complex)), expected)


# ------------------------------------------------------------------------------ out_dtype


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("dtype", "lo", "hi"), [(np.uint8, 0, 255), (np.int8, -128, 127)])
def test_integer_out_dtype_saturates(method, dtype, lo, hi):
    rng = np.random.default_rng(4)
    x = rng.integers(-400, 400, 30)
    k = rng.integers(-3, 4, 4)
    exact = scipy.signal.convolve(x, k, method="direct")
    assert exact.min() < lo and exact.max() > hi  # the example does clip at both ends
    got = convolib.convolve(x, k, out_dtype=dtype, method=method)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.clip(exact, lo, hi).astype(dtype))


def test_uint8_saturation_worked_example():
    # full of [100, -5, 200] with [1, 2] = [100, 195, 190, 400] -> 400 clips to 255;
    # [-50, 10] with [1, 1] = [-50, -40, 10] -> negatives clip to 0.
    got = convolib.convolve([100, -5, 200], [1, 2], out_dtype=np.uint8)
    assert got.tolist() == [100, 195, 190, 255]
    got = convolib.convolve([-50, 10], [1, 1], out_dtype="uint8")
    assert got.tolist() == [0, 0, 10]


@pytest.mark.parametrize("method", METHODS)
def test_float64_to_float32_narrowing(method):
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    got = convolib.convolve(x, k, "same", out_dtype=np.float32, method=method)
    assert got.dtype == np.float32
    expected = scipy.signal.convolve(x, k, "same", method="direct")
    # Computed in float64 (error ~ 2·6·eps64), then one rounding to float32.
    assert_close(got, expected, np.float32)
    assert np.max(np.abs(got - expected)) > 0  # it really was rounded to float32


def test_complex_result_to_real_out_dtype_is_refused():
    with pytest.raises(convolib.ArgumentError, match="imaginary") as info:
        convolib.convolve([1 + 1j, 2], [1.0], out_dtype=np.float64)
    assert isinstance(info.value, ValueError)
    assert "out_dtype" in str(info.value)


@pytest.mark.parametrize("method", METHODS)
def test_float_result_to_uint8_rounds_to_nearest_then_saturates(method):
    values = [0.4, 0.6, 1.49, 1.51, 254.7, 300.2, -3.2, -0.4, 127.3]
    got = convolib.convolve(values, [1.0], out_dtype=np.uint8, method=method)
    assert got.dtype == np.uint8
    assert got.tolist() == [0, 1, 1, 2, 255, 255, 0, 0, 127]


def test_float_result_to_int8_rounds_to_nearest_then_saturates():
    got = convolib.convolve([-128.6, 126.6, -0.6, 0.3, 1e6, -1e6], [1.0], out_dtype=np.int8)
    assert got.tolist() == [-128, 127, -1, 0, 127, -128]


def test_float_sums_round_not_truncate():
    # [0.3, 0.3, 0.3] * [1, 1] = [0.3, 0.6, 0.6, 0.3]: nearest integers 0, 1, 1, 0
    # (truncation would give all zeros).
    got = convolib.convolve([0.3, 0.3, 0.3], [1.0, 1.0], out_dtype=np.int16)
    assert got.tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.int32, [2**31 - 1, -(2**31)]),
        (np.int64, [2**63 - 1, -(2**63)]),
        (np.uint64, [2**64 - 1, 0]),
        (np.uint32, [2**32 - 1, 0]),
    ],
)
def test_huge_float_results_saturate_to_the_type_limits(dtype, expected):
    got = convolib.convolve([1e30, -1e30], [1.0], out_dtype=dtype)
    assert got.dtype == dtype
    assert [int(v) for v in got] == expected


def test_object_result_to_uint8_saturates_exactly():
    x = np.array([300, -4, Fraction(7, 3), 2**70], object)
    got = convolib.convolve(x, np.array([1], object), out_dtype=np.uint8)
    assert got.dtype == np.uint8
    assert got.tolist() == [255, 0, 2, 255]


def test_int_result_to_float_out_dtype():
    got = convolib.convolve([2**40 + 1, 3], [1, 1], out_dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([2**40 + 1, 2**40 + 4, 3], np.float64).astype("f4"))


# -------------------------------------------------------------------------------- float16


def test_float16_returns_float16():
    rng = np.random.default_rng(6)
    x, k = rng.standard_normal((5, 6)).astype(np.float16), rng.standard_normal(3)
    k = k.astype(np.float16)[None, :]
    for op in sorted(OPS):
        got = OPS[op](x, k, "same")
        assert got.dtype == np.float16
        expected = SCIPY_OPS[op](x.astype(np.float64), k.astype(np.float64), "same")
        assert_close(got, expected, np.float16, terms=3)


@pytest.mark.parametrize("method", METHODS)
def test_float16_accumulates_in_float32(method):
    # Exact full result: [2048, 2049, 2050, 2, 1] (all < 2**24, exact in float32),
    # rounded once to float16 (spacing 2 above 2048; 2049 ties to even -> 2048).
    # A float16 accumulator adding 2048 + 1 + 1 left to right would give 2048 at [2].
    x = np.array([2048, 1, 1], np.float16)
    k = np.array([1, 1, 1], np.float16)
    got = convolib.convolve(x, k, method=method)
    assert got.dtype == np.float16
    expected = np.array([2048.0, 2049.0, 2050.0, 2.0, 1.0]).astype(np.float16)
    np.testing.assert_array_equal(got, expected)
    assert got[2] == 2050


# ----------------------------------------------------------------------------- non-finite


def _pads(m: int) -> tuple[int, int]:
    # same = full[(m-1)//2 : (m-1)//2 + n]: output s sees x[s + (m-1)//2 - (m-1) ..
    # s + (m-1)//2] for both ops, i.e. m//2 samples of padding before, (m-1)//2 after.
    return m // 2, (m - 1) // 2


def expected_nonfinite(op, mode, boundary, fill, x, k):
    """Which outputs have a window containing a non-finite input, by counting.

    With zero padding a term exists only where both indices are in range, so the
    count of bad terms is op(bad_x, ones_k) + op(ones_x, bad_k) over integers
    (scipy, any mode). With any other padding every output has all m terms over the
    padded signal: bad terms = op(pad(bad_x), ones_k, 'valid') + [any bad k].
    """
    bad_x, bad_k = (~np.isfinite(x)).astype(np.int64), (~np.isfinite(k)).astype(np.int64)
    ones_x, ones_k = np.ones(x.shape, np.int64), np.ones(k.shape, np.int64)
    f = SCIPY_OPS[op]
    if boundary == "constant" and fill == 0:
        count = f(bad_x, ones_k, mode, method="direct") + f(ones_x, bad_k, mode, method="direct")
        return count > 0
    assert mode == "same"
    widths = [_pads(m) for m in k.shape]
    if boundary == "constant":
        padded = np.pad(bad_x, widths, mode="constant", constant_values=int(not np.isfinite(fill)))
    else:
        padded = np.pad(bad_x, widths, mode=boundary)
    count = f(padded, ones_k, "valid", method="direct") + bad_k.sum()
    return count > 0


NONFINITE_CASES = [
    ("full", "constant", 0),
    ("same", "constant", 0),
    ("valid", "constant", 0),
    ("same", "constant", 2.5),
    ("same", "edge", 0),
    ("same", "reflect", 0),
    ("same", "symmetric", 0),
    ("same", "wrap", 0),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize(("mode", "boundary", "fill"), NONFINITE_CASES)
@pytest.mark.parametrize("where", ["x", "k", "both"])
def test_nonfinite_values_stay_in_their_windows(method, op, mode, boundary, fill, where):
    rng = np.random.default_rng(zlib.crc32(repr((op, mode, boundary, fill, where)).encode()))
    for shape_x, shape_k in [((12,), (3,)), ((9,), (4,)), ((6, 7), (3, 2)), ((5, 5), (2, 3))]:
        x = rng.integers(-3, 4, shape_x).astype(np.float64)
        k = rng.integers(-3, 4, shape_k).astype(np.float64)
        specials = [np.nan, np.inf, -np.inf]
        if where in ("x", "both"):
            for _ in range(2):
                x[tuple(rng.integers(0, s) for s in shape_x)] = specials[rng.integers(0, 3)]
        if where in ("k", "both"):
            k[tuple(rng.integers(0, s) for s in shape_k)] = specials[rng.integers(0, 3)]
        kw = {"boundary": boundary, "method": method}
        if boundary == "constant":
            kw["fill_value"] = fill
        with np.errstate(invalid="ignore", over="ignore"):
            got = OPS[op](x, k, mode, **kw)
        mask = expected_nonfinite(op, mode, boundary, fill, x, k)
        assert got.shape == mask.shape
        np.testing.assert_array_equal(~np.isfinite(got), mask, err_msg=f"{shape_x} {shape_k}")
        # The other outputs never saw a non-finite term: they equal the sum with the
        # non-finite inputs replaced by anything, e.g. 0 (scipy oracle for zero padding).
        if boundary == "constant" and fill == 0:
            clean = SCIPY_OPS[op](
                np.nan_to_num(x, posinf=0, neginf=0),
                np.nan_to_num(k, posinf=0, neginf=0),
                mode,
                method="direct",
            )
            np.testing.assert_array_equal(got[~mask], clean[~mask])


@pytest.mark.parametrize("method", METHODS)
def test_inf_kernel_does_not_poison_padding_only_outputs(method):
    # y[i] = sum_j x[i - j] k[j]; the inf tap j = 0 meets x only for i in 0..4.
    # y[5] = x[4] k[1] + x[3] k[2] = 0 and y[6] = x[4] k[2] = 0: no inf * 0 term exists.
    x = np.array([1.0, 2, 3, 4, 5])
    k = np.array([np.inf, 0, 0])
    got = convolib.convolve(x, k, method=method)
    np.testing.assert_array_equal(got, np.convolve(x, k))
    np.testing.assert_array_equal(got, [np.inf] * 5 + [0.0, 0.0])


@pytest.mark.parametrize("method", METHODS)
def test_nan_in_x_leaves_distant_outputs_finite(method):
    x = np.zeros(10)
    x[2] = np.nan
    got = convolib.convolve(x, np.ones(3), "same", method=method)
    # same, m = 3: output s covers x[s-1 .. s+1]; x[2] is in the windows of s = 1, 2, 3.
    assert np.flatnonzero(np.isnan(got)).tolist() == [1, 2, 3]


# ---------------------------------------------------------------------------- immutability


IMMUTABLE_CASES = [
    ("convolve", "full", "constant", np.float64),
    ("correlate", "same", "reflect", np.complex128),
    ("correlate", "valid", "constant", np.complex64),
    ("convolve", "same", "wrap", np.int32),
    ("convolve", "same", "edge", np.float32),
    ("correlate", "full", "constant", object),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("op", "mode", "boundary", "dtype"), IMMUTABLE_CASES)
@pytest.mark.parametrize("swap", [False, True])
def test_inputs_are_not_modified(method, op, mode, boundary, dtype, swap):
    if method == "direct" and dtype is object:
        pytest.skip("direct has no object loop (tested in test_errors)")
    rng = np.random.default_rng(7)
    x, k = random_array(rng, (5, 6), dtype), random_array(rng, (3, 2), dtype)
    if swap:  # valid mode swaps; same/full let the kernel be the larger operand
        x, k = k, x
    x_before, k_before = x.copy(), k.copy()
    y = OPS[op](x, k, mode, boundary=boundary, method=method)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(k, k_before)
    assert not np.shares_memory(y, x) and not np.shares_memory(y, k)
    # Read-only inputs are accepted and give the same result.
    x.flags.writeable = False
    k.flags.writeable = False
    y_ro = OPS[op](x, k, mode, boundary=boundary, method=method)
    np.testing.assert_array_equal(y_ro, y)


@pytest.mark.parametrize("method", METHODS)
def test_output_does_not_alias_input_for_trivial_kernel(method):
    # A 1-tap kernel and a 0-d problem could be answered by returning an input.
    x = np.arange(6.0)
    y = convolib.convolve(x, np.ones(1), method=method)
    y[0] = 99
    assert x[0] == 0


# ----------------------------------------------------------------------------------- layout


def _layouts(a: np.ndarray):
    """(name, view) pairs with the values of ``a`` but another memory layout."""
    big = np.zeros((a.shape[0] * 2, a.shape[1] * 3), a.dtype)
    big[::2, 1::3] = a
    yield "strided slice", big[::2, 1::3]
    rev = np.ascontiguousarray(a[::-1, ::-1])
    yield "negative strides", rev[::-1, ::-1]
    yield "fortran", np.asfortranarray(a)
    yield "transposed", np.ascontiguousarray(a.T).T
    if a.dtype.kind in "iufc" and a.dtype.itemsize > 1:
        yield "big-endian", a.astype(a.dtype.newbyteorder(">"))
        yield "little-endian", a.astype(a.dtype.newbyteorder("<"))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.complex128, np.float32, np.uint16])
@pytest.mark.parametrize(
    ("op", "mode", "boundary"),
    [
        ("convolve", "full", "constant"),
        ("correlate", "same", "symmetric"),
        ("correlate", "valid", "constant"),
    ],
)
def test_layouts_match_the_native_contiguous_result(method, dtype, op, mode, boundary):
    rng = np.random.default_rng(8)
    x, k = random_array(rng, (6, 5), dtype), random_array(rng, (3, 2), dtype)
    f = OPS[op]
    native = f(x, k, mode, boundary=boundary, method=method)
    for (xname, xv), (kname, kv) in itertools.product(_layouts(x), _layouts(k)):
        np.testing.assert_array_equal(xv, x)  # the same values
        got = f(xv, kv, mode, boundary=boundary, method=method)
        assert got.dtype.kind == native.dtype.kind and got.dtype.itemsize == native.dtype.itemsize
        np.testing.assert_array_equal(got, native, err_msg=f"x {xname}, k {kname}")


@pytest.mark.parametrize("method", METHODS)
def test_big_endian_pairs(method):
    x = np.arange(12.0).reshape(3, 4)
    k = np.array([[1, -2], [3, 4]])
    expected = scipy.signal.convolve(x, k, method="direct")
    for xt, kt in [(">f8", ">i4"), (">f8", ">f8"), (">i4", ">i4"), ("<f8", ">i8")]:
        got = convolib.convolve(x.astype(xt), k.astype(kt), method=method)
        np.testing.assert_array_equal(got, expected, err_msg=f"{xt} {kt}")


# ------------------------------------------------------------------------------------ empty


EMPTY_CASES = [
    ((0,), (3,)),
    ((3,), (0,)),
    ((0,), (0,)),
    ((0, 3), (2, 2)),
    ((4, 3), (0, 2)),
    ((2, 0, 3), (1, 1, 1)),
]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(("sx", "sk"), EMPTY_CASES)
@pytest.mark.parametrize(
    ("xt", "kt", "out"),
    [
        (np.float64, np.float64, np.float64),
        (np.int8, np.uint8, np.int64),
        (np.float16, np.float16, np.float16),
        (np.complex64, np.float32, np.complex64),
        (object, np.int64, object),
    ],
)
def test_empty_inputs_give_empty_outputs(mode, sx, sk, xt, kt, out):
    """Empty in, empty out; except that 'same' keeps x's shape, and an empty sum is 0."""
    for op in sorted(OPS):
        got = OPS[op](np.zeros(sx, xt), np.zeros(sk, kt), mode)
        assert isinstance(got, np.ndarray)
        assert got.ndim == len(sx)
        assert got.dtype == out
        if mode == "same":
            assert got.shape == sx
            assert all(v == 0 for v in got.flat)
        else:
            assert got.size == 0


@pytest.mark.parametrize(
    ("sx", "sk", "mode"),
    [
        ((0, 3), (1, 1), "full"),
        ((0, 3), (1, 1), "same"),
        ((0, 3), (2, 2), "same"),
        ((2, 0), (1, 1), "full"),
        ((2, 0), (3, 2), "same"),
        ((0,), (3,), "same"),
    ],
)
def test_empty_inputs_have_scipys_shape_where_scipy_accepts_them(sx, sk, mode):
    # DESIGN: "for every input that scipy.signal.convolve / correlate accept, the same
    # values, shape and centering". scipy accepts these and returns these shapes
    # (same mode: x's shape; full with a 1-sample kernel: x's shape too).
    x, k = np.zeros(sx), np.ones(sk)
    for op in sorted(OPS):
        expected = SCIPY_OPS[op](x, k, mode, method="direct")
        got = OPS[op](x, k, mode)
        assert got.shape == expected.shape, (op, got.shape, expected.shape)


# --------------------------------------------------------------------------------------- 0-d


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize(
    ("x", "k"),
    [
        (np.array(3), np.array(-4)),
        (np.array(2.5), np.array(4.0)),
        (np.array(2 + 1j), np.array(3 + 1j)),
        (np.array(2**40 + 1), np.array(2**20 + 3)),
    ],
)
def test_zero_d_inputs_multiply(method, mode, x, k):
    for op in sorted(OPS):
        got = OPS[op](x, k, mode, method=method)
        expected = SCIPY_OPS[op](x, k, mode)
        assert np.shape(got) == ()
        assert got == expected
        # scipy's value: x * k for convolve, x * conj(k) for correlate.
        kk = k if op == "convolve" else np.conj(k)
        assert got == x.item() * kk.item()
        if x.dtype.kind == "i":
            assert got.dtype == np.int64
            assert int(got) == int(x) * int(k)


def test_zero_d_object():
    got = convolib.convolve(np.array(Fraction(1, 3), object), np.array(2**70, object))
    assert got.shape == ()
    assert got.item() == Fraction(2**70, 3)


@pytest.mark.parametrize("method", METHODS)
def test_zero_d_large_integers_that_fit(method):
    # 2**32 * (2**30 + 1) = 2**62 + 2**32 < 2**63 - 1: representable, so exact.
    got = convolib.convolve(np.array(2**32), np.array(2**30 + 1), method=method)
    assert got.shape == ()
    assert int(got) == 2**62 + 2**32


def test_zero_d_overflow_is_detected():
    with pytest.raises(convolib.ExactOverflowError):
        convolib.convolve(np.array(2**40), np.array(2**40))  # 2**80
