"""The error bounds of DESIGN.md, asserted for every algorithm and floating dtype.

* ``elementwise`` algorithms: ``|y - exact| <= 2·m·eps·(|x| * |k|)`` per element;
* ``normwise`` algorithms (transforms): ``max |y - exact| <= eps·log2(L)·‖x‖₂·‖k‖₂``;
* integers: exact (tested in test_algorithms.py and test_numbers.py).

``exact`` is the reference computed in extended precision (long double), and
``|x| * |k|`` the same computation on absolute values, so the bound is per element.
"""

import math

import numpy as np
import pytest

import convolib
from convolib.algorithms import registry
from convolib.boundary import pad
from convolib.spec import build_spec

NAMES = [name for name in convolib.methods() if name != "auto"]
DTYPES = ("float32", "float64", "complex64", "complex128")
CASES = [
    # (op, x shape, k shape, mode, boundary)
    ("convolve", (2000,), (31,), "full", "constant"),
    ("correlate", (1500,), (200,), "same", "reflect"),
    ("convolve", (60, 70), (7, 5), "same", "symmetric"),
    ("correlate", (48, 40), (15, 15), "full", "wrap"),
    ("convolve", (12, 14, 10), (3, 5, 3), "same", "edge"),
]

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
    reason="needs an extended-precision long double for the exact side",
)


def _operands(rng, sx, sk, dtype):
    def draw(shape):
        a = rng.uniform(-1, 1, shape) * 10.0 ** rng.uniform(-2, 2, shape)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.uniform(-1, 1, shape)
        return a.astype(dtype)

    return draw(sx), draw(sk)


def _wide(a):
    return a.astype(np.clongdouble if a.dtype.kind == "c" else np.longdouble)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("name", NAMES)
def test_error_bound(name, case, dtype):
    op, sx, sk, mode, boundary = CASES[case]
    rng = np.random.default_rng([case, DTYPES.index(dtype)])
    x, k = _operands(rng, sx, sk, dtype)
    spec = build_spec(op, x, k, mode, boundary=boundary)
    algorithm = registry()[name]
    if algorithm.supports(spec) is not None:
        pytest.skip(algorithm.supports(spec))
    got = getattr(convolib, op)(x, k, mode, boundary=boundary, method=name)
    assert got.dtype == np.dtype(dtype)
    run = getattr(convolib, op)
    exact = run(_wide(x), _wide(k), mode, boundary=boundary, method="reference")
    err = np.abs(got.astype(exact.dtype) - exact)
    eps = float(np.finfo(dtype).eps)
    if algorithm.accuracy == "elementwise":
        magnitude = run(
            np.abs(_wide(x)), np.abs(_wide(k)), mode, boundary=boundary, method="reference"
        )
        # m terms per output; a complex product and sum cost a few more roundings
        m = math.prod(sk) * (4 if np.dtype(dtype).kind == "c" else 1)
        bound = 2 * m * eps * magnitude + eps * np.abs(exact)
        worst = np.max(err / np.maximum(bound, np.finfo(np.longdouble).tiny))
        assert worst <= 1, f"elementwise bound exceeded {float(worst):.3g}x"
    else:
        assert algorithm.accuracy == "normwise", algorithm.accuracy
        padded = pad(_wide(x), spec.pads, spec.boundary, spec.fill_value)
        length = math.prod(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))
        bound = eps * math.log2(length) * np.linalg.norm(padded) * np.linalg.norm(_wide(k))
        assert np.max(err) <= bound, f"normwise bound exceeded {float(np.max(err) / bound):.3g}x"


def test_wide_dynamic_range_keeps_small_probabilities_accurate():
    """A probability vector from 1 down to 1e-12: every entry of its self-convolution
    is accurate to a relative 1e-12 and none is negative, whatever auto picks."""
    n = 4000
    p = 10.0 ** -np.linspace(0, 12, n)
    p /= p.sum()
    got = convolib.convolve(p, p)
    exact = convolib.convolve(_wide(p), _wide(p), method="reference")
    assert (got >= 0).all()
    relative = np.abs(got - exact) / exact
    assert float(relative.max()) <= 1e-12


