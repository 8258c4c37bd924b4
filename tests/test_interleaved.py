"""The interleaved algorithm: blocks of planes transposed into vector lanes.

Its loops index by the block of lanes (16 float32 or 8 float64 planes), by the
pixels of a plane in tiles of lanes and the rest one by one, and by four output
pixels at a time; the cases here put batches and planes on either side of each of
those sizes. Values are small integers, so every float sum is exact and the results
must equal the reference's exactly.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convolib
from convolib import costs, nn
from convolib.algorithms import Cost, registry
from convolib.planner import forget_plans, make_plan
from convolib.spec import build_spec


def small_integers(rng, shape, dtype):
    return rng.integers(-5, 6, shape).astype(dtype)


CASES = [
    # (x shape, k shape, options): batch axes first, then the convolved axes
    ((17, 9, 7), (17, 3, 3), dict(mode="same", axes=(1, 2))),  # float32: 16 + 1 planes
    ((9, 5, 4), (9, 2, 3), dict(mode="full", axes=(1, 2))),  # float64: 8 + 1; 20-pixel planes
    ((33, 6, 6), (1, 3, 3), dict(mode="same", axes=(1, 2))),  # one kernel for every plane
    ((1, 12, 10), (20, 3, 5), dict(mode="same", axes=(1, 2))),  # one signal, many kernels
    ((3, 5, 40), (3, 1, 7), dict(mode="valid", axes=(1, 2), dilation=(1, 3))),
    ((16, 12, 10), (16, 3, 5), dict(mode="same", axes=(1, 2), stride=(2, 3))),
    ((16, 8, 9), (16, 3, 2), dict(mode="valid", axes=(1, 2), pads=((4, 1), (0, 5)))),
    ((8, 30), (8, 5), dict(mode="valid", axes=1, pads=((9, 7),))),  # outputs with no terms
    ((20, 33), (20, 6), dict(mode="full", axes=1, stride=2, dilation=3)),
    ((10, 5, 6, 7), (10, 2, 3, 2), dict(mode="same", axes=(1, 2, 3), origin=(0, 0, -1))),
    ((18, 4, 5, 6), (18, 3, 2, 3), dict(mode="full", axes=(1, 2, 3), stride=(2, 1, 2))),
    ((12, 9, 13), (12, 4, 2), dict(mode="full", axes=(1, 2), boundary="constant", fill_value=2)),
    ((12, 9, 13), (12, 3, 3), dict(mode="same", axes=(1, 2), boundary="reflect")),
    ((12, 7, 6), (12, 7, 6), dict(mode="full", axes=(1, 2), boundary="wrap")),
    ((3, 4, 5, 9), (3, 1, 2, 3), dict(mode="same", axes=(2, 3))),  # batches broadcast
    ((5, 3, 1), (5, 6, 1), dict(mode="valid", axes=(1, 2))),  # the kernel is larger: swapped
]


@pytest.fixture(params=["serial", "parallel"])
def threads(request, monkeypatch):
    if request.param == "parallel":
        monkeypatch.setattr(costs, "PARALLEL_MIN_TERMS", 0)
    forget_plans()
    yield 2 if request.param == "parallel" else 1
    forget_plans()


@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_matches_the_reference_exactly(case, dtype, op, threads):
    xs, ks, options = case
    rng = np.random.default_rng(len(xs) * 100 + xs[-1])
    x, k = small_integers(rng, xs, dtype), small_integers(rng, ks, dtype)
    spec = build_spec(op, x, k, **options)
    assert registry()["interleaved"].supports(spec) is None
    got = make_plan(spec, "interleaved", threads)(x, k)
    expected = make_plan(spec, "reference")(x, k)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected)


def test_serial_and_parallel_runs_agree_bit_for_bit(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 40, 11, 13)).astype(np.float32)
    w = rng.standard_normal((40, 1, 5, 5)).astype(np.float32)
    one = nn.conv(x, w, padding=2, groups=40, method="interleaved", workers=1)
    monkeypatch.setattr(costs, "PARALLEL_MIN_TERMS", 0)
    forget_plans()
    two = nn.conv(x, w, padding=2, groups=40, method="interleaved", workers=2)
    forget_plans()
    assert np.array_equal(one, two)


def test_a_nan_stays_in_its_own_plane_and_window():
    """Planes share vectors lane by lane: a NaN in one plane must reach only that plane's
    outputs whose windows hold it."""
    x = np.ones((20, 9, 9), np.float64)
    x[3, 0, 8] = np.nan
    k = np.ones((20, 3, 3))
    got = make_plan(build_spec("correlate", x, k, "same", axes=(1, 2)), "interleaved")(x, k)
    nan = np.isnan(got)
    assert nan[3, :2, 7:].all() and nan.sum() == 4


def test_depthwise_layers_match_torch_with_every_geometry():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 37, 13, 11))
    w = rng.standard_normal((37, 1, 5, 3))
    for options in (
        {"padding": 2},
        {"padding": (1, 2), "stride": 2},
        {"dilation": 2},
        {"padding": 3, "stride": (1, 3), "dilation": (2, 1)},
    ):
        expected = torch.nn.functional.conv2d(
            torch.from_numpy(x), torch.from_numpy(w), groups=37, **options
        ).numpy()
        got = nn.conv(x, w, groups=37, method="interleaved", **options)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 20),
    st.sampled_from(["float32", "float64"]),
    st.data(),
)
def test_random_geometries_match_the_reference(dims, batch, dtype, data):
    n = tuple(data.draw(st.integers(1, 9)) for _ in range(dims))
    m = tuple(data.draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(dims))
    mode = data.draw(st.sampled_from(["full", "same"]))
    shared_kernel = data.draw(st.booleans())
    rng = np.random.default_rng(batch)
    x = small_integers(rng, (batch, *n), dtype)
    k = small_integers(rng, (1 if shared_kernel else batch, *m), dtype)
    axes = tuple(range(1, dims + 1))
    spec = build_spec("correlate", x, k, mode, axes=axes, stride=stride, dilation=dilation)
    got = make_plan(spec, "interleaved")(x, k)
    np.testing.assert_array_equal(got, make_plan(spec, "reference")(x, k))


def test_refuses_what_it_has_no_loops_for():
    algorithm = registry()["interleaved"]
    ints = build_spec("convolve", np.zeros((4, 5), np.int64), np.zeros((4, 2), np.int64), axes=1)
    assert "floating-point" in algorithm.supports(ints)
    four = build_spec("convolve", np.zeros((2,) * 4), np.zeros((2,) * 4))
    assert "1 to 3 convolved axes" in algorithm.supports(four)


def test_its_workspace_is_one_buffer_pair_per_thread():
    x = np.zeros((64, 28, 28), np.float32)
    spec = build_spec("correlate", x, np.zeros((64, 7, 7), np.float32), "same", axes=(1, 2))
    one = registry()["interleaved"].cost(spec, 1).workspace_bytes
    # the padded signal (34 × 34 pixels, the row 28 outputs and 6 taps wide) and the sums
    # (28 × 28 pixels), each pixel one vector of 64 bytes
    assert one == (34 * 34 + 28 * 28) * 64
    assert registry()["interleaved"].cost(spec, 2).workspace_bytes == 2 * one


def _zeros(shape, dtype=np.float32):
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape, [0] * len(shape))


def _depthwise(size, channels, taps, **options):
    x, w = _zeros((8, channels, size, size)), _zeros((channels, 1, taps, taps))
    return nn.plan(x, w, padding=taps // 2, groups=channels, **options)


@pytest.mark.parametrize(
    ("plan", "algorithm"),
    [
        # measured on a 2-core AMD EPYC (Zen 3), two threads, medians of 15 interleaved
        # calls: time of direct / time of interleaved
        (lambda: _depthwise(28, 384, 7), "interleaved"),  # n5: 1.08-1.48
        (lambda: _depthwise(14, 512, 5), "interleaved"),  # 1.57
        (lambda: _depthwise(56, 128, 3, stride=2), "interleaved"),  # 2.17
        # 0.77: 56-pixel rows and 9 taps are long enough for direct's vectors, and the
        # 12.8 MB of output go out to memory either way
        (lambda: _depthwise(56, 128, 3), "direct"),
        (
            lambda: convolib.plan("convolve", _zeros((256, 16384)), _zeros((1, 128)), axes=-1),
            "interleaved",
        ),  # s6: 1.37-1.47
    ],
)
def test_planner_golden_choices(plan, algorithm):
    assert plan().algorithm == algorithm


def test_auto_never_plans_buffers_that_cannot_stay_in_cache_but_forcing_runs_them():
    rng = np.random.default_rng(4)
    x, k = small_integers(rng, (2, 400, 400), "float32"), small_integers(rng, (2, 3, 3), "float32")
    spec = build_spec("correlate", x, k, "same", axes=(1, 2))
    algorithm = registry()["interleaved"]
    buffers = ((402 * 402) + (400 * 400)) * 64  # a pixel is a vector of 64 bytes
    assert buffers > costs.INTERLEAVED_BUFFER_MAX_BYTES
    assert algorithm.cost(spec, 1) == Cost(math.inf, buffers)
    assert convolib.plan("correlate", x, k, "same", axes=(1, 2)).algorithm != "interleaved"
    got = make_plan(spec, "interleaved")(x, k)
    np.testing.assert_array_equal(got, make_plan(spec, "reference")(x, k))
