"""The planner: golden choices, printable plans, forcing, caching, memory budget."""

import numpy as np
import pytest

import convolib
from convolib import costs
from convolib import planner as plan_module
from convolib.algorithms import Algorithm, registry

F32 = np.float32


def _arrays(shape_x, shape_k, dtype):
    return np.ones(shape_x, dtype), np.ones(shape_k, dtype)


GOLDEN = [
    # (op, x shape, k shape, dtype, mode, expected algorithm)
    ("correlate", (64, 64), (3, 3), F32, "same", "direct"),
    ("convolve", (2048, 2048), (3, 3), F32, "same", "direct"),
    ("convolve", (1000,), (8,), np.float64, "full", "direct"),
    ("convolve", (16, 16, 16), (5, 5, 5), np.float64, "same", "direct"),  # short rows: padded
    ("convolve", (32, 32, 32), (9, 9, 9), np.complex128, "same", "fft"),  # 24M complex terms
    ("convolve", (100, 100), (5, 5), np.uint8, "same", "direct"),
    ("convolve", (100,), (5,), np.float16, "full", "direct"),
    ("correlate", (50, 50), (4, 4), np.complex64, "valid", "direct"),
    ("convolve", (5, 5, 5, 5), (2, 2, 2, 2), np.float64, "full", "reference"),
    ("convolve", (30,), (3,), object, "full", "reference"),
    ("convolve", (1882,), (20,), object, "full", "limbs"),  # the last call of 100 dice
    ("convolve", (30000,), (2000,), object, "full", "ntt"),  # long kernel: transforms
    ("convolve", (30,), (3,), np.longdouble, "full", "reference"),
    ("convolve", (2048, 2048), (15, 15), F32, "same", "separable"),  # i3: a rank-1 kernel
    ("convolve", (4096, 4096), (49, 49), F32, "same", "separable"),  # i7: not overlap_save
    ("convolve", (4096, 4096), (5, 5), np.uint8, "same", "separable"),  # i5: exact
    ("convolve", (256, 256, 256), (9, 9, 9), F32, "same", "separable"),  # v2
]


@pytest.mark.parametrize(("op", "sx", "sk", "dtype", "mode", "expected"), GOLDEN)
def test_golden_choices(op, sx, sk, dtype, mode, expected):
    x, k = _arrays(sx, sk, dtype)
    assert convolib.plan(op, x, k, mode).algorithm == expected


def test_plan_prints_choice_reason_and_candidates():
    p = convolib.plan("convolve", np.ones((64, 64), F32), np.ones((3, 3), F32), "same")
    text = str(p)
    assert "algorithm: direct" in text
    assert "why: lowest estimated time" in text
    assert "(64, 64)" in text and "float32" in text and "'same'" in text
    for name in registry():
        assert name in text
    assert "chosen" in text


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize == 8, reason="long double is float64 here")
def test_plan_explains_unsupported_candidates():
    x = np.ones(4, np.longdouble)
    text = str(convolib.plan("convolve", x, x))
    assert "algorithm: reference" in text
    assert "the only algorithm" in text
    assert f"no compiled loop for {x.dtype}" in text


def test_forcing_a_method_is_reported():
    p = convolib.plan("convolve", np.ones(10), np.ones(3), method="reference")
    assert p.algorithm == "reference"
    assert "forced by method='reference'" in str(p)


def test_methods_lists_auto_and_every_registered_algorithm():
    assert convolib.methods()[0] == "auto"
    assert set(convolib.methods()[1:]) == set(registry())
    assert {"reference", "direct"} <= set(registry())
    assert all(isinstance(a, Algorithm) for a in registry().values())


def test_plans_are_cached_by_spec():
    x, k = np.ones((20, 20)), np.ones((3, 3))
    assert convolib.plan("convolve", x, k) is convolib.plan("convolve", x + 1, k * 2)


def test_plan_is_reusable_and_checks_its_operands():
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((30, 20)), rng.standard_normal((4, 3))
    p = convolib.plan("correlate", x, k, "same", boundary="wrap")
    x2, k2 = rng.standard_normal((30, 20)), rng.standard_normal((4, 3))
    assert np.array_equal(p(x2, k2), convolib.correlate(x2, k2, "same", boundary="wrap"))
    with pytest.raises(convolib.ArgumentError, match=r"must match the plan's x\(30, 20\)"):
        p(x2[:10], k2)
    with pytest.raises(convolib.ArgumentError, match="float32"):
        p(x2.astype(F32), k2)


def test_estimates_grow_with_work():
    small = convolib.plan("convolve", np.ones((64, 64), F32), np.ones((3, 3), F32))
    large = convolib.plan("convolve", np.ones((512, 512), F32), np.ones((9, 9), F32))
    assert 0 < small.seconds < large.seconds
    assert small.memory_bytes < large.memory_bytes


@pytest.fixture
def tight_memory(monkeypatch):
    """A 40 MiB budget, checked for every plan."""
    monkeypatch.setattr(costs, "available_memory", lambda: int(40 * 2**20 / costs.MEMORY_FRACTION))
    monkeypatch.setattr(plan_module, "_CHECK_MEMORY_ABOVE", 0)
    plan_module._choose.cache_clear()
    yield
    plan_module._choose.cache_clear()


def test_memory_budget_excludes_candidates(tight_memory):
    # Output 2048*2048*8 B = 32 MiB fits; the reference's padded copy and mask do not.
    x, k = np.ones((2048, 2048)), np.ones((3, 3))
    p = convolib.plan("convolve", x, k, "same")
    assert p.algorithm == "direct"
    reference = next(c for c in p.candidates if c.name == "reference")
    assert reference.over_budget and "memory budget" in reference.why_not
    with pytest.raises(convolib.MemoryBudgetError, match="over the memory budget of 40 MiB"):
        convolib.plan("convolve", x, k, "same", method="reference")


def test_nothing_fits_fails_before_allocating(tight_memory):
    x, k = np.ones((4096, 4096), F32), np.ones((3, 3), F32)  # 64 MiB output
    with pytest.raises(convolib.MemoryBudgetError) as info:
        convolib.convolve(x, k, "same")
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    assert "64 MiB" in str(info.value) and "40 MiB" in str(info.value)
