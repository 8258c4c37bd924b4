"""`explain`: every output of a small convolution or correlation, written out.

`explain` describes the sum that `convolib.convolve` / `convolib.correlate` compute,
term by term, from the library's own `Spec` (so the conventions are identical):
for each output position the window of the input (cells that come from the padding
are marked, with the boundary rule that produced them), the kernel as applied
(reversed on every axis for convolution; conjugated for complex correlation), the
products, their sum, and the formula in symbols and numbers.

Symbols: the kernel's entries are ``a, b, c, …`` and the input's ``A, B, C, …``,
both in row-major order (as the grids show them); an operand with more than 26
entries uses index notation instead (``k[0,1]``, ``x[2,3]``). A padding cell made by
a boundary rule that copies the input (``edge``, ``reflect``, ``symmetric``,
``wrap``) carries the symbol of the entry it copies; a constant fill carries its
number. Outputs are ``y[i,j]``. Floats are printed to six significant digits (the
arithmetic is not rounded); integers and fractions exactly.

>>> e = explain([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], "convolve", "valid")
>>> e.result.tolist()
[[23, 33], [53, 63]]
>>> print(e.steps[0])
y[0,0] = d·A + c·B + b·D + a·E = 4·1 + 3·2 + 2·4 + 1·5 = 4 + 6 + 8 + 5 = 23
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import bad_argument
from ._core import MAX_TERMS, Model, Operand, Step, Term, build, operands, symbols
from ._notes import notes, title

__all__ = ["MAX_TERMS", "Explanation", "Step", "Term", "explain"]


def explain(
    x: object,
    k: object,
    op: str = "correlate",
    mode: str = "full",
    *,
    boundary: str = "constant",
    fill_value: object = 0,
    stride: object = 1,
    dilation: object = 1,
    origin: object = 0,
) -> Explanation:
    """Explain ``op(x, k, mode, ...)`` output by output; see the module docs.

    ``op`` is ``"correlate"`` or ``"convolve"``; ``mode``, ``boundary``,
    ``fill_value`` and ``origin`` mean what they mean for `convolib.convolve`, and
    ``stride`` / ``dilation`` (an int, or one per axis) step the window and spread
    the kernel's taps, as in a neural-network layer. Every axis of ``x`` (1-D, 2-D or
    3-D) is convolved. Problems of more than `MAX_TERMS` terms (output positions ×
    kernel entries) are refused: the explanation writes each one out.

    >>> e = explain([1, 2, 3], [1, 10], "correlate", "same", boundary="reflect")
    >>> e.result.tolist()
    [12, 21, 32]
    >>> print(e.steps[0])
    y[0] = a·B + b·A = 1·2 + 10·1 = 2 + 10 = 12
    >>> e.steps[0].terms[0].boundary, e.steps[0].terms[0].position
    ('reflect', (-1,))
    """
    xa, ka = operands(x, k)
    options = {
        "mode": mode,
        "boundary": boundary,
        "fill_value": fill_value,
        "stride": stride,
        "dilation": dilation,
        "origin": origin,
    }
    model = build(
        op,
        Operand("x", xa, symbols(xa, "x", upper=True)),
        Operand("k", ka, symbols(ka, "k", upper=False)),
        options,
    )
    return Explanation(model, options)


class Explanation:
    """What `explain` returns: the steps, the result, and renderings of both.

    Attributes: ``op``, ``mode``, ``boundary`` (NumPy's name), ``fill_value``,
    ``stride``, ``dilation``, ``origin``, ``spec`` (the library's `Spec`), ``x``,
    ``k``, ``signal`` (``"x"``, or ``"k"`` where valid mode swaps the operands),
    ``padded`` (the signal as the sum reads it, padded), ``kernel`` (the kernel as
    applied) with ``kernel_symbols``, ``steps`` (one `Step` per output, in sliding
    order), ``result`` (equal to ``convolib.convolve``/``correlate``'s) and ``notes``
    (the conventions, in sentences).
    """

    def __init__(self, model: Model, options: dict) -> None:
        self._model = model
        spec = model.spec
        self.spec = spec
        self.op = spec.op
        self.mode = spec.mode
        self.boundary = spec.boundary
        self.fill_value = spec.fill_value
        self.stride = spec.stride
        self.dilation = spec.dilation
        self.origin = options.get("origin", 0)
        self.x = model.x.values
        self.k = model.k.values
        self.signal = model.signal.name
        self.padded = model.padded
        self.padded_symbols = model.padded_symbols
        self.padded_boundary = model.padded_boundary
        self.kernel = model.kernel
        self.kernel_symbols = model.kernel_symbols
        self.steps: tuple[Step, ...] = model.steps
        self.result: np.ndarray = model.result
        self.notes: tuple[str, ...] = tuple(notes(model))

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def step(self, index: object) -> Step:
        """The step of output ``index`` (an int for 1-D, a tuple otherwise)."""
        key = (index,) if isinstance(index, int | np.integer) else tuple(index)  # type: ignore[arg-type]
        for s in self.steps:
            if s.index == tuple(int(i) for i in key):
                return s
        raise bad_argument(
            "index", index, f"is not an output position; the output shape is {self.result.shape}"
        )

    @property
    def title(self) -> str:
        """One line: the call and the shapes."""
        return title(self._model)

    def __repr__(self) -> str:
        return f"<Explanation of {self.title}: {len(self.steps)} steps>"

    def text(self, color: bool | None = None) -> str:
        """The whole explanation for a terminal: aligned grids, the window in brackets,
        or highlighted in ANSI colour where ``color`` is true (None: only when standard
        output is a terminal and ``NO_COLOR`` is unset).

        >>> e = explain([1, 2, 3], [1, 1], mode="valid")
        >>> print(e.text(color=False).splitlines()[0])
        correlate(x, k, mode='valid'): x (3,) int64, k (2,) int64 -> y (2,) int64
        """
        from ._text import render

        return render(self._model, self.notes, _want_color(color))

    def __str__(self) -> str:
        return self.text()

    def markdown(self) -> str:
        """The explanation as Markdown, with the formulas in LaTeX (``$$ … $$``).

        >>> "y_{0} = a \\\\cdot A" in explain([1, 2], [3]).markdown()
        True
        """
        from ._markdown import render

        return render(self._model, self.notes)

    def frames(self, directory: str | Path | None = None, *, scale: float = 1.0) -> list:
        """One PIL image per step: the padded input with the window, the kernel as
        applied and the output so far, side by side, and the formula below. With a
        ``directory``, also saves them there as ``step_001.png``, … (needs Pillow).
        """
        from ._image import frames

        images = frames(self._model, scale)
        if directory is not None:
            folder = Path(directory)
            folder.mkdir(parents=True, exist_ok=True)
            width = max(3, len(str(len(images))))
            for number, image in enumerate(images, start=1):
                image.save(folder / f"step_{number:0{width}d}.png")
        return images

    def gif(self, path: str | Path, *, seconds_per_step: float = 1.0, scale: float = 1.0) -> Path:
        """Save the frames as an animated GIF that loops; returns the path."""
        if not (isinstance(seconds_per_step, int | float) and 0 < seconds_per_step <= 60):
            raise bad_argument("seconds_per_step", seconds_per_step, "must be a number in (0, 60]")
        images = self.frames(scale=scale)
        target = Path(path)
        if not images:
            raise bad_argument("path", str(path), "cannot hold an animation of an empty output")
        images[0].save(
            target,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(seconds_per_step * 1000),
            loop=0,
        )
        return target

    def html(self, path: str | Path | None = None) -> str:
        """One self-contained HTML page (inline CSS and JavaScript, no network) with
        Back / Play / Step controls, the window on the grids and the formula of the
        current step. Returns the page, and writes it to ``path`` if given. The URL
        hash ``#step=N`` opens step ``N`` (1-based).
        """
        from ._html import render

        page = render(self._model, self.notes, self.title)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page


def _want_color(color: bool | None) -> bool:
    if color is not None:
        return bool(color)
    import os
    import sys

    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"
