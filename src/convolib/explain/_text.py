"""The terminal rendering: aligned grids side by side; the window in brackets, or in
ANSI colour."""

from __future__ import annotations

import textwrap

from ._core import Model
from ._grids import (
    Grid,
    kernel_grid,
    kernel_words,
    operand_grid,
    output_grid,
    padded_grid,
    padding_words,
    planes,
    products_grid,
    window_words,
)
from ._notes import title

Segment = tuple[str, str]
"""Text and its style ('' for none)."""
Line = list[Segment]

STYLES = {
    "window": "\x1b[30;43m",  # black on yellow
    "window padding": "\x1b[30;43;2m",
    "padding": "\x1b[2m",  # dim
    "current": "\x1b[1;30;42m",  # bold black on green
    "pending": "\x1b[2m",
    "title": "\x1b[1m",
}
RESET = "\x1b[0m"
BRACKETED = ("window", "window padding", "current")
GAP = "    "


def _width(line: Line) -> int:
    return sum(len(text) for text, _ in line)


def _cut_before(inner, axis: int, index: int) -> bool:
    return inner is not None and inner[axis][0] == index and index > 0


def _cut_after(inner, axis: int, index: int, size: int) -> bool:
    return inner is not None and inner[axis][1] == index + 1 and index + 1 < size


def grid_lines(grid: Grid, color: bool) -> list[Line]:
    """``grid`` as lines of segments, its title first."""
    lines: list[Line] = [[(grid.title, "title")]]
    cells = grid.cells
    if cells.size == 0:
        lines.append([(f"(empty, shape {cells.shape})", "")])
        return lines
    width = max(len(str(c)) for c in cells.flat) + 2
    d = cells.ndim
    inner2 = None
    if grid.inner is not None:
        inner2 = list(grid.inner[-2:]) if d >= 2 else [(0, 1), grid.inner[0]]
    for plane, rows in planes(cells):
        marks = grid.marks if plane is None else grid.marks[plane]
        if d == 1:
            marks = marks.reshape(1, -1)
        if plane is not None:
            offset = grid.offsets[0] if grid.offsets else 0
            outside = grid.inner is not None and not (grid.inner[0][0] <= plane < grid.inner[0][1])
            lines.append([(f"[{plane - offset}, :, :]" + (" padding" if outside else ""), "")])
        n_rows, n_cols = rows.shape
        for r in range(n_rows):
            if _cut_before(inner2, 0, r):
                lines.append(_rule(inner2, n_cols, width))
            line: Line = []
            for c in range(n_cols):
                if _cut_before(inner2, 1, c):
                    line.append(("|", ""))
                mark = marks[r, c]
                text = str(rows[r, c]).rjust(width - 2)
                if mark in BRACKETED and not color:
                    line.append((f"[{text}]", ""))
                else:
                    line.append((f" {text} ", mark if color else ""))
                if _cut_after(inner2, 1, c, n_cols):
                    line.append(("|", ""))
            lines.append(line)
            if _cut_after(inner2, 0, r, n_rows):
                lines.append(_rule(inner2, n_cols, width))
    return lines


def _rule(inner, n_cols: int, width: int) -> Line:
    text = ""
    start, stop = inner[1]
    for c in range(n_cols):
        if _cut_before(inner, 1, c):
            text += "+"
        text += ("-" if start <= c < stop else " ") * width
        if _cut_after(inner, 1, c, n_cols):
            text += "+"
    return [(text, "")]


def side_by_side(blocks: list[list[Line]]) -> list[Line]:
    height = max(len(b) for b in blocks)
    widths = [max(_width(line) for line in b) for b in blocks]
    out = []
    for row in range(height):
        line: Line = []
        for i, (block, width) in enumerate(zip(blocks, widths, strict=True)):
            part = block[row] if row < len(block) else []
            if i:
                line.append((GAP, ""))
            line.extend(part)
            if i < len(blocks) - 1:
                line.append((" " * (width - _width(part)), ""))
        out.append(line)
    return out


def _show(lines: list[Line], color: bool) -> list[str]:
    out = []
    for line in lines:
        text = ""
        for part, style in line:
            text += f"{STYLES[style]}{part}{RESET}" if color and style in STYLES else part
        out.append(text.rstrip())
    return out


def render(model: Model, notes: tuple[str, ...], color: bool) -> str:
    out = [title(model)]
    for note in notes:
        out += textwrap.wrap(note, 96, initial_indent="- ", subsequent_indent="  ")
    out.append("")
    x, k = model.x, model.k
    blocks = [
        grid_lines(operand_grid(f"{x.name} symbols", x.symbols), color),
        grid_lines(operand_grid(f"{x.name} values", x.values), color),
        grid_lines(operand_grid(f"{k.name} symbols", k.symbols), color),
        grid_lines(operand_grid(f"{k.name} values", k.values), color),
    ]
    out += _show(side_by_side(blocks), color)
    out.append("")
    out.append(f"{kernel_words(model)}:")
    out += _show(
        side_by_side(
            [
                grid_lines(kernel_grid(model, symbols=True), color),
                grid_lines(kernel_grid(model), color),
            ]
        ),
        color,
    )
    total = len(model.steps)
    for step in model.steps:
        out.append("")
        out.append(f"step {step.number}/{total}: {step.name}, window {window_words(model, step)}")
        blocks = [grid_lines(padded_grid(model, step), color)]
        if step.terms:
            blocks.append(grid_lines(products_grid(model, step), color))
        blocks.append(grid_lines(output_grid(model, step), color))
        out += ["  " + line for line in _show(side_by_side(blocks), color)]
        padding = padding_words(model, step)
        if padding:
            out += textwrap.wrap(
                "from the padding: " + "; ".join(padding),
                96,
                initial_indent="  ",
                subsequent_indent="    ",
            )
        out += ["  " + line for line in step.lines()]
    out.append("")
    out += _show(grid_lines(output_grid(model, None), color), color)
    return "\n".join(out)
