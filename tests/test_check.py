"""`convolib.check`: wrong claims are caught, and the common mistake behind them named.

True values come from scipy.signal / scipy.ndimage / numpy, never from the seed
posts; the claimed numbers are either the seed's (wrong) worked examples or made by
an oracle that commits one known mistake (correlating instead of convolving, another
mode, no padding, swapped operands, ndimage's centring, another boundary rule).
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib.check import (
    KERNEL_FLIPPED,
    KERNEL_NOT_FLIPPED,
    OFF_BY_ONE,
    OPERANDS_SWAPPED,
    PADDING_FORGOTTEN,
    WRONG_BOUNDARY,
    WRONG_MODE,
    check,
)
from convolib.errors import ArgumentError, ArgumentTypeError

SCIPY = {"convolve": scipy.signal.convolve, "correlate": scipy.signal.correlate}
A = np.arange(1, 10).reshape(3, 3)  # the seed's 3x3 input [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def triples(claimed, true):
    """(index, claimed, true) for every differing entry of two same-shape arrays."""
    claimed, true = np.asarray(claimed), np.asarray(true)
    return [
        (i, claimed[i].item(), true[i].item())
        for i in np.ndindex(*true.shape)
        if claimed[i] != true[i]
    ]


# --------------------------------------------------------------- the seed's worked numbers


@pytest.mark.parametrize(
    ("what", "k", "claimed", "op"),
    [
        # "F.conv2d(x, h)" with h = [[1, 2], [3, 4]] "gives [[20, 26], [38, 44]]";
        # conv2d slides h unflipped: a correlation.
        ("conv2d(x, h)", [[1, 2], [3, 4]], [[[20.0, 26.0], [38.0, 44.0]]], "correlate"),
        # The worked example with B = [[2, 3], [5, 6]]: "1x2+2x3+4x5+5x6 = 20".
        ("A with B", [[2, 3], [5, 6]], [[20, 26], [38, 44]], "correlate"),
        # "F.conv2d(x, h.flip(dims=[2, 3]))" "gives [[13, 20], [29, 36]]": a convolution.
        ("conv2d(x, flipped h)", [[1, 2], [3, 4]], [[[13.0, 20.0], [29.0, 36.0]]], "convolve"),
        # The hand-computed cross-correlation [[25, 31], [73, 79]] and convolution
        # [[20, 26], [38, 44]].
        ("hand correlation", [[1, 2], [3, 4]], [[25, 31], [73, 79]], "correlate"),
        ("hand convolution", [[1, 2], [3, 4]], [[20, 26], [38, 44]], "convolve"),
    ],
)
def test_seed_claims_are_wrong_entry_by_entry(what, k, claimed, op):
    true = (
        scipy.signal.correlate2d(A, k, "valid")
        if op == "correlate"
        else (scipy.signal.convolve2d(A, k, "valid"))
    )
    report = check(A, k, claimed, op, "valid")
    assert not report.ok, what
    np.testing.assert_array_equal(report.expected, true)
    assert report.wrong == triples(np.asarray(claimed).reshape(2, 2), true)
    # These numbers are arithmetic errors, not one of the common convention mistakes:
    # no other operation, mode, origin or operand order gives them (checked against
    # the oracles here, independently of check's own search).
    flat = np.asarray(claimed).reshape(2, 2)
    for fn in (scipy.signal.correlate, scipy.signal.convolve):
        for a, b in ((A, np.asarray(k)), (np.asarray(k), A)):
            for mode in ("full", "same", "valid"):
                result = fn(a, b, mode)
                assert result.shape != flat.shape or not np.array_equal(result, flat)
    assert report.diagnosis is None
    text = str(report)
    assert "diagnosis: none found" in text
    assert f"first wrong entry: y[0,0] is {true[0, 0]}" in text


def test_seed_sobel_claim_has_the_wrong_shape():
    k = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    claimed = [[[0.0, -3.0], [-12.0, -15.0]]]  # the seed's "1x2x2" output
    report = check(A, k, claimed, "correlate", "valid")
    true = scipy.signal.correlate2d(A, k, "valid")  # a 3x3 kernel fits once: shape (1, 1)
    assert true.shape == (1, 1)
    assert not report.ok
    assert report.claimed.shape == (2, 2) and report.expected.shape == (1, 1)
    assert report.wrong == [
        ((0, 0), 0.0, true[0, 0]),
        ((0, 1), -3.0, None),
        ((1, 0), -12.0, None),
        ((1, 1), -15.0, None),
    ]
    assert "WRONG SHAPE: claimed (2, 2), true (1, 1)" in str(report)


def test_a_correct_claim_passes():
    report = check(A, [[1, 2], [3, 4]], [[37, 47], [67, 77]], "correlate", "valid")
    assert report.ok and report.wrong == [] and report.diagnosis is None
    assert "OK: all 4 entries agree" in str(report)


def test_torch_conv2d_is_a_correlation():
    torch = pytest.importorskip("torch")
    x = torch.tensor(A, dtype=torch.float64).reshape(1, 1, 3, 3)
    h = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64).reshape(1, 1, 2, 2)
    claimed = torch.nn.functional.conv2d(x, h).numpy()
    assert check(A, [[1, 2], [3, 4]], claimed, "correlate").ok
    report = check(A, [[1, 2], [3, 4]], claimed, "convolve")
    assert report.diagnosis.mistakes == (KERNEL_NOT_FLIPPED,)


# --------------------------------------------------------------- synthetic mistakes

RNG = np.random.default_rng(2024)
CASES = [
    (RNG.integers(-9, 10, (9,)), RNG.integers(-9, 10, (4,))),
    (RNG.integers(-9, 10, (5, 6)), RNG.integers(-9, 10, (3, 2))),
    (RNG.integers(-9, 10, (4, 3, 5)), RNG.integers(-9, 10, (2, 2, 3))),
]


@pytest.mark.parametrize(("x", "k"), CASES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_missing_flip_is_diagnosed(x, k, mode):
    report = check(x, k, scipy.signal.correlate(x, k, mode), "convolve", mode)
    assert not report.ok
    assert report.diagnosis.mistakes == (KERNEL_NOT_FLIPPED,)
    assert report.diagnosis.call == f"correlate(x, k, mode={mode!r})"
    assert report.diagnosis.steps[0].startswith("step 'kernel as applied'")
    assert "reverses the kernel on every axis" in report.diagnosis.steps[0]
    wrong = triples(scipy.signal.correlate(x, k, mode), scipy.signal.convolve(x, k, mode))
    assert report.wrong == wrong


@pytest.mark.parametrize(("x", "k"), CASES)
def test_unwanted_flip_is_diagnosed(x, k):
    report = check(x, k, scipy.signal.convolve(x, k, "same"), "correlate", "same")
    assert report.diagnosis.mistakes == (KERNEL_FLIPPED,)
    assert report.diagnosis.call == "convolve(x, k, mode='same')"


@pytest.mark.parametrize(("x", "k"), CASES)
def test_forgotten_padding_and_wrong_mode(x, k):
    valid = scipy.signal.correlate(x, k, "valid")
    report = check(x, k, valid, "correlate", "same")
    assert report.diagnosis.mistakes == (PADDING_FORGOTTEN,)
    assert report.claimed.shape != report.expected.shape
    assert report.diagnosis.steps[0].startswith("step 'padding and output shape'")
    full = scipy.signal.correlate(x, k, "full")
    assert check(x, k, full, "correlate", "valid").diagnosis.mistakes == (WRONG_MODE,)


@pytest.mark.parametrize(("x", "k"), CASES)
def test_swapped_operands(x, k):
    claimed = scipy.signal.correlate(k, x, "full")
    assert not np.array_equal(claimed, scipy.signal.correlate(x, k, "full"))
    report = check(x, k, claimed, "correlate", "full")
    assert report.diagnosis.mistakes == (OPERANDS_SWAPPED,)
    assert report.diagnosis.call == "correlate(k, x, mode='full')"


def test_ndimage_centring_is_off_by_one_for_even_kernels():
    # scipy.ndimage centres an even kernel one cell away from scipy.signal's `same`.
    x = np.arange(1.0, 9.0)
    k = np.array([1.0, 2.0, 4.0, 8.0])
    report = check(x, k, ndi.convolve(x, k, mode="constant"), "convolve", "same")
    assert report.diagnosis.mistakes == (OFF_BY_ONE,)
    assert report.diagnosis.call == "convolve(x, k, mode='same', origin=-1)"
    assert "one cell right" in report.diagnosis.steps[0]
    x2 = RNG.integers(-9, 10, (5, 6))
    k2 = RNG.integers(-9, 10, (2, 4))
    report = check(x2, k2, ndi.convolve(x2, k2, mode="constant"), "convolve", "same")
    assert report.diagnosis.mistakes == (OFF_BY_ONE,)
    assert report.diagnosis.call == "convolve(x, k, mode='same', origin=(-1, -1))"


def test_off_by_one_from_the_full_result():
    # By hand: `same` for correlation takes full[m//2 + (m-1)//2 ... ] per scipy; a
    # window one cell later is the same slice shifted by one.
    x = RNG.integers(-9, 10, (8,))
    k = RNG.integers(-9, 10, (3,))
    full = scipy.signal.correlate(x, k, "full")
    start = (len(full) - len(x)) // 2
    assert np.array_equal(full[start : start + len(x)], scipy.signal.correlate(x, k, "same"))
    shifted = full[start + 1 : start + 1 + len(x)]
    report = check(x, k, shifted, "correlate", "same")
    assert report.diagnosis.mistakes == (OFF_BY_ONE,)
    assert report.diagnosis.call == "correlate(x, k, mode='same', origin=-1)"


def test_wrong_boundary_rule():
    x = RNG.integers(-9, 10, (5, 6))
    k = RNG.integers(-9, 10, (3, 3))
    zero_padded = scipy.signal.correlate(x, k, "same")
    report = check(x, k, zero_padded, "correlate", "same", boundary="reflect")
    assert report.diagnosis.mistakes == (WRONG_BOUNDARY,)
    assert "'reflect'" in report.diagnosis.steps[0] and "'constant'" in report.diagnosis.steps[0]
    # ndimage's "reflect" is NumPy's "symmetric" (edge repeated). With one cell of
    # padding it equals "edge" too (a | a b c), so both explain the claim ...
    claimed = ndi.correlate(x, k, mode="reflect")
    report = check(x, k, claimed, "correlate", "same", boundary="reflect")
    calls = [d.call for d in (report.diagnosis, *report.alternatives)]
    assert calls == [
        "correlate(x, k, mode='same', boundary='edge')",
        "correlate(x, k, mode='same', boundary='symmetric')",
    ]
    assert "also consistent: wrong boundary: correlate(x, k, mode='same', boundary='symm" in str(
        report
    )
    # ... while two cells (b a | a b c, not a a | a b c) single out "symmetric".
    k5 = RNG.integers(-9, 10, (5, 5))
    claimed = ndi.correlate(x, k5, mode="reflect")
    report = check(x, k5, claimed, "correlate", "same", boundary="reflect")
    assert report.diagnosis.call == "correlate(x, k, mode='same', boundary='symmetric')"
    assert report.alternatives == ()


def test_two_mistakes_at_once():
    x, k = CASES[1]
    report = check(x, k, scipy.signal.correlate(x, k, "valid"), "convolve", "same")
    assert report.diagnosis.mistakes == (KERNEL_NOT_FLIPPED, PADDING_FORGOTTEN)
    assert len(report.diagnosis.steps) == 2


def test_example_shows_both_formulas():
    report = check(A, [[1, 2], [3, 4]], [[37, 47], [67, 77]], "convolve")
    example = report.diagnosis.example
    # By hand: convolution's w = [[4, 3], [2, 1]] gives 4+6+8+5 = 23 at y[0,0];
    # sliding k unflipped gives 1+4+12+20 = 37.
    assert example[0] == "first wrong entry y[0,0]: claimed 37, true 23"
    assert example[1].endswith("d·A + c·B + b·D + a·E = 4·1 + 3·2 + 2·4 + 1·5 = 4 + 6 + 8 + 5 = 23")
    assert example[2].endswith(
        "a·A + b·B + c·D + d·E = 1·1 + 2·2 + 3·4 + 4·5 = 1 + 4 + 12 + 20 = 37"
    )


# --------------------------------------------------------------- floats, shapes, errors


def test_float_claims_within_rtol_pass():
    x = RNG.standard_normal((6, 5))
    k = RNG.standard_normal((3, 3))
    true = scipy.signal.convolve(x, k, "same")
    assert check(x, k, true * (1 + 1e-9), "convolve", "same").ok
    off = true.copy()
    off[2, 3] += 1e-3 * np.abs(true).max()
    report = check(x, k, off, "convolve", "same")
    assert not report.ok and [w[0] for w in report.wrong] == [(2, 3)]
    assert report.diagnosis is None
    assert check(x, k, off, "convolve", "same", rtol=1e-2).ok


def test_claims_of_another_rank_are_reported_not_crashed_on():
    report = check(A, [[1, 2], [3, 4]], [37, 47, 67, 77], "correlate")
    assert not report.ok and report.diagnosis is None
    assert report.notes == (
        "claimed has 1 dimension(s) and the true output 2, so no entry can be compared",
    )
    assert len(report.wrong) == 8  # four true entries, four claimed, none matched
    assert "WRONG SHAPE: claimed (4,), true (2, 2)" in str(report)


def test_bad_claims_and_options_get_clear_errors():
    with pytest.raises(ArgumentTypeError, match="claimed"):
        check(A, [[1, 2], [3, 4]], [["a", "b"], ["c", "d"]])
    with pytest.raises(ArgumentTypeError, match="rtol"):
        check(A, [[1, 2], [3, 4]], [[37, 47], [67, 77]], rtol="tight")
    with pytest.raises(ArgumentError, match="mode="):
        check(A, [[1, 2], [3, 4]], [[37, 47], [67, 77]], mode="vlaid")


# --------------------------------------------------------------- Hypothesis

MISTAKE_ORACLES = {
    "other op": lambda x, k, op, mode: SCIPY["correlate" if op == "convolve" else "convolve"](
        x, k, mode
    ),
    "valid": lambda x, k, op, mode: SCIPY[op](x, k, "valid"),
    "full": lambda x, k, op, mode: SCIPY[op](x, k, "full"),
    "swap": lambda x, k, op, mode: SCIPY[op](k, x, mode),
}


@st.composite
def mistaken_claims(draw):
    nd = draw(st.integers(1, 2))
    x_shape = tuple(draw(st.integers(3, 6)) for _ in range(nd))
    k_shape = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    x = draw(hnp.arrays(np.int64, x_shape, elements=st.integers(-9, 9)))
    k = draw(hnp.arrays(np.int64, k_shape, elements=st.integers(-9, 9)))
    op = draw(st.sampled_from(["convolve", "correlate"]))
    mode = draw(st.sampled_from(["full", "same", "valid"]))
    mistake = draw(st.sampled_from(sorted(MISTAKE_ORACLES)))
    if mistake == "swap" and mode == "same":
        mode = "full"
    return x, k, op, mode, MISTAKE_ORACLES[mistake](x, k, op, mode)


@given(mistaken_claims())
def test_hypothesis_one_mistake_is_always_explained(case):
    x, k, op, mode, claimed = case
    true = SCIPY[op](x, k, mode)
    report = check(x, k, claimed, op, mode)
    same = claimed.shape == true.shape and np.array_equal(claimed, true)
    assert report.ok == same
    if not same:
        # One mistake made the claim, so one mistake (perhaps an equivalent one)
        # explains it, and the call it names reproduces the claim.
        assert report.diagnosis is not None and len(report.diagnosis.mistakes) == 1
        # The call is Python that convolib runs (convolib is tested against scipy).
        names = {"correlate": convolib.correlate, "convolve": convolib.convolve, "x": x, "k": k}
        np.testing.assert_array_equal(eval(report.diagnosis.call, names), claimed)
