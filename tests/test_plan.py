"""The planner: golden choices, printable plans, forcing, caching, memory budget."""

import pickle

import numpy as np
import pytest

import convolib
from convolib import api, costs, threads
from convolib import planner as plan_module
from convolib.algorithms import Algorithm, registry
from convolib.spec import build_spec

F32 = np.float32
RNG = np.random.default_rng(3)


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


def test_direct_paths_are_chosen_for_every_core_whatever_the_call_asks(monkeypatch):
    """A single signal row is one band of the padded path, which runs on one thread: on
    two cores the rows path (blocks of the row shared out) wins, on one the padded."""
    spec = build_spec("convolve", np.zeros(10**4, F32), np.zeros(31, F32), "full")
    monkeypatch.setattr(threads, "cpu_count", lambda: 2)
    assert not costs.direct_padded(spec)
    monkeypatch.setattr(threads, "cpu_count", lambda: 1)
    assert costs.direct_padded(spec)


@pytest.mark.parametrize(("mode", "side"), [("full", 66), ("same", 64), ("valid", 62)])
def test_an_empty_batch_is_planned_and_gives_an_empty_result(mode, side):
    """A batch axis of length 0 with a broadcasting kernel (the cost model divided by
    the number of output planes, 0, before)."""
    x, k = np.zeros((0, 64, 64), F32), np.ones((1, 3, 3), F32)
    assert convolib.plan("convolve", x, k, mode, axes=(1, 2)).algorithm == "direct"
    y = convolib.convolve(x, k, mode, axes=(1, 2))
    assert y.shape == (0, side, side) and y.dtype == F32


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


@pytest.fixture
def specs_built(monkeypatch):
    """The arguments of every spec the API builds from here on."""
    built = []
    original = api.build_spec
    monkeypatch.setattr(api, "build_spec", lambda *a, **o: built.append(a) or original(*a, **o))
    return built


def test_a_repeated_call_runs_the_plan_of_its_signature(request):
    """The second call with the same shapes, dtypes and options is neither validated
    nor planned again; one that differs in any of them is."""
    x, x2, k = (
        RNG.standard_normal((23, 31)),
        RNG.standard_normal((23, 31)),
        RNG.standard_normal((3, 2)),
    )
    first = convolib.correlate(x, k, "same")
    expected = convolib.correlate(x2, k, "same", method="reference")
    built = request.getfixturevalue("specs_built")
    assert np.array_equal(convolib.correlate(x, k, "same"), first)
    np.testing.assert_allclose(convolib.correlate(x2, k, "same"), expected, rtol=1e-12)
    assert not built
    convolib.correlate(x, k, "same", fill_value=0.0)  # 0.0 is not 0: another signature
    convolib.correlate(x.astype(F32), k, "same")
    assert len(built) == 2


def test_a_plan_made_from_the_kernels_values_is_made_again_for_each_call(request):
    """``auto`` chose rank-1 passes for a separable kernel, from its values; a full-rank
    kernel of the same shape needs its own plan (the passes would be right for it, and
    slow)."""
    x = RNG.standard_normal((1024, 1024)).astype(F32)
    g = np.exp(-0.5 * (np.arange(-7, 8) / 3.0) ** 2)
    separable = np.outer(g, g).astype(F32)
    full_rank = RNG.standard_normal((15, 15)).astype(F32)
    assert convolib.plan("correlate", x, separable, "same").algorithm == "separable"
    assert convolib.plan("correlate", x, full_rank, "same").algorithm != "separable"
    convolib.correlate(x, separable, "same")
    built = request.getfixturevalue("specs_built")
    got = convolib.correlate(x, full_rank, "same")
    assert len(built) == 1
    expected = convolib.correlate(x, full_rank, "same", method="direct")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_a_used_plan_pickles_without_its_compiled_runner():
    x, k = RNG.standard_normal((12, 9)), RNG.standard_normal((3, 3))
    p = convolib.plan("convolve", x, k, "same")
    y = p(x, k)
    copy = pickle.loads(pickle.dumps(p))
    assert copy == p
    assert np.array_equal(copy(x, k), y)


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
    plan_module.forget_plans()
    yield
    plan_module.forget_plans()


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


def test_auto_counts_the_value_scan_before_a_transform():
    """auto scans the operands' values before a transform (its fallback's condition),
    so its estimate includes that scan; a forced transform runs without it."""
    x, k = np.zeros(10**6), np.zeros(1001)
    auto = convolib.plan("convolve", x, k, workers=2)
    forced = convolib.plan("convolve", x, k, method=auto.algorithm, workers=2)
    assert auto.algorithm in ("fft", "overlap_save", "lanes_fft") and auto.fallback == "direct"
    scan = costs.scan_seconds((10**6 + 1001) * 8, 2)
    assert scan > 0 and auto.seconds == pytest.approx(forced.seconds + scan)
    summed = convolib.plan("convolve", x, k, method="direct", workers=2)
    assert summed.seconds == next(c.seconds for c in auto.candidates if c.name == "direct")
