"""Multi-channel convolution layers: output shapes and parameter counts.

Seed scenario: "convolution in deep learning, single and multi-channel" (seed 003):
an input of W_in × H_in × D_in, k filters of w × h (each a stack of D_in kernels),
stride s and padding p give

    W_out = (W_in - w + 2p) / s + 1,  H_out = (H_in - h + 2p) / s + 1,  D_out = k
    parameters = (w · h · D_in + 1) · k

(rounded down when s does not divide evenly, as every framework does). For each layer
below the formulas, `convolib.nn.output_shape` / `parameter_count`, and the shape of
an actual `convolib.nn.conv` agree; the values equal the sum over input channels of
scipy's 2-D correlations (and torch's conv2d, if installed).

Run: python examples/layer_shapes.py
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import signal

from convolib import nn


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


LAYERS = [
    # (D_in, H_in, W_in, k, h, w, s, p)
    (3, 32, 32, 8, 5, 5, 1, 2),
    (3, 32, 24, 16, 3, 3, 2, 1),
    (16, 15, 15, 4, 3, 3, 2, 0),
    (4, 20, 17, 6, 3, 5, 3, 2),
    (3, 224, 224, 64, 7, 7, 2, 3),
]


def by_channels(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, s: int, p: int):
    """The oracle: output channel f = Σ_c correlate2d(padded x[c], weight[f, c]) + bias[f],
    sampled every s pixels."""
    padded = np.pad(x, ((0, 0), (p, p), (p, p)))
    return np.stack(
        [
            sum(signal.correlate2d(padded[c], weight[f, c], "valid") for c in range(len(x)))[
                ::s, ::s
            ]
            + bias[f]
            for f in range(len(weight))
        ]
    )


def main() -> None:
    rng = np.random.default_rng(3)
    try:
        import torch
    except ImportError:
        torch = None
    print("  D_in  H_in x W_in   k  h x w  s  p  ->  D_out x H_out x W_out  parameters")
    for d_in, h_in, w_in, k, h, w, s, p in LAYERS:
        h_out, w_out = (h_in - h + 2 * p) // s + 1, (w_in - w + 2 * p) // s + 1
        params = (w * h * d_in + 1) * k
        x = rng.standard_normal((1, d_in, h_in, w_in))
        weight = rng.standard_normal((k, d_in, h, w))
        bias = rng.standard_normal(k)
        y = nn.conv(x, weight, bias, stride=s, padding=p)
        layer = f"{d_in}x{h_in}x{w_in}, {k} filters {h}x{w}, stride {s}, padding {p}"
        expect(y.shape == (1, k, h_out, w_out), f"{layer}: nn.conv's shape is the formula's")
        expect(
            nn.output_shape(x.shape, weight.shape, stride=s, padding=p) == y.shape,
            f"{layer}: output_shape",
        )
        expect(nn.parameter_count(weight.shape) == params == weight.size + bias.size, layer)
        if h_in <= 32:
            expect(np.allclose(y[0], by_channels(x[0], weight, bias, s, p)), f"{layer}: values")
        if torch is not None:
            module = torch.nn.Conv2d(d_in, k, (h, w), stride=s, padding=p)
            expect(sum(t.numel() for t in module.parameters()) == params, f"{layer}: torch")
            theirs = torch.nn.functional.conv2d(
                torch.tensor(x), torch.tensor(weight), torch.tensor(bias), stride=s, padding=p
            )
            expect(np.allclose(y, theirs.numpy()), f"{layer}: torch conv2d values")
        print(
            f"  {d_in:4}  {h_in:4} x {w_in:<4} {k:3}  {h} x {w}  {s}  {p}  ->  "
            f"{k:5} x {h_out:5} x {w_out:<5}  {params:10}"
        )
    print("OK: formulas, output_shape, parameter_count and the computed layers agree.")


if __name__ == "__main__":
    main()
