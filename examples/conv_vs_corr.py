"""Convolution vs cross-correlation on the seeds' 3×3 example.

Seed scenario: "convolution and cross-correlation" (seeds 000 and 001): x = 1..9 as a
3×3 image, k = [[1, 2], [3, 4]]. Correlation slides k as it is (what
``torch.nn.functional.conv2d`` does); convolution first rotates k by 180°. Seed 001
prints several results for this example that are wrong; each claim is checked here
with `convolib.check`, and every true value comes from scipy (and torch, if
installed), computed below.

Run: python examples/conv_vs_corr.py
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import signal

import convolib
from convolib.check import check
from convolib.explain import explain


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def torch_oracle(x: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """torch's conv2d of x with k as it is and with k flipped (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    tx = torch.tensor(x, dtype=torch.float64)[None, None]
    tk = torch.tensor(k, dtype=torch.float64)[None, None]
    as_is = torch.nn.functional.conv2d(tx, tk)[0, 0].numpy()
    flipped = torch.nn.functional.conv2d(tx, tk.flip((2, 3)))[0, 0].numpy()
    return as_is, flipped


def main() -> None:
    x = np.arange(1, 10).reshape(3, 3)
    k = np.array([[1, 2], [3, 4]])

    corr = convolib.correlate(x, k, "valid")
    conv = convolib.convolve(x, k, "valid")
    true_corr = signal.correlate2d(x, k, "valid")
    true_conv = signal.convolve2d(x, k, "valid")
    expect(np.array_equal(corr, true_corr), "correlate agrees with scipy.signal.correlate2d")
    expect(np.array_equal(conv, true_conv), "convolve agrees with scipy.signal.convolve2d")
    layer = convolib.nn.conv2d(x[None, None].astype(float), k[None, None].astype(float))
    expect(np.array_equal(layer[0, 0], true_corr), "nn.conv2d is a correlation")
    expect(
        np.array_equal(conv, convolib.correlate(x, k[::-1, ::-1], "valid")),
        "convolution is correlation with the kernel rotated 180°",
    )
    torch_results = torch_oracle(x, k)
    if torch_results is not None:
        expect(np.array_equal(torch_results[0], true_corr), "torch conv2d is a correlation")
        expect(np.array_equal(torch_results[1], true_conv), "torch conv2d of k.flip convolves")

    print(f"correlate(x, k) = {corr.tolist()}   (torch's conv2d, scipy's correlate2d)")
    print(f"convolve(x, k)  = {conv.tolist()}   (scipy's convolve2d)")
    print("  correlation:", explain(x, k, "correlate", "valid").steps[0])
    print("  convolution:", explain(x, k, "convolve", "valid").steps[0])

    sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    claims = [
        ("seed 001, torch conv2d(x, k)", k, [[20, 26], [38, 44]], "correlate", true_corr),
        ("seed 001, correlation by hand", k, [[25, 31], [73, 79]], "correlate", true_corr),
        ("seed 001, convolution by hand", k, [[20, 26], [38, 44]], "convolve", true_conv),
        ("seed 001, torch conv2d(x, k.flip)", k, [[13, 20], [29, 36]], "convolve", true_conv),
        (
            "seed 001, torch conv2d(x, sobel)",
            sobel_x,
            [[0, -3], [-12, -15]],
            "correlate",
            signal.correlate2d(x, sobel_x, "valid"),
        ),
        ("convolution without the flip", k, [[37, 47], [67, 77]], "convolve", true_conv),
    ]
    print("claims about this example:")
    for source, kernel, claimed, op, truth in claims:
        report = check(x, kernel, claimed, op, "valid")
        expect(not report.ok, f"{source}: the claim is wrong")
        expect(np.array_equal(report.expected, truth), f"{source}: check's truth is scipy's")
        found = report.diagnosis
        why = (
            f"diagnosis: {' + '.join(found.mistakes)} (the claim is {found.call})"
            if found
            else "no common mistake explains it"
        )
        print(f"  {source}: claimed {claimed}, true {truth.tolist()}; {why}")
    last = check(x, k, [[37, 47], [67, 77]], "convolve", "valid").diagnosis
    expect(
        last is not None and last.mistakes == ("kernel not flipped",),
        "a correlation offered as a convolution is diagnosed as 'kernel not flipped'",
    )
    expect(check(x, k, true_corr, "correlate", "valid").ok, "the true values pass the check")
    print("OK: convolib, scipy" + (", torch" if torch_results else "") + " agree.")


if __name__ == "__main__":
    main()
