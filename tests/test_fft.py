"""The transform algorithms, fft, overlap_save and lanes_fft: accuracy, geometry, memory, plans.

test_algorithms.py checks them against the reference like every algorithm; this file
checks what is particular to transforms: the documented normwise bound against exact
and extended-precision oracles, circular wrap-around at every boundary, stride and
dilation, overlap-save's frames, groups and bounded workspace, thread-count
independence, the non-finite fallback, and the planner's choices between them.
"""

import itertools
import math
import threading
import time
import tracemalloc

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st
from scipy.fft import next_fast_len

import convolib
from convolib import costs
from convolib.algorithms import overlap_save, registry
from convolib.algorithms._launch import each_in_threads
from convolib.algorithms.fft import (
    complex_dtype,
    fast_lengths,
    forwards_together,
    four_step,
    layout,
    long_fft,
    long_ifft,
    long_irfft,
    long_rfft,
)
from convolib.algorithms.overlap_save import blockable_axes, estimate
from convolib.planner import forget_plans, make_plan
from convolib.spec import build_spec
from test_algorithms import FFT_BOUND

TRANSFORMS = ("fft", "overlap_save", "lanes_fft")
EPS = {
    "float32": np.finfo(np.float32).eps,
    "float64": np.finfo(np.float64).eps,
    "complex64": np.finfo(np.float32).eps,
    "complex128": np.finfo(np.float64).eps,
}


def normwise_bound(x, k, dtype, spec):
    """``C·eps·log2(L)·‖x‖₂·‖k‖₂`` with the transform length ``L`` the algorithm uses."""
    length = math.prod(fast_lengths(layout(spec).circular, spec.acc_dtype))
    norms = np.linalg.norm(x.astype(np.complex128)) * np.linalg.norm(k.astype(np.complex128))
    return FFT_BOUND * EPS[dtype] * math.log2(length) * norms


def integers(rng, shape, dtype, high=1000):
    """Integer values (exactly representable in ``dtype``), complex ones for complex."""
    values = rng.integers(-high, high, shape, endpoint=True)
    if dtype.startswith("complex"):
        values = values + 1j * rng.integers(-high, high, shape, endpoint=True)
    return values.astype(dtype)


def exact_convolution(x, k, mode):
    """scipy's integer convolution (exact int64 sums) of integer-valued arrays."""
    if np.iscomplexobj(x):
        re = exact_convolution(x.real, k.real, mode) - exact_convolution(x.imag, k.imag, mode)
        im = exact_convolution(x.real, k.imag, mode) + exact_convolution(x.imag, k.real, mode)
        return re + 1j * im
    return ss.convolve(x.astype(np.int64), k.astype(np.int64), mode, method="direct")


