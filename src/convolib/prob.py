"""Exact distributions of sums of independent integer-valued random variables.

The distribution of ``X + Y`` for independent ``X`` and ``Y`` is the convolution of
their probability mass functions. Here every probability is exact (a ``Fraction``):
a distribution is held as integer counts over one denominator, on the values
``lo, lo + step, lo + 2 step, ...``, and sums are computed by convolving the integer
count vectors with convolib's exact number-theoretic transform (``method="ntt"``),
so a hundred twenty-sided dice take milliseconds, with no rounding anywhere.

>>> two = dice("2d6")
>>> two.p(7), two.mean, two.var
(Fraction(1, 6), Fraction(7, 1), Fraction(35, 6))

Probabilities given by the caller (`Distribution`, `sum_of`) may be ``int``,
``Fraction``, ``Decimal``, ``str`` (``"1/6"``, ``"0.1"``) or ``float``. A float is
read as the shortest decimal that rounds to it, which is the number written in the
source: ``0.1`` means exactly 1/10 (not the binary value
``Fraction(0.1) == 3602879701896397/36028797018963968``). Probabilities must be
non-negative and sum to exactly 1 (``normalize=True`` divides by their total instead),
so ``1/3`` as a float (0.3333333333333333) is refused: pass ``Fraction(1, 3)``.

Limits, so that an absurd request fails at once with a message instead of running
for hours: `MAX_DICE`, `MAX_FACES`, `MAX_VALUES`, `MAX_NUMERATOR_BITS` and
`MAX_TABLE_BITS` below.
"""

from __future__ import annotations

import decimal
import itertools
import math
import numbers
from collections.abc import Iterable, Mapping
from fractions import Fraction

import numpy as np

from .errors import ArgumentTypeError, MemoryBudgetError, bad_argument

__all__ = ["MAX_DICE", "MAX_FACES", "Distribution", "dice", "sum_of"]

MAX_DICE = 10_000
"""The most dice one `dice` spec may roll."""

MAX_FACES = 1_000_000
"""The most faces one die may have."""

MAX_VALUES = 2**22
"""The longest table of values (from the least to the greatest, at the common step)."""

MAX_NUMERATOR_BITS = 20_000
"""The largest exact numerator a result may need (``6**7700`` is about this size)."""

MAX_TABLE_BITS = 2**27
"""Values times numerator bits of a result (16 MiB of numerators); bounds the time."""


# --- checks of user values --------------------------------------------------------------------


def _value(arg: str, value: object) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return int(value)
    raise bad_argument(
        arg,
        value,
        "must be an integer (values of the random variable are whole numbers)",
        cls=ArgumentTypeError,
    )


def _probability(arg: str, value: object) -> Fraction:
    """``value`` as an exact non-negative Fraction (see the module notes on floats)."""
    rule = (
        "must be a finite probability: an int, Fraction, Decimal, float, or a string "
        "such as '1/6' or '0.25'"
    )
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Number | str):
        raise bad_argument(arg, value, rule, cls=ArgumentTypeError)
    try:
        if isinstance(value, numbers.Rational):
            p = Fraction(int(value.numerator), int(value.denominator))
        elif isinstance(value, numbers.Real):
            if not math.isfinite(float(value)):
                raise ValueError(value)
            p = Fraction(str(value))  # the shortest decimal of the float, in its precision
        elif isinstance(value, decimal.Decimal | str):
            p = Fraction(value.strip() if isinstance(value, str) else value)
        else:  # complex numbers
            raise ValueError(value)
    except (ValueError, ArithmeticError):  # "abc", Decimal("NaN"), "1/0", inf
        raise bad_argument(arg, value, rule) from None
    if p < 0:
        raise bad_argument(arg, value, "must be a probability, >= 0")
    return p


