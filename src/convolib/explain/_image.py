"""Frames of the sliding window, drawn with Pillow (imported only here)."""

from __future__ import annotations

from ._core import Model, Step
from ._grids import Grid, kernel_grid, output_grid, padded_grid, planes, window_words
from ._notes import title

WHITE = (255, 255, 255)
INK = (20, 20, 20)
LINE = (150, 150, 150)
COLORS = {
    "": (WHITE, INK),
    "window": ((255, 210, 90), INK),
    "window padding": ((240, 190, 110), (90, 70, 40)),
    "padding": ((228, 228, 228), (110, 110, 110)),
    "current": ((120, 200, 120), INK),
    "done": (WHITE, INK),
    "pending": (WHITE, (190, 190, 190)),
    "kernel": ((205, 225, 255), INK),
}


def _pil():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "Explanation.frames and .gif draw with Pillow, which is not installed. "
            "Install it with: pip install pillow (or pip install 'convolib[images]')."
        ) from None
    return Image, ImageDraw, ImageFont


def _font(ImageFont, size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


class _Painter:
    def __init__(self, model: Model, scale: float) -> None:
        Image, ImageDraw, ImageFont = _pil()
        self.Image, self.ImageDraw = Image, ImageDraw
        self.model = model
        self.scale = scale
        self.font = _font(ImageFont, max(8, round(15 * scale)))
        self.small = _font(ImageFont, max(6, round(10 * scale)))
        self.head = _font(ImageFont, max(8, round(17 * scale)))
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        self.probe = probe
        texts = [str(c) for g in self._grids(None) for c in g.cells.flat] or ["0"]
        widest = max(probe.textlength(t, font=self.font) for t in texts)
        self.cell = max(round(34 * scale), int(widest + 12 * scale))
        self.pad = round(16 * scale)
        sizes = [self._grid_size(g) for g in self._grids(None)]
        self.width = max(
            sum(w for w, _ in sizes) + self.pad * (len(sizes) + 1) * 2, round(520 * scale)
        )

    def _grids(self, step: Step | None) -> list[Grid]:
        model = self.model
        kernel = kernel_grid(model)
        kernel.marks[...] = "kernel"
        return [padded_grid(model, step), kernel, output_grid(model, step)]

    def _grid_size(self, grid: Grid) -> tuple[int, int]:
        layout = planes(grid.cells)
        rows = layout[0][1].shape[0] if layout else 0
        cols = layout[0][1].shape[1] if layout else 0
        gap = self.cell // 2
        width = len(layout) * cols * self.cell + max(0, len(layout) - 1) * gap
        label = self.pad if grid.cells.ndim == 3 else 0
        return max(width, self._text_width(grid.title, self.font)), rows * self.cell + label

    def _text_width(self, text: str, font) -> int:
        return int(self.probe.textlength(text, font=font))

    def _wrap(self, text: str, width: int, font=None) -> list[str]:
        font = font or self.font
        words, lines, line = text.split(" "), [], ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if line and self._text_width(trial, font) > width:
                lines.append(line)
                line = "    " + word
            else:
                line = trial
        return [*lines, line] if line else lines

    def formula_lines(self, step: Step) -> list[str]:
        text_width = self.width - 2 * self.pad
        return [t for line in step.lines() for t in self._wrap(line.strip(), text_width)]

    def header_lines(self, step: Step) -> list:
        model = self.model
        text_width = self.width - 2 * self.pad
        header = [
            (title(model), self.head),
            (
                f"step {step.number}/{len(model.steps)}: {step.name}, "
                f"window {window_words(model, step)}",
                self.font,
            ),
        ]
        return [(t, f) for text, f in header for t in self._wrap(text, text_width, f)]

    def frame(self, step: Step, rows: tuple[int, int]):
        """The frame of ``step``, with room for ``rows`` (header, formula) lines: the
        same for every frame, so an animation keeps one size."""
        grids = self._grids(step)
        sizes = [self._grid_size(g) for g in grids]
        line_height = round(20 * self.scale)
        width = self.width
        formula_lines = self.formula_lines(step)
        header_lines = self.header_lines(step)
        grid_top = self.pad + line_height * rows[0] + self.pad + line_height
        grid_height = max((h for _, h in sizes), default=0)
        height = grid_top + grid_height + self.pad + line_height * rows[1] + self.pad
        image = self.Image.new("RGB", (width, height), WHITE)
        draw = self.ImageDraw.Draw(image)
        y = self.pad
        for text, font in header_lines:
            draw.text((self.pad, y), text, fill=INK, font=font)
            y += line_height
        x = self.pad
        for grid, (w, _) in zip(grids, sizes, strict=True):
            draw.text((x, grid_top - line_height), grid.title, fill=INK, font=self.font)
            self._draw_grid(draw, grid, x, grid_top)
            x += w + 2 * self.pad
        y = grid_top + grid_height + self.pad
        for text in formula_lines:
            draw.text((self.pad, y), text, fill=INK, font=self.font)
            y += line_height
        return image

    def _draw_grid(self, draw, grid: Grid, left: int, top: int) -> None:
        cell, gap = self.cell, self.cell // 2
        layout = planes(grid.cells)
        symbols = grid.symbols
        label = self.pad if grid.cells.ndim == 3 else 0
        for number, (plane, rows) in enumerate(layout):
            x0 = left + number * (rows.shape[1] * cell + gap)
            if plane is not None:
                offset = grid.offsets[0] if grid.offsets else 0
                draw.text((x0, top), f"[{plane - offset}]", fill=INK, font=self.small)
            for r in range(rows.shape[0]):
                for c in range(rows.shape[1]):
                    index = _index(grid.cells.ndim, plane, r, c)
                    fill, ink = COLORS[grid.marks[index]]
                    box = (x0 + c * cell, top + label + r * cell)
                    draw.rectangle(
                        (*box, box[0] + cell, box[1] + cell), fill=fill, outline=LINE, width=1
                    )
                    text = str(grid.cells[index])
                    tw = self._text_width(text, self.font)
                    draw.text(
                        (box[0] + (cell - tw) / 2, box[1] + cell * 0.32),
                        text,
                        fill=ink,
                        font=self.font,
                    )
                    if symbols is not None:
                        mark = str(symbols[index])
                        if self._text_width(mark, self.small) < cell - 4:
                            draw.text(
                                (box[0] + 3, box[1] + 1), mark, fill=(90, 90, 160), font=self.small
                            )
            if grid.inner is not None:
                self._frame(draw, grid, plane, x0, top + label)

    def _frame(self, draw, grid: Grid, plane, x0: int, y0: int) -> None:
        """A thick outline around the unpadded input."""
        inner = grid.inner
        if plane is not None and not inner[0][0] <= plane < inner[0][1]:
            return
        (r0, r1), (c0, c1) = ((0, 1), inner[0]) if grid.cells.ndim == 1 else inner[-2:]
        cell = self.cell
        draw.rectangle(
            (x0 + c0 * cell, y0 + r0 * cell, x0 + c1 * cell, y0 + r1 * cell),
            outline=(40, 40, 200),
            width=max(2, round(3 * self.scale)),
        )


def _index(ndim: int, plane, r: int, c: int) -> tuple[int, ...]:
    if ndim == 1:
        return (c,)
    return (r, c) if plane is None else (plane, r, c)


def frames(model: Model, scale: float) -> list:
    from ..errors import bad_argument

    if not (isinstance(scale, int | float) and 0.25 <= scale <= 8):
        raise bad_argument("scale", scale, "must be a number in [0.25, 8]")
    painter = _Painter(model, float(scale))
    rows = (
        max((len(painter.header_lines(step)) for step in model.steps), default=0),
        max((len(painter.formula_lines(step)) for step in model.steps), default=0),
    )
    return [painter.frame(step, rows) for step in model.steps]
