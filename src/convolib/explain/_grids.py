"""Grids of cells as the renderings lay them out: 1-D as one row, 2-D as rows, 3-D as
planes; each cell with a mark (window, padding, current output, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import Model, Step, fmt_index, fmt_number, strings


@dataclass(frozen=True)
class Grid:
    """Text cells of one array, their marks, and where the unpadded region lies."""

    title: str
    cells: np.ndarray
    """Strings, shape of the array."""
    marks: np.ndarray
    """One of '', 'window', 'padding', 'window padding', 'current', 'done', 'pending'."""
    inner: tuple[tuple[int, int], ...] | None = None
    """Per axis, the [start, stop) of the unpadded input; None when nothing is padded."""
    offsets: tuple[int, ...] | None = None
    """Per axis, the array index of position 0 of the input (padding before it)."""
    symbols: np.ndarray | None = None
    """The symbol of each cell, where the cells are values."""


def planes(a: np.ndarray) -> list[tuple[int | None, np.ndarray]]:
    """``a`` as 2-D planes: ``[(None, rows)]`` for 1-D and 2-D, one per index of axis 0
    for 3-D."""
    if a.ndim == 1:
        return [(None, a.reshape(1, -1))]
    if a.ndim == 2:
        return [(None, a)]
    return [(p, a[p]) for p in range(a.shape[0])]


def window(model: Model, step: Step) -> set[tuple[int, ...]]:
    """The padded cells the step reads."""
    return {t.at for t in step.terms}


def padded_grid(model: Model, step: Step | None, symbols: bool = False) -> Grid:
    spec = model.spec
    cells = model.padded_symbols if symbols else model.padded_text
    marks = np.full(cells.shape, "", object)
    marks[model.padded_boundary] = "padding"
    if step is not None:
        for at in window(model, step):
            marks[at] = "window padding" if model.padded_boundary[at] else "window"
    padded = any(lo or hi for lo, hi in spec.pads) and not spec.empty
    inner = (
        tuple((lo, lo + n) for (lo, _), n in zip(spec.pads, spec.n, strict=True))
        if padded
        else None
    )
    offsets = tuple(lo for lo, _ in spec.pads)
    title = f"{model.signal.name} padded ({_rule(model)})" if padded else signal_label(model)
    return Grid(title, cells, marks, inner, offsets, None if symbols else model.padded_symbols)


def signal_label(model: Model) -> str:
    """What the window slides over: ``x``, or ``conj(k[::-1])`` where valid mode swaps."""
    spec = model.spec
    name = model.signal.name
    if spec.signal_flip:
        name = f"{name}[{', '.join(['::-1'] * spec.ndim)}]"
    return f"conj({name})" if model.signal_conj else name


def _rule(model: Model) -> str:
    spec = model.spec
    if spec.boundary == "constant":
        return f"constant {fmt_number(spec.fill_value)}"
    return spec.boundary


def kernel_grid(model: Model, symbols: bool = False) -> Grid:
    cells = model.kernel_symbols if symbols else strings(model.kernel)
    title = "w symbols" if symbols else "w values"
    marks = np.full(cells.shape, "", object)
    return Grid(title, cells, marks, symbols=None if symbols else model.kernel_symbols)


def kernel_short(model: Model) -> str:
    """``w = k[::-1, ::-1]``, ``w = conj(k)``, …"""
    spec = model.spec
    name = model.kernel_operand.name
    if spec.kernel_flip:
        name = f"{name}[{', '.join(['::-1'] * spec.ndim)}]"
    return f"w = conj({name})" if model.kernel_conj else f"w = {name}"


def kernel_words(model: Model) -> str:
    """How the kernel as applied, ``w``, comes from the kernel operand."""
    spec = model.spec
    name = model.kernel_operand.name
    if spec.kernel_flip:
        how = f"{name}[{', '.join(['::-1'] * spec.ndim)}], {name} reversed on every axis"
        if spec.ndim == 2:
            how += " (rotated 180°)"
    else:
        how = f"{name} as it is"
    if model.kernel_conj:
        how = f"conj({how})"
    return f"w, the kernel as applied = {how}"


def products_grid(model: Model, step: Step) -> Grid:
    cells = np.full(model.kernel.shape, "", object)
    for t in step.terms:
        cells[t.tap] = "-" if t.product is None else fmt_number(t.product)
    return Grid("w·P, the products", cells, np.full(cells.shape, "", object))


def output_grid(model: Model, step: Step | None) -> Grid:
    """The output; with a step, the outputs before it done, it current, later ones
    pending (steps run in row-major order, so step n is flat index n - 1)."""
    cells = model.result_text.copy()
    marks = np.full(cells.shape, "", object)
    if step is not None and cells.size:
        flat = np.arange(cells.size).reshape(cells.shape)
        marks[flat < step.number - 1] = "done"
        marks[flat == step.number - 1] = "current"
        later = flat > step.number - 1
        marks[later] = "pending"
        cells[later] = "·"
    return Grid("y", cells, marks)


def operand_grid(title: str, a: np.ndarray) -> Grid:
    cells = a if a.dtype == object and all(isinstance(v, str) for v in a.flat) else strings(a)
    return Grid(title, cells, np.full(cells.shape, "", object))


def window_words(model: Model, step: Step) -> str:
    """Where the window lies, in the signal's coordinates: ``x[0:2, 1:3]``."""
    if not step.terms:
        return "no terms (an empty sum)"
    spans = []
    for axis in range(model.spec.ndim):
        first = min(t.position[axis] for t in step.terms)
        last = max(t.position[axis] for t in step.terms)
        dl = model.spec.dilation[axis]
        spans.append(f"{first}:{last + 1}" + (f":{dl}" if dl > 1 else ""))
    label = signal_label(model)
    label = f"({label})" if label != model.signal.name else label
    return f"{label}[{', '.join(spans)}]"


def padding_words(model: Model, step: Step) -> list[str]:
    """One phrase per window cell that comes from the padding."""
    out = []
    name = model.signal.name
    for t in step.terms:
        if t.boundary is None:
            continue
        where = f"{name}[{fmt_index(t.position)}]"
        if t.source is None:
            absent = ", term left out" if t.product is None else ""
            out.append(f"{where} = {fmt_number(t.value)} (constant{absent})")
        else:
            out.append(f"{where} = {name}[{fmt_index(t.source)}] = {t.value_symbol} ({t.boundary})")
    return out