ACCURACY_CASES = [
    # (x shape, k shape, mode)
    ((6000,), (301,), "full"),
    ((20_000,), (4000,), "same"),
    ((180, 150), (17, 9), "same"),
    ((40, 30, 24), (5, 4, 7), "full"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("case", ACCURACY_CASES, ids=lambda c: f"{len(c[0])}d-{c[1][0]}")
@pytest.mark.parametrize("name", TRANSFORMS)
def test_error_within_the_normwise_bound_against_exact_integers(name, case, dtype):
    """max |got - exact| <= C·eps·log2(L)·‖x‖₂·‖k‖₂ (+ the output's own rounding)."""
    sx, sk, mode = case
    rng = np.random.default_rng([len(sx), sk[0], len(dtype)])
    x, k = integers(rng, sx, dtype), integers(rng, sk, dtype)
    spec = build_spec("convolve", x, k, mode)
    if registry()[name].supports(spec) is not None:
        pytest.skip(registry()[name].supports(spec))
    got = convolib.convolve(x, k, mode, method=name)
    assert got.dtype == np.dtype(dtype)  # float32 stays float32
    exact = exact_convolution(x, k, mode)
    error = np.abs(got.astype(np.complex128) - exact)
    bound = normwise_bound(x, k, dtype, spec) + EPS[dtype] * np.abs(exact)
    assert np.all(error <= bound), f"max error / bound = {np.max(error / bound):.3g}"
    assert error.max() > 0 or dtype.endswith("128") or dtype == "float64"


@pytest.mark.parametrize("name", TRANSFORMS)
def test_float64_error_against_a_long_double_oracle(name):
    """Non-integer data: the direct sum in extended precision is the oracle."""
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal(30_000), rng.standard_normal(700)
    oracle = np.convolve(x.astype(np.longdouble), k.astype(np.longdouble))
    got = convolib.convolve(x, k, method=name)
    spec = build_spec("convolve", x, k, "full")
    error = np.abs(got.astype(np.longdouble) - oracle).astype(np.float64)
    assert error.max() <= normwise_bound(x, k, "float64", spec)
    x32, k32 = x.astype(np.float32), k.astype(np.float32)
    got32 = convolib.convolve(x32, k32, method=name)
    assert got32.dtype == np.float32
    error32 = np.abs(got32 - np.convolve(x32.astype(np.float64), k32.astype(np.float64)))
    assert error32.max() <= normwise_bound(x32, k32, "float32", spec)
    assert error32.max() > 100 * error.max()  # computed in float32, not float64


BOUNDARIES = [("constant", 0), ("constant", -1.5), ("edge", 0), ("reflect", 0)]
BOUNDARIES += [("symmetric", 0), ("wrap", 0)]
GEOMETRY = [
    # (x shape, k shape, axes): the kernel longer than, equal to and shorter than x
    ((40,), (7,), None),
    ((9,), (9,), None),
    ((5,), (12,), None),
    ((3, 37), (1, 5), -1),  # batch axes broadcast
    ((1, 33, 4), (3, 6, 1), (1,)),
    ((17, 12), (4, 9), None),
]


@pytest.mark.parametrize("case", range(len(GEOMETRY)))
@pytest.mark.parametrize("name", TRANSFORMS)
def test_no_wrap_around_at_any_boundary_stride_or_dilation(name, case):
    """Every boundary, mode, origin, stride and dilation equals the reference."""
    sx, sk, axes = GEOMETRY[case]
    rng = np.random.default_rng(case)
    x, k = rng.standard_normal(sx), rng.standard_normal(sk)
    ran = 0
    combos = itertools.product(("convolve", "correlate"), ("full", "same", "valid"), BOUNDARIES)
    for i, (op, mode, (boundary, fill)) in enumerate(combos):
        for stride, dilation in [(1, 1), (2, 1), (1, 3), (3, 2), (5, 1)]:
            origin = (-1) ** i if mode == "same" else 0
            try:
                spec = build_spec(
                    op, x, k, mode, axes=axes, boundary=boundary, fill_value=fill,
                    stride=stride, dilation=dilation, origin=origin,
                )  # fmt: skip
            except convolib.ArgumentError:
                continue  # valid mode with crossed shapes, or an origin off the kernel
            if registry()[name].supports(spec) is not None:
                continue
            ran += 1
            got = make_plan(spec, name)(x, k)
            ref = make_plan(spec, "reference")(x, k)
            assert got.shape == ref.shape and got.dtype == ref.dtype
            scale = max(np.abs(x).max(), abs(fill)) * np.abs(k).sum()
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * scale)
    assert ran or name in ("overlap_save", "lanes_fft")


@pytest.fixture
def small_blocks(monkeypatch):
    """Overlap-save with its shortest block and groups of ``nbytes``: many frames, many groups."""

    def shortest(spec):
        lay = layout(spec)
        axis = blockable_axes(lay)[-1]
        block = next_fast_len(max(2 * lay.extent[axis], costs.OS_MIN_BLOCK), real=True)
        return estimate(spec, lay, axis, block, 1)

    def use(nbytes):
        monkeypatch.setattr(costs, "OS_GROUP_BYTES", nbytes)
        monkeypatch.setattr(overlap_save, "choose_blocking", shortest)
        forget_plans()

    yield use
    forget_plans()


@pytest.mark.parametrize("group_bytes", [1, 20_000])
def test_overlap_save_frames_and_groups_tile_the_output(small_blocks, group_bytes):
    """Many frames in many groups, ragged last group, strides across frame edges."""
    small_blocks(group_bytes)
    rng = np.random.default_rng(group_bytes)
    x, k = rng.standard_normal((2, 1500)), rng.standard_normal((1, 23))
    x2, k2 = rng.standard_normal((120, 90)), rng.standard_normal((9, 4))
    for (a, b), mode, boundary, stride, dilation in itertools.product(
        [(x, k), (x2, k2)],
        ("full", "same", "valid"),
        ("constant", "reflect"),
        (1, 3),
        (1, 2),
    ):
        spec = build_spec(
            "correlate", a, b, mode, axes=-1 if a is x else None, boundary=boundary,
            stride=stride, dilation=dilation,
        )  # fmt: skip
        blocking = overlap_save.choose_blocking(spec)
        assert blocking.frames > blocking.group >= 1
        got = make_plan(spec, "overlap_save")(a, b)
        ref = make_plan(spec, "reference")(a, b)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(b).sum() * 4)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("taps", [3, 1001])
