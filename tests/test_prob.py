"""Exact distributions of sums (convolib.prob) against enumeration and closed formulas.

Oracles: brute-force enumeration of every roll with itertools.product and Fractions,
a dictionary convolution written here, the inclusion-exclusion count of dice sums,
the binomial distribution, and the mean/variance identities of independent sums.
"""

from __future__ import annotations

import itertools
import math
import pickle
from collections import Counter, defaultdict
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib.prob import MAX_DICE, MAX_FACES, Distribution, dice, sum_of
from helpers import error_message as error

# ---------------------------------------------------------------------------------- oracles


def enumerate_rolls(dice_terms, constant=0):
    """{sum: probability} of ``sign * (faces...)`` terms by listing every outcome."""
    faces = [f for sign, count, f in dice_terms for _ in range(count)]
    signs = [sign for sign, count, _ in dice_terms for _ in range(count)]
    tally = Counter()
    for roll in itertools.product(*faces):
        tally[constant + sum(s * r for s, r in zip(signs, roll, strict=True))] += 1
    outcomes = math.prod(len(f) for f in faces)
    return {v: Fraction(c, outcomes) for v, c in sorted(tally.items())}


def dictionary_sum(*pmfs):
    """{value: probability} of a sum of independent variables, pair by pair."""
    result = {0: Fraction(1)}
    for pmf in pmfs:
        combined = defaultdict(Fraction)
        for a, p in result.items():
            for b, q in pmf.items():
                combined[a + b] += p * q
        result = combined
    return {v: p for v, p in sorted(result.items()) if p}


def dice_sum_ways(n: int, sides: int, total: int) -> int:
    """Ways for n dice of faces 1..sides to sum to total (inclusion-exclusion):
    sum_k (-1)^k C(n, k) C(total - k*sides - 1, n - 1)."""
    return sum(
        (-1) ** k * math.comb(n, k) * math.comb(total - k * sides - 1, n - 1)
        for k in range(n + 1)
        if total - k * sides - 1 >= n - 1
    )


D = {s: list(range(1, s + 1)) for s in (4, 6, 8, 10, 20)}


# ------------------------------------------------------------------------------------ dice


@pytest.mark.parametrize(
    ("spec", "terms", "constant"),
    [
        ("2d6", [(1, 2, D[6])], 0),
        ("3d6+2", [(1, 3, D[6])], 2),
        ("d6+d8", [(1, 1, D[6]), (1, 1, D[8])], 0),
        ("2d6-1d4", [(1, 2, D[6]), (-1, 1, D[4])], 0),
        (" 2 d 6 - 1 D4 ", [(1, 2, D[6]), (-1, 1, D[4])], 0),
        ("4d20-1", [(1, 4, D[20])], -1),
        ("-d6+3", [(-1, 1, D[6])], 3),
        ("d%", [(1, 1, list(range(1, 101)))], 0),
        ("4dF+1", [(1, 4, [-1, 0, 1])], 1),
        ("d1+d1", [(1, 2, [1])], 0),
        ("2+3-10", [], -5),
        ("d10-d10", [(1, 1, D[10]), (-1, 1, D[10])], 0),
        ("3d4+2d6-d8+7", [(1, 3, D[4]), (1, 2, D[6]), (-1, 1, D[8])], 7),
    ],
)
def test_dice_match_enumeration(spec, terms, constant):
    expected = enumerate_rolls(terms, constant)
    got = dice(spec)
    assert got.pmf == expected
    assert all(type(p) is Fraction for p in got.pmf.values())
    assert got.support == tuple(expected)


@pytest.mark.parametrize(("n", "sides"), [(1, 6), (3, 6), (10, 6), (7, 10), (25, 4), (100, 20)])
def test_dice_match_inclusion_exclusion(n, sides):
    d = dice(f"{n}d{sides}")
    outcomes = sides**n
    expected = {t: Fraction(dice_sum_ways(n, sides, t), outcomes) for t in range(n, n * sides + 1)}
    assert d.pmf == expected


