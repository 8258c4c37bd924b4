"""`check`: compare a claimed convolution or correlation result with the true one,
and name the common mistake that produces the claimed numbers.

The true result is `convolib.explain`'s (the library's conventions, term by term).
When the claim is wrong, `check` recomputes the problem under the common mistakes,
alone and in pairs, and reports the simplest that reproduces every claimed number:

* ``kernel not flipped``: convolution computed as correlation;
* ``kernel flipped``: correlation computed as convolution (the other operation);
* ``wrong mode``: another of ``full``, ``same``, ``valid`` (another output shape);
* ``padding forgotten``: ``valid`` (no padding) where ``same`` or ``full`` was asked;
* ``operands swapped``: ``op(k, x)`` instead of ``op(x, k)``;
* ``off-by-one centring``: mode ``same`` with the window one cell off (``origin ± 1``);
* ``wrong boundary``: another boundary rule for the padding.

>>> x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
>>> report = check(x, [[1, 2], [3, 4]], [[37, 47], [67, 77]], "convolve")
>>> report.ok, report.diagnosis.mistakes
(False, ('kernel not flipped',))
>>> check(x, [[1, 2], [3, 4]], [[37, 47], [67, 77]], "correlate").ok
True
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, bad_argument
from .explain import Explanation, explain
from .explain._core import Model, build, fmt_index, fmt_number
from .numbers import as_operand
from .spec import MODES

__all__ = ["CheckReport", "Diagnosis", "check"]

KERNEL_NOT_FLIPPED = "kernel not flipped"
KERNEL_FLIPPED = "kernel flipped"
WRONG_MODE = "wrong mode"
PADDING_FORGOTTEN = "padding forgotten"
OPERANDS_SWAPPED = "operands swapped"
OFF_BY_ONE = "off-by-one centring"
WRONG_BOUNDARY = "wrong boundary"

MISTAKES = (
    KERNEL_NOT_FLIPPED,
    KERNEL_FLIPPED,
    PADDING_FORGOTTEN,
    WRONG_MODE,
    OFF_BY_ONE,
    OPERANDS_SWAPPED,
    WRONG_BOUNDARY,
)
"""Every mistake `check` looks for, in the order it prefers among equally simple ones."""

MAX_MISTAKES = 2
"""`check` tries the mistakes alone and in pairs."""

RULES = ("constant", "edge", "reflect", "symmetric", "wrap")


@dataclass(frozen=True)
class Diagnosis:
    """The mistake (or pair of mistakes) that reproduces every claimed number."""

    mistakes: tuple[str, ...]
    """Names from `MISTAKES`."""
    call: str
    """The call that gives the claimed numbers, e.g. ``correlate(x, k, mode='valid')``."""
    steps: tuple[str, ...]
    """For each mistake: which step of the explanation differs, and how."""
    example: tuple[str, ...] = ()
    """The first wrong output: its true formula and the formula the claim follows."""

    def __str__(self) -> str:
        lines = [f"diagnosis: {' + '.join(self.mistakes)}: the claimed numbers are {self.call}"]
        lines += [f"  - {s}" for s in self.steps]
        lines += [f"  {line}" for line in self.example]
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckReport:
    """What `check` found. ``wrong`` lists ``(index, claimed, true)`` for every entry
    that differs; where the shapes differ, an index only one of them has appears
    with None on the other side."""

    ok: bool
    wrong: list[tuple[tuple[int, ...], object, object]]
    diagnosis: Diagnosis | None
    claimed: np.ndarray
    expected: np.ndarray
    explanation: Explanation = field(repr=False)
    call: str
    notes: tuple[str, ...] = ()
    alternatives: tuple[Diagnosis, ...] = ()
    """Other explanations just as simple as ``diagnosis``."""

    def __str__(self) -> str:
        expected, claimed = self.expected, self.claimed
        lines = [f"check {self.call}: true y has shape {expected.shape} {expected.dtype}"]
        lines += [f"note: {n}" for n in self.notes]
        if self.ok:
            lines.append(f"OK: all {expected.size} entries agree.")
            return "\n".join(lines)
        if claimed.shape != expected.shape:
            lines.append(
                f"WRONG SHAPE: claimed {claimed.shape}, true {expected.shape} "
                f"(mode {self.explanation.mode!r})."
            )
        both = sum(1 for _, c, t in self.wrong if c is not None and t is not None)
        compared = 0
        if claimed.ndim == expected.ndim:
            compared = math.prod(
                min(a, b) for a, b in zip(claimed.shape, expected.shape, strict=True)
            )
        if compared:
            lines.append(f"{both} of {compared} compared entries differ:")
        rows = [("index", "claimed", "true")] + [
            (
                f"[{fmt_index(i)}]",
                "-" if c is None else fmt_number(c),
                "-" if t is None else fmt_number(t),
            )
            for i, c, t in self.wrong[:20]
        ]
        widths = [max(len(r[col]) for r in rows) for col in range(3)]
        lines += [
            ("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))).rstrip()
            for r in rows
        ]
        if len(self.wrong) > 20:
            lines.append(f"  … and {len(self.wrong) - 20} more")
        if self.diagnosis is None:
            lines.append(
                "diagnosis: none found. No common mistake (kernel flipped or not, another "
                "mode or shape, padding forgotten, operands swapped, off-by-one centring, "
                "another boundary rule; alone or in pairs) gives the claimed numbers."
            )
            first = next((i for i, c, t in self.wrong if t is not None), None)
            if first is not None:
                step = self.explanation.step(first)
                claim = claimed[first] if _has(claimed.shape, first) else None
                lines.append(
                    f"first wrong entry: {step.name} is {fmt_number(step.value)}"
                    + ("" if claim is None else f", not {fmt_number(claim)}")
                    + ":"
                )
                lines += [f"  {line}" for line in step.lines()]
        else:
            lines.append(str(self.diagnosis))
            for other in self.alternatives:
                lines.append(f"also consistent: {' + '.join(other.mistakes)}: {other.call}")
        return "\n".join(lines)


def check(
    x: object,
    k: object,
    claimed: object,
    op: str = "correlate",
    mode: str = "valid",
    *,
    boundary: str = "constant",
    fill_value: object = 0,
    stride: object = 1,
    dilation: object = 1,
    origin: object = 0,
    rtol: float = 1e-6,
) -> CheckReport:
    """Compare ``claimed`` with ``op(x, k, mode, ...)`` and diagnose a wrong claim.

    The options are `convolib.explain`'s (and its size limit applies). Integer and
    fraction results must match exactly; float results agree where they are within
    ``rtol`` times the largest magnitude of the two. Leading length-1 axes of
    ``claimed`` (the batch and channel axes of a neural-network output) are dropped.

    >>> r = check([1, 2, 3], [1, 0, -1], [-2, -2, 2], "convolve", "same")
    >>> r.ok, r.wrong
    (False, [((0,), -2, 2), ((1,), -2, 2), ((2,), 2, -2)])
    >>> r.diagnosis.mistakes, r.diagnosis.call
    (('kernel not flipped',), "correlate(x, k, mode='same')")
    """
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 0 <= rtol < 1:
        raise bad_argument("rtol", rtol, "must be a real number in [0, 1)", cls=ArgumentTypeError)
    truth = explain(
        x,
        k,
        op,
        mode,
        boundary=boundary,
        fill_value=fill_value,
        stride=stride,
        dilation=dilation,
        origin=origin,
    )
    model: Model = truth._model
    expected = truth.result
    got = as_operand("claimed", claimed)
    got, notes = _aligned(got, expected.shape)
    base = _Variant(
        op=model.spec.op,
        swap=False,
        mode=model.spec.mode,
        origin=_origin_of(model),
        boundary=model.spec.boundary,
        fill_value=model.spec.fill_value,
    )
    options = {"stride": model.spec.stride, "dilation": model.spec.dilation}
    wrong = _differences(got, expected, rtol)
    ok = got.shape == expected.shape and not wrong
    found: list[Diagnosis] = []
    if not ok:
        found = _diagnose(model, base, options, got, rtol)
    return CheckReport(
        ok=ok,
        wrong=wrong,
        diagnosis=found[0] if found else None,
        claimed=got,
        expected=expected,
        explanation=truth,
        call=base.call(model, options),
        notes=tuple(notes),
        alternatives=tuple(found[1:]),
    )


def _has(shape: tuple[int, ...], index: tuple[int, ...]) -> bool:
    return len(shape) == len(index) and all(0 <= i < n for i, n in zip(index, shape, strict=True))


def _aligned(got: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """``got`` with leading length-1 axes dropped or added to match ``shape``'s rank."""
    notes = []
    if got.ndim > len(shape):
        extra = got.shape[: got.ndim - len(shape)]
        if all(s == 1 for s in extra):
            notes.append(f"claimed had shape {got.shape}; its leading length-1 axes are dropped")
            got = got.reshape(got.shape[len(extra) :])
    elif got.ndim < len(shape) and all(s == 1 for s in shape[: len(shape) - got.ndim]):
        notes.append(f"claimed had shape {got.shape}; length-1 axes are added in front")
        got = got.reshape((1,) * (len(shape) - got.ndim) + got.shape)
    if got.ndim != len(shape):
        notes.append(
            f"claimed has {got.ndim} dimension(s) and the true output {len(shape)}, "
            f"so no entry can be compared"
        )
    return got, notes


