"""Every registered algorithm against the reference, stride/dilation identities, exactness.

The algorithm list comes from `convolib.methods()`, so a newly registered algorithm is
tested here automatically. An algorithm is skipped for a problem only when its own
``supports(spec)`` says it cannot compute it.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.signal as ss

import convolib
from convolib.algorithms import registry
from convolib.planner import make_plan
from convolib.spec import build_spec
from helpers import assert_close, random_array

NAMES = [name for name in convolib.methods() if name != "auto"]
OPS = ("convolve", "correlate")
MODES = ("full", "same", "valid")
DTYPES = ("float32", "float64", "complex128", "int64", "uint8", "object")
BOUNDARIES = (
    ("constant", 0),
    ("constant", 2),
    ("edge", 0),
    ("reflect", 0),
    ("symmetric", 0),
    ("wrap", 0),
)

GRID = [
    # (x shape, k shape, axes)
    ((11,), (3,), None),
    ((10,), (4,), None),
    ((3,), (6,), None),  # kernel longer than x: valid swaps
    ((7, 6), (3, 2), None),
    ((4, 5), (6, 7), None),
    ((5, 4, 6), (2, 3, 3), None),
    ((3, 9, 1, 8), (1, 3, 2, 2), (1, 3)),  # batch axes broadcast both ways
    ((2, 5, 6), (2, 3, 3), (2, 1)),
    ((6, 2, 5), (3, 1, 4), (-1, 0)),
    ((4, 4, 3, 3), (2, 2, 2, 2), None),  # four convolved axes
    ((2, 3000), (1, 40), 1),  # columns span several blocks; enough work to go parallel
    ((3, 70, 90), (1, 5, 5), (1, 2)),
]


def spec_for(op, x, k, mode, **options):
    return build_spec(op, x, k, mode, **options)


def skip_reason(name, spec):
    """The algorithm's own reason for not computing ``spec`` (None if it can)."""
    return registry()[name].supports(spec)


def run(name, op, x, k, mode="full", **options):
    """Execute ``op`` through the spec -> plan -> execute layers with a forced algorithm."""
    return make_plan(spec_for(op, x, k, mode, **options), name)(x, k)


def operand(rng, shape, dtype):
    """Random operand; few distinct values keep float sums well conditioned."""
    return random_array(rng, shape, dtype)


def magnitude(x, k, fill=0):
    """A scalar bound on every element of |x| * |k| (for the float tolerance)."""
    big_x = max(float(np.abs(x.astype(np.complex128)).max(initial=0)), abs(fill))
    return big_x * float(np.abs(k.astype(np.complex128)).sum())


FFT_BOUND = 12
"""The constant of the normwise bound ``C·eps·log2(L)·‖x‖₂·‖k‖₂`` (max norm).

A computed FFT of length L has normwise relative error at most ``log2(L)·η`` with
``η = μ + γ4(√2 + μ) ≈ 3.33·eps`` (Higham, *Accuracy and Stability of Numerical
Algorithms*, Thm 24.2; twiddles accurate to ``μ ≈ eps/2``). Carried to one output by
Cauchy-Schwarz and Parseval (``(1/L)·Σ|X||K| <= ‖x‖₂·‖k‖₂``), each of the three
transforms (x, k and the inverse) adds at most ``3.33·eps·log2(L)·‖x‖₂·‖k‖₂`` and
the product of the spectra ``√2·eps·‖x‖₂·‖k‖₂``: 10 log2(L) + 1.5 <= 12 log2(L)."""


def normwise_scale(name, spec, x, k, fill=0, terms=1):
    """What to add to ``scale`` so that `assert_close` allows an FFT's normwise error.

    Zero for algorithms that promise the elementwise bound. ``x`` is the padded
    signal, so its norm is bounded by its size times its largest value unless the
    padding is zeros; ``L`` by twice the padded length plus the kernel's, per axis.
    """
    if registry()[name].accuracy != "normwise":
        return 0.0
    signal, kernel = (k, x) if spec.swap else (x, k)
    signal, kernel = signal.astype(np.complex128), kernel.astype(np.complex128)
    padded = [n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True)]
    if spec.zero_padding:
        norm_x = float(np.linalg.norm(signal.ravel()))
    else:
        biggest = max(float(np.abs(signal).max(initial=0)), abs(fill))
        norm_x = math.sqrt(math.prod(padded)) * biggest
    length = math.prod(
        2 * (p + d * (m - 1) + 1) for p, m, d in zip(padded, spec.m, spec.dilation, strict=True)
    )
    norm_k = float(np.linalg.norm(kernel.ravel()))
    return FFT_BOUND * math.log2(length) * norm_x * norm_k / (2 * terms)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(GRID)))