def test_100d20_exact():
    d = dice("100d20")
    assert d.support == tuple(range(100, 2001))
    pmf = d.pmf
    assert sum(pmf.values()) == 1
    assert all(pmf[v] == pmf[2100 - v] for v in range(100, 2001))  # symmetric about 1050
    assert d.p(100) == Fraction(1, 20**100)
    assert d.p(1050) == Fraction(dice_sum_ways(100, 20, 1050), 20**100)
    assert max(pmf, key=pmf.get) == 1050
    # one d20: mean 21/2, variance (20**2 - 1)/12; independent sums add both
    assert d.mean == 100 * Fraction(21, 2)
    assert d.var == 100 * Fraction(20**2 - 1, 12)
    assert d.cdf(1049) + d.p(1050) + d.sf(1050) == 1
    assert d.cdf(1049) == d.sf(1050)


@pytest.mark.parametrize("sides", [1, 2, 6, 13, 20, 100])
def test_one_die_mean_and_variance(sides):
    d = dice(f"d{sides}")
    assert d.mean == Fraction(sides + 1, 2)
    assert d.var == Fraction(sides**2 - 1, 12)


def test_large_spec_values():
    d = dice(f"{MAX_DICE}d1")  # 10000 dice that always roll 1
    assert d.pmf == {MAX_DICE: 1}
    assert dice(f"d{MAX_FACES}").p(MAX_FACES) == Fraction(1, MAX_FACES)
    assert dice("123456789012345678").pmf == {123456789012345678: 1}


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("", ["spec=''", "expected a number or a die", "character 1", "found the end", "3d6+2"]),
        ("   ", ["character 4", "found the end"]),
        ("2d", ["the number of faces, '%' or 'F'", "character 3", "found the end"]),
        ("2d6+", ["character 5", "found the end"]),
        ("2d6 +x", ["character 6", "found 'x'"]),
        ("2d6 6", ["expected '+', '-' or the end at character 5", "found '6'"]),
        ("2d6++1", ["character 5", "found '+'"]),
        ("3x6", ["expected '+', '-' or the end at character 2", "found 'x'"]),
        ("2d-6", ["character 3", "found '-'"]),
        ("d6.5", ["character 3", "found '.'"]),
        ("2d6²", ["character 4", "found '²'"]),
        ("0d6", ["character 1", "rolls 0 dice", "'d6'"]),
        ("2d6+d0", ["character 6", "0 faces", "at least 1"]),
        (f"{MAX_DICE + 1}d2", [f"rolls {MAX_DICE + 1} dice", f"limit is {MAX_DICE}"]),
        (f"{MAX_DICE}d2+d2", [f"rolls {MAX_DICE + 1} dice"]),
        (f"d{MAX_FACES + 1}", [f"{MAX_FACES + 1} faces", f"limit is {MAX_FACES}"]),
        ("1" * 30, ["30 digits", "at most 18"]),
    ],
)
def test_dice_spec_errors(spec, fragments):
    msg = error(convolib.ArgumentError, dice, spec)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("10000d6", "numerators of about 25851 bits; the limit is 20000"),
        ("5000d6", "25001 values with numerators of about 12926 bits"),
        ("5d1000000", "table of 4999996 values"),
    ],
)
def test_dice_refuses_results_too_big_to_compute(spec, fragment):
    msg = error(convolib.MemoryBudgetError, dice, spec)
    assert fragment in msg
    assert "fewer dice" in msg


def test_dice_spec_type():
    msg = error(convolib.ArgumentTypeError, dice, 6)
    assert "spec=6" in msg
    assert "dice notation" in msg


# ---------------------------------------------------------------------------- Distribution


def test_distribution_from_fractions_ints_strings_decimals_and_floats():
    d = Distribution({-1: Fraction(1, 6), 0: "1/3", 2: Decimal("0.25"), 5: 0.25})
    assert d.pmf == {-1: Fraction(1, 6), 0: Fraction(1, 3), 2: Fraction(1, 4), 5: Fraction(1, 4)}
    assert Distribution({7: 1}).pmf == {7: 1}
    # floats are read as the decimals they print as
    assert Distribution({1: 0.1, 2: 0.9}).pmf == {1: Fraction(1, 10), 2: Fraction(9, 10)}
    assert Distribution({1: 0.2, 2: 0.3, 3: 0.5}).p(2) == Fraction(3, 10)
    assert Distribution({0: np.float32(0.1), 1: np.float64(0.9)}).p(0) == Fraction(1, 10)
    assert Distribution({np.int64(3): np.int64(1)}).pmf == {3: 1}
    # zero probabilities are dropped
    assert Distribution({0: 0, 1: 1, 2: 0.0}).support == (1,)


