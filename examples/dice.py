"""The sum of two dice is a convolution of their distributions.

Seed scenario: "throw two dice; what is the probability that the points add up to 4?"
(seed 004, example 2): P(4) = f(1)g(3) + f(2)g(2) + f(3)g(1), the convolution of
the two distributions at 4, with g flipped so that the indices always add up to 4.
Here the distributions of 2d6 and 3d6 come from `convolib.convolve` on exact
fractions and from `convolib.prob.dice`, and are checked against counting every
roll (6² and 6³ of them).

Run: python examples/dice.py
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from fractions import Fraction

import numpy as np

import convolib
from convolib import prob
from convolib.explain import explain


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def enumerate_rolls(dice: int, faces: int = 6) -> dict[int, Fraction]:
    """``{sum: probability}`` by listing every roll: the oracle."""
    counts = Counter(sum(roll) for roll in itertools.product(range(1, faces + 1), repeat=dice))
    total = faces**dice
    return {s: Fraction(c, total) for s, c in sorted(counts.items())}


def main() -> None:
    die = np.array([Fraction(1, 6)] * 6, dtype=object)  # P(1), ..., P(6)
    two = convolib.convolve(die, die)  # P(sum = 2), ..., P(sum = 12)
    three = convolib.convolve(two, die)  # P(sum = 3), ..., P(sum = 18)
    by_hand_2, by_hand_3 = enumerate_rolls(2), enumerate_rolls(3)
    expect(list(two) == list(by_hand_2.values()), "die * die is 2d6 (sums 2 to 12)")
    expect(list(three) == list(by_hand_3.values()), "die * die * die is 3d6 (sums 3 to 18)")
    expect(prob.dice("2d6").pmf == by_hand_2, "prob.dice('2d6') agrees with enumeration")
    expect(prob.dice("3d6").pmf == by_hand_3, "prob.dice('3d6') agrees with enumeration")

    step = explain(die, die, "convolve").steps[2]  # output 2 is the sum 4
    expect(step.value == Fraction(3, 36), "P(2d6 = 4) = 3/36")
    print("P(2d6 = 4) = f(1)g(3) + f(2)g(2) + f(3)g(1); output y[2] is the sum 4,")
    print("A..F are the first die's P(1..6) and a..f the second's (taken in reverse):")
    print(f"  {step}")
    print("2d6: " + ", ".join(f"{s}: {p}" for s, p in by_hand_2.items()))

    most_2 = [s for s, p in by_hand_2.items() if p == max(by_hand_2.values())]
    most_3 = [s for s, p in by_hand_3.items() if p == max(by_hand_3.values())]
    expect(most_2 == [7], "7 is the most likely sum of two dice")
    expect(most_3 == [10, 11], "10 and 11 are the most likely sums of three dice")
    d2, d3 = prob.dice("2d6"), prob.dice("3d6")
    # one die: mean 7/2, variance 35/12; independent sums add both
    expect((d2.mean, d2.var) == (7, Fraction(35, 6)), "2d6 mean 7, variance 35/6")
    expect((d3.mean, d3.var) == (Fraction(21, 2), Fraction(35, 4)), "3d6 mean 21/2, var 35/4")
    print(f"most likely: 2d6 -> {most_2} (p = {d2.p(7)}), 3d6 -> {most_3} (p = {d3.p(10)} each)")
    print(f"3d6: mean {d3.mean}, variance {d3.var}, P(3d6 <= 8) = {d3.cdf(8)}")
    print("OK: both convolutions equal the enumeration of every roll, exactly.")


if __name__ == "__main__":
    main()
