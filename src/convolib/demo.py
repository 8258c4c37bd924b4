"""A first tour of convolib: ``convolib demo [--out DIR]`` (or ``make demo``).

It prints a short tour and writes ``DIR/report.html``, one self-contained page:

1. The worked 2-D example, correlation versus convolution, explained step by step,
   and what `convolib.check` says about a blog's wrong value for it.
2. A synthetic greyscale image filtered four ways (Gaussian blur, sharpen, Sobel
   edges), also saved as ``DIR/filters.png``, and an exact-integer box sum.
3. The exact distribution of the sum of dice.
4. A linear time-invariant system's response, sampled, against the exact one.
5. Learned kernels: a correlation layer and a convolution layer trained on the same
   data learn kernels that are flips of each other.
6. The plan convolib chose for the blur, and a few calls timed on this machine
   against scipy.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

import convolib
from convolib._report import Report, figure_png

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


def montage_png(pixels: np.ndarray, labels: tuple[str, ...] = PANEL_NAMES) -> bytes | None:
    """The labelled montage as PNG bytes; ``None`` (and a message) without Pillow."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        print(f"Pillow is not installed, so {PNG_NAME} was not written: pip install pillow")
        return None
    image = Image.fromarray(pixels, mode="L")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1 has only the small bitmap font
        font = ImageFont.load_default()
    width = (pixels.shape[1] + PANEL_GAP) // len(labels)
    for n, label in enumerate(labels):
        draw.text((n * width + 2, 3), label, fill=0, font=font)
    return png_bytes(image)


def png_bytes(image) -> bytes:
    """A Pillow image as PNG bytes."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


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


def explained(report: Report) -> None:
    """Part 1 of the report: the worked example explained, and a wrong claim checked."""
    from .check import check
    from .explain import explain

    report.section("1. Convolution versus correlation, step by step")
    report.text(
        "Deep-learning frameworks call cross-correlation 'convolution'. Correlation slides "
        "the kernel as it is; convolution flips it on every axis first."
    )
    report.pre(explain(X, K, "correlate", "valid").text(color=False))
    report.pre(str(explain(X, K, "convolve", "valid").steps[0]))
    verdict = check(X, K, WRONG_BLOG_VALUE, "correlate", "valid")
    report.text(f"A blog post claims torch's conv2d gives {WRONG_BLOG_VALUE}; convolib.check:")
    report.pre(str(verdict))


def dice(report: Report) -> None:
    """Part 3: the exact distribution of the sum of two and of three dice."""
    from .prob import dice as parse_dice

    two, three = parse_dice("2d6"), parse_dice("3d6")
    print(f"\n3. Dice: P(2d6 = 7) = {two.p(7)}, P(3d6 = 10) = {three.p(10)} (exact fractions)")
    report.section("3. The sum of dice is a convolution")
    report.text(
        f"P(2d6 = 7) = {two.p(7)}, P(3d6 = 10) = {three.p(10)}, mean of 3d6 = {three.mean}: "
        "each distribution is the previous one convolved with one die, exactly."
    )
    plt = _pyplot()
    if plt is None:
        report.text("(matplotlib is not installed: no plot; pip install matplotlib)")
        return
    try:  # Pillow, which matplotlib writes PNGs with, may still be missing
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
        two.plot(ax=axes[0])
        three.plot(ax=axes[1])
        axes[0].set_title("2d6")
        axes[1].set_title("3d6")
        fig.tight_layout()
        png = figure_png(fig)
    except ImportError as err:
        print(f"   no dice plot: {err.name} is not installed (pip install matplotlib)")
        report.text("(matplotlib is not installed: no plot; pip install matplotlib)")
        return
    report.image("dice.png", png, "the distributions of 2d6 and 3d6")


def _pyplot():
    """matplotlib's pyplot on the Agg backend, or ``None`` (with a note) without it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        print(f"   no plot: {err.name} is not installed (pip install matplotlib)")
        return None
    return plt


def lti(report: Report) -> None:
    """Part 4: a step into an exponentially decaying system, sampled at two spacings."""
    from .signal import response

    tau, end = 1.0, 6.0
    report.section("4. A system's response is a convolution")
    lines = []
    curves = []
    for dt in (0.5, 0.1):
        t = np.arange(0, end, dt)
        r = response(np.ones_like(t), np.exp(-t / tau) / tau, dt, rule="trapezoid")
        exact = 1 - np.exp(-r.t / tau)
        error = float(np.abs(r.y - exact).max())
        lines.append(f"dt = {dt}: largest error {error:.2g}")
        curves.append((dt, r))
    text = (
        "A unit step into a system with impulse response exp(-t/τ)/τ, τ = 1: the "
        "sampled convolution (trapezoid rule) against the exact 1 - exp(-t/τ); "
        + "; ".join(lines)
        + " (the error falls as dt², four times per halving)."
    )
    print(f"\n4. LTI response of a step, exp(-t) system: {'; '.join(lines)}")
    report.text(text)
    plt = _pyplot()
    if plt is None:
        return
    try:
        fig, ax = plt.subplots(figsize=(7, 3))
        fine = np.linspace(0, end, 400)
        ax.plot(fine, 1 - np.exp(-fine / tau), color="black", label="exact 1 - exp(-t)")
        for dt, r in curves:
            ax.plot(r.t, r.y, "o", markersize=3, label=f"convolution, dt = {dt}")
        ax.set_xlabel("t")
        ax.set_ylabel("y(t)")
        ax.legend()
        fig.tight_layout()
        report.image("lti.png", figure_png(fig), "a step response, sampled and exact")
    except ImportError as err:
        print(f"   no plot: {err.name} is not installed")