def _count(arg: str, value: object, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise bad_argument(arg, value, "must be an integer", cls=ArgumentTypeError)
    if value < low:
        raise bad_argument(arg, value, f"must be at least {low}")
    return int(value)


def _check_size(arg: str, value: object, values: int, bits: int, fix: str) -> None:
    """Refuse a result of ``values`` entries with numerators of ``bits`` bits, if too big."""
    if values > MAX_VALUES:
        rule = f"the exact result would be a table of {values} values; the limit is {MAX_VALUES}"
    elif bits > MAX_NUMERATOR_BITS:
        rule = (
            f"the exact probabilities would need numerators of about {bits} bits; "
            f"the limit is {MAX_NUMERATOR_BITS}"
        )
    elif values * bits > MAX_TABLE_BITS:
        rule = (
            f"the exact result would hold {values} values with numerators of about {bits} "
            f"bits ({values * bits / 8 / 2**20:.1f} MiB); the limit is "
            f"{MAX_TABLE_BITS // 8 // 2**20} MiB"
        )
    else:
        return
    show = value is not None
    raise bad_argument(arg, value, rule, fix, cls=MemoryBudgetError, show_value=show)


# --- integer count vectors --------------------------------------------------------------------


def _objects(counts: Iterable[int]) -> np.ndarray:
    values = list(counts)
    out = np.empty(len(values), object)
    out[:] = values
    return out


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact convolution of two object vectors of Python ints.

    ``method="ntt"`` is forced: the planner's estimate for object arrays assumes small
    numbers, and its direct sum multiplies big integers term by term.
    """
    from .api import convolve

    if len(a) == 1 or len(b) == 1:
        return a * b[0] if len(b) == 1 else b * a[0]
    return convolve(a, b, method="ntt")


def _spread(counts: np.ndarray, factor: int) -> np.ndarray:
    """Counts on a step ``factor`` times finer: ``factor - 1`` zeros between entries."""
    if factor == 1:
        return counts
    out = np.zeros((len(counts) - 1) * factor + 1, object)
    out[::factor] = counts
    return out


class Distribution:
    """The exact distribution of an integer-valued random variable (immutable).

    Build one from ``{value: probability}`` (see the module notes for the accepted
    probability types), or with `dice`, `sum_of`, ``+`` and ``-``: ``X + Y`` is the
    distribution of the sum of independent ``X`` and ``Y``, ``X + 3`` shifts it,
    ``-X`` negates it. ``normalize=True`` divides the probabilities by their total
    (so weights such as ``{1: 1, 2: 3}`` are accepted).

    >>> coin = Distribution({0: "1/2", 1: 0.5})
    >>> print(coin + coin)
    3 values from 0 to 2, mean 1, variance 1/2
    value  probability         ≈
        0          1/4      0.25
        1          1/2       0.5
        2          1/4      0.25
    """

    __slots__ = ("_counts", "_cumulative", "_lo", "_step", "_total")

    _lo: int
    _step: int
    _counts: tuple[int, ...]
    _total: int
    _cumulative: tuple[int, ...] | None

    def __init__(self, pmf: Mapping, *, normalize: bool = False) -> None:
        lo, step, counts = _from_mapping("pmf", pmf, normalize)
        self._set(lo, step, counts)

    # -- construction --------------------------------------------------------------------------

    def _set(self, lo: int, step: int, counts: list[int]) -> None:
        """Store the canonical form: no zero ends, the coarsest step, counts in lowest terms."""
        first = next(i for i, c in enumerate(counts) if c)
        last = len(counts) - next(i for i, c in enumerate(reversed(counts)) if c)
        counts = counts[first:last]
        lo += first * step
        stride = math.gcd(*(i for i, c in enumerate(counts) if c))
        if stride > 1:
            counts = counts[::stride]
            step *= stride
        if len(counts) == 1:
            step = 1
        common = math.gcd(*counts)
        if common > 1:
            counts = [c // common for c in counts]
        for name, value in (
            ("_lo", lo),
            ("_step", step),
            ("_counts", tuple(counts)),
            ("_total", sum(counts)),
            ("_cumulative", None),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def _table(cls, lo: int, step: int, counts: Iterable[int]) -> Distribution:
        made = object.__new__(cls)
        made._set(lo, step, list(counts))
        return made

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Distribution is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Distribution is immutable; cannot delete {name!r}")

    def __reduce__(self):
        return (Distribution._table, (self._lo, self._step, self._counts))

    # -- queries -------------------------------------------------------------------------------

    @property
    def pmf(self) -> dict[int, Fraction]:
        """``{value: probability}`` for every value of positive probability, ascending."""
        lo, step, total = self._lo, self._step, self._total
        return {lo + step * i: Fraction(c, total) for i, c in enumerate(self._counts) if c}

    @property
    def support(self) -> tuple[int, ...]:
        """The values of positive probability, ascending."""
        return tuple(self._lo + self._step * i for i, c in enumerate(self._counts) if c)

    def _index(self, arg: str, v: object) -> Fraction | float:
        """``(v - lo) / step`` for a real ``v`` (which need not be a value)."""
        if not isinstance(v, numbers.Real) or isinstance(v, bool | np.bool_):
            raise bad_argument(arg, v, "must be a real number", cls=ArgumentTypeError)
        if isinstance(v, numbers.Rational):
            return Fraction(int(v.numerator), int(v.denominator) * self._step) - Fraction(
                self._lo, self._step
            )
        number = float(v)
        if math.isnan(number):
            raise bad_argument(arg, v, "must not be NaN")
        if math.isinf(number):
            return number
        return (Fraction(number) - self._lo) / self._step

    def p(self, v: numbers.Real) -> Fraction:
        """``P(X = v)``: 0 for anything that is not a value of positive probability.

        >>> dice("d6").p(3), dice("d6").p(7), dice("d6").p(2.5)
        (Fraction(1, 6), Fraction(0, 1), Fraction(0, 1))
        """
        i = self._index("v", v)
        if isinstance(i, float) or i.denominator != 1 or not 0 <= i < len(self._counts):
            return Fraction(0)
        return Fraction(self._counts[int(i)], self._total)

    def cdf(self, v: numbers.Real) -> Fraction:
        """``P(X <= v)`` for any real ``v`` (including ``±inf``).

        >>> dice("2d6").cdf(4)
        Fraction(1, 6)
        """
        i = self._index("v", v)
        if isinstance(i, float):
            return Fraction(int(i > 0))
        k = math.floor(i)
        if k < 0:
            return Fraction(0)
        if k >= len(self._counts) - 1:
            return Fraction(1)
        cumulative = self._cumulative
        if cumulative is None:
            cumulative = tuple(itertools.accumulate(self._counts))
            object.__setattr__(self, "_cumulative", cumulative)
        return Fraction(cumulative[k], self._total)

    def sf(self, v: numbers.Real) -> Fraction:
        """``P(X > v) = 1 - cdf(v)``, the survival function.

        >>> dice("2d6").sf(10)
        Fraction(1, 12)
        """
        return 1 - self.cdf(v)

    @property
    def mean(self) -> Fraction:
        """The expected value, exactly."""
        s1 = sum(i * c for i, c in enumerate(self._counts))
        return self._lo + Fraction(s1 * self._step, self._total)

    @property
    def var(self) -> Fraction:
        """The variance, exactly."""
        s1 = sum(i * c for i, c in enumerate(self._counts))
        s2 = sum(i * i * c for i, c in enumerate(self._counts))
        total = self._total
        return Fraction((s2 * total - s1 * s1) * self._step**2, total * total)

    def as_float(self) -> dict[int, float]:
        """``{value: probability}`` rounded to the nearest floats (correctly rounded).

        >>> dice("d4").as_float()
        {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}
        """
        lo, step, total = self._lo, self._step, self._total
        return {lo + step * i: c / total for i, c in enumerate(self._counts) if c}

    # -- arithmetic ----------------------------------------------------------------------------

    def __add__(self, other: object) -> Distribution:
        if isinstance(other, Distribution):
            return _sum_two(self, other)
        if isinstance(other, numbers.Integral) and not isinstance(other, bool | np.bool_):
            return Distribution._table(self._lo + int(other), self._step, self._counts)
        return NotImplemented

    __radd__ = __add__

    def __neg__(self) -> Distribution:
        top = self._lo + self._step * (len(self._counts) - 1)
        return Distribution._table(-top, self._step, reversed(self._counts))

    def __sub__(self, other: object) -> Distribution:
        if isinstance(other, Distribution):
            return _sum_two(self, -other)
        if isinstance(other, numbers.Integral) and not isinstance(other, bool | np.bool_):
            return self + (-int(other))
        return NotImplemented

    def __rsub__(self, other: object) -> Distribution:
        if isinstance(other, numbers.Integral) and not isinstance(other, bool | np.bool_):
            return -self + int(other)
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Distribution):
            return NotImplemented
        return (self._lo, self._step, self._counts) == (other._lo, other._step, other._counts)

    def __hash__(self) -> int:
        return hash((self._lo, self._step, self._counts))

    # -- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        top = self._lo + self._step * (len(self._counts) - 1)
        return f"<Distribution of {len(self.support)} values from {self._lo} to {top}>"

    def __str__(self) -> str:
        values = self.support
        shown = values if len(values) <= 20 else values[:10] + values[-10:]
        rows = [(v, self.p(v)) for v in shown]
        exact = all(len(str(p)) <= 24 for _, p in rows)
        head = (
            f"{len(values)} values from {values[0]} to {values[-1]}, "
            f"mean {_short(self.mean)}, variance {_short(self.var)}"
        )
        width = max(5, *(len(str(v)) for v in shown))
        pwidth = max(11, *(len(str(p)) for _, p in rows)) if exact else 0
        columns = f"{'value':>{width}}" + (f"  {'probability':>{pwidth}}" if exact else "")
        lines = [head, columns + f"  {'≈':>8}"]
        for n, (v, p) in enumerate(rows):
            if n == 10 and len(values) > 20:
                lines.append(f"{'...':>{width}}  ({len(values) - 20} more values)")
            rounded = f"{p.numerator / p.denominator:.6g}"
            cells = f"{v:>{width}}" + (f"  {p!s:>{pwidth}}" if exact else "")
            lines.append(cells + f"  {rounded:>8}")
        return "\n".join(lines)

    def plot(self, ax=None, **bar_options):
        """Draw the probabilities on matplotlib ``ax`` (a new figure's if None); the Axes.

        Bars for up to 200 values, a line beyond; ``bar_options`` go to ``ax.bar``
        (or ``ax.plot``). Needs matplotlib (imported only here).
        """
        try:
            if ax is None:
                import matplotlib.pyplot as plt

                _, ax = plt.subplots()
        except ImportError as err:
            raise ModuleNotFoundError(
                "Distribution.plot needs matplotlib: pip install matplotlib"
            ) from err
        floats = self.as_float()
        values, probs = list(floats), list(floats.values())
        if len(values) <= 200:
            bar_options.setdefault("width", 0.8 * self._step)
            ax.bar(values, probs, **bar_options)
        else:
            ax.plot(values, probs, **bar_options)
        ax.set_xlabel("value")
        ax.set_ylabel("probability")
        return ax


def _short(value: Fraction) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"≈ {value.numerator / value.denominator:.6g}"


def _from_mapping(arg: str, pmf: object, normalize: bool) -> tuple[int, int, list[int]]:
    """``(lo, step, counts)`` of a ``{value: probability}`` mapping, checked."""
    if not isinstance(pmf, Mapping):
        raise bad_argument(
            arg,
            pmf,
            "must be a mapping {value: probability}, such as {1: '1/2', 2: '1/2'}",
            cls=ArgumentTypeError,
        )
    if not isinstance(normalize, bool | np.bool_):
        raise bad_argument("normalize", normalize, "must be True or False", cls=ArgumentTypeError)
    probs: dict[int, Fraction] = {}
    for key, value in pmf.items():
        v = _value(f"{arg} value", key)
        probs[v] = probs.get(v, Fraction(0)) + _probability(f"{arg}[{key!r}]", value)
    total = sum(probs.values(), Fraction(0))
    if normalize:
        if total == 0:
            raise bad_argument(arg, pmf, "has no positive probability to normalise")
    elif total != 1:
        floats = any(isinstance(p, float | np.floating) for p in pmf.values())
        hint = " (floats are read as the decimals they print as)" if floats else ""
        raise bad_argument(
            arg,
            pmf,
            f"probabilities must sum to exactly 1; they sum to {total}{hint}",
            "give exact values such as Fraction(1, 3) or '1/3', "
            "or pass normalize=True to divide by the total",
        )
    probs = {v: p for v, p in probs.items() if p}
    lo, hi = min(probs), max(probs)
    step = math.gcd(*(v - lo for v in probs)) or 1
    size = (hi - lo) // step + 1
    if size > MAX_VALUES:
        raise bad_argument(
            arg,
            pmf,
            f"values from {lo} to {hi} in steps of {step} need a table of {size} entries; "
            f"the limit is {MAX_VALUES}",
            cls=MemoryBudgetError,
        )
    common = math.lcm(*(p.denominator for p in probs.values()))
    counts = [0] * size
    for v, p in probs.items():
        counts[(v - lo) // step] = p.numerator * (common // p.denominator)
    return lo, step, counts


def _as_distribution(arg: str, variable: object) -> Distribution:
    if isinstance(variable, Distribution):
        return variable
    if isinstance(variable, Mapping):
        lo, step, counts = _from_mapping(arg, variable, False)
        return Distribution._table(lo, step, counts)
    if isinstance(variable, numbers.Integral) and not isinstance(variable, bool | np.bool_):
        return Distribution._table(int(variable), 1, [1])
    raise bad_argument(
        arg,
        variable,
        "must be a Distribution, a mapping {value: probability} or an integer constant",
        cls=ArgumentTypeError,
    )


def _bits(total: int, copies: int = 1) -> int:
    """Bits of ``total ** copies``, the largest numerator ``copies`` sums can need."""
    return math.ceil(copies * math.log2(total)) + 1 if total > 1 else 1


def _sum_two(x: Distribution, y: Distribution) -> Distribution:
    step = math.gcd(x._step, y._step)
    values = (len(x._counts) - 1) * (x._step // step) + (len(y._counts) - 1) * (y._step // step) + 1
    bits = (x._total * y._total).bit_length()  # numerators are at most the new total
    _check_size("x + y", None, values, bits, "sum fewer or smaller variables")
    a = _spread(_objects(x._counts), x._step // step)
    b = _spread(_objects(y._counts), y._step // step)
    return Distribution._table(x._lo + y._lo, step, _convolve(a, b).tolist())


def _power(x: Distribution, n: int) -> Distribution:
    """The sum of ``n`` independent copies of ``x``, by repeated squaring."""
    result = _objects([1])
    base, remaining = _objects(x._counts), n
    while remaining:
        if remaining & 1:
            result = _convolve(result, base)
        remaining >>= 1
        if remaining:
            base = _convolve(base, base)
    return Distribution._table(n * x._lo, x._step, result.tolist())


def sum_of(*variables: Distribution | Mapping | int, n: int = 1) -> Distribution:
    """The distribution of the sum of independent ``variables``, repeated ``n`` times.

    Each variable is a `Distribution`, a ``{value: probability}`` mapping (probabilities
    as in `Distribution`, summing to 1) or an integer constant. ``n`` independent
    copies of the whole sum are added up by repeated squaring (``n=0`` gives 0).

    >>> [str(p) for p in sum_of({0: "1/2", 1: "1/2"}, n=4).pmf.values()]
    ['1/16', '1/4', '3/8', '1/4', '1/16']
    >>> sum_of(dice("d6"), {-1: 0.25, 1: 0.75}, 10).mean  # 3.5 + 0.5 + 10
    Fraction(14, 1)
    >>> sum_of(dice("d6"), {-1: 0.25, 1: 0.75}, n=10).mean  # 10 * (3.5 + 0.5)
    Fraction(40, 1)
    """
    copies = _count("n", n, 0)
    if not variables:
        raise bad_argument(
            "variables",
            variables,
            "sum_of needs at least one variable",
            "pass Distributions or {value: probability} mappings",
        )
    parts = [_as_distribution(f"variables[{i}]", v) for i, v in enumerate(variables)]
    step = math.gcd(*(d._step for d in parts))
    span = sum((len(d._counts) - 1) * (d._step // step) for d in parts)
    bits = sum(_bits(d._total) for d in parts)
    _check_size(
        "n" if copies > 1 else "variables",
        n if copies > 1 else variables,
        span * copies + 1,
        bits * copies,
        "sum fewer or smaller variables",
    )
    if copies == 0:
        return Distribution._table(0, 1, [1])
    total = parts[0]
    for d in parts[1:]:
        total = _sum_two(total, d)
    return _power(total, copies)


# --- dice notation ----------------------------------------------------------------------------

_DICE_FIX = (
    "write dice as NdS (N dice of S faces, N optional), d% (1 to 100) or dF (-1, 0, 1), "
    "and whole numbers, joined by + or -, e.g. '3d6+2' or 'd6 + d8 - 1'"
)


class _DiceReader:
    """Reads dice notation left to right, pointing at the first character it cannot use."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.pos = 0

    def fail(self, expected: str) -> Exception:
        found = repr(self.spec[self.pos]) if self.pos < len(self.spec) else "the end"
        return bad_argument(
            "spec",
            self.spec,
            f"expected {expected} at character {self.pos + 1}, found {found}",
            _DICE_FIX,
        )

    def at(self, chars: str) -> bool:
        """Whether the next character is one of ``chars`` (False at the end)."""
        return self.pos < len(self.spec) and self.spec[self.pos] in chars

    def skip(self) -> None:
        while self.pos < len(self.spec) and self.spec[self.pos].isspace():
            self.pos += 1

    def number(self) -> int:
        start = self.pos
        while self.at("0123456789"):
            self.pos += 1
        digits = self.spec[start : self.pos]
        if len(digits) > 18:
            raise bad_argument(
                "spec",
                self.spec,
                f"the number at character {start + 1} has {len(digits)} digits; at most 18",
            )
        return int(digits)

    def sign(self) -> int:
        negative = self.at("-")
        self.pos += 1
        self.skip()
        return -1 if negative else 1

    def terms(self) -> tuple[list[tuple[int, int, int, int]], int]:
        """``([(sign, count, low face, high face)], constant)``."""
        dice_terms, constant = [], 0
        self.skip()
        sign = self.sign() if self.at("+-") else 1
        while True:
            start = self.pos
            count = None
            if self.at("0123456789"):
                number = self.number()
                self.skip()
                if self.at("dD"):
                    count = number
                else:
                    constant += sign * number
            elif self.at("dD"):
                count = 1
            else:
                raise self.fail("a number or a die such as 'd6'")
            if count is not None:
                self.pos += 1  # the 'd'
                self.skip()
                low, high = self.faces()
                if count == 0:
                    raise bad_argument(
                        "spec",
                        self.spec,
                        f"the term at character {start + 1} rolls 0 dice; roll at least 1",
                        "write 'd6' for one die",
                    )
                dice_terms.append((sign, count, low, high))
            self.skip()
            if self.pos == len(self.spec):
                return dice_terms, constant
            if not self.at("+-"):
                raise self.fail("'+', '-' or the end")
            sign = self.sign()

    def faces(self) -> tuple[int, int]:
        if self.at("%"):
            self.pos += 1
            return 1, 100
        if self.at("Ff"):
            self.pos += 1
            return -1, 1
        if not self.at("0123456789"):
            raise self.fail("the number of faces, '%' or 'F' after 'd'")
        start = self.pos
        faces = self.number()
        if faces < 1:
            raise bad_argument(
                "spec",
                self.spec,
                f"the die at character {start + 1} has 0 faces; a die needs at least 1",
            )
        if faces > MAX_FACES:
            raise bad_argument(
                "spec",
                self.spec,
                f"the die at character {start + 1} has {faces} faces; the limit is {MAX_FACES}",
            )
        return 1, faces


def dice(spec: str) -> Distribution:
    """The exact distribution of a dice roll written in dice notation.

    ``NdS`` is the sum of ``N`` fair dice with faces ``1..S`` (``dS`` is one die);
    ``d%`` is ``d100`` and ``dF`` a Fudge die (-1, 0, +1); whole numbers add a
    constant; terms are joined by ``+`` or ``-`` (a subtracted die is an independent
    roll subtracted), with spaces anywhere between them. At most `MAX_DICE` dice of
    at most `MAX_FACES` faces.

    >>> dice("3d6+2").p(12)  # 3d6 = 10: 27 of the 216 rolls
    Fraction(1, 8)
    >>> dice("d6 + d8").support[:3], dice("2d6-1d4").support[:3]
    ((2, 3, 4), (-2, -1, 0))
    >>> dice("2d6+")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    convolib.errors.ArgumentError: spec='2d6+': expected a number or a die such as 'd6' at ...
    """
    if not isinstance(spec, str):
        raise bad_argument(
            "spec",
            spec,
            "must be a string in dice notation, such as '3d6+2'",
            cls=ArgumentTypeError,
        )
    terms, constant = _DiceReader(spec).terms()
    rolled = sum(count for _, count, _, _ in terms)
    if rolled > MAX_DICE:
        raise bad_argument(
            "spec", spec, f"rolls {rolled} dice; the limit is {MAX_DICE}", "roll fewer dice"
        )
    values = sum(count * (high - low) for _, count, low, high in terms) + 1
    bits = sum(_bits(high - low + 1, count) for _, count, low, high in terms)
    _check_size("spec", spec, values, bits, "roll fewer dice, or dice with fewer faces")
    result = Distribution._table(constant, 1, [1])
    for sign, count, low, high in terms:
        rolls = _power(Distribution._table(low, 1, [1] * (high - low + 1)), count)
        result = result + (rolls if sign > 0 else -rolls)
    return result
