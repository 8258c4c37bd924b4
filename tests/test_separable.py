"""The separable algorithm and its kernel fact: factorisation, results, plans.

Oracles: exact integer arithmetic (NumPy outer products of integer vectors, Python
ints), ``scipy.ndimage`` with int64 output for integer box filters, and the
reference algorithm (a plain sum) for every boundary, mode and dtype.
"""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import scipy.ndimage as ndi

import convolib
from convolib import costs, factor
from convolib.algorithms import registry
from convolib.planner import make_plan
from convolib.spec import build_spec
from helpers import assert_close, assert_concurrent_calls_match_serial

F32, F64 = np.float32, np.float64


def gaussian(m, sigma, dtype=F64):
    g = np.exp(-0.5 * ((np.arange(m) - (m - 1) / 2) / sigma) ** 2)
    return (g / g.sum()).astype(dtype)


def outer(*vectors):
    k = vectors[0]
    for v in vectors[1:]:
        k = np.multiply.outer(k, v)
    return k


def magnitude(x, k, fill=0):
    """A scalar bound on every element of |x| * |k|."""
    return max(float(np.abs(x).max(initial=0)), abs(fill)) * float(np.abs(k).sum())


# --- factor.py: integers, exactly -----------------------------------------------------


@pytest.mark.parametrize(
    "vectors",
    [
        ([1, 1, 1, 1, 1], [1, 1, 1, 1, 1]),  # box
        ([1, 2, 1], [1, 0, -1]),  # Sobel
        ([-3, 0, 6], [4, -8, 2, 10]),  # common factors and signs
        ([2, 4], [3, 6, 9], [5, 10]),  # three axes
        ([2**20 + 1, -3], [2**21, 7, 1]),  # products beyond int64 in the minors check
    ],
)
def test_integer_outer_products_factor_exactly(vectors):
    k = outer(*(np.array(v, np.int64) for v in vectors))
    assert factor.kernel_rank(k) == 1
    (term,) = factor.factors(k)
    assert all(v.dtype == np.int64 for v in term)
    assert np.array_equal(outer(*term), k)  # exact
    base = next(a for a, m in enumerate(k.shape) if m > 1)
    for axis, v in enumerate(term):
        if axis != base:  # primitive: the product's scale sits on the base axis
            assert math.gcd(*(int(e) for e in v)) == 1


def test_integer_kernels_of_every_integer_dtype():
    box = np.ones((5, 5), np.uint8)
    for dtype in (np.uint8, np.int8, np.int16, np.uint64, bool):
        assert factor.kernel_rank(box.astype(dtype)) == 1
    assert factor.kernel_rank(np.array([[2**63, 2**63]], np.uint64)) is None  # beyond int64


@pytest.mark.parametrize(
    ("k", "rank"),
    [
        ([[1, 2], [3, 4]], 2),
        ([[10**9, 10**9], [10**9, 10**9 + 1]], 2),  # float64 would call it rank 1
        ([[0, 1, 0], [1, 1, 1], [0, 1, 0]], 3),
        ([[0, 0], [0, 0]], 0),
    ],
)
def test_integer_kernels_that_are_not_outer_products(k, rank):
    k = np.array(k, np.int64)
    assert factor.kernel_rank(k) == rank
    terms = factor.factors(k)
    assert len(terms) == rank
    total = sum((outer(*t) for t in terms), np.zeros_like(k))
    assert np.array_equal(total, k)  # the trivial decomposition is exact


# --- factor.py: floats, within the elementwise bound ------------------------------------


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize(("m", "sigma"), [(3, 0.8), (15, 3.0), (15, 1.0), (49, 8.0)])
def test_gaussian_outer_products_are_rank_one_and_accurate(dtype, m, sigma):
    g = gaussian(m, sigma, dtype)
    k = np.outer(g, g)  # one rounding per entry: not exactly rank 1 in dtype
    assert factor.kernel_rank(k) == 1
    (term,) = factor.factors(k)
    assert all(v.dtype == dtype for v in term)
    rebuilt = outer(*(v.astype(np.longdouble) for v in term))
    relative = np.abs(rebuilt - k) / np.abs(k)  # tails down to 1e-22 of the peak included
    assert relative.max() <= 4 * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [F32, F64])