@pytest.mark.parametrize("name", NAMES)
def test_matches_reference(name, case, dtype):
    """Each algorithm gives the reference's dtype, shape and values (exact for ints)."""
    sx, sk, axes = GRID[case]
    rng = np.random.default_rng([case, DTYPES.index(dtype)])
    if math.prod(sx) > 3000 and dtype in ("object", "complex128", "uint8"):
        pytest.skip("large cases run for float32, float64 and int64 only (keeps the file fast)")
    x, k = operand(rng, sx, dtype), operand(rng, sk, dtype)
    ran = 0
    for i, (mode, op) in enumerate(itertools.product(MODES, OPS)):
        boundary, fill = BOUNDARIES[(i + case + DTYPES.index(dtype)) % len(BOUNDARIES)]
        conv = range(len(sx)) if axes is None else [a % len(sx) for a in np.atleast_1d(axes)]
        n, m = [sx[a] for a in conv], [sk[a] for a in conv]  # in the order origin uses
        origin = [(mi - 1) // 2 if i % 2 else -(mi // 2) for mi in m] if mode == "same" else 0
        pairs = list(zip(n, m, strict=True))
        larger = all(a >= b for a, b in pairs) or all(b >= a for a, b in pairs)
        if mode == "valid" and not larger:
            continue
        options = dict(axes=axes, boundary=boundary, fill_value=fill, origin=origin)
        spec = spec_for(op, x, k, mode, **options)
        reason = skip_reason(name, spec)
        if reason is not None:
            with pytest.raises(convolib.ArgumentError, match="cannot compute"):
                make_plan(spec, name)
            continue
        ran += 1
        got = getattr(convolib, op)(x, k, mode, method=name, **options)
        ref = getattr(convolib, op)(x, k, mode, method="reference", **options)
        assert got.dtype == ref.dtype and got.shape == ref.shape == spec.out_shape
        terms = 2 * math.prod(m)  # both results carry rounding error
        scale = magnitude(x, k, fill) + normwise_scale(name, spec, x, k, fill, terms)
        assert_close(got, ref, ref.dtype, terms=terms, scale=scale)
    if not ran:
        pytest.skip(f"{name} supports none of these specs")


NON_CONTIGUOUS = [
    ("sliced", lambda a: np.repeat(np.repeat(a, 2, 0), 3, 1)[::2, ::3]),
    ("reversed", lambda a: a[::-1, ::-1].copy()[::-1, ::-1]),
    ("fortran", np.asfortranarray),
    ("big-endian", lambda a: a.astype(a.dtype.newbyteorder(">"))),
    ("column-view", lambda a: np.concatenate([a, a], axis=1)[:, : a.shape[1]]),
]


@pytest.mark.parametrize("dtype", ["float64", "complex128", "int64"])
@pytest.mark.parametrize("layout", [n for n, _ in NON_CONTIGUOUS])
@pytest.mark.parametrize("name", NAMES)
def test_layouts_give_the_contiguous_result(name, layout, dtype):
    """Strided, reversed, Fortran, big-endian inputs equal a contiguous native copy."""
    make = dict(NON_CONTIGUOUS)[layout]
    rng = np.random.default_rng([len(layout), len(dtype)])
    x0, k0 = operand(rng, (7, 9), dtype), operand(rng, (3, 4), dtype)
    x, k = make(x0), make(k0)
    assert np.array_equal(x, x0) and np.array_equal(k, k0)
    x_before, k_before = x.copy(), k.copy()
    for op, mode, boundary in [
        ("convolve", "full", "constant"),
        ("correlate", "same", "reflect"),
        ("correlate", "valid", "constant"),
        ("convolve", "same", "wrap"),
    ]:
        spec = spec_for(op, x, k, mode, boundary=boundary)
        if skip_reason(name, spec) is not None:
            continue
        got = getattr(convolib, op)(x, k, mode, boundary=boundary, method=name)
        ref = getattr(convolib, op)(x0, k0, mode, boundary=boundary, method="reference")
        scale = magnitude(x0, k0) + normwise_scale(name, spec, x0, k0, terms=24)
        assert_close(got, ref, ref.dtype, terms=24, scale=scale)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(k, k_before)
    assert x.dtype == x_before.dtype  # inputs are never modified


@pytest.mark.parametrize("name", NAMES)
def test_bind_reverses_the_kernel_when_asked(name):
    """``bind(spec, workers, reverse=True)`` takes the kernel not yet reversed (as a
    convolution's plan passes it): the same result, bit for bit, as the runner given
    each kernel batch reversed along the convolved axes."""
    rng = np.random.default_rng(3)
    x, k = operand(rng, (2, 9, 8), "float64"), operand(rng, (2, 3, 4), "float64")
    spec = spec_for("correlate", x, k, "same", axes=(1, 2))
    if skip_reason(name, spec) is not None:
        pytest.skip(skip_reason(name, spec))
    algorithm = registry()[name]
    expected = algorithm.bind(spec, 2)(x, np.ascontiguousarray(k[:, ::-1, ::-1]))
    assert np.array_equal(algorithm.bind(spec, 2, reverse=True)(x, k), expected)
    assert not np.array_equal(algorithm.bind(spec, 2)(x, k), expected)


@pytest.mark.parametrize("name", NAMES)
def test_batch_views_with_zero_strides(name):
    """Broadcast views (zero strides) as batched operands along ``axes``."""
    rng = np.random.default_rng(7)
    row = operand(rng, (1, 12), "float64")
    x = np.broadcast_to(row, (4, 12))  # four identical rows, stride 0
    k = operand(rng, (4, 3), "float64")
    spec = spec_for("convolve", x, k, "same", axes=1)
    if skip_reason(name, spec) is not None:
        pytest.skip(skip_reason(name, spec))
    got = convolib.convolve(x, k, "same", axes=1, method=name)
    for b in range(4):
        expected = ss.convolve(row[0], k[b], "same", method="direct")
        scale = np.abs(expected).max() + normwise_scale(name, spec, x, k, terms=3)
        assert_close(got[b], expected, np.float64, terms=3, scale=scale)


# --- stride and dilation (spec layer only; the public API does not expose them yet) ----


def dilate(k, dilation):
    """``k`` with ``d - 1`` zeros inserted between neighbouring taps on every axis."""
    shape = tuple(d * (m - 1) + 1 for m, d in zip(k.shape, dilation, strict=True))
    out = np.zeros(shape, k.dtype)
    out[tuple(slice(None, None, d) for d in dilation)] = k
    return out


STRIDE_CASES = [
    # (op, x shape, k shape, mode, boundary, stride, dilation, origin)
    ("correlate", (13,), (3,), "full", "constant", (2,), (1,), 0),
    ("convolve", (13,), (4,), "same", "reflect", (3,), (2,), (1,)),
    ("correlate", (12,), (4,), "same", "wrap", (2,), (3,), (-2,)),
    ("convolve", (14,), (3,), "valid", "constant", (4,), (3,), 0),
    ("correlate", (9, 11), (3, 2), "same", "symmetric", (2, 3), (2, 1), (0, -1)),
    ("convolve", (10, 8), (2, 3), "full", "edge", (1, 2), (3, 2), 0),
    ("correlate", (10, 9), (3, 3), "valid", "constant", (3, 2), (2, 2), 0),
    ("convolve", (8, 7, 9), (3, 2, 2), "same", "constant", (2, 1, 3), (1, 2, 2), (1, 0, -1)),
    ("correlate", (6, 7, 8), (2, 2, 3), "full", "wrap", (2, 2, 2), (2, 1, 3), 0),
    ("correlate", (5003,), (5,), "same", "constant", (2,), (3,), 0),  # several column blocks
]
STRIDE_IDS = [f"{c[0]}-{len(c[1])}d-{c[3]}-{c[4]}-s{c[5]}-d{c[6]}" for c in STRIDE_CASES]


def padded_oracle(op, x, k, mode, boundary, stride, dilation, origin):
    """Independent oracle: np.pad, scipy's valid sum with the dilated kernel, subsample.

    With extent e = d*(m-1) + 1 (the dilated kernel's length) the padding is e - 1 on
    both sides in full mode, lo = e//2 + origin and e - 1 - lo in same mode, and none
    in valid mode; stride s keeps every s-th output of the stride-1 result.
    """
    kd = dilate(k, dilation)
    origins = origin if isinstance(origin, tuple) else (origin,) * x.ndim
    pads = []
    for e, o in zip(kd.shape, origins, strict=True):
        lo = {"full": e - 1, "same": e // 2 + o, "valid": 0}[mode]
        hi = {"full": e - 1, "same": e - 1 - lo, "valid": 0}[mode]
        pads.append((lo, hi))
    padded = np.pad(x, pads, mode=boundary)
    f = ss.convolve if op == "convolve" else ss.correlate
    full_stride = f(padded, kd, "valid", method="direct")
    return full_stride[tuple(slice(None, None, s) for s in stride)]


@pytest.mark.parametrize("dtype", ["float64", "int64"])
@pytest.mark.parametrize("case", STRIDE_CASES, ids=STRIDE_IDS)
@pytest.mark.parametrize("name", NAMES)
def test_stride_and_dilation_against_padding_oracle(name, case, dtype):
    """Strided, dilated results against np.pad + scipy.signal + subsampling."""
    op, sx, sk, mode, boundary, stride, dilation, origin = case
    rng = np.random.default_rng([len(sx), sum(sx), sum(sk)])
    x, k = operand(rng, sx, dtype), operand(rng, sk, dtype)
    options = dict(boundary=boundary, stride=stride, dilation=dilation, origin=origin)
    spec = spec_for(op, x, k, mode, **options)
    if skip_reason(name, spec) is not None:
        pytest.skip(skip_reason(name, spec))
    got = run(name, op, x, k, mode, **options)
    expected = padded_oracle(op, x, k, mode, boundary, stride, dilation, origin)
    assert got.shape == expected.shape == spec.out_shape
    scale = magnitude(x, k) + normwise_scale(name, spec, x, k, terms=k.size)
    assert_close(got, expected, x.dtype, terms=k.size, scale=scale)


@pytest.mark.parametrize("case", STRIDE_CASES, ids=STRIDE_IDS)
@pytest.mark.parametrize("name", NAMES)
def test_stride_is_subsampling_and_dilation_is_a_spread_kernel(name, case):
    """Identities: stride s == stride-1 result[::s]; dilation d == kernel with zeros.

    The padding stays equal: the mode pads by the kernel's extent d*(m-1) + 1, which is
    exactly the length of the zero-spread kernel, and stride does not change padding.
    """
    op, sx, sk, mode, boundary, stride, dilation, origin = case
    rng = np.random.default_rng([len(sx), sum(sk)])
    x, k = operand(rng, sx, "complex128"), operand(rng, sk, "complex128")
    options = dict(boundary=boundary, origin=origin)
    strided = spec_for(op, x, k, mode, stride=stride, dilation=dilation, **options)
    if skip_reason(name, strided) is not None:
        pytest.skip(skip_reason(name, strided))
    kd = dilate(k, dilation)
    base = run("reference", op, x, kd, mode, **options)
    assert spec_for(op, x, kd, mode, **options).pads == strided.pads
    got = run(name, op, x, k, mode, stride=stride, dilation=dilation, **options)
    expected = base[tuple(slice(None, None, s) for s in stride)]
    scale = magnitude(x, k) + normwise_scale(name, strided, x, k, terms=2 * k.size)
    assert_close(got, expected, np.complex128, terms=2 * k.size, scale=scale)
    # Each factor alone, too.
    only_stride = run(name, op, x, kd, mode, stride=stride, **options)
    assert_close(only_stride, expected, np.complex128, terms=2 * k.size, scale=scale)
    only_dilation = run(name, op, x, k, mode, dilation=dilation, **options)
    assert_close(only_dilation, base, np.complex128, terms=2 * k.size, scale=scale)


# --- exact integers --------------------------------------------------------------------


def to_exact(a):
    """An object array of Python ints (or Fractions) holding the values of ``a``."""
    out = np.empty(a.shape, object)
    for i in np.ndindex(*a.shape):
        out[i] = a[i] if isinstance(a[i], Fraction) else int(a[i])
    return out


def exact_sum(padded, kernel):
    """The valid correlation of two object arrays by a plain loop of Python ints."""
    out_shape = tuple(p - m + 1 for p, m in zip(padded.shape, kernel.shape, strict=True))
    out = np.empty(out_shape, object)
    for i in np.ndindex(*out_shape):
        total = 0
        for j in np.ndindex(*kernel.shape):
            total += padded[tuple(a + b for a, b in zip(i, j, strict=True))] * kernel[j]
        out[i] = total
    return out


def exact_oracle(op, x, k, mode, boundary="constant"):
    """op(x, k, mode) in exact arithmetic, from the definitions (no library sums)."""
    xo, ko = x.astype(object), k.astype(object)
    swap = mode == "valid" and any(n < m for n, m in zip(x.shape, k.shape, strict=True))
    if op == "convolve":
        if swap:  # convolution commutes
            xo, ko = ko, xo
        ko = ko[(slice(None, None, -1),) * ko.ndim]
    elif swap:  # scipy: correlate(x, k) = convolve(x, k reversed) -> swapped convolve
        xo, ko = ko[(slice(None, None, -1),) * ko.ndim], xo[(slice(None, None, -1),) * xo.ndim]
    pads = []
    for m in ko.shape:
        pads.append({"full": (m - 1, m - 1), "same": (m // 2, m - 1 - m // 2)}.get(mode, (0, 0)))
    if boundary == "constant":
        padded = np.pad(xo, pads, mode="constant", constant_values=0)
    else:
        padded = np.pad(xo, pads, mode=boundary)
    return exact_sum(to_exact(padded), to_exact(ko))


def big_ints(rng, shape, center, spread, dtype):
    """Integers ``center +- spread`` as ``dtype``.

    Built from Python ints, so an object array holds Python ints only.
    """
    values = rng.integers(-spread, spread, shape, endpoint=True)
    out = np.empty(shape, object)
    for i in np.ndindex(*shape):
        out[i] = center + int(values[i])
    return out if dtype == "object" else out.astype(dtype)


EXACT_CASES = [
    # (x shape, k shape, mode, boundary)
    ((6,), (3,), "full", "constant"),
    ((7,), (2,), "same", "reflect"),
    ((2,), (5,), "valid", "constant"),
    ((4, 5), (2, 2), "full", "constant"),
    ((5, 4), (2, 3), "same", "wrap"),
    ((3, 4), (3, 2), "valid", "constant"),
    ((3, 3, 4), (2, 1, 2), "same", "symmetric"),
]


@pytest.mark.parametrize("dtype", ["int64", "object"])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{len(c[0])}d-{c[2]}-{c[3]}")
@pytest.mark.parametrize("name", NAMES)
def test_exact_integers_beyond_float64(name, case, op, dtype):
    """Values near 2**40 times values near +-2**20: exact, where float64 would round."""
    sx, sk, mode, boundary = case
    rng = np.random.default_rng([len(sx), sum(sk), len(op)])
    x = big_ints(rng, sx, 2**40, 1000, dtype)
    # One sign per kernel: mixed signs would cancel the 2**60 terms down to float64's range.
    k = big_ints(rng, sk, 2**20, 500, dtype) * (-1 if op == "correlate" else 1)
    k = k.astype(x.dtype)
    spec = spec_for(op, x, k, mode, boundary=boundary)
    if skip_reason(name, spec) is not None:
        pytest.skip(skip_reason(name, spec))
    got = getattr(convolib, op)(x, k, mode, boundary=boundary, method=name)
    expected = exact_oracle(op, x, k, mode, boundary)
    assert got.dtype == np.dtype(dtype if dtype == "object" else "int64")
    assert got.shape == expected.shape
    assert [int(v) for v in got.ravel()] == [int(v) for v in expected.ravel()]
    rounded = [int(v) for v in np.asarray(expected, np.float64).ravel()]
    assert rounded != [int(v) for v in expected.ravel()], "values too small to test exactness"


@pytest.mark.parametrize("name", NAMES)
def test_uint64_inputs_are_exact(name):
    """uint64 values near 2**60 (above int64's reach of float64) with small kernels."""
    rng = np.random.default_rng(64)
    x = big_ints(rng, (9,), 2**60, 10**6, "uint64")
    k = big_ints(rng, (2,), 2, 1, "uint64")  # 1..3: max|x| * sum|k| < 2**63
    for op, mode in itertools.product(OPS, MODES):
        spec = spec_for(op, x, k, mode)
        if skip_reason(name, spec) is not None:
            continue
        got = getattr(convolib, op)(x, k, mode, method=name)
        assert got.dtype == np.int64
        assert got.tolist() == exact_oracle(op, x, k, mode).tolist(), (op, mode)


@pytest.mark.parametrize("name", NAMES)
def test_results_beyond_int64_raise_instead_of_wrapping(name):
    """An exact result that cannot fit int64 raises ExactOverflowError, never wraps."""
    cases = [
        (np.array([2**63 + 5, 1], np.uint64), np.array([1], np.uint64)),
        (np.array([2**62, 2**62], np.int64), np.array([1, 1], np.int64)),
        (np.array([-(2**62)] * 3, np.int64), np.array([1, 1, 1], np.int8)),
    ]
    for x, k in cases:
        if skip_reason(name, spec_for("convolve", x, k, "full")) is not None:
            continue
        with pytest.raises(convolib.ExactOverflowError, match="object"):
            convolib.convolve(x, k, method=name)


@pytest.mark.parametrize("name", NAMES)
def test_representable_results_are_returned_even_if_partial_bounds_are_not(name):
    """Only a result outside int64 raises: huge inputs whose exact sums fit come back exact.

    The documented rule is "if the exact result cannot be represented, raise", so the
    cancelling sums below (whose magnitude bound max|x| * sum|k| exceeds 2**63) must not.
    """
    cases = [
        (np.array([2**62, 2**62, 5], np.int64), np.array([1, -1], np.int64), "full"),
        (np.array([2**63 + 1, 2**63 + 4, 2**63], np.uint64), np.array([1, -1], np.int64), "valid"),
        (np.array([2**63 + 1, 2**63 + 4, 2**63], np.uint64), np.array([-1, 1], np.int8), "valid"),
    ]
    for (x, k, mode), op in itertools.product(cases, OPS):
        if skip_reason(name, spec_for(op, x, k, mode)) is not None:
            continue
        got = getattr(convolib, op)(x, k, mode, method=name)
        assert got.dtype == np.int64
        assert got.tolist() == exact_oracle(op, x, k, mode).tolist(), (op, x, k, mode)


@pytest.mark.parametrize("name", NAMES)
def test_object_arrays_are_exact(name):
    """Python ints beyond int64 and Fractions, in exact arithmetic."""
    x = np.array([2**70 + 1, -(2**65), 3, 2**64 - 1], dtype=object)
    k = np.array([2**10 + 1, -1, 7], dtype=object)
    fx = np.array([Fraction(1, 3), Fraction(-2, 7), Fraction(5, 2), 1], dtype=object)
    fk = np.array([Fraction(1, 6), Fraction(3, 5)], dtype=object)
    for (a, b), op, mode in itertools.product([(x, k), (fx, fk), (x, fk)], OPS, MODES):
        spec = spec_for(op, a, b, mode)
        if skip_reason(name, spec) is not None:
            continue
        got = getattr(convolib, op)(a, b, mode, method=name)
        assert got.dtype == object
        assert got.tolist() == exact_oracle(op, a, b, mode).tolist(), (op, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_non_finite_values_stay_in_their_windows(name, mode):
    """NaN and inf reach only the outputs whose window holds them; zero padding adds no terms.

    With an infinite kernel tap, outputs where that tap lies on the (zero) padding stay
    finite: the padding contributes absent terms, not 0 * inf = NaN. Transforms spread
    them everywhere, so ``auto`` never runs them on such values (see test_fft.py).
    """
    if not registry()[name].local_nonfinite:
        pytest.skip(f"{name} spreads NaN and inf (auto falls back to the direct sum)")
    x = np.arange(1.0, 13.0).reshape(3, 4)
    x[0, 0], x[2, 3] = np.nan, np.inf
    k = np.array([[0.5, -1.0], [2.0, 0.25]])
    k_inf = np.array([[0.5, np.inf], [2.0, 0.25]])
    clean_x = np.arange(1.0, 13.0).reshape(3, 4)
    for op, (a, b) in itertools.product(OPS, [(x, k), (clean_x, k_inf)]):
        spec = spec_for(op, a, b, mode)
        if skip_reason(name, spec) is not None:
            continue
        got = getattr(convolib, op)(a, b, mode, method=name)
        f = ss.convolve if op == "convolve" else ss.correlate
        bad_a, bad_b = (~np.isfinite(a)).astype(float), (~np.isfinite(b)).astype(float)
        touched = (f(bad_a, np.ones_like(b), mode) + f(np.ones_like(a), bad_b, mode)) > 0.5
        assert np.array_equal(~np.isfinite(got), touched), (op, mode)
        clean_a, clean_b = np.where(np.isfinite(a), a, 0.0), np.where(np.isfinite(b), b, 0.0)
        expected = f(clean_a, clean_b, mode, method="direct")
        assert_close(got[~touched], expected[~touched], np.float64, terms=4, scale=40.0)
