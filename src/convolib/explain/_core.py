"""The explainer's model: every term of every output, built from convolib's own `Spec`.

The spec says what the library computes (`convolib.spec`): the signal operand padded
by ``pads`` under ``boundary`` into ``P``, the kernel operand flipped and conjugated
into ``w``, and ``y[i] = sum_j w[j] * P[i*stride + j*dilation]``. This module lays
that sum out term by term, remembering where every value came from, and adds the
terms up tap by tap in the order the reference algorithm uses, so the explained
result is the library's result (exactly, for integers and Python numbers).
"""

from __future__ import annotations

import math
import numbers
import string
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..boundary import pad
from ..errors import bad_argument
from ..numbers import as_operand, cast_output, exact_int64
from ..spec import Spec, build_spec

MAX_TERMS = 10_000
"""The most terms (output positions × kernel entries), and the most cells of the
padded input, that `explain` writes out."""


@dataclass(frozen=True)
class Operand:
    """An input as given, its name (``x`` or ``k``) and one symbol per entry."""

    name: str
    values: np.ndarray
    symbols: np.ndarray


def symbols(a: np.ndarray, name: str, upper: bool) -> np.ndarray:
    """One symbol per entry of ``a``: letters in row-major order while they last.

    >>> symbols(np.zeros((2, 2)), "k", upper=False).tolist()
    [['a', 'b'], ['c', 'd']]
    >>> symbols(np.zeros(30), "x", upper=True)[27]
    'x[27]'
    """
    letters = string.ascii_uppercase if upper else string.ascii_lowercase
    out = np.empty(a.shape, object)
    for flat, index in enumerate(np.ndindex(*a.shape)):
        out[index] = letters[flat] if a.size <= len(letters) else f"{name}[{fmt_index(index)}]"
    return out


def fmt_index(index: tuple[int, ...]) -> str:
    """``(1, 2)`` as ``1,2``."""
    return ",".join(str(i) for i in index)


def fmt_number(v: object) -> str:
    """A value as the explainer prints it: integers and fractions exactly, floats to
    six significant digits.

    >>> fmt_number(np.float32(0.1)), fmt_number(Fraction(1, 6)), fmt_number(1 - 2j)
    ('0.1', '1/6', '(1-2j)')
    """
    if isinstance(v, bool | np.bool_):
        return str(int(v))
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, Fraction):
        return str(v)
    if isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
        z = complex(v)  # type: ignore[arg-type]
        sign = "-" if z.imag < 0 else "+"
        return f"({_fmt_real(z.real)}{sign}{_fmt_real(abs(z.imag))}j)"
    if isinstance(v, numbers.Real):
        return _fmt_real(float(v))  # type: ignore[arg-type]
    return str(v)


def _fmt_real(v: float) -> str:
    text = f"{v:.6g}"
    return "0" if text == "-0" else text


def strings(a: np.ndarray) -> np.ndarray:
    """`fmt_number` of every entry, as an object array of the same shape."""
    out = np.empty(a.shape, object)
    for index, v in np.ndenumerate(a):
        out[index] = fmt_number(v)
    return out


def factor(text: str) -> str:
    """``text`` as a factor of a product: negative numbers and fractions in brackets."""
    return f"({text})" if text.startswith("-") or "/" in text else text


@dataclass(frozen=True)
class Term:
    """One term ``weight · value`` of one output."""

    tap: tuple[int, ...]
    """Index into the kernel as applied (``Explanation.kernel``)."""
    kernel_index: tuple[int, ...]
    """Index into the kernel operand as given."""
    weight: object
    weight_symbol: str
    at: tuple[int, ...]
    """Index into the padded signal (``Explanation.padded``)."""
    position: tuple[int, ...]
    """Where ``at`` lies relative to the signal operand: negative or past its end on
    the padding."""
    source: tuple[int, ...] | None
    """Index into the signal operand as given that supplied ``value``; None for a
    fill value."""
    boundary: str | None
    """The boundary rule that produced ``value``, or None inside the signal."""
    value: object
    value_symbol: str
    product: object
    """``weight * value``, or None where the term is absent (zero padding)."""