def test_three_axis_gaussian_is_rank_one(dtype):
    g = gaussian(9, 2.0)
    k = outer(g, g, g).astype(dtype)
    assert factor.kernel_rank(k) == 1
    (term,) = factor.factors(k)
    assert np.allclose(outer(*term), k, rtol=8 * np.finfo(dtype).eps, atol=0)
    assert factor.kernel_rank(k + dtype(1e-3) * np.eye(9, dtype=dtype)[:, :, None]) == 81


@pytest.mark.parametrize("dtype", [F32, F64])
def test_float_rank_from_svd_and_elimination(dtype):
    rng = np.random.default_rng(3)
    a, b, c, d, e = (rng.uniform(1, 2, 15) for _ in range(5))
    rank2 = (np.outer(a, b) + np.outer(c, d)).astype(dtype)
    rank3 = (np.outer(a, b) + np.outer(c, d) + np.outer(e, a)).astype(dtype)
    assert factor.kernel_rank(rank2) == 2
    assert factor.kernel_rank(rank3) == 3
    for k in (rank2, rank3):
        terms = factor.factors(k)
        rebuilt = sum(outer(*(v.astype(F64) for v in t)) for t in terms)
        assert np.abs(rebuilt - k).max() <= 2 * k.size * np.finfo(dtype).eps * np.abs(k).min()
    dog = np.outer(gaussian(15, 2.0), gaussian(15, 2.0)) - np.outer(
        gaussian(15, 3.0), gaussian(15, 3.0)
    )
    assert factor.kernel_rank(dog.astype(dtype)) == 2
    assert factor.kernel_rank(rng.standard_normal((15, 15)).astype(dtype)) == 15  # full
    assert factor.kernel_rank(np.eye(5, dtype=dtype)) == 5
    assert factor.kernel_rank(np.zeros((4, 4), dtype)) == 0


def test_tolerance_follows_the_dtype():
    """A 1e-10 second term is below float32's bound and above float64's."""
    rng = np.random.default_rng(4)
    a, b, c, d = (rng.uniform(1, 2, 7) for _ in range(4))
    k = np.outer(a, b) + 1e-10 * np.outer(c, d)
    assert factor.kernel_rank(k.astype(F32)) == 1
    assert factor.kernel_rank(k, F32) == 1
    assert factor.kernel_rank(k) == 2  # float64
    # The accepted float32 factors keep every tap within the elementwise budget.
    (term,) = factor.factors(k, F32)
    err = np.abs(outer(*(v.astype(F64) for v in term)) - k)
    assert np.all(err <= 2 * k.size * np.finfo(F32).eps * np.abs(k))


def test_non_finite_and_unsupported_kernels_get_no_rank():
    for k in (
        np.array([[1.0, np.nan], [1.0, 1.0]]),
        np.array([[1.0, np.inf], [1.0, 1.0]]),
        np.ones((2, 2), np.complex128),
        np.ones((2, 2), object),
        np.ones((2, 2), np.longdouble),
    ):
        assert factor.kernel_rank(k) is None
        with pytest.raises(ValueError, match="cannot factorise"):
            factor.factors(k)


# --- separable vs the reference --------------------------------------------------------

BOUNDARIES = [("constant", 0), ("constant", 2), ("edge", 0), ("reflect", 0)]
BOUNDARIES += [("symmetric", 0), ("wrap", 0)]
CASES = [
    # (x shape, kernel vectors' lengths (one per axis), axes)
    ((13, 17), (5, 3), None),
    ((9, 8), (2, 4), None),
    ((6, 7, 8), (3, 2, 3), None),
    ((3, 11, 12), (1, 3, 4), (1, 2)),  # a batch axis
    ((7, 2, 9), (3, 1, 4), (0, 2)),  # axes not last
    # rows of 16 taps or more, each run as one line (1 to 4 taps a lane), and its rest
    ((6, 170), (3, 37), None),
    ((2, 5, 300), (1, 2, 16), (1, 2)),
]


def separable_kernel(rng, lengths, dtype):
    if np.dtype(dtype).kind in "iu":
        vectors = [rng.integers(1 if dtype == np.uint8 else -4, 5, m) for m in lengths]
        return outer(*vectors).astype(dtype)
    return outer(*(rng.standard_normal(m) for m in lengths)).astype(dtype)


