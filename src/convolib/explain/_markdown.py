"""The Markdown rendering, formulas in LaTeX (``$$ … $$``, as GitHub, Jupyter and
KaTeX/MathJax render them)."""

from __future__ import annotations

import re

import numpy as np

from ._core import Model, Step, factor, fmt_index, fmt_number
from ._grids import kernel_words, padding_words, planes, strings, window, window_words
from ._notes import title

_INDEXED = re.compile(r"^([a-z])\[([-0-9,]+)\]$")
_EXPONENT = re.compile(r"^(-?[0-9.]+)e([+-][0-9]+)$")


def latex_symbol(symbol: str) -> str:
    """``conj(x[1,2])`` as ``\\overline{x_{1,2}}``.

    >>> latex_symbol("conj(x[1,2])")
    '\\\\overline{x_{1,2}}'
    """
    if symbol.startswith("conj(") and symbol.endswith(")"):
        return rf"\overline{{{latex_symbol(symbol[5:-1])}}}"
    match = _INDEXED.match(symbol)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    return latex_number(symbol) if symbol and not symbol.isalpha() else symbol


def latex_number(text: str) -> str:
    r"""A number as `fmt_number` writes it, in LaTeX.

    >>> latex_number("-1/6"), latex_number("2.5e-07"), latex_number("inf")
    ('-\\tfrac{1}{6}', '2.5 \\times 10^{-7}', '\\infty')
    """
    if text.startswith("(") and text.endswith(")"):
        return f"({latex_number(text[1:-1])})"
    sign = "-" if text.startswith("-") else ""
    body = text[1:] if sign else text
    words = {"inf": r"\infty", "nan": r"\mathrm{NaN}"}
    match = _EXPONENT.match(body)
    if "/" in body:
        num, den = body.split("/", 1)
        body = rf"\tfrac{{{num}}}{{{den}}}"
    elif body in words:
        body = words[body]
    elif match:
        body = rf"{match[1]} \times 10^{{{int(match[2])}}}"
    elif body.endswith("j"):  # a+bj: split at the sign that is not an exponent's
        cuts = [i for i, c in enumerate(body) if c in "+-" and i and body[i - 1] != "e"]
        if cuts:
            cut = cuts[-1]
            real, imag = latex_number(body[:cut]), latex_number(body[cut + 1 : -1])
            body = f"{real} {body[cut]} {imag}i"
    return sign + body


def _factor(text: str) -> str:
    text = factor(text)
    if text.startswith("(") and text.endswith(")"):
        return rf"\left({latex_number(text[1:-1])}\right)"
    return latex_number(text)


def matrix(cells: np.ndarray, decorate=None) -> str:
    """A bmatrix per plane (1-D as one row, 3-D as one matrix per index of axis 0)."""
    out = []
    for plane, rows in planes(cells):
        body = []
        for r in range(rows.shape[0]):
            items = []
            for c in range(rows.shape[1]):
                index = (c,) if cells.ndim == 1 else (r, c) if plane is None else (plane, r, c)
                text = latex_symbol(str(rows[r, c]))
                items.append(decorate(index, text) if decorate else text)
            body.append(" & ".join(items))
        m = r"\begin{bmatrix} " + r" \\ ".join(body) + r" \end{bmatrix}"
        out.append(m if plane is None else rf"\underset{{[{plane}]}}{{{m}}}")
    return r"\;".join(out) if out else r"\varnothing"


def formula(step: Step) -> str:
    name = rf"y_{{{fmt_index(step.index)}}}"
    present = step.present
    if not present:
        return f"{name} = 0"
    symbols = " + ".join(
        rf"{latex_symbol(t.weight_symbol)} \cdot {latex_symbol(t.value_symbol)}" for t in present
    )
    numbers = " + ".join(
        rf"{_factor(fmt_number(t.weight))} \cdot {_factor(fmt_number(t.value))}" for t in present
    )
    products = ""
    for i, t in enumerate(present):
        text = fmt_number(t.product)
        if i == 0:
            products = latex_number(text)
        elif text.startswith("-"):
            products += f" - {latex_number(text[1:])}"
        else:
            products += f" + {latex_number(text)}"
    parts = [name, symbols, numbers]
    if len(present) > 1:
        parts.append(products)
    parts.append(latex_number(fmt_number(step.value)))
    return " = ".join(parts)


def render(model: Model, notes: tuple[str, ...]) -> str:
    x, k = model.x, model.k
    out = [f"### `{title(model)}`", ""]
    out += [f"- {note}" for note in notes]
    out += [
        "",
        f"$${x.name} = {matrix(x.symbols)} = {matrix(strings(x.values))}$$",
        "",
        f"$${k.name} = {matrix(k.symbols)} = {matrix(strings(k.values))}$$",
        "",
        f"{kernel_words(model)}:",
        "",
        f"$$w = {matrix(model.kernel_symbols)} = {matrix(strings(model.kernel))}$$",
    ]
    padded = model.padded_text
    total = len(model.steps)
    for step in model.steps:
        cells = window(model, step)

        def decorate(index, text, cells=cells):
            if model.padded_boundary[index]:
                text = rf"\color{{gray}}{{{text}}}"
            return rf"\boxed{{{text}}}" if index in cells else text

        out += [
            "",
            f"#### Step {step.number} of {total}: $y_{{{fmt_index(step.index)}}}$, "
            f"window `{window_words(model, step)}`",
            "",
            f"$${matrix(padded, decorate)}$$",
        ]
        padding = padding_words(model, step)
        if padding:
            out += ["", "From the padding (grey): " + "; ".join(f"`{p}`" for p in padding) + "."]
        out += ["", f"$${formula(step)}$$"]
    out += ["", "#### Result", "", f"$$y = {matrix(model.result_text)}$$", ""]
    return "\n".join(out)