def test_distribution_normalize():
    d = Distribution({1: 1, 2: 3}, normalize=True)
    assert d.pmf == {1: Fraction(1, 4), 2: Fraction(3, 4)}
    thirds = Distribution({0: 1 / 3, 1: 1 / 3, 2: 1 / 3}, normalize=True)
    assert thirds.pmf == {0: Fraction(1, 3), 1: Fraction(1, 3), 2: Fraction(1, 3)}


@pytest.mark.parametrize(
    ("pmf", "cls", "fragments"),
    [
        ([0.5, 0.5], TypeError, ["pmf=[0.5, 0.5]", "mapping {value: probability}"]),
        ({}, ValueError, ["sum to exactly 1", "sum to 0"]),
        ({1: 0.5}, ValueError, ["sum to 1/2", "normalize=True"]),
        ({0: 1 / 3, 1: 1 / 3, 2: 1 / 3}, ValueError, ["sum to exactly 1", "Fraction(1, 3)"]),
        ({1: -0.5, 2: 1.5}, ValueError, ["pmf[1]=-0.5", ">= 0"]),
        ({1: float("nan")}, ValueError, ["pmf[1]=nan", "finite probability"]),
        ({1: float("inf")}, ValueError, ["pmf[1]=inf"]),
        ({1: "abc"}, ValueError, ["pmf[1]='abc'", "'1/6'"]),
        ({1: Decimal("NaN")}, ValueError, ["pmf[1]=Decimal('NaN')"]),
        ({1: True}, TypeError, ["pmf[1]=True"]),
        ({1: None}, TypeError, ["pmf[1]=None"]),
        ({1: 1j}, ValueError, ["pmf[1]=1j"]),
        ({2.5: 1}, TypeError, ["pmf value=2.5", "must be an integer"]),
        ({"a": 1}, TypeError, ["pmf value='a'"]),
        ({0: "1/3", 1: "1/3", 10**9: "1/3"}, MemoryError, ["1000000001 entries", "limit"]),
    ],
)
def test_distribution_errors(pmf, cls, fragments):
    msg = error(cls, Distribution, pmf)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


def test_normalize_errors():
    assert "no positive probability" in error(
        convolib.ArgumentError, Distribution, {1: 0}, normalize=True
    )
    assert "normalize='yes'" in error(
        convolib.ArgumentTypeError, Distribution, {1: 1}, normalize="yes"
    )


def test_queries_p_cdf_sf():
    d = dice("2d6")
    assert d.p(7) == Fraction(6, 36)
    assert d.p(1) == 0
    assert d.p(13) == 0
    assert d.p(7.0) == Fraction(1, 6)
    assert d.p(Fraction(7, 1)) == Fraction(1, 6)
    assert d.p(6.5) == 0
    running = Fraction(0)
    previous = Fraction(0)
    for v in range(0, 15):
        running += d.p(v)
        assert d.cdf(v) == running
        assert d.cdf(v + 0.5) == running
        assert d.sf(v) == 1 - running
        assert d.cdf(v) >= previous
        previous = d.cdf(v)
    assert d.cdf(12) == 1
    assert d.cdf(1.999) == 0
    assert d.cdf(float("inf")) == 1
    assert d.cdf(float("-inf")) == 0
    assert d.cdf(Fraction(15, 2)) == Fraction(21, 36)
    assert "must not be NaN" in error(convolib.ArgumentError, d.cdf, float("nan"))
    assert "v='7'" in error(convolib.ArgumentTypeError, d.p, "7")


def test_as_float_is_correctly_rounded():
    d = dice("3d6")
    floats = d.as_float()
    assert list(floats) == list(d.support)
    for v, p in d.pmf.items():
        assert floats[v] == float(p)  # float(Fraction) rounds correctly
        assert type(floats[v]) is float


