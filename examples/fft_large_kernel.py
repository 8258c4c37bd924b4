"""A large kernel: the planner picks an FFT, within the documented error bound.

Seed scenario: "Fourier convolution in PyTorch: computing large-kernel convolutions
efficiently by FFT" (seed 000's related articles). The direct sum costs one
multiply-add per output and kernel tap; a transform costs O(L log L) for the padded
size L, whatever the kernel's size. For a 256×256 image and a 41×41 kernel (of full
rank, so it does not split into 1-D passes) `convolib.plan` picks an FFT-family
algorithm, and its result is within the documented bound of the direct sum:

    max |fft - direct| <= eps · log2(L) · ||x||₂ · ||k||₂,   L = the full output's size

(README "Numbers"; docs/conventions.md "Accuracy"). scipy.signal.fftconvolve is the
peer. Times are printed for information; nothing depends on them.

Run: python examples/fft_large_kernel.py
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from scipy import signal

import convolib


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((256, 256))
    k = rng.standard_normal((41, 41))
    expect(np.linalg.matrix_rank(k) == 41, "the kernel has full rank")

    plan = convolib.plan("convolve", x, k)
    expect(plan.algorithm in ("fft", "overlap_save", "lanes_fft"), f"auto chose {plan.algorithm}")
    print(f"plan: {plan.algorithm} ({plan.reason})")

    fast, fast_s = timed(lambda: plan(x, k))
    direct, direct_s = timed(lambda: convolib.convolve(x, k, method="direct"))
    peer = signal.fftconvolve(x, k)
    length = math.prod(fast.shape)
    bound = np.finfo(np.float64).eps * math.log2(length) * np.linalg.norm(x) * np.linalg.norm(k)
    error = float(np.abs(fast - direct).max())
    expect(error <= bound, f"max |{plan.algorithm} - direct| = {error:.3g} > bound {bound:.3g}")
    expect(float(np.abs(peer - direct).max()) <= bound, "scipy's fftconvolve is within it too")
    print(f"max |{plan.algorithm} - direct| = {error:.2e}, bound {bound:.2e} ({error / bound:.1%})")
    print(f"times: {plan.algorithm} {fast_s * 1e3:.1f} ms, direct {direct_s * 1e3:.1f} ms")
    print("OK: the transform's result is within the documented bound.")


if __name__ == "__main__":
    main()
