"""3-D convolution: a filter that slides along depth, height and width.

Seed scenario: "3D convolution" (seed 003, section 3): when the filter is shallower
than the input, it slides in all three directions and the output is a volume; a
"2-D" layer over D channels is the case where the filter is exactly as deep as the
input, so it has one position in depth. Checked against scipy.signal.convolve /
correlate (and torch's conv3d, if installed).

Run: python examples/conv3d.py
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import signal

import convolib
from convolib import nn


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def main() -> None:
    rng = np.random.default_rng(4)
    volume = rng.standard_normal((10, 9, 8))
    k = rng.standard_normal((3, 3, 3))
    for mode in ("full", "same", "valid"):
        ours = convolib.convolve(volume, k, mode)
        theirs = signal.convolve(volume, k, mode, method="direct")
        expect(ours.shape == theirs.shape, f"{mode}: shape {ours.shape}")
        expect(np.allclose(ours, theirs, rtol=1e-10, atol=1e-10), f"{mode}: values")
        print(f"convolve(10x9x8 volume, 3x3x3 kernel, {mode!r}) -> {ours.shape}, as scipy")

    x = rng.standard_normal((2, 2, 10, 9, 8))  # batch 2, 2 channels
    weight = rng.standard_normal((4, 2, 3, 3, 3))  # 4 filters of 2 x 3x3x3
    y = nn.conv3d(x, weight, padding=1)
    expected = np.stack(
        [
            [
                sum(signal.correlate(x[n, c], weight[f, c], "same") for c in range(2))
                for f in range(4)
            ]
            for n in range(2)
        ]
    )
    expect(y.shape == (2, 4, 10, 9, 8), "conv3d with padding 1 keeps the volume's shape")
    expect(np.allclose(y, expected), "conv3d = channel sum of 3-D correlations")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        theirs = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(weight), padding=1)
        expect(np.allclose(y, theirs.numpy()), "conv3d agrees with torch")
    print(f"nn.conv3d: input {x.shape}, weight {weight.shape}, padding 1 -> {y.shape}")

    image = rng.standard_normal((3, 12, 12))  # an RGB image: depth 3
    filt = rng.standard_normal((1, 3, 3, 3))  # one filter as deep as the image
    as_layer = nn.conv2d(image[None], filt)[0]
    as_volume = convolib.correlate(image, filt[0], "valid")
    expect(as_volume.shape == (1, 10, 10), "one position in depth")
    expect(np.allclose(as_layer, as_volume), "a 2-D layer is a 3-D correlation, depth valid")
    print(
        "a 3-channel 2-D layer = 3-D correlation with a filter as deep as the input: "
        f"{as_volume.shape}"
    )
    print("OK: 3-D convolutions agree with scipy" + (" and torch." if torch else "."))


if __name__ == "__main__":
    main()