def test_immutable_hashable_picklable():
    d = dice("2d6")
    with pytest.raises(AttributeError):
        d._lo = 5
    with pytest.raises(AttributeError):
        d.anything = 1
    with pytest.raises(AttributeError):
        del d._counts
    pmf = d.pmf
    pmf[2] = Fraction(1)  # a copy: the distribution does not change
    assert d.p(2) == Fraction(1, 36)
    assert d == dice("d6+d6") == Distribution(d.pmf)
    assert hash(d) == hash(dice("d6+d6"))
    assert d != dice("2d6+1")
    assert pickle.loads(pickle.dumps(d)) == d
    assert len({d, dice("d6 + d6"), dice("3d6")}) == 2


def test_str_and_repr():
    text = str(dice("2d6"))
    lines = text.splitlines()
    assert lines[0] == "11 values from 2 to 12, mean 7, variance 35/6"
    assert "probability" in lines[1]
    assert lines[2].split() == ["2", "1/36", "0.0277778"]
    assert lines[7].split() == ["7", "1/6", "0.166667"]
    assert len(lines) == 13
    big = str(dice("100d20")).splitlines()
    assert big[0] == "1901 values from 100 to 2000, mean 1050, variance 3325"
    assert "probability" not in big[1]  # exact fractions too long to show
    assert "(1881 more values)" in big[12]
    assert len(big) == 23
    assert repr(dice("2d6")) == "<Distribution of 11 values from 2 to 12>"


# ------------------------------------------------------------------------------ arithmetic


def test_arithmetic_with_constants_and_negation():
    d = dice("d6")
    assert (d + 3).pmf == {v + 3: p for v, p in d.pmf.items()}
    assert (3 + d) == d + 3
    assert (d - 1).support == (0, 1, 2, 3, 4, 5)
    assert (10 - d).pmf == {10 - v: p for v, p in d.pmf.items()}
    assert (-d).support == (-6, -5, -4, -3, -2, -1)
    assert d - dice("d4") == d + (-dice("d4"))
    assert sum([d, d, d]) == dice("3d6")  # built-in sum starts from 0
    with pytest.raises(TypeError):
        d + "d6"
    with pytest.raises(TypeError):
        "2" - d
    with pytest.raises(TypeError):
        d + 1.5


def test_spaced_values_keep_their_step():
    # a coin worth 0 or 100 cents, 50 times: binomial(50, 1/2) on multiples of 100
    coin = Distribution({0: "1/2", 100: "1/2"})
    total = sum_of(coin, n=50)
    assert total.pmf == {100 * k: Fraction(math.comb(50, k), 2**50) for k in range(51)}
    # a billion apart: still two values, and their sums stay small tables
    far = Distribution({0: "1/2", 10**9: "1/2"})
    assert sum_of(far, n=3).pmf == {k * 10**9: Fraction(math.comb(3, k), 8) for k in range(4)}
    mixed = Distribution({0: "1/2", 2: "1/2"}) + Distribution({0: "1/2", 3: "1/2"})
    assert mixed.pmf == {0: Fraction(1, 4), 2: Fraction(1, 4), 3: Fraction(1, 4), 5: Fraction(1, 4)}


def test_sum_of_mappings_constants_and_n():
    bernoulli = {0: Fraction(2, 3), 1: Fraction(1, 3)}
    assert sum_of(bernoulli, n=5).pmf == {
        k: Fraction(math.comb(5, k) * 2 ** (5 - k), 3**5) for k in range(6)
    }
    assert sum_of(bernoulli, 10).pmf == {10: Fraction(2, 3), 11: Fraction(1, 3)}
    assert sum_of(dice("d6"), n=0).pmf == {0: 1}
    assert sum_of(dice("d6"), dice("d8")) == dice("d6+d8")
    assert sum_of(dice("d6"), {0: 1}, n=3) == dice("3d6")


