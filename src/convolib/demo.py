"""A first tour of convolib: ``python -m convolib.demo [--out DIR]`` (or ``make demo``).

1. The worked 2-D example, correlation versus convolution, each with one output
   written out as a sum.
2. A synthetic greyscale image filtered four ways (Gaussian blur, sharpen, Sobel
   edges), saved as ``DIR/filters.png``, and an exact-integer box sum.
3. The plan convolib chose for one of the calls.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

import convolib

SIZE = 256
"""Side of the synthetic test image, in pixels."""
PANEL_GAP = 8
"""White pixels between the panels of the montage."""
LABEL_HEIGHT = 20
"""Height of the white strip above the panels that holds their names."""
PANEL_NAMES = ("original", "gaussian blur (sigma 2)", "sharpen", "sobel edges")
PNG_NAME = "filters.png"

X = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
K = np.array([[1, 2], [3, 4]])
WRONG_BLOG_VALUE = [[20, 26], [38, 44]]

SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


def worked_sum(x: np.ndarray, k: np.ndarray, i: int, j: int, *, flip: bool) -> str:
    """``y[i,j]`` of a 2-D valid correlation (``flip=True``: convolution) as a sum in numbers.

    >>> worked_sum(X, K, 0, 0, flip=False)
    'y[0,0] = 1·1 + 2·2 + 4·3 + 5·4 = 37'
    """
    weights = k[::-1, ::-1] if flip else k
    window = x[i : i + k.shape[0], j : j + k.shape[1]]
    pairs = [(int(a), int(b)) for a, b in zip(window.ravel(), weights.ravel(), strict=True)]
    terms = " + ".join(f"{a}·{b}" for a, b in pairs)
    return f"y[{i},{j}] = {terms} = {sum(a * b for a, b in pairs)}"


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 2-D Gaussian, the outer product of a 1-D one of radius ``ceil(3 sigma)``."""
    radius = math.ceil(3 * sigma)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(t**2) / (2 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)


def synthetic_image(size: int = SIZE) -> np.ndarray:
    """A deterministic greyscale image in [0, 1]: gradient, shapes, a chirp grating, noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    img = 0.15 + 0.35 * xx + 0.1 * yy  # smooth gradient background
    for cy, cx, r, v in ((0.25, 0.25, 0.15, 1.0), (0.22, 0.72, 0.1, 0.0), (0.5, 0.5, 0.07, 0.75)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = v  # discs
    for y0, x0, side, v in (
        (0.45, 0.08, 0.18, 0.9),
        (0.5, 0.7, 0.2, 0.05),
        (0.6, 0.35, 0.08, 0.15),
    ):
        img[(yy >= y0) & (yy < y0 + side) & (xx >= x0) & (xx < x0 + side)] = v  # squares
    band = yy >= 0.78  # a grating whose frequency rises from left to right
    img[band] = (0.5 + 0.4 * np.sin(2 * np.pi * (6 * xx + 22 * xx**2)))[band]
    noise = np.random.default_rng(0).normal(0.0, 0.02, img.shape)
    return np.clip(img + noise, 0.0, 1.0)


def filtered(img: np.ndarray) -> dict[str, np.ndarray]:
    """The image blurred, sharpened and Sobel-edged with convolib (reflect boundary)."""
    blur = convolib.convolve(img, gaussian_kernel(2.0), "same", boundary="reflect")
    sharp = convolib.convolve(img, SHARPEN, "same", boundary="reflect")
    gx = convolib.correlate(img, SOBEL_X, "same", boundary="reflect")
    gy = convolib.correlate(img, SOBEL_X.T, "same", boundary="reflect")
    return {"blurred": blur, "sharpened": sharp, "edges": np.hypot(gx, gy)}


def to_uint8(a: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``a / scale`` clipped to [0, 1] and mapped to 0..255."""
    return np.round(np.clip(a / scale, 0.0, 1.0) * 255).astype(np.uint8)


def montage(panels: list[np.ndarray]) -> np.ndarray:
    """The uint8 panels side by side, white gaps between them, a white label strip above."""
    h, w = panels[0].shape
    out = np.full((LABEL_HEIGHT + h, len(panels) * (w + PANEL_GAP) - PANEL_GAP), 255, np.uint8)
    for n, p in enumerate(panels):
        x0 = n * (w + PANEL_GAP)
        out[LABEL_HEIGHT:, x0 : x0 + w] = p
    return out


def write_png(pixels: np.ndarray, path: Path, labels: tuple[str, ...] = PANEL_NAMES) -> bool:
    """Write the montage to ``path`` atomically; ``False`` (and a message) without Pillow."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        print(f"Pillow is not installed, so {path.name} was not written: pip install pillow")
        return False
    image = Image.fromarray(pixels, mode="L")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1 has only the small bitmap font
        font = ImageFont.load_default()
    width = (pixels.shape[1] + PANEL_GAP) // len(labels)
    for n, label in enumerate(labels):
        draw.text((n * width + 2, 3), label, fill=0, font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def worked_example() -> None:
    """Print part 1: correlation and convolution of the 3x3 example, with sums."""
    corr = convolib.correlate(X, K, "valid").tolist()
    conv = convolib.convolve(X, K, "valid").tolist()
    print(f"1. x = {X.tolist()}, k = {K.tolist()}")
    print(
        f'   correlate(x, k, "valid") = {corr}   (deep learning\'s "convolution", torch F.conv2d)'
    )
    print(f"     {worked_sum(X, K, 0, 0, flip=False)}")
    print(f'   convolve(x, k, "valid")  = {conv}   (kernel flipped to {K[::-1, ::-1].tolist()})')
    print(f"     {worked_sum(X, K, 0, 0, flip=True)}")
    print(f"   Some blog posts print {WRONG_BLOG_VALUE} for this: that is wrong (it is neither).")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m convolib.demo", description="A first tour of convolib."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help=f"folder for {PNG_NAME} (created if missing; default: demo-output)",
    )
    args = parser.parse_args(argv)

    print(f"convolib {convolib.__version__} demo\n")
    worked_example()

    img = synthetic_image()
    f = filtered(img)
    kernel = gaussian_kernel(2.0)
    print(f"\n2. A synthetic {SIZE}x{SIZE} image, filtered (mode 'same', boundary 'reflect'):")
    print(f"   gaussian blur  sigma 2, {kernel.shape[0]}x{kernel.shape[1]} kernel (outer product)")
    print(f"   sharpen        {SHARPEN.astype(int).tolist()}")
    print("   sobel edges    hypot of two correlations with the 3x3 Sobel kernels")
    img8 = to_uint8(img)
    box = convolib.correlate(img8, np.ones((3, 3), np.uint8), "same")
    print(
        f"   exact integers: uint8 image with a 3x3 box of ones -> {box.dtype}, "
        f"max {box.max()} (uint8 would wrap to {int(box.max()) % 256})"
    )

    print("\n3. The plan of the blur (print(convolib.plan(...))):")
    p = convolib.plan("convolve", img, kernel, "same", boundary="reflect")
    print(textwrap.indent(str(p), "   "))

    panels = [
        img8,
        to_uint8(f["blurred"]),
        to_uint8(f["sharpened"]),
        to_uint8(f["edges"], float(f["edges"].max())),
    ]
    path = (args.out / PNG_NAME).absolute()
    try:
        written = write_png(montage(panels), path)
    except OSError as err:
        print(f"error: could not write {path}: {err}", file=sys.stderr)
        return 1
    if written:
        print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