def operand(rng, shape, dtype):
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, 256, shape).astype(dtype)
    if np.dtype(dtype).kind == "i":
        return rng.integers(-1000, 1000, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [F32, F64, np.int64, np.uint8])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_matches_reference(case, dtype):
    sx, lengths, axes = CASES[case]
    rng = np.random.default_rng([case, np.dtype(dtype).num])
    x, k = operand(rng, sx, dtype), separable_kernel(rng, lengths, dtype)
    for i, (op, mode) in enumerate(itertools.product(("convolve", "correlate"), ("full", "same"))):
        for boundary, fill in BOUNDARIES[i % 2 :: 2]:
            conv = [a % len(sx) for a in (range(len(sx)) if axes is None else axes)]
            m = [k.shape[a] for a in conv]
            origin = [(mi - 1) // 2 for mi in m] if (mode == "same" and i == 1) else 0
            kw = dict(axes=axes, boundary=boundary, fill_value=fill, origin=origin)
            got = getattr(convolib, op)(x, k, mode, method="separable", **kw)
            ref = getattr(convolib, op)(x, k, mode, method="reference", **kw)
            assert got.dtype == ref.dtype and got.shape == ref.shape
            assert_close(got, ref, ref.dtype, terms=2 * k.size, scale=magnitude(x, k, fill))
    got = convolib.correlate(x, k, "valid", axes=axes, method="separable")
    ref = convolib.correlate(x, k, "valid", axes=axes, method="reference")
    assert_close(got, ref, ref.dtype, terms=2 * k.size, scale=magnitude(x, k))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_rank_two_kernels_match_reference(dtype):
    rng = np.random.default_rng(8)
    a, b, c, d = (
        rng.uniform(1, 2, 7),
        rng.uniform(1, 2, 9),
        rng.uniform(1, 2, 7),
        rng.uniform(1, 2, 9),
    )
    k = (np.outer(a, b) - 0.5 * np.outer(c, d)).astype(dtype)
    x = rng.standard_normal((40, 50)).astype(dtype)
    p = convolib.plan("convolve", x, k, "same", boundary="reflect", method="separable")
    assert p.spec.kernel_rank == 2
    ref = convolib.convolve(x, k, "same", boundary="reflect", method="reference")
    assert_close(p(x, k), ref, dtype, terms=2 * k.size, scale=magnitude(x, k))


def test_large_problem_parallel_blocks_and_strips():
    """Several column blocks and row strips, in parallel and serially, agree with the sum."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((300, 2500)).astype(F32)
    k = np.outer(gaussian(31, 5.0, F32), gaussian(7, 1.5, F32))
    ref = convolib.convolve(x, k, "same", method="direct")
    for workers in (1, 2):
        got = convolib.convolve(x, k, "same", method="separable", workers=workers)
        assert_close(got, ref, F32, terms=2 * k.size, scale=magnitude(x, k))


@pytest.mark.parametrize("m0", [2, 3, 4, 5, 7, 8, 9, 12, 13, 17])
def test_fused_passes_over_every_group_of_rows_and_taps(m0):
    """Column kernels of every length (groups of 8 and 4 taps over four output rows at
    once, the rest row by row) and heights that leave 0 to 3 rows after the groups of
    four, exactly for integers, against the exact sum."""
    rng = np.random.default_rng(m0)
    u, v = rng.integers(-9, 10, m0), rng.integers(-9, 10, 5)
    u[0] = v[0] = 7  # not all zero
    for height in (m0 + 4, m0 + 5, m0 + 6, m0 + 7):
        x = rng.integers(0, 256, (height, 29)).astype(np.uint8)
        for mode in ("full", "same", "valid"):
            got = convolib.correlate(x, np.outer(u, v), mode, method="separable")
            ref = convolib.correlate(x, np.outer(u, v), mode, method="reference")
            assert got.dtype == ref.dtype == np.int64
            assert np.array_equal(got, ref), (height, mode)
        xf = x.astype(F64) / 7
        got = convolib.correlate(xf, np.outer(u, v) / 3, "same", method="separable")
        ref = convolib.correlate(xf, np.outer(u, v) / 3, "same", method="reference")
        assert_close(got, ref, F64, terms=2 * m0 * 5, scale=magnitude(xf, np.outer(u, v) / 3))


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("m1", range(2, 22))
def test_rows_of_two_to_twenty_one_taps(m1, dtype):
    """Row passes of 2 to 21 taps (up to 20 in registers, four vectors of sums at a
    time, where the CPU has AVX-512; the longest as lines), for widths that end
    anywhere in such a group of vectors, against the reference; an inf stays in its
    windows."""
    rng = np.random.default_rng(m1)
    k = np.outer(gaussian(3, 1.0, dtype), rng.uniform(0.5, 1.5, m1).astype(dtype))
    for width in (1, 5, 64 + 17, 3 * 64 + 63, 200):
        x = rng.standard_normal((7, width)).astype(dtype)
        x[3, width // 2] = np.inf
        spec = replace(build_spec("correlate", x, k, "full"), kernel_rank=1)
        got = make_plan(spec, "separable")(x, k)
        ref = make_plan(spec, "reference")(x, k)
        assert np.array_equal(np.isinf(got), np.isinf(ref)) and not np.isnan(got).any()
        finite = np.isfinite(ref)
        scale = magnitude(np.where(np.isfinite(x), x, 0), k)
        assert_close(got[finite], ref[finite], dtype, terms=2 * k.size, scale=scale)


@pytest.mark.parametrize("m1", [5, 9, 15, 20, 21])
def test_every_column_sums_its_terms_in_one_order(m1):
    """Shifting the signal along its rows shifts the result bit for bit: every output
    column sums its terms in the same order, wherever it falls in the row's vectors."""
    rng = np.random.default_rng(m1)
    k = np.outer(gaussian(5, 1.0, F32), gaussian(m1, 2.0, F32))
    x = rng.standard_normal((9, 150)).astype(F32)
    first = convolib.correlate(x, k, "full", method="separable")
    for shift in (1, 7, 16, 33):
        moved = np.zeros((9, 150 + shift), F32)
        moved[:, shift:] = x
        got = convolib.correlate(moved, k, "full", method="separable")
        assert np.array_equal(got[:, shift:], first), shift


def test_tall_narrow_strips_with_strides():
    """Many strips of one column block, with strides and dilations along both axes."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2003, 41))
    k = np.outer(rng.standard_normal(6), rng.standard_normal(5))
    for stride, dilation in [((1, 1), (1, 1)), ((2, 1), (1, 2)), ((1, 3), (3, 1))]:
        spec = build_spec("correlate", x, k, "same", stride=stride, dilation=dilation)
        spec = replace(spec, kernel_rank=1)
        got = make_plan(spec, "separable")(x, k)
        ref = make_plan(spec, "reference")(x, k)
        assert_close(got, ref, F64, terms=2 * k.size, scale=magnitude(x, k))


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((700, 2500)).astype(F32)
    k = np.outer(gaussian(13, 2.0, F32), gaussian(9, 1.5, F32))
    one = convolib.convolve(x, k, "same", method="separable", workers=1)
    two = convolib.convolve(x, k, "same", method="separable", workers=2)
    assert np.array_equal(one, two)


@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ((2, 23, 9, 11), dict(mode="same")),
        ((2, 23, 9, 11), dict(mode="full", stride=(2, 1, 1), dilation=(2, 1, 2))),
        # planes with no terms at all
        ((2, 23, 9, 11), dict(mode="valid", pads=((9, 7), (1, 0), (0, 2)))),
        ((1, 5, 9, 11), dict(mode="valid")),  # one slab: its passes on every thread
    ],
)
def test_volumes_run_in_slabs_that_change_no_bit(shape, options, monkeypatch):
    """A volume's pass along its first axis and the fused passes run a slab of planes
    at a time: slabs of one plane, of many, on one thread or two, give the same bits,
    and the reference's values."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal(shape)
    k = outer(rng.standard_normal(5), rng.standard_normal(3), rng.standard_normal(4))[None]
    options = dict(options)
    spec = build_spec("correlate", x, k, options.pop("mode"), axes=(1, 2, 3), **options)
    spec = replace(spec, kernel_rank=1)
    results = []
    for slab_bytes, workers in [(1, 1), (1, 2), (2000, 2), (2**40, 1)]:
        monkeypatch.setattr(costs, "SEPARABLE_SLAB_BYTES", slab_bytes)
        results.append(make_plan(spec, "separable", workers=workers)(x, k))
    for got in results[1:]:
        assert np.array_equal(got, results[0])
    ref = make_plan(spec, "reference")(x, k)
    assert_close(results[0], ref, F64, terms=2 * k.size, scale=magnitude(x, k))


def test_volumes_in_slabs_from_several_python_threads(monkeypatch):
    """Calls from several Python threads at once, each sharing its slabs out over the
    same pool of threads, give the serial calls' bits."""
    monkeypatch.setattr(costs, "SEPARABLE_SLAB_BYTES", 4000)  # a few planes a slab
    rng = np.random.default_rng(18)
    g = gaussian(5, 1.0, F32)
    cases = [(rng.standard_normal((20 + i, 17, 19)).astype(F32), outer(g, g, g)) for i in range(3)]

    def call(x, k):
        return convolib.convolve(x, k, "same", method="separable")

    assert_concurrent_calls_match_serial(call, cases)


def test_loops_block_matches_the_cost_model():
    from convolib.algorithms import _separable_kernels

    assert _separable_kernels.BLOCK == costs.SEPARABLE_BLOCK


def test_tails_are_accurate_elementwise():
    """A unit impulse returns the kernel: every tap within 2·M·eps of itself, tails too."""
    k = np.outer(gaussian(15, 1.0, F32), gaussian(15, 1.0, F32))  # tails ~1e-22 of the peak
    x = np.zeros((31, 31), F32)
    x[15, 15] = 1
    got = convolib.correlate(x, k, "same", method="separable")[8:23, 8:23]
    bound = 2 * k.size * np.finfo(F32).eps * np.abs(k) + np.finfo(F32).smallest_subnormal
    assert np.all(np.abs(got.astype(F64) - k) <= bound)


STRIDED = [
    ("correlate", (31, 29), (5, 3), "same", "constant", (2, 3), (1, 1)),
    ("convolve", (31, 29), (5, 3), "full", "reflect", (1, 2), (3, 1)),
    ("correlate", (31, 29), (3, 4), "valid", "constant", (3, 1), (2, 2)),
    ("convolve", (12, 14, 13), (3, 2, 3), "same", "wrap", (2, 1, 3), (1, 2, 2)),
]


@pytest.mark.parametrize("case", STRIDED, ids=lambda c: f"{c[0]}-{c[3]}-{c[4]}-s{c[5]}-d{c[6]}")
@pytest.mark.parametrize("dtype", [F64, np.int64])
def test_stride_and_dilation(case, dtype):
    op, sx, lengths, mode, boundary, stride, dilation = case
    rng = np.random.default_rng(len(sx) + sum(stride))
    x, k = operand(rng, sx, dtype), separable_kernel(rng, lengths, dtype)
    spec = build_spec(op, x, k, mode, boundary=boundary, stride=stride, dilation=dilation)
    spec = replace(spec, kernel_rank=factor.spec_kernel_rank(spec, k))
    assert spec.kernel_rank == 1
    got = make_plan(spec, "separable")(x, k)
    ref = make_plan(spec, "reference")(x, k)
    assert_close(got, ref, ref.dtype, terms=2 * k.size, scale=magnitude(x, k))


def test_non_contiguous_and_big_endian_inputs():
    rng = np.random.default_rng(10)
    x0, k0 = rng.standard_normal((20, 24)), np.outer([1.0, 2.0, 1.0], [1.0, -1.0, 0.5, 2.0])
    ref = convolib.convolve(x0, k0, "same", boundary="symmetric", method="reference")
    for x, k in [
        (np.asfortranarray(x0), k0[::-1, ::-1].copy()[::-1, ::-1]),
        (x0.astype(">f8"), k0.astype(">f8")),
        (np.concatenate([x0, x0], axis=1)[:, :24], np.asfortranarray(k0)),
    ]:
        got = convolib.convolve(x, k, "same", boundary="symmetric", method="separable")
        assert_close(got, ref, F64, terms=2 * k0.size, scale=magnitude(x0, k0))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_non_finite_values_stay_in_their_windows(mode):
    x = np.arange(1.0, 121.0).reshape(10, 12)
    x[0, 0], x[6, 5], x[9, 11] = np.nan, np.inf, -np.inf
    k = np.outer([0.5, -1.0, 2.0], [1.0, 0.0, 3.0, -0.25])  # a zero tap and mixed signs
    for op in ("convolve", "correlate"):
        got = getattr(convolib, op)(x, k, mode, method="separable")
        ref = getattr(convolib, op)(x, k, mode, method="direct")
        assert np.array_equal(np.isfinite(got), np.isfinite(ref)), (op, mode)
        finite = np.isfinite(ref)
        assert_close(
            got[finite], ref[finite], F64, terms=2 * k.size, scale=magnitude(x[x < 1e9], k)
        )


@pytest.mark.parametrize("m0", [5, 6, 7, 13])
def test_an_inf_stays_in_its_windows_in_passes_of_five_to_seven_taps(m0):
    """A column pass of 5 to 7 taps runs as an 8-tap pass whose last rows are a row of
    zeros: ring rows outside the window (here one holding inf) add nothing, not NaN."""
    rng = np.random.default_rng(19)
    x = rng.standard_normal((40, 2100)).astype(F32)
    x[17, 1000], x[30, 5] = np.inf, -np.inf
    k = np.outer(gaussian(m0, 1.5, F32), gaussian(3, 1.0, F32))
    spec = replace(build_spec("correlate", x, k, "same"), kernel_rank=1)
    got = make_plan(spec, "separable")(x, k)
    ref = make_plan(spec, "reference")(x, k)
    assert np.array_equal(np.isfinite(got), np.isfinite(ref))
    assert np.array_equal(np.isnan(got), np.isnan(ref) | (np.isinf(ref) & np.isnan(got)))
    finite = np.isfinite(ref)
    assert_close(np.where(finite, got, 0), np.where(finite, ref, 0), F32, terms=2 * k.size,
                 scale=magnitude(np.where(np.isfinite(x), x, 0), k))  # fmt: skip


def test_kernels_with_nan_or_inf_are_declined():
    x = np.ones((20, 20))
    for bad in (np.nan, np.inf):
        k = np.ones((3, 3))
        k[1, 1] = bad
        with pytest.raises(convolib.ArgumentError, match="cannot compute"):
            convolib.convolve(x, k, method="separable")


# --- exact integer results --------------------------------------------------------------

NDIMAGE_MODES = {  # convolib boundary -> scipy.ndimage mode (ndimage's reflect is symmetric)
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}


@pytest.mark.parametrize("boundary", sorted(NDIMAGE_MODES))
@pytest.mark.parametrize("size", [3, 5])
def test_uint8_box_filter_is_exact_against_ndimage(boundary, size):
    rng = np.random.default_rng(size)
    x = rng.integers(0, 256, (64, 80)).astype(np.uint8)
    k = np.ones((size, size), np.uint8)
    got = convolib.convolve(x, k, "same", boundary=boundary, method="separable")
    expected = ndi.convolve(x.astype(np.int64), k.astype(np.int64), mode=NDIMAGE_MODES[boundary])
    assert got.dtype == np.int64
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("workers", [1, 2])
def test_large_uint8_images_are_exact(workers):
    """Several column blocks and strips, in parallel and serially; a Sobel kernel (signed
    weights) and a box, every boundary, against scipy.ndimage's int64 sums."""
    rng = np.random.default_rng(17)
    x = rng.integers(0, 256, (520, 2300)).astype(np.uint8)
    sobel = np.outer([1, 2, 1], [1, 0, -1]).astype(np.int16)
    for k, boundary in [(sobel, "reflect"), (np.ones((7, 5), bool), "constant")]:
        got = convolib.correlate(x, k, "same", boundary=boundary, workers=workers)
        expected = ndi.correlate(
            x.astype(np.int64), k.astype(np.int64), mode=NDIMAGE_MODES[boundary]
        )
        assert got.dtype == np.int64
        assert np.array_equal(got, expected)


@pytest.mark.parametrize(
    "dtype", [bool, np.uint8, np.int8, np.int16, np.uint16, ">u2", np.int32, np.uint32, np.uint64]
)
def test_integer_signals_of_every_dtype_are_exact_and_untouched(dtype):
    """The passes read integer signals in their own dtype (uint8 and bool as they are,
    others widened by the algorithm): the exact sum, and the input is not modified."""
    rng = np.random.default_rng(18)
    top = 1 if np.dtype(dtype).kind == "b" else min(int(np.iinfo(dtype).max), 60000)
    low = 0 if np.dtype(dtype).kind in "bu" else -top
    x = rng.integers(low, top, (40, 70), endpoint=True).astype(dtype)
    x = x[:, ::2]  # not contiguous
    before = x.copy()
    k = np.outer([3, -1, 2], [1, 4, 1, -2])
    got = convolib.convolve(x, k, "full", boundary="constant", fill_value=5, method="separable")
    xo = np.pad(x.astype(np.int64), ((2, 2), (3, 3)), constant_values=5).tolist()
    kf = k[::-1, ::-1].tolist()  # convolution: the kernel flipped, slid over x padded by m - 1
    expected = [
        [sum(xo[i + a][j + b] * kf[a][b] for a in range(3) for b in range(4)) for j in range(38)]
        for i in range(42)
    ]
    assert got.dtype == np.int64
    assert got.tolist() == expected
    assert np.array_equal(x, before)


@pytest.mark.parametrize("fill", [-3, 0, 7, 255, 300])
def test_uint8_signals_padded_with_any_integer(fill):
    """A fill value outside uint8's range pads a widened signal, never a wrapped one."""
    x = np.arange(60, dtype=np.uint8).reshape(6, 10) * 4
    k = np.outer([1, 2, 1], [1, 0, -1])
    got = convolib.correlate(x, k, "same", boundary="constant", fill_value=fill, method="separable")
    expected = ndi.correlate(x.astype(np.int64), k, mode="constant", cval=fill)
    assert np.array_equal(got, expected)


def test_uint8_sums_beyond_float32_stay_exact():
    """255·Σ|k| at 2**24 sums in float32, exactly; one more and the sums (odd, above
    2**24, which float32 cannot hold) take a wider type, still exactly."""
    x = np.full((12, 30), 255, np.uint8)
    for u, v in [([1, 1, 271], [1, 1, 239]), ([1, 1, 3], [1, 1, 13157])]:
        k = np.outer(u, v)
        got = convolib.correlate(x, k, "same", method="separable")
        expected = ndi.correlate(x.astype(np.int64), k, mode="constant")
        assert np.array_equal(got, expected)
        assert expected.max() == 255 * k.sum()  # the bound is reached
    assert 255 * 5 * 13159 > 2**24 and (255 * 5 * 13159) % 2 == 1


def test_integers_beyond_float64_stay_exact():
    """Values near 2**55 times small weights: float64 would round, int64 passes do not."""
    rng = np.random.default_rng(12)
    x = (2**55 + rng.integers(-1000, 1000, (9, 11))).astype(np.int64)
    k = np.outer([1, 2, 1], [1, 3, 1]).astype(np.int64)
    got = convolib.correlate(x, k, "full", method="separable")
    xo = np.pad(x, 2).tolist()
    expected = [
        sum(xo[i + a][j + b] * int(k[a, b]) for a in range(3) for b in range(3))
        for i in range(11)
        for j in range(13)
    ]
    assert got.dtype == np.int64
    assert [int(v) for v in got.ravel()] == expected
    assert [int(v) for v in np.array(expected, F64)] != expected  # float64 would round


# --- plans -------------------------------------------------------------------------------


def test_attributes():
    algorithm = registry()["separable"]
    assert algorithm.exact and algorithm.local_nonfinite and algorithm.accuracy == "elementwise"


@pytest.mark.parametrize(
    ("name", "x_shape", "k"),
    [
        ("i3", (2048, 2048), np.outer(gaussian(15, 3.0, F32), gaussian(15, 3.0, F32))),
        ("i7", (4096, 4096), np.outer(gaussian(49, 8.0, F32), gaussian(49, 8.0, F32))),
        ("v2", (256, 256, 256), outer(*[gaussian(9, 2.0, F32)] * 3)),
    ],
)
def test_auto_picks_separable_for_gaussians(name, x_shape, k):
    x = np.zeros(x_shape, F32)
    p = convolib.plan("convolve", x, k, "same")
    assert p.algorithm == "separable", (name, str(p))
    assert p.spec.kernel_rank == 1 and "of rank 1" in str(p)
    out = math.prod(x_shape) * 4
    assert p.memory_bytes <= 3 * (2 * out)  # input + output, by BENCHMARKS.md's rule


def test_auto_picks_exact_separable_for_a_uint8_box():
    x, k = np.zeros((4096, 4096), np.uint8), np.ones((5, 5), np.uint8)
    p = convolib.plan("convolve", x, k, "same")
    assert p.algorithm == "separable" and p.spec.kernel_rank == 1
    assert p.spec.acc_dtype == np.int64


@pytest.mark.parametrize(
    ("x_shape", "k_shape"), [((2048, 2048), (15, 15)), ((256, 256, 256), (9, 9, 9))]
)
def test_auto_does_not_pick_separable_for_random_kernels(x_shape, k_shape):
    k = np.random.default_rng(13).standard_normal(k_shape).astype(F32)
    p = convolib.plan("convolve", np.zeros(x_shape, F32), k, "same")
    assert p.algorithm != "separable"
    assert p.spec.kernel_rank == factor.full_rank(k_shape)
    note = next(c.why_not for c in p.candidates if c.name == "separable")
    assert "no fewer" in note or "rank 1 only" in note


def test_tiny_problems_skip_the_rank(monkeypatch):
    """The l1 latency case never pays for a factorisation."""
    k = np.outer(gaussian(3, 1.0, F32), gaussian(3, 1.0, F32))
    x = np.ones((64, 64), F32)

    def fail(*args):
        raise AssertionError("the rank was computed for a tiny problem")

    monkeypatch.setattr(factor, "spec_kernel_rank", fail)
    assert convolib.plan("correlate", x, k, "same").spec.kernel_rank is None
    convolib.correlate(x, k, "same")


def test_plan_refuses_a_kernel_of_another_rank():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((64, 64))
    k = np.outer(gaussian(5, 1.0), gaussian(5, 1.0))
    p = convolib.plan("convolve", x, k, "same", method="separable")
    assert p.spec.kernel_rank == 1
    other = np.outer(gaussian(5, 2.0), gaussian(5, 0.5))  # also rank 1: accepted
    ref = convolib.convolve(x, other, "same", method="reference")
    assert_close(p(x, other), ref, F64, terms=50, scale=magnitude(x, other))
    with pytest.raises(convolib.ArgumentError, match="has rank 5, but the plan was made"):
        p(x, rng.standard_normal((5, 5)))
    nan = k.copy()
    nan[0, 0] = np.nan
    with pytest.raises(convolib.ArgumentError, match="holds NaN or inf"):
        p(x, nan)


def test_supports_explains_itself():
    separable = registry()["separable"]
    x2, x3 = np.ones((20, 20)), np.ones((8, 8, 8))

    def reason(x, k, rank, **kw):
        return separable.supports(
            replace(build_spec("convolve", x, k, "same", **kw), kernel_rank=rank)
        )

    assert "no kernel rank" in reason(x2, np.ones((3, 3)), None)
    assert reason(x2, np.ones((3, 3)), 1) is None
    assert "all zeros" in reason(x2, np.ones((3, 3)), 0)
    assert "no fewer" in reason(x2, np.ones((3, 3)), 2)
    assert "exact outer product" in reason(x2.astype(int), np.ones((5, 5), int), 2)
    assert "rank 1 only" in reason(x3, np.ones((3, 3, 3)), 2)
    assert "batch of kernels" in reason(np.ones((2, 9, 9)), np.ones((2, 3, 3)), 1, axes=(1, 2))
    assert "nothing to separate" in reason(x2, np.ones((1, 3)), 1)
    assert "complex" in reason(x2.astype(complex), np.ones((3, 3)), 1)
    assert "swaps" in separable.supports(build_spec("convolve", np.ones((3, 3)), x2, "valid"))