@dataclass(frozen=True)
class Step:
    """One output position: its terms, their sum and the formula.

    >>> from convolib.explain import explain
    >>> step = explain([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], mode="valid").steps[0]
    >>> print(step)
    y[0,0] = a·A + b·B + c·D + d·E = 1·1 + 2·2 + 3·4 + 4·5 = 1 + 4 + 12 + 20 = 37
    """

    number: int
    """1-based position in the order the window slides (row-major over the output)."""
    index: tuple[int, ...]
    terms: tuple[Term, ...]
    value: object
    """The output value, as in ``Explanation.result``."""

    @property
    def name(self) -> str:
        """``y[i,j]``."""
        return f"y[{fmt_index(self.index)}]"

    @property
    def present(self) -> tuple[Term, ...]:
        """The terms in the sum (all but those on zero padding)."""
        return tuple(t for t in self.terms if t.product is not None)

    def symbolic(self) -> str:
        """``a·A + b·B + …``: the sum in symbols."""
        present = self.present
        if not present:
            return "0"
        return " + ".join(f"{t.weight_symbol}·{t.value_symbol}" for t in present)

    def numeric(self) -> str:
        """``1·1 + 2·2 + …``: the sum in numbers."""
        present = self.present
        if not present:
            return "0"
        return " + ".join(
            f"{factor(fmt_number(t.weight))}·{factor(fmt_number(t.value))}" for t in present
        )

    def products(self) -> str:
        """``1 + 4 + …``: the products, added."""
        parts = [fmt_number(t.product) for t in self.present]
        if not parts:
            return "0"
        text = parts[0]
        for p in parts[1:]:
            text += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
        return text

    def lines(self) -> list[str]:
        """The formula as equal-sign-aligned lines: symbols, numbers, products, value."""
        head = f"{self.name} = "
        out = [head + self.symbolic()]
        if self.present:
            out += [" " * (len(head) - 2) + "= " + s for s in (self.numeric(), self.products())]
        out.append(" " * (len(head) - 2) + "= " + fmt_number(self.value))
        if len(self.present) < 2 and len(out) == 4:
            del out[2]  # one product: the products line repeats the numbers line's value
        return out

    def __str__(self) -> str:
        return " = ".join([self.name, *(line.split("= ", 1)[1] for line in self.lines())])


@dataclass(frozen=True)
class Model:
    """Everything the renderings need; `Explanation` wraps it."""

    spec: Spec
    x: Operand
    k: Operand
    signal: Operand
    """The operand the window slides over (``k`` only when valid mode swaps)."""
    kernel_operand: Operand
    padded: np.ndarray
    """The signal as the sum reads it: flipped/conjugated as the spec says, padded."""
    padded_symbols: np.ndarray
    padded_boundary: np.ndarray
    """True where a padded cell comes from the boundary rule."""
    kernel: np.ndarray
    """The kernel as applied: flipped for convolution, conjugated for complex correlation."""
    kernel_symbols: np.ndarray
    signal_conj: bool
    kernel_conj: bool
    steps: tuple[Step, ...]
    result: np.ndarray
    padded_text: np.ndarray
    """``padded`` as printed (empty where only the result was computed)."""
    result_text: np.ndarray


def _is_complex(a: np.ndarray) -> bool:
    if a.dtype.kind == "c":
        return True
    if a.dtype.kind == "O":
        return any(isinstance(v, complex | np.complexfloating) for v in a.flat)
    return False


def _working(a: np.ndarray, acc: np.dtype) -> np.ndarray:
    """``a`` in the arithmetic of the sum: Python ints for exact integer sums (no
    int64 overflow mid-way), Python objects for object arrays, else ``acc``."""
    if acc.kind == "i":
        out = np.empty(a.shape, object)
        for index, v in np.ndenumerate(a):
            out[index] = int(v)
        return out
    if acc.kind == "O":
        return a.astype(object)
    return a.astype(acc)


def _conj(a: np.ndarray) -> np.ndarray:
    return np.conj(a) if a.dtype.kind in "cO" else a


