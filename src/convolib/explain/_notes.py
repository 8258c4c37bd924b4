"""The conventions of one explained call, in a title line and sentences."""

from __future__ import annotations

import math

from ._core import Model


def title(model: Model) -> str:
    """One line: the call, the shapes and dtypes."""
    spec = model.spec
    extras = []
    if spec.boundary != "constant" or spec.fill_value != 0:
        extras.append(f"boundary={spec.boundary!r}")
        if spec.boundary == "constant":
            extras.append(f"fill_value={spec.fill_value!r}")
    for name, values in (("stride", spec.stride), ("dilation", spec.dilation)):
        if any(v != 1 for v in values):
            extras.append(f"{name}={values if len(values) > 1 else values[0]}")
    origin = [lo - e // 2 for (lo, _), e in zip(spec.pads, _extents(spec), strict=True)]
    if spec.mode == "same" and any(origin) and not spec.empty:
        extras.append(f"origin={tuple(origin) if len(origin) > 1 else origin[0]}")
    args = ", ".join([f"mode={spec.mode!r}", *extras])
    x, k = model.x.values, model.k.values
    return (
        f"{spec.op}(x, k, {args}): x {x.shape} {x.dtype}, k {k.shape} {k.dtype} "
        f"-> y {spec.out_shape} {model.result.dtype}"
    )


def _extents(spec) -> list[int]:
    return [dl * (m - 1) + 1 for m, dl in zip(spec.m, spec.dilation, strict=True)]


_AXES_WORDS = {1: "", 2: " (up-down and left-right: rotated 180°)", 3: " (all three axes)"}


def _reversed(name: str, d: int) -> str:
    return f"{name}[{', '.join(['::-1'] * d)}]"


def notes(model: Model) -> list[str]:
    """The conventions of this call, in sentences."""
    spec = model.spec
    d = spec.ndim
    x, k, sig = model.x, model.k, model.signal
    idx = "ijl"[:d]
    taps = "uvt"[:d]
    terms = ", ".join(
        (f"{s}{i}" if s > 1 else i) + "+" + (f"{dl}{u}" if dl > 1 else u)
        for i, u, s, dl in zip(idx, taps, spec.stride, spec.dilation, strict=True)
    )
    notes = [
        f"y[{','.join(idx)}] = sum over {','.join(taps)} of w[{','.join(taps)}]·P[{terms}]: "
        f"w is the kernel as applied, P the input as the window reads it (padded)."
    ]
    if spec.swap:
        moved = "reversed on every axis" + (" and conjugated" if model.signal_conj else "")
        notes.append(
            f"Mode 'valid' with k {k.values.shape} larger than x {x.values.shape}: as in "
            f"scipy.signal, the operands trade places. P is k "
            + (moved if spec.signal_flip else "as given")
            + ", and w is x reversed on every axis."
        )
    elif spec.op == "convolve":
        notes.append(
            f"Convolution flips the kernel: w = k reversed on every axis, "
            f"{_reversed('k', d)}{_AXES_WORDS[d]}."
        )
    else:
        notes.append(
            "Correlation slides the kernel as it is: w = "
            + (
                "conj(k), the complex conjugate (as numpy and scipy do)."
                if model.kernel_conj
                else "k, not flipped."
            )
        )
    pads = spec.pads if d > 1 else spec.pads[0]
    if spec.empty:
        notes.append(
            f"An operand is empty, so every output is an empty sum: y is zeros of shape "
            f"{spec.out_shape}."
        )
    elif spec.mode == "valid":
        notes.append(
            f"Mode 'valid': no padding; only the {math.prod(spec.out)} positions where the "
            f"kernel fits inside {sig.name}, so y has shape {spec.out_shape}."
        )
    elif spec.mode == "full":
        notes.append(
            f"Mode 'full': x is padded by (before, after) = {pads} (kernel extent - 1), so "
            f"every partial overlap counts; y has shape {spec.out_shape}."
        )
    else:
        origins = [lo - e // 2 for (lo, _), e in zip(spec.pads, _extents(spec), strict=True)]
        shift = (
            f", shifted by origin {tuple(origins) if d > 1 else origins[0]}" if any(origins) else ""
        )
        notes.append(
            f"Mode 'same': y has x's shape {spec.out_shape}; x is padded by (before, after) = "
            f"{pads}, centred as scipy.signal centres it (before = extent // 2){shift}."
        )
    if any(lo or hi for lo, hi in spec.pads):
        notes.append(_boundary_note(spec))
    if any(s > 1 for s in spec.stride):
        notes.append(f"Stride {spec.stride}: the window moves by that much per output step.")
    if any(dl > 1 for dl in spec.dilation):
        notes.append(
            f"Dilation {spec.dilation}: the kernel's taps are that far apart, so the window "
            f"spans {tuple(_extents(spec))} cells."
        )
    k_sym = "a, b, c, …" if k.values.size <= 26 else "k[…]"
    x_sym = "A, B, C, …" if x.values.size <= 26 else "x[…]"
    notes.append(
        f"Symbols: k's entries are {k_sym} and x's are {x_sym}, in row-major order; "
        f"outputs are y[…]."
    )
    return notes


def _boundary_note(spec) -> str:
    rule = spec.boundary
    if rule == "constant":
        if spec.zero_padding:
            return (
                "Boundary 'constant' with fill_value 0 (zero padding): terms that fall on "
                "the padding are left out of the sum."
            )
        return f"Boundary 'constant': the padding holds fill_value {spec.fill_value!r}."
    pictures = {
        "edge": "repeats the edge sample: a a | a b c d | d d",
        "reflect": "mirrors about the edge sample, not repeating it: c b | a b c d | c b",
        "symmetric": "mirrors about the edge, repeating the edge sample: b a | a b c d | d c",
        "wrap": "continues periodically: c d | a b c d | a b",
    }
    return (
        f"Boundary {rule!r} {pictures[rule]}. A padding cell carries the symbol of the x "
        f"entry it copies."
    )