@pytest.mark.parametrize("name", TRANSFORMS)
def test_long_signals_match_scipy(name, taps, dtype):
    """2·10^5 samples against scipy.signal.fftconvolve and oaconvolve, every mode."""
    rng = np.random.default_rng(taps)
    x = rng.standard_normal(200_000).astype(dtype)
    k = rng.standard_normal(taps).astype(dtype)
    for mode in ("full", "same", "valid"):
        got = convolib.convolve(x, k, mode, method=name)
        bound = 2 * normwise_bound(x, k, dtype, build_spec("convolve", x, k, mode))
        for peer in (ss.fftconvolve, ss.oaconvolve):
            expected = peer(x, k, mode)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            assert np.abs(got - expected).max() <= bound, (mode, peer.__name__)


def traced(plan, x, k):
    """``plan(x, k)`` and the peak of the memory it allocated (tracemalloc)."""
    tracemalloc.start()
    try:
        y = plan(x, k)
        return y, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_overlap_save_workspace_is_bounded():
    """4·10^6 samples with 4096 taps: the workspace beside the output stays small.

    The output (32 MB) is allocated once; frames are taken as views and transformed a
    group at a time, so the rest is the group workspace (costs.OS_GROUP_BYTES) and the
    kernel's spectrum. One whole transform would need about 3× the output. The plan's
    memory estimate holds (within 10%) for the measured peak.
    """
    rng = np.random.default_rng(4)
    x, k = rng.standard_normal(4_000_000), rng.standard_normal(4096)
    plan = convolib.plan("convolve", x, k, method="overlap_save")
    y, peak = traced(plan, x, k)
    assert plan.memory_bytes - plan.spec.out_bytes < 0.3 * x.nbytes
    assert peak < 1.1 * plan.memory_bytes
    i = rng.integers(0, y.size, 20)
    exact = [np.dot(x[max(0, j - 4095) : j + 1][::-1], k[: min(j, 4095) + 1]) for j in i]
    np.testing.assert_allclose(y[i], exact, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("block", [4, 8, 16, 32, 64, 512, 2048])
def test_lanes_transforms_are_the_spectrum_in_bit_reversed_order_and_back(block, dtype):
    """`_lanes_kernels.forward` of every lane's line is NumPy's FFT (in complex128) in
    bit-reversed order, within the normwise bound; `inverse` brings back ``B`` times
    the line. Both odd (8, 32, 512, 2048) and even (4, 16, 64) numbers of radix-2 stages."""
    from convolib.algorithms import _lanes_kernels as lk
    from convolib.algorithms import lanes_fft

    L = 64 // np.dtype(dtype).itemsize
    rng = np.random.default_rng(block)
    lines = rng.standard_normal((block, L)) + 1j * rng.standard_normal((block, L))
    z = np.stack([lines.real, lines.imag], axis=1).astype(dtype).reshape(-1)
    z_in = z.astype(np.float64).reshape(block, 2, L)
    exact_in = z_in[:, 0] + 1j * z_in[:, 1]  # the values transformed, after rounding
    wr, wi, wi_back = lanes_fft.twiddles(block, np.dtype(dtype))
    lk.forward(z, wr, wi)
    got = z.astype(np.float64).reshape(block, 2, L)
    bits = block.bit_length() - 1
    reversed_ = [int(f"{t:0{bits}b}"[::-1], 2) for t in range(block)]
    spectrum = np.fft.fft(exact_in, axis=0)[reversed_]
    bound = 4 * EPS[dtype] * math.log2(block) * np.linalg.norm(exact_in, axis=0) * math.sqrt(block)
    assert np.all(np.abs(got[:, 0] + 1j * got[:, 1] - spectrum) <= bound)
    lk.inverse(z, wr, wi_back)
    back = z.astype(np.float64).reshape(block, 2, L) / block
    error = np.abs(back[:, 0] + 1j * back[:, 1] - exact_in)
    assert np.all(error <= 8 * EPS[dtype] * math.log2(block) * np.linalg.norm(exact_in, axis=0))


@pytest.fixture
def short_frames(monkeypatch):
    """lanes_fft with its shortest blocks: many frames (or tiles), many groups (or pairs),
    a ragged last one."""
    from convolib.algorithms import lanes_fft

    monkeypatch.setattr(costs, "LANES_MIN_BLOCK", 16)
    monkeypatch.setattr(costs, "LANES_MAX_BLOCK", 32)
    shortest = lambda spec: lanes_fft.framing(spec, lanes_fft.block_range(spec)[0])  # noqa: E731
    monkeypatch.setattr(lanes_fft, "choose_framing", shortest)
    forget_plans()
    yield lanes_fft
    forget_plans()


@pytest.mark.parametrize("cache_points", [4096, 4])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lanes_frames_and_groups_tile_the_output(short_frames, monkeypatch, dtype, cache_points):
    """Lines of 16- and 32-sample frames, groups over many lines (the last one
    ragged), every mode, boundary, origin, stride and dilation, lines that are views
    (every other column, or a prefix): equal to the reference within the normwise bound.
    With 4 cache points, the short stages run a run of 4 or 8 points at a time."""
    monkeypatch.setattr(costs, "LANES_CACHE_POINTS", cache_points)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((29, 120)).astype(dtype)
    k = rng.standard_normal((1, 7)).astype(dtype)
    views = (x, x[:, ::2], x[2:27, 5:])
    combos = itertools.product(views, ("full", "same", "valid"), ("constant", "reflect", "wrap"))
    for i, (a, mode, boundary) in enumerate(combos):
        stride, dilation = ((1, 1), (3, 1), (1, 2), (2, 2))[i % 4]
        origin = (-1) ** i if mode == "same" else 0
        options = dict(axes=-1, boundary=boundary, stride=stride, dilation=dilation, origin=origin)
        spec = build_spec("correlate", a, k, mode, **options)
        framing = short_frames.choose_framing(spec)
        assert framing.blocks[0] <= 32 and framing.tasks > 1
        got = make_plan(spec, "lanes_fft")(a, k)
        wide = a.astype(np.float64), k.astype(np.float64)
        ref = make_plan(build_spec("correlate", *wide, mode, **options), "reference")(*wide)
        assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
        bound = 4 * EPS[dtype] * math.log2(16) * np.abs(a).max() * np.linalg.norm(k) * 4
        assert np.abs(got - ref).max() <= bound, (mode, boundary, stride, dilation)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lanes_tiles_and_pairs_tile_the_output(short_frames, dtype):
    """Images in the smallest tiles (16 or 32 points a side, kernels of 2 to 9 taps a
    side, dilated), an odd number of tiles in all (the last pair has one), a batch of
    images and views, every mode, boundary, origin and stride: equal to the reference
    within the normwise bound."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 45, 70)).astype(dtype)
    k = rng.standard_normal((1, 5, 3)).astype(dtype)
    views = ((x, k), (x[0, ::2, 1:], k[0, :2, :]), (x[1:, 3:40, 5:69].transpose(0, 2, 1), k[:, :4]))
    combos = itertools.product(views, ("full", "same", "valid"), ("constant", "reflect", "wrap"))
    for i, ((a, b), mode, boundary) in enumerate(combos):
        stride, dilation = (((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 1)), ((3, 1), (1, 2)))[
            i % 4
        ]
        origin = (-(i % 2), 0) if mode == "same" else 0
        axes = (-2, -1)
        options = dict(
            axes=axes, boundary=boundary, stride=stride, dilation=dilation, origin=origin
        )
        spec = build_spec("convolve", a, b, mode, **options)
        framing = short_frames.choose_framing(spec)
        assert max(framing.blocks) <= 32 and framing.tasks > 1
        got = make_plan(spec, "lanes_fft")(a, b)
        wide = a.astype(np.float64), b.astype(np.float64)
        ref = make_plan(build_spec("convolve", *wide, mode, **options), "reference")(*wide)
        assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
        bound = 4 * EPS[dtype] * math.log2(32 * 32) * np.abs(a).max() * np.linalg.norm(b) * 4
        assert np.abs(got - ref).max() <= bound, (a.shape, mode, boundary, stride, dilation)


@given(st.data())
def test_lanes_matches_scipy_on_drawn_signals_and_images(data):
    """Drawn shapes (1-D batches and images, kernels longer than the signal too), modes,
    operations and dtypes: within the normwise bound of scipy's direct sum."""
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    d = data.draw(st.integers(1, 2))
    sx = tuple(data.draw(st.integers(1, 70)) for _ in range(d))
    sk = tuple(data.draw(st.integers(1, 20)) for _ in range(d))
    op = data.draw(st.sampled_from(["convolve", "correlate"]))
    mode = data.draw(st.sampled_from(["full", "same", "valid"]))
    if mode == "valid" and any(a < b for a, b in zip(sx, sk, strict=True)):
        mode = "full"
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal(sx).astype(dtype), rng.standard_normal(sk).astype(dtype)
    got = getattr(convolib, op)(x, k, mode, method="lanes_fft")
    peer = ss.convolve if op == "convolve" else ss.correlate
    wide = x.astype(np.float64), k.astype(np.float64)
    expected = peer(*wide, mode, method="direct")
    assert got.shape == expected.shape and got.dtype == np.dtype(dtype)
    length = math.prod(2 * a for a in sx) + math.prod(2 * b for b in sk)
    bound = 4 * EPS[dtype] * math.log2(length) * np.linalg.norm(x) * np.linalg.norm(k)
    assert np.abs(got - expected).max(initial=0) <= bound + EPS[dtype] * np.abs(expected).max()


def test_lanes_calls_from_several_python_threads_match_serial_ones():
    """Lines and images on lanes_fft from three Python threads at once, each call on two
    threads of its own: every call gives the serial call's bits."""
    from helpers import assert_concurrent_calls_match_serial

    rng = np.random.default_rng(12)
    line, image = rng.standard_normal(300_000), rng.standard_normal((600, 500)).astype(np.float32)
    cases = [(line, rng.standard_normal(700)), (image, rng.standard_normal((21, 17)))]
    cases.append((line[:-5].astype(np.float32), rng.standard_normal(300).astype(np.float32)))

    def call(a, b):
        return convolib.convolve(a, b, "same", method="lanes_fft", workers=2)

    assert_concurrent_calls_match_serial(call, cases)


def test_lanes_workspace_is_a_group_buffer_per_thread():
    """10^6 samples with 1001 taps: beside the output, the call holds its group buffers
    and the kernel's spectrum, as the plan says (within 10%)."""
    rng = np.random.default_rng(4)
    x, k = rng.standard_normal(1_000_000), rng.standard_normal(1001)
    plan = convolib.plan("convolve", x, k, method="lanes_fft", workers=2)
    y, peak = traced(plan, x, k)
    assert plan.memory_bytes - plan.spec.out_bytes < 0.3 * x.nbytes
    assert peak < 1.1 * plan.memory_bytes
    np.testing.assert_allclose(y, ss.oaconvolve(x, k), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("sx", "sk", "dtype"),
    [
        ((300_000,), (2001,), "float64"),
        ((600, 700), (31, 31), "float32"),
        ((70_000,), (90,), "complex128"),
    ],
)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_one_and_two_workers_give_identical_results(name, sx, sk, dtype):
    rng = np.random.default_rng(len(sx))
    x, k = integers(rng, sx, dtype, 10) / 3, integers(rng, sk, dtype, 10) / 7
    why = registry()[name].supports(build_spec("convolve", x, k, "same"))
    if why is not None:
        pytest.skip(why)
    one = convolib.convolve(x, k, "same", method=name, workers=1)
    two = convolib.convolve(x, k, "same", method=name, workers=2)
    np.testing.assert_array_equal(one, two)


def test_frame_groups_are_shared_out_over_threads_and_errors_come_back():
    """Every group runs once whatever the thread count; a failing group fails the call."""
    seen: list[tuple[int, int]] = []

    def task(item: int) -> None:
        time.sleep(0.002)  # long enough for the other thread to take items too
        seen.append((item, threading.get_ident()))

    each_in_threads(2, task, list(range(12)))
    assert sorted(item for item, _ in seen) == list(range(12))
    assert len({thread for _, thread in seen}) == 2

    def failing(item: int) -> None:
        if item == 5:
            raise ZeroDivisionError(item)

    with pytest.raises(ZeroDivisionError):
        each_in_threads(2, failing, list(range(12)))


BENCHMARK_PLANS = [
    # BENCHMARKS.md cases, 2 threads as on the machine of record
    ("s1", (1_000_000,), (16,), np.float64, "full", "direct"),
    ("s2", (10_000_000,), (64,), np.float32, "full", "direct"),
    ("s3", (1_000_000,), (1001,), np.float64, "full", "lanes_fft"),
    ("s4", (10_000_000,), (4096,), np.float32, "full", "lanes_fft"),
    ("s5", (2**20,), (2**20,), np.float64, "full", "fft"),
    ("i1", (2048, 2048), (3, 3), np.float32, "same", "direct"),
    ("i2", (2048, 2048), (5, 5), np.float32, "same", "direct"),
    ("i4", (2048, 2048), (31, 31), np.float32, "same", "lanes_fft"),
]


@pytest.mark.parametrize(
    ("case", "sx", "sk", "dtype", "mode", "expected"), BENCHMARK_PLANS, ids=str
)
def test_planner_picks_transforms_for_long_kernels_only(case, sx, sk, dtype, mode, expected):
    x, k = np.empty(sx, dtype), np.empty(sk, dtype)
    plan = convolib.plan("convolve", x, k, mode, workers=2)
    assert plan.algorithm == expected, str(plan)
    if expected != "direct":
        assert plan.fallback == "direct"


def test_auto_keeps_nan_and_inf_local_even_when_the_plan_is_fft():
    """The plan picks fft, the values pick its fallback: NaN/inf stay in their windows."""
    rng = np.random.default_rng(9)
    x, k = rng.standard_normal(6000), rng.standard_normal(5000)
    plan = convolib.plan("convolve", x, k)
    assert plan.algorithm == "fft" and plan.fallback == "direct"
    x[1000], k[10] = np.nan, np.inf
    got = plan(x, k)
    touched = np.zeros(got.shape, bool)
    touched[1000 : 1000 + k.size] = True  # the NaN's windows
    touched[10 : 10 + x.size] = True  # the infinite tap's windows
    assert np.array_equal(~np.isfinite(got), touched)
    x[1000], k[10] = 0.0, 0.0
    np.testing.assert_allclose(got[~touched], convolib.convolve(x, k)[~touched], atol=1e-9)


def test_supports_explains_what_transforms_cannot_do():
    fft, blocks = registry()["fft"], registry()["overlap_save"]
    for dtype in (np.int64, object, np.longdouble):
        spec = build_spec("convolve", np.ones(50, dtype), np.ones(5, dtype))
        assert "transforms in float32" in fft.supports(spec)
    spec = build_spec("convolve", np.ones((4, 50)), np.ones((4, 50)), axes=())
    assert "no convolved axes" in fft.supports(spec)
    spec = build_spec("convolve", np.ones(100), np.ones(60))
    assert "not much shorter" in blocks.supports(spec)
    assert fft.supports(spec) is None
    assert not fft.exact and not fft.local_nonfinite and fft.accuracy == "normwise"
    lanes = registry()["lanes_fft"]
    for x, k, why in [
        (np.ones(50, complex), np.ones(5, complex), "real signals only"),
        (np.ones((8, 8, 8)), np.ones((2, 2, 2)), "one or two convolved axes, not 3"),
        (np.ones((3, 50)), np.ones((3, 5)), "one kernel only"),
        (np.ones(10**5), np.ones(40_000), "a 40000 kernel takes 131072"),
        (np.ones((600, 600)), np.ones((300, 40)), "a 300x40 kernel takes 131072"),
    ]:
        axes = -1 if x.ndim == 2 and k.shape[0] == 3 else None
        assert why in lanes.supports(build_spec("convolve", x, k, axes=axes))
    assert lanes.supports(build_spec("convolve", np.ones((600, 600)), np.ones((100, 9)))) is None


def test_cost_counts_strided_outputs_at_stride_one():
    """A stride skips outputs but not the transforms: the estimate barely drops."""
    for x, k in ((np.ones((1024, 1024)), np.ones((9, 9))), (np.ones(10**6), np.ones(81))):
        for name in TRANSFORMS:
            plain = build_spec("correlate", x, k, "same")
            if registry()[name].supports(plain) is not None:
                continue
            strided = build_spec("correlate", x, k, "same", stride=4)
            seconds = registry()[name].cost(plain, 2).seconds
            assert registry()[name].cost(strided, 2).seconds > 0.5 * seconds


@pytest.mark.parametrize(
    ("op", "dtype", "boundary"),
    [("convolve", np.float64, "constant"), ("correlate", np.complex128, "reflect")],
)
def test_long_one_line_transforms_run_together_with_the_same_result(op, dtype, boundary):
    """A long 1-D signal's and kernel's spectra are computed on two threads at once
    (pocketfft does not thread one line): the result is the one-thread result."""
    rng = np.random.default_rng(5)
    x, k = (rng.standard_normal(n).astype(dtype) for n in (70_000, 3_001))
    if dtype == np.complex128:
        x, k = x + 1j * rng.standard_normal(x.shape), k + 1j * rng.standard_normal(k.shape)
    spec = build_spec(op, x, k, "same", boundary=boundary)
    lengths = fast_lengths(layout(spec).circular, spec.acc_dtype)
    assert forwards_together(spec, lengths, 2) and not forwards_together(spec, lengths, 1)
    two = make_plan(spec, "fft", workers=2)(x, k)
    one = make_plan(spec, "fft", workers=1)(x, k)
    assert np.array_equal(two, one)
    expected = getattr(convolib, op)(x, k, "same", boundary=boundary, method="direct")
    scale = float(np.abs(x).max()) * float(np.abs(k).sum())
    np.testing.assert_allclose(two, expected, atol=1e-10 * scale)


@pytest.fixture
def four_steps_everywhere(monkeypatch):
    """Real lines from 512 values up transform in four steps (`fft.four_step`)."""
    monkeypatch.setattr(costs, "FFT_FOUR_STEP_MIN_BYTES", 0)
    forget_plans()
    yield
    forget_plans()


FOUR_STEP_LENGTHS = {
    # n: (m1, m2) for m = n / 2, the largest factor at most sqrt(m) second
    512: (16, 16),
    1536: (32, 24),
    2000: (40, 25),
    4050: (45, 45),  # m odd: the middle value of the spectrum has no mirror of its own
    8192: (64, 64),
}


def test_four_step_factors_lines_that_are_long_even_and_composite(four_steps_everywhere):
    f64 = np.dtype(np.float64)
    for n, factors in FOUR_STEP_LENGTHS.items():
        assert four_step(n, f64) == factors
    assert four_step(2 * 1009, f64) is None  # m prime: no factor of 16 or more
    assert four_step(513, f64) is None  # odd: no real trick
    assert four_step(4050, np.dtype(np.complex128)) == (75, 54)  # complex: n itself
    assert four_step(1025, np.dtype(np.complex64)) == (41, 25)
    assert four_step(4096, np.dtype(np.int64)) is None


def test_four_step_applies_from_the_cost_threshold():
    assert four_step(2**16, np.dtype(np.float64)) == (256, 128)
    assert four_step(2**15, np.dtype(np.float64)) is None
    assert four_step(2**17, np.dtype(np.float32)) == (256, 256)
    assert four_step(2**16, np.dtype(np.float32)) is None
    assert four_step(2**15, np.dtype(np.complex128)) == (256, 128)
    assert four_step(2**14, np.dtype(np.complex128)) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", list(FOUR_STEP_LENGTHS))
def test_four_step_real_transforms_match_scipy(four_steps_everywhere, n, dtype):
    """`long_rfft` and `long_irfft` against scipy.fft on batches of lines, for inputs
    shorter than ``n`` (zero-extended, odd lengths) and kept parts with any step."""
    import scipy.fft as sf

    rng = np.random.default_rng(n)
    tol = 8 * EPS[dtype] * math.log2(n)
    for used in (n, n - 1, n // 2 + 3, 1):
        x = rng.standard_normal((2, 3, used)).astype(dtype)
        _assert_transform_matches(long_rfft(x, n, 2), sf.rfft(x, n), x, math.sqrt(n), tol)
    spectrum = integers(rng, (3, n // 2 + 1), complex_dtype(np.dtype(dtype)).name) / 1000
    full = sf.irfft(spectrum, n)  # which ignores the imaginary parts of the ends, as ours
    for keep in _keeps(n):
        got = long_irfft(spectrum, n, keep, 2)
        _assert_transform_matches(got, full[:, keep], spectrum, 2 / math.sqrt(n), tol)
    whole = slice(0, n)
    assert np.array_equal(long_irfft(spectrum, n, whole, 1), long_irfft(spectrum, n, whole, 2))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("n", [512, 1025, 4050, 8192])
def test_four_step_complex_transforms_match_scipy(four_steps_everywhere, n, dtype):
    """`long_fft` and `long_ifft` against scipy.fft, as the real ones."""
    import scipy.fft as sf

    rng = np.random.default_rng(n)
    tol = 8 * EPS[dtype] * math.log2(n)
    for used in (n, n - 1, n // 2 + 3, 1):
        x = integers(rng, (2, 3, used), dtype) / 1000
        _assert_transform_matches(long_fft(x, n, 2), sf.fft(x, n), x, math.sqrt(n), tol)
    spectrum = integers(rng, (3, n), dtype) / 1000
    full = sf.ifft(spectrum, n)
    for keep in _keeps(n):
        got = long_ifft(spectrum, n, keep, 2)
        _assert_transform_matches(got, full[:, keep], spectrum, 1 / math.sqrt(n), tol)
    whole = slice(0, n)
    assert np.array_equal(long_ifft(spectrum, n, whole, 1), long_ifft(spectrum, n, whole, 2))


def _keeps(n):
    """Kept parts of an inverse transform's ``n`` outputs: all, inner, strided, the last
    one, none."""
    return (slice(0, n), slice(3, n - 5), slice(1, n, 3), slice(n - 1, n), slice(2, 2))


def _assert_transform_matches(got, expected, data, gain, tol):
    """Same shape and dtype, and every value within ``tol · gain · ‖line‖₂`` of scipy's:
    the normwise bound of a transform of length ``n``, whose outputs are at most
    ``sqrt(n) ‖line‖₂`` (``gain = sqrt(n)``; inverses, divided by ``n``: ``1/sqrt(n)``)."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    norms = np.linalg.norm(data.astype(np.complex128), axis=-1, keepdims=True)
    bound = tol * gain * norms + np.finfo(got.real.dtype).tiny
    assert np.all(np.abs(got - expected) <= bound)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("name", ["fft", "overlap_save"])
def test_four_step_convolutions_match_the_reference(four_steps_everywhere, name, dtype):
    """Every mode, boundary and stride of a batch of long lines, transformed in four
    steps (whole, or in overlap-save's frames), on one thread and two (the same bits)."""
    rng = np.random.default_rng(11)
    x, k = integers(rng, (2, 3000), dtype) / 100, integers(rng, (1, 250), dtype) / 100
    four_steps = 0
    for mode, boundary, stride, dilation in itertools.product(
        ("full", "same", "valid"), ("constant", "wrap"), (1, 3), (1, 2)
    ):
        spec = build_spec(
            "convolve", x, k, mode, axes=-1, boundary=boundary, stride=stride,
            dilation=dilation,
        )  # fmt: skip
        if name == "fft":
            length = fast_lengths(layout(spec).circular, spec.acc_dtype)[-1]
        else:
            length = overlap_save.choose_blocking(spec).block
        four_steps += four_step(length, spec.acc_dtype) is not None
        two = make_plan(spec, name, workers=2)(x, k)
        assert np.array_equal(two, make_plan(spec, name, workers=1)(x, k))
        ref = make_plan(spec, "reference")(x, k)
        np.testing.assert_allclose(two, ref, rtol=0, atol=1e-12 * np.abs(k).sum() * 4)
    assert four_steps >= 12


def test_four_step_calls_from_several_python_threads_match_serial_ones():
    """Long lines (four-step transforms, at the default threshold) from three Python
    threads at once: the loops' parallel launches take turns (`_launch.launch`), and
    every call gives the serial call's bits."""
    from helpers import assert_concurrent_calls_match_serial

    rng = np.random.default_rng(8)
    x, k = rng.standard_normal(70_000), rng.standard_normal(3_001)
    z = x[:40_000] + 1j * rng.standard_normal(40_000)
    spec = build_spec("convolve", x, k, "same")
    assert four_step(fast_lengths(layout(spec).circular, spec.acc_dtype)[-1], spec.acc_dtype)

    def call(a, b):
        return convolib.convolve(a, b, "same", method="fft")

    assert_concurrent_calls_match_serial(call, [(x, k), (z, k[:500]), (x[:-7], k[:-1])])