@pytest.mark.parametrize(
    ("n", "m", "algorithm"), [(2**15, 2**15, "fft"), (300_000, 1001, "lanes_fft")]
)
def test_float32_non_negative_inputs_too_wide_for_float32_transforms_run_in_float64(
    n, m, algorithm
):
    """Uniform float32 values on [0, 1) span about 1e5 (their smallest is near 1e-5):
    too wide for a float32 transform (`_range_limit`: 2896), within a float64 one's
    (6.7e7). auto runs its transform in float64 and rounds the result, not the direct
    sum (which took 8.5 s for 2^17 by 2^17 against 6 ms): the bits of the forced
    float64 transform, each output within two float32 roundings of the exact value. Wider
    still (a 1e-30), or with no room in the memory budget, the sum runs."""
    from dataclasses import replace

    rng = np.random.default_rng(11)
    x, k = rng.random(n, dtype=np.float32), rng.random(m, dtype=np.float32)
    plan = convolib.plan("convolve", x, k)
    assert plan.algorithm == algorithm
    got = plan(x, k)
    wide = convolib.convolve(x.astype(np.float64), k.astype(np.float64), method=algorithm)
    assert got.dtype == np.float32
    assert np.array_equal(got, np.maximum(wide, 0).astype(np.float32))
    exact = np.convolve(x.astype(np.float64), k.astype(np.float64))  # relative error ~1e-12
    assert float((np.abs(got - exact) / exact).max()) <= 2 * np.finfo(np.float32).eps
    x[n // 2] = 1e-30
    assert np.array_equal(plan(x, k), convolib.convolve(x, k, method="direct"))
    x[n // 2] = 0.5
    cramped = replace(plan, memory_budget=8 * n)
    assert np.array_equal(cramped(x, k), convolib.convolve(x, k, method="direct"))


def test_non_negative_inputs_never_give_negative_outputs():
    """Transforms round tiny true values below zero; auto clips them at zero."""
    rng = np.random.default_rng(3)
    x = rng.random(300_000) * (rng.random(300_000) < 0.01)  # sparse, non-negative
    k = rng.random(3000)
    y = convolib.convolve(x, k)
    assert (y >= 0).all()
    exact = convolib.convolve(x, k, method="direct")
    bound = (
        float(np.finfo(np.float64).eps) * math.log2(y.size) * np.linalg.norm(x) * np.linalg.norm(k)
    )
    assert np.max(np.abs(y - exact)) <= bound


@pytest.mark.parametrize("where", [0, -1])
def test_large_operands_are_scanned_in_parts_on_every_part(where):
    """Operands of `costs.SCAN_PARALLEL_BYTES` or more are scanned for NaN, inf and a wide
    dynamic range in parts on two threads: a value in the first or the last part
    still sends auto's FFT-family plan to the direct sum, with the same result as a
    forced direct call."""
    from convolib.costs import SCAN_PARALLEL_BYTES

    n = SCAN_PARALLEL_BYTES // 8 + 1001
    x = np.random.default_rng(3).random(n) + 0.5
    k = np.hanning(1001)[1:-1]
    assert convolib.plan("convolve", x, k, workers=2).algorithm in ("fft", "lanes_fft")
    for value, probability in ((np.nan, False), (np.inf, False), (1e-30, True)):
        y = x.copy()
        y[where] = value
        got = convolib.convolve(y, k, workers=2)
        expected = convolib.convolve(y, k, workers=2, method="direct")
        assert np.array_equal(got, expected, equal_nan=True)
        if probability:  # the small end of the range kept to its own rounding error
            assert got[0 if where == 0 else -1] > 0