def learned_kernels(report: Report) -> None:
    """Part 5: the learned-kernel demonstration (`convolib.learned`)."""
    from . import learned

    r = learned.fit(seed=0)
    summary = (
        f"After {r.steps} steps the kernel learned by convolution equals the one learned "
        f"by correlation rotated 180° to {r.flip_gap:.1e}; the hidden kernel is recovered "
        f"to {r.recovery_error:.1e} (noise floor {r.noise_floor:.1e})."
    )
    print(f"\n5. Learned kernels: {summary}")
    report.section("5. Learned kernels make the flip irrelevant")
    report.text(
        "A correlation layer and a convolution layer, trained by gradient descent with "
        "convolib's own gradients on the same data (images through a hidden kernel, plus "
        "noise), learn kernels that are flips of each other and predict alike. " + summary
    )
    try:
        png = figure_png(learned.figure(r))
    except ImportError as err:
        print(f"   no plot: {err.name} is not installed")
        return
    report.image("learned.png", png, "the hidden and learned kernels, and the training curves")


TIMED = (
    ("image 1024² float32, 3×3, same", (1024, 1024), (3, 3), "float32", "same"),
    ("signal 200 000 float64, 1001 taps, full", (200_000,), (1001,), "float64", "full"),
    ("image 512² float32, 15×15 Gaussian, same", (512, 512), "gaussian", "float32", "same"),
)


def _median_seconds(call, repeats: int = 5) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timings(report: Report) -> None:
    """Part 4's table: a few calls, what auto chose, timed against scipy.signal.convolve."""
    from scipy import signal

    from .planner import format_seconds

    rng = np.random.default_rng(0)
    rows = []
    for what, sx, sk, dtype, mode in TIMED:
        x = rng.standard_normal(sx).astype(dtype)
        k = gaussian_kernel(7 / 3).astype(dtype) if sk == "gaussian" else rng.standard_normal(sk)
        k = k.astype(dtype)
        ours = _median_seconds(lambda x=x, k=k, mode=mode: convolib.convolve(x, k, mode))
        theirs = _median_seconds(lambda x=x, k=k, mode=mode: signal.convolve(x, k, mode))
        chosen = convolib.plan("convolve", x, k, mode).algorithm
        rows.append(
            [what, chosen, format_seconds(ours), format_seconds(theirs), f"{theirs / ours:.1f}×"]
        )
    head = ["call", "auto chose", "convolib", "scipy.signal.convolve", "speed-up"]
    report.table(head, rows)
    print("   " + " | ".join(head))
    for row in rows:
        print("   " + " | ".join(row))


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit status."""
    parser = argparse.ArgumentParser(prog="convolib demo", description="A first tour of convolib.")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="folder for report.html and its images (created if missing; default: demo-output)",
    )
    args = parser.parse_args(argv)
    report = Report(f"convolib {convolib.__version__}: a tour")

    print(f"convolib {convolib.__version__} demo\n")
    worked_example()
    explained(report)

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
    report.section("2. An image smoothed, sharpened and edge-detected")
    report.text(
        "A synthetic image (gradient, shapes, a grating, noise), filtered with mode 'same' "
        "and boundary 'reflect': a Gaussian blur (sigma 2), the sharpen kernel "
        f"{SHARPEN.astype(int).tolist()}, and the magnitude of the two Sobel correlations."
    )
    panels = [
        img8,
        to_uint8(f["blurred"]),
        to_uint8(f["sharpened"]),
        to_uint8(f["edges"], float(f["edges"].max())),
    ]
    png = montage_png(montage(panels))
    if png is not None:
        report.image(PNG_NAME, png, "the image before and after each filter")

    dice(report)
    lti(report)
    learned_kernels(report)

    print("\n6. The plan of the blur (print(convolib.plan(...))):")
    p = convolib.plan("convolve", img, kernel, "same", boundary="reflect")
    print(textwrap.indent(str(p), "   "))
    report.section("6. What convolib chose, and how fast it was here")
    report.pre(str(p))
    print("\n   A few calls timed on this machine (medians of 5):")
    timings(report)

    try:
        path = report.write(args.out)
    except OSError as err:
        print(f"error: could not write {args.out.absolute()}: {err}", file=sys.stderr)
        return 1
    print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