def _sources(spec: Spec, flip: bool) -> list[np.ndarray]:
    """Per axis: for each padded position, the index into the signal operand as given
    that supplies it (by the boundary rule, through the library's own padding), or -1
    for a fill value."""
    maps = []
    for n, lo_hi in zip(spec.n, spec.pads, strict=True):
        canonical = np.arange(n)
        if flip:
            canonical = canonical[::-1]
        rule = spec.boundary if n else "constant"
        maps.append(pad(canonical, (lo_hi,), rule, -1))
    return maps


def check_size(x: np.ndarray, k: np.ndarray, spec: Spec) -> None:
    """Refuse problems too large to write out term by term."""
    positions, taps = math.prod(spec.out), math.prod(spec.m)
    if positions * taps > MAX_TERMS:
        raise bad_argument(
            "x.shape, k.shape",
            (x.shape, k.shape),
            f"explain writes out every term: {positions} output positions × {taps} kernel "
            f"entries = {positions * taps} terms, over the limit of {MAX_TERMS}",
            "explain a small crop of the inputs; convolib.convolve/correlate compute any size",
            show_value=True,
        )
    cells = math.prod(spec.padded_n)
    if cells > MAX_TERMS:
        raise bad_argument(
            "x.shape, k.shape",
            (x.shape, k.shape),
            f"explain draws the padded input, {cells} cells here, over the limit of {MAX_TERMS}",
            "explain a small crop of the inputs; convolib.convolve/correlate compute any size",
        )


def operands(x: object, k: object) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``k`` as arrays of 1 to 3 dimensions, or a clear error."""
    x, k = as_operand("x", x), as_operand("k", k)
    if not 1 <= x.ndim <= 3:
        raise bad_argument(
            "x.ndim",
            x.ndim,
            "explain shows 1-D, 2-D and 3-D problems",
            "pass a 1-D, 2-D or 3-D x and k (every axis is convolved)",
        )
    return x, k


def make_spec(op: str, x: np.ndarray, k: np.ndarray, options: dict) -> Spec:
    """The library's spec for ``op(x, k, **options)`` (every axis convolved)."""
    return build_spec(op, x, k, options.get("mode", "full"), **_spec_options(options))


def _spec_options(options: dict) -> dict:
    keys = ("boundary", "fill_value", "origin", "stride", "dilation")
    return {key: options[key] for key in keys if key in options}


def build(
    op: str, x: Operand, k: Operand, options: dict, *, limit: bool = True, terms: bool = True
) -> Model:
    """The term-by-term model of ``op(x, k, **options)``; ``terms=False`` computes
    only the result (no steps)."""
    spec = make_spec(op, x.values, k.values, options)
    if limit:
        check_size(x.values, k.values, spec)
    acc = spec.acc_dtype
    signal, kern = (k, x) if spec.swap else (x, k)
    d = spec.ndim
    signal_conj = spec.signal_flip and _is_complex(signal.values)
    kernel_conj = spec.kernel_conj and _is_complex(kern.values)

    values = _working(signal.values, acc)
    if signal_conj:
        values = _conj(values)
    if spec.empty:
        maps = [np.arange(n) for n in values.shape]
        padded, padded_symbols = values, signal.symbols
        outside = np.zeros(values.shape, bool)
    else:
        maps = _sources(spec, spec.signal_flip)
        grid = np.ix_(*[np.maximum(m, 0) for m in maps])
        fill_cells = np.zeros(tuple(len(m) for m in maps), bool)
        for axis, m in enumerate(maps):
            fill_cells |= (m < 0).reshape((-1,) + (1,) * (d - 1 - axis))
        padded = values[grid].copy()
        padded[fill_cells] = _working(np.asarray(spec.fill_value), acc)[()]
        padded_symbols = signal.symbols[grid].copy()
        if signal_conj:
            padded_symbols = _conjugated(padded_symbols)
        padded_symbols[fill_cells] = fmt_number(spec.fill_value)
        outside = np.ones(fill_cells.shape, bool)
        outside[tuple(slice(lo, lo + n) for n, (lo, _) in zip(spec.n, spec.pads, strict=True))] = (
            False
        )

    kernel_values = _working(kern.values, acc)
    kernel_symbols = kern.symbols
    if spec.kernel_flip:
        flip = (slice(None, None, -1),) * d
        kernel_values, kernel_symbols = kernel_values[flip], kernel_symbols[flip]
    if kernel_conj:
        kernel_values = _conj(kernel_values)
        kernel_symbols = _conjugated(kernel_symbols)

    result = _result(spec, padded, outside, kernel_values)
    steps = ()
    if terms:
        cells = (padded, padded_symbols, outside, maps)
        steps = _steps(spec, cells, kernel_values, kernel_symbols, result)
    return Model(
        spec=spec,
        x=x,
        k=k,
        signal=signal,
        kernel_operand=kern,
        padded=padded,
        padded_symbols=padded_symbols,
        padded_boundary=outside,
        kernel=kernel_values,
        kernel_symbols=kernel_symbols,
        signal_conj=signal_conj,
        kernel_conj=kernel_conj,
        steps=steps,
        result=result,
        padded_text=strings(padded) if terms else np.empty(0, object),
        result_text=strings(result) if terms else np.empty(0, object),
    )


