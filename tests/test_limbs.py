"""The limbs algorithm: exact Python-int sums through int64 limb planes.

Oracles: plain Python-int loops written here, ``numpy.convolve`` / ``numpy.correlate``
on object arrays (Python arithmetic), and the reference algorithm. Values are chosen
to reach every layout (whole operands, 32-, 16- and 8-bit limbs), both signs, zeros,
limb boundaries (``2**32 - 1``, ``-2**63``) and sums right at the int64 limit.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib.algorithms.limbs import SUM_LIMIT, Values, choose_layout
from convolib.planner import make_plan
from convolib.spec import build_spec


def objects(values) -> np.ndarray:
    """A 1-D object array holding exactly these Python objects."""
    values = list(values)
    out = np.empty(len(values), object)
    out[:] = values
    return out


def full_convolution(x: list, k: list) -> list:
    """``sum_j x[i - j] k[j]`` by a plain loop of Python numbers."""
    out = [0] * (len(x) + len(k) - 1)
    for i, a in enumerate(x):
        for j, b in enumerate(k):
            out[i + j] += a * b
    return out


def limbs(op, x, k, mode="full", **options):
    return getattr(convolib, op)(x, k, mode, method="limbs", **options)


# ------------------------------------------------------------------ every layout, by hand

# (x values, k values, expected (x width, k width, x limbs, k limbs)); 0 = whole.
# Bounds written out: a whole operand counts its largest |value| (x) or sum |k| (k);
# a split one 2**w per limb (x) or taps * 2**w (k); the product, times the number of
# limb pairs adding into one digit, must stay within 2**62.
LAYOUTS = [
    # 1000 * 3 fits: nothing is split
    ([1000, -7, 0], [1, 1, 1], (0, 0, 1, 1)),
    # 2**63 - 1 cannot stay whole next to sum |k| = 3: 32-bit limbs, 2**32 * 3 fits
    ([2**63 - 1, -(2**63)], [1, -1, 1], (32, 0, 2, 1)),
    # sum |k| = 2**30 is the largest that 32-bit limbs allow: 2**32 * 2**30 = 2**62
    ([2**100 - 1, 5], [2**29, 2**29], (32, 0, 4, 1)),
    # one more and 16-bit limbs are needed: 2**16 * (2**30 + 1) fits
    ([2**100 - 1, 5], [2**29, 2**29 + 1], (16, 0, 7, 1)),
    # the roles reversed: a small signal (3 * 2 taps * 2**32 fits) and a huge kernel
    ([3, -3], [2**90, 1], (0, 32, 1, 3)),
    # sum |k| just over 2**50: 2**16 * sum is too much, 2**8 * sum fits; 13 products beat
    # 16-bit limbs on both sides (7 * 4); x takes 101 bits with its sign
    ([2**100 - 1, -5], [2**50, 1, -3], (8, 0, 13, 1)),
    # the roles reversed again: 2**50 * 3 taps * 2**16 is too much, * 2**8 fits; 13
    # products beat 16-bit limbs on both sides (4 * 7)
    ([2**50, 1], [2**100, 1, 1], (0, 8, 1, 13)),
    # both huge: 16-bit limbs on both sides, min(7, 7) * 2**16 * 2 * 2**16 fits
    ([2**100, -1], [2**100 + 1, 7], (16, 16, 7, 7)),
]


@pytest.mark.parametrize(("x", "k", "layout"), LAYOUTS)
def test_layout_is_the_widest_that_fits_and_results_are_exact(x, k, layout):
    xi, ki = Values.of(x), Values.of(k)
    got = choose_layout(xi, ki, sum(map(abs, k)), len(k))
    assert (got.x_width, got.k_width, got.x_limbs, got.k_limbs) == layout
    assert limbs("convolve", objects(x), objects(k)).tolist() == full_convolution(x, k)


def test_eight_bit_limbs_when_sixteen_would_overflow():
    # Both operands of 201 bits, 2**30 taps: 16-bit limbs give 13 * 2**32 * 2**30 > 2**62.
    x, k = Values.of([2**200]), Values.of([2**200])
    layout = choose_layout(x, k, 2**230, 2**30)
    assert (layout.x_width, layout.k_width) == (8, 8)
    assert min(layout.x_limbs, layout.k_limbs) * 2**16 * 2**30 <= SUM_LIMIT


def test_sums_at_the_int64_limit_are_exact():
    """Every limb at its largest and the kernel sum at the bound: no partial sum wraps."""
    x = [2**128 - 1] * 50 + [-(2**128)] * 50  # 32-bit limbs all ones / top limb -2**31
    k = [2**25] * 32  # sum = 2**30: 2**32 * 2**30 = 2**62
    assert choose_layout(Values.of(x), Values.of(k), 2**30, 32).x_width == 32
    got = limbs("convolve", objects(x), objects(k))
    assert got.tolist() == full_convolution(x, k)
    whole = [2**62 // 3] * 9  # whole operands: 3 * (2**62 // 3) <= 2**62
    assert limbs("convolve", objects(whole), objects([1, 1, 1])).tolist() == full_convolution(
        whole, [1, 1, 1]
    )


def test_int64_extremes_and_zeros():
    x = [-(2**63), 2**63 - 1, 0, -1, 1, 0, 2**64, -(2**64)]
    k = [-1, 0, 2**63, -(2**63)]
    for op, mode in itertools.product(("convolve", "correlate"), ("full", "same", "valid")):
        expected = getattr(np, op)(objects(x), objects(k), mode)
        assert limbs(op, objects(x), objects(k), mode).tolist() == expected.tolist(), (op, mode)
    assert limbs("convolve", objects([0, 0]), objects([0])).tolist() == [0, 0]


# ------------------------------------------------------------------------- against oracles

HUGE = st.one_of(
    st.integers(-(2**40), 2**40),
    st.integers(-(2**300), 2**300),
    st.sampled_from([0, 1, -1, 2**32 - 1, 2**32, -(2**32), 2**63 - 1, -(2**63), 2**64 - 1]),
)


@given(
    x=st.lists(HUGE, min_size=1, max_size=40),
    k=st.lists(HUGE, min_size=1, max_size=12),
    op=st.sampled_from(["convolve", "correlate"]),
)
def test_python_ints_match_numpy_on_objects(x, k, op):
    got = limbs(op, objects(x), objects(k))
    assert got.dtype == object
    assert got.tolist() == getattr(np, op)(objects(x), objects(k), "full").tolist()


@given(
    x=st.lists(st.integers(-(2**80), 2**80), min_size=1, max_size=30),
    k=st.lists(st.integers(-5, 5), min_size=1, max_size=30),
    mode=st.sampled_from(["full", "same", "valid"]),
)
def test_big_signals_small_kernels_match_numpy(x, k, mode):
    if mode == "valid" and len(k) > len(x):
        x, k = k, x
    expected = np.convolve(objects(x), objects(k), mode)
    if mode == "same":  # numpy centres on the longer operand; convolib on x, as scipy
        expected = objects(full_convolution(x, k))[(len(k) - 1) // 2 :][: len(x)]
    assert limbs("convolve", objects(x), objects(k), mode).tolist() == expected.tolist()


FRACTIONS = st.one_of(
    HUGE,
    st.fractions(max_denominator=10**6).map(lambda f: f * 2**70),
)


@given(
    x=st.lists(FRACTIONS, min_size=1, max_size=15),
    k=st.lists(FRACTIONS, min_size=1, max_size=6),
)
def test_fractions_and_ints_are_exact(x, k):
    got = limbs("convolve", objects(x), objects(k))
    expected = full_convolution(x, k)
    assert got.tolist() == expected
    assert all(isinstance(v, int | Fraction) for v in got)


def test_the_dice_chain_matches_numpy():
    """The benchmark's case: 30 twenty-sided dice, one convolution per die."""
    die = np.ones(20, dtype=object)
    ours, theirs = die, die
    for _ in range(29):
        ours, theirs = limbs("convolve", ours, die), np.convolve(theirs, die)
    assert ours.tolist() == theirs.tolist()
    assert sum(ours) == 20**30


