"""When do convolution and correlation agree? When the kernel equals its 180° rotation.

Seed scenario: "when is convolution the same as cross-correlation? When the filter
is symmetric about the x and y axes, as the average and Gaussian filters are"
(seed 000). Mirror symmetry about both axes is enough, but the exact condition is
weaker: convolution slides ``k[::-1, ::-1]``, so the two agree for every image
exactly when ``k == k[::-1, ::-1]`` (point symmetry), as for the kernel P below,
which is not mirror-symmetric. An antisymmetric kernel (Sobel) changes sign; an
asymmetric one (emboss, a random one) gives a different image. scipy.signal's
``convolve2d``/``correlate2d`` are the oracles.

Run: python examples/symmetric_kernels.py
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import signal

import convolib
from convolib import kernels


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def main() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (24, 32))
    point_symmetric = np.array([[1, 2, 0], [0, 5, 0], [0, 2, 1]])
    named = {
        "box 3x3 (the seed's 1/9 average)": kernels.box(3),
        "gaussian sigma=1": kernels.gaussian(1.0),
        "laplacian": kernels.laplacian(),
        "sharpen (8 neighbours)": kernels.sharpen(8),
        "P, point-symmetric only": point_symmetric,
        "sobel along columns": kernels.sobel(axis=1),
        "emboss": kernels.emboss(),
        "random 3x3": rng.standard_normal((3, 3)),
    }
    print(f"{'kernel':<34}{'k == rot180(k)':>16}{'max |conv - corr|':>20}")
    for name, k in named.items():
        conv = convolib.convolve(image, k, "same")
        corr = convolib.correlate(image, k, "same")
        expect(np.allclose(conv, signal.convolve2d(image, k, "same")), f"{name}: convolve")
        expect(np.allclose(corr, signal.correlate2d(image, k, "same")), f"{name}: correlate")
        symmetric = bool(np.array_equal(k, k[::-1, ::-1]))
        gap = float(np.abs(conv - corr).max())
        print(f"{name:<34}{symmetric!s:>16}{gap:>20.6g}")
        if symmetric:
            expect(np.allclose(conv, corr, rtol=1e-12, atol=1e-9), f"{name}: conv == corr")
        else:
            expect(gap > 1.0, f"{name}: an asymmetric kernel gives a different image")
    expect(
        not np.array_equal(point_symmetric, point_symmetric[::-1]),
        "P is not symmetric about the horizontal axis",
    )
    sobel = kernels.sobel(axis=1)
    expect(
        np.array_equal(
            convolib.convolve(image, sobel, "same"), -convolib.correlate(image, sobel, "same")
        ),
        "an antisymmetric kernel (rot180(k) == -k) changes the sign",
    )
    print("OK: equal exactly for the kernels equal to their half-turn; Sobel flips sign.")


if __name__ == "__main__":
    main()