def _exact(a: np.ndarray) -> bool:
    if a.dtype.kind in "biu":
        return True
    if a.dtype.kind == "O":
        return all(isinstance(v, numbers.Rational) for v in a.flat)
    return False


def _magnitude(a: np.ndarray) -> float:
    values = [abs(complex(v)) for v in a.flat]
    finite = [v for v in values if math.isfinite(v)]
    return max(finite, default=0.0)


def _agree(c: object, t: object, exact: bool, tolerance: float) -> bool:
    if exact:
        return c == t
    cz, tz = complex(c), complex(t)  # type: ignore[arg-type]
    if cz == tz:
        return True
    parts = ((cz.real, tz.real), (cz.imag, tz.imag))
    for a, b in parts:
        if math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                return False
        elif math.isinf(a) or math.isinf(b):
            if a != b:
                return False
        elif abs(a - b) > tolerance:
            return False
    return True


def _comparison(got: np.ndarray, other: np.ndarray, rtol: float) -> tuple[bool, float]:
    exact = _exact(got) and _exact(other)
    scale = max(_magnitude(got), _magnitude(other)) if not exact else 0.0
    return exact, rtol * scale


def _scalar(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _differences(got: np.ndarray, expected: np.ndarray, rtol: float) -> list:
    exact, tolerance = _comparison(got, expected, rtol)
    wrong = []
    indices = set(np.ndindex(*got.shape)) | set(np.ndindex(*expected.shape))
    for index in sorted(indices):
        in_got, in_true = _has(got.shape, index), _has(expected.shape, index)
        c = _scalar(got[index]) if in_got else None
        t = _scalar(expected[index]) if in_true else None
        if not (in_got and in_true) or not _agree(c, t, exact, tolerance):
            wrong.append((index, c, t))
    return wrong


def _matches(got: np.ndarray, result: np.ndarray, rtol: float) -> bool:
    if got.shape != result.shape:
        return False
    exact, tolerance = _comparison(got, result, rtol)
    return all(
        _agree(_scalar(c), _scalar(t), exact, tolerance)
        for c, t in zip(got.flat, result.flat, strict=True)
    )


def _origin_of(model: Model) -> tuple[int, ...]:
    spec = model.spec
    if spec.mode != "same" or spec.empty:
        return (0,) * spec.ndim
    extents = [dl * (m - 1) + 1 for m, dl in zip(spec.m, spec.dilation, strict=True)]
    return tuple(lo - e // 2 for (lo, _), e in zip(spec.pads, extents, strict=True))


@dataclass(frozen=True)
class _Variant:
    op: str
    swap: bool
    mode: str
    origin: tuple[int, ...]
    boundary: str
    fill_value: object

    def options(self, options: dict) -> dict:
        return {
            "mode": self.mode,
            "origin": self.origin,
            "boundary": self.boundary,
            "fill_value": self.fill_value,
            **options,
        }

    def call(self, model: Model, options: dict) -> str:
        spec = model.spec
        args = ["k, x" if self.swap else "x, k", f"mode={self.mode!r}"]
        if any(self.origin):
            args.append(f"origin={self.origin if len(self.origin) > 1 else self.origin[0]}")
        if self.mode != "valid" and (self.boundary != "constant" or self.fill_value != 0):
            args.append(f"boundary={self.boundary!r}")
            if self.boundary == "constant":
                args.append(f"fill_value={_scalar(self.fill_value)!r}")
        for name in ("stride", "dilation"):
            values = options[name]
            if any(v != 1 for v in values):
                args.append(f"{name}={values if spec.ndim > 1 else values[0]}")
        return f"{self.op}({', '.join(args)})"


def _variants(base: _Variant, ndim: int) -> list[tuple[tuple[str, ...], _Variant]]:
    """Every variant with at most `MAX_MISTAKES` mistakes, simplest first."""
    other_op = "correlate" if base.op == "convolve" else "convolve"
    boundaries = [(base.boundary, base.fill_value)] + [
        (rule, 0) for rule in RULES if (rule, 0) != (base.boundary, base.fill_value)
    ]
    out = []
    for op, swap, mode in itertools.product((base.op, other_op), (False, True), MODES):
        centre = base.origin if mode == "same" and base.mode == "same" else (0,) * ndim
        shifts = itertools.product((0, -1, 1), repeat=ndim) if mode == "same" else [(0,) * ndim]
        for shift in shifts:
            origin = tuple(c + s for c, s in zip(centre, shift, strict=True))
            for rule, fill in boundaries if mode != "valid" else boundaries[:1]:
                mistakes = []
                if op != base.op:
                    mistakes.append(KERNEL_NOT_FLIPPED if base.op == "convolve" else KERNEL_FLIPPED)
                if mode != base.mode:
                    forgot = mode == "valid"
                    mistakes.append(PADDING_FORGOTTEN if forgot else WRONG_MODE)
                if any(shift):
                    mistakes.append(OFF_BY_ONE)
                if swap:
                    mistakes.append(OPERANDS_SWAPPED)
                if (rule, fill) != (base.boundary, base.fill_value):
                    mistakes.append(WRONG_BOUNDARY)
                if 0 < len(mistakes) <= MAX_MISTAKES:
                    variant = _Variant(op, swap, mode, origin, rule, fill)
                    out.append((tuple(mistakes), variant))
    out.sort(key=lambda item: (len(item[0]), [MISTAKES.index(m) for m in item[0]]))
    return out


def _diagnose(
    model: Model,
    base: _Variant,
    options: dict,
    got: np.ndarray,
    rtol: float,
) -> list[Diagnosis]:
    """Every variant with the fewest mistakes that reproduces ``got``, preferred first."""
    found: list[Diagnosis] = []
    level = None
    for mistakes, variant in _variants(base, model.spec.ndim):
        if level is not None and len(mistakes) > level:
            break
        a, b = (model.k, model.x) if variant.swap else (model.x, model.k)
        try:
            result = build(
                variant.op, a, b, variant.options(options), limit=False, terms=False
            ).result
        except ArgumentError:  # the library refuses this variant (shapes, origin range)
            continue
        if _matches(got, result, rtol):
            level = len(mistakes)
            found.append(_diagnosis(model, base, variant, mistakes, options, got))
    return found


def _diagnosis(model, base, variant, mistakes, options, got) -> Diagnosis:
    claimed_model = build(
        variant.op,
        *((model.k, model.x) if variant.swap else (model.x, model.k)),
        variant.options(options),
        limit=False,
    )
    steps = tuple(_step_words(m, model, claimed_model, base, variant) for m in mistakes)
    return Diagnosis(
        mistakes=mistakes,
        call=variant.call(model, options),
        steps=steps,
        example=_example(model, claimed_model, got),
    )


def _example(model: Model, claimed_model: Model, got: np.ndarray) -> tuple[str, ...]:
    """The true and the claimed formula of the first claimed entry that is wrong."""
    true_steps = {s.index: s for s in model.steps}
    for step in claimed_model.steps:
        truth = true_steps.get(step.index)
        if truth is not None and truth.value == step.value:
            continue
        head = f"first wrong entry {step.name}: claimed {fmt_number(got[step.index])}"
        head += f", true {fmt_number(truth.value)}" if truth else " (no such entry in the true y)"
        lines = [head]
        if truth is not None:
            lines.append(f"  true:       {truth}")
        lines.append(f"  as claimed: {step}")
        return tuple(lines)
    return ()


_DIRECTIONS = {
    1: (("left", "right"),),
    2: (("up", "down"), ("left", "right")),
}


def _shift_words(delta: tuple[int, ...]) -> str:
    """Origin +1 pads one more cell before, which moves the window toward the start."""
    words = []
    names = _DIRECTIONS.get(len(delta))
    for axis, dv in enumerate(delta):
        if dv:
            toward = 0 if dv > 0 else 1
            if names:
                words.append(f"one cell {names[axis][toward]}")
            else:
                words.append(f"one cell toward the {('start', 'end')[toward]} of axis {axis}")
    return " and ".join(words)


def _step_words(mistake: str, model: Model, claimed: Model, base, variant) -> str:
    spec, other = model.spec, claimed.spec
    name = "k" if not spec.swap else "x"
    flips = ", ".join(["::-1"] * spec.ndim)
    if mistake == KERNEL_NOT_FLIPPED:
        return (
            f"step 'kernel as applied': convolution reverses the kernel on every axis "
            f"(w = {name}[{flips}]) before sliding it; the claimed numbers slide it as it is "
            f"(that is correlation)."
        )
    if mistake == KERNEL_FLIPPED:
        return (
            f"step 'kernel as applied': correlation slides the kernel as it is "
            f"(w = {'conj(k)' if model.kernel_conj else 'k'}); the claimed numbers reverse it "
            f"on every axis first (that is convolution)."
        )
    if mistake in (PADDING_FORGOTTEN, WRONG_MODE):
        return (
            f"step 'padding and output shape': mode {spec.mode!r} pads by {_pads(spec)} "
            f"and gives shape {spec.out_shape}; the claimed numbers are mode {other.mode!r}: "
            f"padding {_pads(other)}, shape {other.out_shape}."
        )
    if mistake == OFF_BY_ONE:
        delta = tuple(v - b for v, b in zip(variant.origin, base.origin, strict=True))
        return (
            f"step 'window position': mode 'same' centres the window as scipy does "
            f"(padding before = extent // 2{'' if not any(base.origin) else ' + origin'}, "
            f"{_pads(spec)}); the claimed numbers put it {_shift_words(delta)} "
            f"(origin {variant.origin if len(delta) > 1 else variant.origin[0]}, "
            f"padding {_pads(other)})."
        )
    if mistake == OPERANDS_SWAPPED:
        return (
            "step 'operands': the window slides over x and w comes from k; the claimed numbers "
            "slide x over k."
        )
    return (
        f"step 'padding values': boundary {_rule(spec)} fills the padding; the claimed "
        f"numbers use {_rule(other)}."
    )


def _pads(spec) -> str:
    if not any(lo or hi for lo, hi in spec.pads):
        return "nothing"
    return str(spec.pads if spec.ndim > 1 else spec.pads[0])


def _rule(spec) -> str:
    if spec.boundary == "constant":
        return f"'constant' with fill_value {_scalar(spec.fill_value)!r}"
    return repr(spec.boundary)