N_D_CASES = [
    # (x shape, k shape, mode, options)
    ((5, 7), (2, 3), "full", {}),
    ((6, 5), (3, 2), "same", {"boundary": "wrap"}),
    ((6, 6), (2, 2), "valid", {"stride": 2, "dilation": (1, 2)}),
    ((3, 4, 5), (2, 1, 3), "same", {"boundary": "reflect"}),
    ((2, 3, 9), (2, 1, 4), "full", {"axes": -1}),  # batches broadcast against batches
    ((4, 8), (3, 3), "same", {"boundary": "constant", "fill_value": 2**70 + 3}),
]


@pytest.mark.parametrize(("sx", "sk", "mode", "options"), N_D_CASES)
@pytest.mark.parametrize("op", ["convolve", "correlate"])
def test_n_d_batches_boundaries_stride_match_reference(sx, sk, mode, options, op):
    rng = np.random.default_rng([len(sx), sum(sk)])
    x = objects(int(v) * 2**100 + int(w) for v, w in rng.integers(-99, 99, (np.prod(sx), 2)))
    k = objects(int(v) * 2**40 - 1 for v in rng.integers(-99, 99, np.prod(sk)))
    x, k = x.reshape(sx), k.reshape(sk)
    spec = build_spec(op, x, k, mode, **options)  # stride and dilation: spec layer only
    got = make_plan(spec, "limbs")(x, k)
    expected = make_plan(spec, "reference")(x, k)
    assert got.shape == expected.shape
    assert got.tolist() == expected.tolist()


def test_objects_without_an_integer_form_get_the_plain_sum():
    x = objects([0.5, 2**70, 3])
    k = objects([1.25, -1])
    expected = convolib.convolve(x, k, method="reference")
    assert limbs("convolve", x, k).tolist() == expected.tolist()
    assert isinstance(limbs("convolve", x, k)[0], float)


def test_bools_and_numpy_integers_as_objects():
    x = objects([True, np.int64(-5), np.uint64(2**64 - 1), 2**80])
    k = objects([np.int8(3), False, 1])
    expected = full_convolution([1, -5, 2**64 - 1, 2**80], [3, 0, 1])
    assert limbs("convolve", x, k).tolist() == expected
