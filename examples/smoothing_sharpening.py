"""Smoothing, sharpening and edge detection of a generated image with named kernels.

Seed scenario: image processing with a kernel (seeds 002 and 004): the 3×3 average
(every weight 1/9) flattens noise "by shaving the peaks into their surroundings";
the kernel [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]] (seed 004 calls it edge
extraction; it sums to 1, so it sharpens: it keeps flat regions and steepens
edges); Sobel kernels measure the slope. Each property is checked against its
derivation (written next to it) and against scipy.ndimage.

Run: python examples/smoothing_sharpening.py
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import ndimage

import convolib
from convolib import kernels


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def scene(rng: np.random.Generator, noise: float) -> np.ndarray:
    """A 64×64 test image: a gentle ramp, a bright square, white noise."""
    rows, cols = np.mgrid[0:64, 0:64]
    image = 0.5 * rows + 0.25 * cols
    image[20:44, 20:44] += 100.0
    return image + noise * rng.standard_normal(image.shape)


def main() -> None:
    rng = np.random.default_rng(2)
    image = scene(rng, noise=10.0)
    average = kernels.box(3)
    expect(np.allclose(average, np.full((3, 3), 1 / 9)), "box(3) is the seed's 1/9 matrix")

    smooth = convolib.correlate(image, average, "same", boundary="symmetric")
    # scipy.ndimage's "reflect" is NumPy's (and convolib's) "symmetric"
    expect(
        np.allclose(smooth, ndimage.uniform_filter(image, 3, mode="reflect")),
        "the 3x3 average equals scipy.ndimage.uniform_filter",
    )
    # the mean of 9 independent values has variance σ²/9
    white = rng.standard_normal((256, 256))
    ratio = float(np.var(convolib.correlate(white, average, "valid")) / np.var(white))
    expect(abs(ratio * 9 - 1) < 0.05, "averaging 9 pixels divides white-noise variance by 9")
    expect(np.var(smooth) < np.var(image), "smoothing lowers the image's variance")
    print(f"3x3 average: white-noise variance x {ratio:.4f} (1/9 = {1 / 9:.4f})")

    seed_kernel = np.array([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]])
    expect(np.array_equal(kernels.sharpen(8), seed_kernel), "sharpen(8) is seed 004's kernel")
    sharp = convolib.correlate(image, seed_kernel, "same", boundary="wrap")
    # on a wrapped image every pixel meets every weight once: the sum is multiplied by Σk = 1
    expect(abs(sharp.mean() - image.mean()) < 1e-9 * np.abs(image).max(), "mean preserved")
    clean = scene(rng, noise=0.0)
    clean_sharp = convolib.correlate(clean, seed_kernel, "valid")
    # inside the square the image is a plane, and a symmetric kernel summing to 1 keeps a
    # plane as it is (valid output [i, j] is centred on pixel [i + 1, j + 1])
    expect(
        np.allclose(clean_sharp[29:33, 29:33], clean[30:34, 30:34]),
        "sharpening keeps a smooth region",
    )
    expect(clean_sharp.max() > clean.max() + 100, "sharpening overshoots at the square's edge")
    print(
        f"sharpen: mean {image.mean():.4f} -> {sharp.mean():.4f}; the square's edge "
        f"{clean.max():.1f} -> {clean_sharp.max():.1f}"
    )

    ramp = 3.0 * np.mgrid[0:16, 0:16][0] + 2.0 * np.mgrid[0:16, 0:16][1]  # slopes 3 and 2
    down = convolib.correlate(ramp, kernels.sobel(axis=0, normalize=True), "valid")
    across = convolib.correlate(ramp, kernels.sobel(axis=1, normalize=True), "valid")
    expect(np.allclose(down, 3.0) and np.allclose(across, 2.0), "Sobel on a ramp is its slope")
    lap = convolib.correlate(ramp, kernels.laplacian(), "valid")
    expect(np.allclose(lap, 0.0), "the Laplacian of a ramp is 0")
    edges = convolib.correlate(image, kernels.sobel(axis=1), "same", boundary="symmetric")
    expect(np.allclose(edges, ndimage.sobel(image, axis=1)), "Sobel equals scipy.ndimage.sobel")
    strongest = np.unravel_index(np.argmax(np.abs(edges)), edges.shape)[1]
    expect(strongest in (19, 20, 43, 44), "the strongest column edge is the square's side")
    print(
        f"sobel on a ramp of slopes (3, 2): {down[0, 0]:g}, {across[0, 0]:g}; "
        f"laplacian 0; strongest edge at column {strongest}"
    )
    print("OK: smoothing, sharpening and edges behave as derived.")


if __name__ == "__main__":
    main()