@pytest.mark.parametrize(
    ("args", "kwargs", "cls", "fragments"),
    [
        ((), {}, ValueError, ["at least one variable"]),
        (("2d6",), {}, TypeError, ["variables[0]='2d6'", "Distribution, a mapping"]),
        (({1: 1}, {1: 0.5}), {}, ValueError, ["variables[1]", "sum to 1/2"]),
        (({1: 1},), {"n": -1}, ValueError, ["n=-1", "at least 0"]),
        (({1: 1},), {"n": 2.0}, TypeError, ["n=2.0", "integer"]),
        (({0: 0.5, 1: 0.5},), {"n": 30_000}, MemoryError, ["n=30000", "bits"]),
        (
            ({0: 0.5, 5 * 10**6: 0.5}, {0: 0.5, 1: 0.5}, {0: 0.5, 7: 0.5}),
            {},
            MemoryError,
            ["table"],
        ),
    ],
)
def test_sum_of_errors(args, kwargs, cls, fragments):
    msg = error(cls, sum_of, *args, **kwargs)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


def test_adding_distributions_too_big_is_refused():
    wide = Distribution({0: "1/2", 5_000_000: "1/2"})
    msg = error(convolib.MemoryBudgetError, wide.__add__, Distribution({0: "1/2", 1: "1/2"}))
    assert msg.startswith("x + y: the exact result would be a table of 5000002 values")


# ------------------------------------------------------------------------------ hypothesis

weights = st.integers(1, 12)
small_pmf = st.builds(
    lambda table, scale, offset: {scale * v + offset: w for v, w in table.items()},
    st.dictionaries(st.integers(-6, 6), weights, min_size=1, max_size=5),
    st.sampled_from([1, 1, 2, 3]),
    st.integers(-5, 5),
)


def exact(table):
    total = sum(table.values())
    return {v: Fraction(w, total) for v, w in sorted(table.items())}


@given(small_pmf, small_pmf)
def test_sum_of_two_matches_dictionary_convolution(a, b):
    x, y = Distribution(a, normalize=True), Distribution(b, normalize=True)
    expected = dictionary_sum(exact(a), exact(b))
    assert (x + y).pmf == expected
    assert sum_of(a and exact(a), exact(b)).pmf == expected
    assert x + y == y + x
    assert (x + y).mean == x.mean + y.mean
    assert (x + y).var == x.var + y.var
    assert (x - y).var == x.var + y.var
    assert sum((x + y).pmf.values()) == 1


@given(small_pmf, small_pmf, small_pmf)
def test_sum_is_associative(a, b, c):
    x, y, z = (Distribution(t, normalize=True) for t in (a, b, c))
    assert (x + y) + z == x + (y + z) == sum_of(x, y, z)
    assert (x + y + z).pmf == dictionary_sum(exact(a), exact(b), exact(c))


@given(small_pmf, st.integers(0, 9))
def test_n_copies_by_squaring(a, n):
    x = Distribution(a, normalize=True)
    expected = dictionary_sum(*[exact(a)] * n)
    got = sum_of(x, n=n)
    assert got.pmf == expected
    assert got.mean == n * x.mean
    assert got.var == n * x.var


@given(small_pmf)
def test_distribution_round_trips_and_cdf(a):
    x = Distribution(a, normalize=True)
    assert Distribution(x.pmf) == x
    assert x.pmf == exact({v: w for v, w in a.items()})
    values = x.support
    assert x.cdf(values[-1]) == 1
    assert x.cdf(values[0] - 1) == 0
    cdfs = [x.cdf(v) for v in range(values[0] - 1, values[-1] + 1)]
    assert cdfs == sorted(cdfs)


# ------------------------------------------------------------------------------------ plot


def test_plot_draws_bars_and_lines():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = dice("2d6")
    ax = d.plot()
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == list(d.as_float().values())
    assert [round(bar.get_x() + bar.get_width() / 2, 9) for bar in ax.patches] == list(d.support)
    assert ax.get_xlabel() == "value"
    plt.close(ax.figure)

    fig, given_ax = plt.subplots()
    big = dice("30d10")
    assert big.plot(given_ax, color="red") is given_ax
    xs, ys = given_ax.lines[0].get_data()
    assert list(xs) == list(big.support)
    assert list(ys) == list(big.as_float().values())
    plt.close(fig)
