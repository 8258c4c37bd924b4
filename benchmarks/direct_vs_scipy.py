"""convolib's ``direct`` algorithm against ``scipy.signal.convolve(method="direct")``.

Both run in this one process, interleaved, and the table reports medians. This is
a first look for the foundation issue; the full suite of ``BENCHMARKS.md`` comes with
the performance work. Run: ``.venv/bin/python benchmarks/direct_vs_scipy.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import scipy.signal

import convolib

CASES = [
    ("1-D f64 n=1e5, k=16, full", (100_000,), (16,), np.float64, "full"),
    ("1-D f64 n=1000, k=8, full", (1000,), (8,), np.float64, "full"),
    ("2-D f32 512², 3×3, same", (512, 512), (3, 3), np.float32, "same"),
    ("2-D f32 2048², 3×3, same", (2048, 2048), (3, 3), np.float32, "same"),
    ("2-D f64 256², 11×11, same", (256, 256), (11, 11), np.float64, "same"),
    ("2-D int64 512², 5×5, same (exact)", (512, 512), (5, 5), np.int64, "same"),
    ("2-D c128 256², 5×5, full", (256, 256), (5, 5), np.complex128, "full"),
    ("3-D f32 64³, 5×5×5, same", (64, 64, 64), (5, 5, 5), np.float32, "same"),
]


def _operand(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if np.dtype(dtype).kind == "i":
        return rng.integers(-100, 100, shape).astype(dtype)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _median_seconds(runs: dict[str, object], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up: compilation, caches
    for _ in range(repeats):
        for name, run in runs.items():  # interleaved, so drift hits both alike
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'case':<36}{'scipy direct':>14}{'convolib':>12}{'ratio':>9}")
    for name, sx, sk, dtype, mode in CASES:
        x, k = _operand(rng, sx, dtype), _operand(rng, sk, dtype)
        expected = scipy.signal.convolve(x, k, mode, method="direct")
        got = convolib.convolve(x, k, mode, method="direct")
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-3), name
        repeats = 3 if x.size * k.size > 1e7 else 15
        t = _median_seconds(
            {
                "scipy": lambda x=x, k=k, mode=mode: scipy.signal.convolve(x, k, mode, "direct"),
                "convolib": lambda x=x, k=k, mode=mode: convolib.convolve(x, k, mode),
            },
            repeats,
        )
        print(
            f"{name:<36}{t['scipy'] * 1e3:>11.3f} ms{t['convolib'] * 1e3:>9.3f} ms"
            f"{t['scipy'] / t['convolib']:>8.1f}x"
        )


if __name__ == "__main__":
    main()
