"""Boundary rules: their names, and the one function that pads by them.

convolib uses NumPy's ``np.pad`` names. For the input ``a b c d``:

    constant   0 0 0 | a b c d | 0 0 0    (fill_value, default 0)
    edge       a a a | a b c d | d d d
    reflect    d c b | a b c d | c b a    (edge sample not repeated)
    symmetric  c b a | a b c d | d c b    (edge sample repeated)
    wrap       b c d | a b c d | a b c
"""

from __future__ import annotations

import numpy as np

from .errors import choice_error

RULES = ("constant", "edge", "reflect", "symmetric", "wrap")

SYNONYMS = {"zeros": "constant", "replicate": "edge", "circular": "wrap"}
"""PyTorch's ``padding_mode`` names, accepted as they are."""

FOREIGN_NAMES = {
    "nearest": "edge",
    "mirror": "reflect",
    "grid-mirror": "symmetric",
    "grid-wrap": "wrap",
    "grid-constant": "constant",
    "fill": "constant",
    "symm": "symmetric",
    "circular-wrap": "wrap",
}
"""Names other libraries use (scipy.ndimage, scipy.signal.convolve2d) that we do not
accept, because some of them (ndimage's ``reflect``) mean another rule here; each
maps to the convolib name the error message suggests."""


def canonical_boundary(name: object) -> str:
    """Return the NumPy name of a boundary rule, accepting PyTorch's synonyms.

    >>> canonical_boundary("replicate")
    'edge'
    """
    if isinstance(name, str):
        key = name.lower()
        if key in RULES:
            return key
        if key in SYNONYMS:
            return SYNONYMS[key]
        if key in FOREIGN_NAMES:
            hint = (
                f"{name!r} is another library's name; convolib uses NumPy's names, "
                f"so write boundary={FOREIGN_NAMES[key]!r} (see the boundary table in the README)"
            )
            raise choice_error("boundary", name, RULES + tuple(SYNONYMS), hint)
    raise choice_error("boundary", name, RULES + tuple(SYNONYMS))


def pad(
    a: np.ndarray,
    pads: tuple[tuple[int, int], ...],
    boundary: str,
    fill_value: object = 0,
) -> np.ndarray:
    """Pad the last ``len(pads)`` axes of ``a`` by ``boundary`` (a canonical name).

    >>> pad(np.array([1, 2, 3]), ((2, 1),), "reflect").tolist()
    [3, 2, 1, 2, 3, 2]
    """
    widths = [(0, 0)] * (a.ndim - len(pads)) + [tuple(p) for p in pads]
    if not any(lo or hi for lo, hi in widths):
        return a
    if boundary == "constant":
        out = np.empty(
            tuple(s + lo + hi for s, (lo, hi) in zip(a.shape, widths, strict=True)), a.dtype
        )
        out[...] = fill_value
        out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(a.shape, widths, strict=True))] = a
        return out
    if 0 in a.shape[a.ndim - len(pads) :]:
        return a  # nothing to reflect or repeat; the spec makes such outputs empty
    return np.pad(a, widths, mode=boundary)
