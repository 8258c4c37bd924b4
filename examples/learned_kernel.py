"""Learned kernels make the flip irrelevant: fit a correlation layer and a convolution layer.

Seed scenario: "why can deep learning use cross-correlation instead of convolution?
Because the kernels are learned: a layer trained with convolution learns the kernel
that a correlation layer learns, flipped up-down and left-right, and both give the
same outputs" (seed 000; also seeds 002 and 003). `convolib.learned.fit` trains both
with convolib's own gradients on images made by a hidden 5×5 kernel (a letter F)
plus noise, once with data made by convolution and once by correlation. The model
that matches how the data were made learns the F as it is, the other learns it
rotated 180°; their predictions agree.

Run: python examples/learned_kernel.py [--out DIR]   (DIR gets learned_kernel.png)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from convolib import learned


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figure learned_kernel.png here")
    args = parser.parse_args()

    for seed, data in enumerate(("convolve", "correlate")):
        result = learned.fit(data=data, seed=seed)
        print(f"--- data made by {data}")
        print(result)
        expect(result.flip_gap <= 1e-6, "the two learned kernels are 180° rotations")
        expect(result.flip_gaps[0] > 0.1, "they did not start as rotations of each other")
        expect(
            result.recovery_error <= 5 * result.noise_floor + 1e-6,
            "both recover the hidden kernel within the noise",
        )
        made_by = result.convolution if data == "convolve" else result.correlation
        other = result.correlation if data == "convolve" else result.convolution
        expect(np.abs(made_by - result.hidden).max() < 0.01, "one learns the kernel as it is")
        expect(np.abs(other - result.hidden[::-1, ::-1]).max() < 0.01, "the other, rotated")
        expect(result.prediction_gap <= 1e-8 * result.prediction_scale, "same predictions")
    print("learned by correlation (data made by correlation), rounded:")
    print(np.round(result.correlation, 2) + 0.0)  # + 0.0 prints -0.0 as 0.0
    print("learned by convolution (same data), rounded:")
    print(np.round(result.convolution, 2) + 0.0)

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "learned_kernel.png"
        learned.figure(result, path)
        print(f"wrote {path}")
    print("OK: the learned kernels are flips of each other and predict alike.")


if __name__ == "__main__":
    main()