def _conjugated(symbols: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda s: f"conj({s})", otypes=[object])(symbols)


def _tap_view(spec: Spec, a: np.ndarray, tap: tuple[int, ...]) -> np.ndarray:
    """The cells of ``a`` (padded layout) that tap ``tap`` reads, one per output."""
    return a[
        tuple(
            slice(j * dl, j * dl + (o - 1) * s + 1, s)
            for j, dl, o, s in zip(tap, spec.dilation, spec.out, spec.stride, strict=True)
        )
    ]


def _result(spec: Spec, padded: np.ndarray, outside: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The sum, tap by tap over all outputs: the reference algorithm's order of addition,
    and its rule that terms on zero padding are absent (so 0·inf is not NaN there)."""
    acc = spec.acc_dtype
    total = np.zeros(spec.out, object if acc.kind in "iO" else acc)
    if not spec.empty:
        with np.errstate(all="ignore"):
            for tap in np.ndindex(*spec.m):
                term = _tap_view(spec, padded, tap) * kernel[tap]
                if spec.zero_padding:
                    term = np.where(_tap_view(spec, outside, tap), 0, term)
                total += term
    if acc.kind == "i":
        total = exact_int64(total)
    return cast_output(total, spec.out_dtype)


def _steps(spec, cells, kernel, kernel_symbols, result) -> tuple[Step, ...]:
    """One `Step` per output, each term with the padded cell it reads and its origin."""
    padded, padded_symbols, outside, maps = cells
    lows = [lo for lo, _ in spec.pads]
    steps = []
    for number, index in enumerate(np.ndindex(*spec.out), start=1):
        terms = []
        for tap in np.ndindex(*spec.m) if not spec.empty else ():
            at = tuple(
                i * s + j * dl
                for i, j, s, dl in zip(index, tap, spec.stride, spec.dilation, strict=True)
            )
            off = bool(outside[at])
            source = tuple(int(m[a]) for m, a in zip(maps, at, strict=True))
            weight, value = kernel[tap], padded[at]
            absent = off and spec.zero_padding
            with np.errstate(all="ignore"):
                product = None if absent else weight * value
            terms.append(
                Term(
                    tap=tap,
                    kernel_index=(
                        tuple(m - 1 - j for m, j in zip(spec.m, tap, strict=True))
                        if spec.kernel_flip
                        else tap
                    ),
                    weight=weight,
                    weight_symbol=kernel_symbols[tap],
                    at=at,
                    position=tuple(a - lo for a, lo in zip(at, lows, strict=True)),
                    source=None if min(source) < 0 else source,
                    boundary=spec.boundary if off else None,
                    value=value,
                    value_symbol=padded_symbols[at],
                    product=product,
                )
            )
        steps.append(Step(number, index, tuple(terms), result[index]))
    return tuple(steps)
