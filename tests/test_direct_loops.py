"""The direct algorithm's compiled loops, each path forced, against the reference.

``direct`` runs a problem over a zero-padded copy of the signal (the padded path) or
over blocks of output rows, skipping taps that fall on implicit zero padding (the
rows path), serially or in parallel, as the cost model finds faster. The other tests
see mostly one path per problem; here every problem runs on each.
"""

import itertools
import math

import numpy as np
import pytest

from convolib import costs
from convolib.algorithms import direct
from convolib.execute import prepare
from convolib.planner import forget_plans, make_plan
from convolib.spec import build_spec
from helpers import assert_close, random_array

PATHS = ("padded", "padded-parallel", "planes", "planes-parallel", "rows", "rows-parallel")


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """Force one path of the direct loops for every spec (``planes`` where the stride
    allows it, ``padded`` elsewhere)."""
    padded = request.param.startswith(("padded", "planes"))
    planes = request.param.startswith("planes")
    monkeypatch.setattr(costs, "direct_padded", lambda spec: padded)
    monkeypatch.setattr(
        costs,
        "direct_planes",
        lambda spec: planes and spec.ndim >= 2 and spec.stride[-2:] == (1, 1),
    )
    if request.param.endswith("parallel"):
        monkeypatch.setattr(costs, "PARALLEL_MIN_TERMS", 0)
    direct._layout.cache_clear()
    forget_plans()  # their runners hold layouts
    yield request.param
    direct._layout.cache_clear()
    forget_plans()


CASES = [
    # (x shape, k shape, options): every geometry the loops index by
    ((11,), (3,), dict(mode="full")),
    ((11,), (4,), dict(mode="same", origin=1)),
    ((3,), (6,), dict(mode="valid")),  # swapped operands
    ((40,), (7,), dict(mode="same", boundary="reflect")),
    ((30,), (4,), dict(mode="full", stride=3, dilation=2)),
    ((30,), (5,), dict(mode="valid", pads=((9, 7),))),  # outputs with no terms at all
    ((9, 13), (3, 3), dict(mode="same")),
    ((9, 13), (4, 2), dict(mode="full", boundary="constant", fill_value=2)),
    ((12, 10), (3, 5), dict(mode="same", stride=(2, 1), dilation=(1, 2))),
    ((12, 10), (2, 3), dict(mode="full", stride=(1, 3), dilation=(2, 1))),
    ((8, 9), (3, 2), dict(mode="valid", pads=((4, 1), (0, 5)))),
    ((7, 6), (7, 6), dict(mode="full", boundary="wrap")),
    ((6, 7, 8), (3, 2, 3), dict(mode="same", origin=(0, 0, -1))),
    ((5, 6, 7), (2, 3, 2), dict(mode="full", stride=(2, 1, 2), dilation=(1, 2, 2))),
    ((3, 4, 5, 9), (3, 1, 2, 3), dict(mode="same", axes=(2, 3))),  # batches broadcast
    ((2, 30, 5), (1, 4, 5), dict(mode="full", axes=1)),  # convolved axis not last
    ((4, 3, 200), (1, 3, 9), dict(mode="same", axes=(1, 2))),  # rows of several blocks
    # the padded path's tiles of rows and vectors of columns, and what is left over
    ((13, 70), (5, 4), dict(mode="same", boundary="reflect")),
    ((3, 9, 101), (1, 4, 3), dict(mode="same", axes=(1, 2))),  # wide tiles, a narrow, a last
    ((3, 10, 45), (2, 3, 3), dict(mode="same", dilation=(2, 1, 2))),
    # tiles in planes (kernels of 32 taps or more), their last vectors masked
    ((2, 10, 28), (1, 5, 7), dict(mode="same", axes=(1, 2))),
    ((4, 9, 30), (2, 4, 5), dict(mode="same", dilation=(2, 1, 1))),
    # kernel rows of 16 taps or more, each run as one line: 1 to 4 taps a lane, tiles of
    # vectors and the outputs after them, rows of several blocks
    ((300,), (37,), dict(mode="full")),
    ((2, 150), (1, 70), dict(mode="same", boundary="reflect")),
    ((2, 7, 200), (1, 3, 20), dict(mode="same", axes=(1, 2))),
    ((4200,), (16,), dict(mode="valid")),
    ((90,), (17,), dict(mode="full", dilation=(2,))),  # dilated: passes
]


def _prepared(op, sx, sk, dtype, options, seed):
    rng = np.random.default_rng(seed)
    x, k = random_array(rng, sx, dtype), random_array(rng, sk, dtype)
    options = dict(options)
    mode = options.pop("mode")
    return x, k, build_spec(op, x, k, mode, **options)


def _reference(spec, x, k):
    return make_plan(spec, "reference")(x, k)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64"])
@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_each_path_matches_the_reference(path, case, op, dtype):
    sx, sk, options = CASES[case]
    x, k, spec = _prepared(op, sx, sk, dtype, options, [case, len(op), len(dtype)])
    got = make_plan(spec, "direct", workers=2)(x, k)
    expected = _reference(spec, x, k)
    assert got.shape == expected.shape == spec.out_shape and got.dtype == expected.dtype
    scale = float(np.abs(x).max()) * float(np.abs(k).sum()) + abs(spec.fill_value)
    assert_close(got, expected, expected.dtype, terms=math.prod(spec.m), scale=scale)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_reversing_the_kernel_in_the_loops_gives_the_same_bits(path, case):
    """``bind(..., reverse=True)`` reverses each kernel batch itself: the same result,
    bit for bit, as the runner given the kernel reversed beforehand."""
    sx, sk, options = CASES[case]
    x, k, spec = _prepared("correlate", sx, sk, "float64", options, case)
    _, signal, kernel = prepare(spec, x, k)
    algorithm = direct.Direct()
    flipped = kernel[(..., *[slice(None, None, -1)] * spec.ndim)]
    expected = algorithm.bind(spec, 2)(signal, np.ascontiguousarray(flipped))
    got = algorithm.bind(spec, 2, reverse=True)(signal, kernel)
    assert np.array_equal(got, expected)
    assert not np.array_equal(expected, algorithm.bind(spec, 2)(signal, kernel)) or k.size == 1


def test_random_geometries_match_the_reference(path):
    """Many small problems: any lengths, padding, stride and dilation up to three axes."""
    rng = np.random.default_rng(2024)
    for _ in range(60):
        d = int(rng.integers(1, 4))
        n = tuple(int(v) for v in rng.integers(1, 9, d))
        m = tuple(int(v) for v in rng.integers(1, 5, d))
        dilation = tuple(int(v) for v in rng.integers(1, 3, d))
        stride = tuple(int(v) for v in rng.integers(1, 4, d))
        pads = []
        for a in range(d):
            lo, hi = (int(v) for v in rng.integers(0, 5, 2))
            extent = dilation[a] * (m[a] - 1) + 1
            pads.append((lo, max(hi, extent - n[a] - lo)))  # the window fits somewhere
        batch = (int(rng.integers(1, 3)),)
        x = rng.standard_normal(batch + n)
        k = rng.standard_normal((1, *m))  # one kernel broadcast over the batch
        spec = build_spec(
            "correlate",
            x,
            k,
            "valid",
            axes=tuple(range(1, d + 1)),
            pads=tuple(pads),
            stride=stride,
            dilation=dilation,
        )
        got = make_plan(spec, "direct", workers=2)(x, k)
        scale = float(np.abs(x).max()) * float(np.abs(k).sum())
        assert_close(got, _reference(spec, x, k), np.float64, terms=k.size, scale=scale)


@pytest.mark.parametrize("mode", ["full", "same"])
def test_infinite_kernel_taps_on_zero_padding_add_no_terms(path, mode):
    """``0 * inf`` is NaN, but terms on implicit zero padding are absent: a padded copy
    must not be used for such kernels."""
    x = np.arange(1.0, 41.0).reshape(5, 8)
    k = np.array([[0.5, np.inf, 2.0], [1.0, -1.0, 0.25]])
    spec = build_spec("correlate", x, k, mode)
    got = make_plan(spec, "direct", workers=2)(x, k)
    expected = _reference(spec, x, k)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.array_equal(got[np.isfinite(expected)], expected[np.isfinite(expected)])
    assert np.isfinite(expected).any() and np.isinf(expected).any()


@pytest.mark.parametrize(
    ("padded", "planes", "workers"),
    [(p, q, w) for p, q in ((True, False), (True, True), (False, False)) for w in (1, 2)],
)
def test_accumulate_adds_to_what_the_output_holds(padded, planes, workers):
    """The loops' ``accumulate`` mode (used by separable's passes) adds the sum."""
    rng = np.random.default_rng(5)
    for (sx, sk, options), dtype in itertools.product(
        CASES[6:11] + CASES[-10:], ["float32", "float64", "int64"]
    ):
        x, k, spec = _prepared("correlate", sx, sk, dtype, options, 5)
        if not spec.zero_padding:
            continue
        run_spec, signal, kernel = prepare(spec, x, k)
        layout = direct._layout(run_spec, workers)
        start = random_array(rng, layout.shape, spec.acc_dtype)
        out = start.copy()
        loops = direct._loops()
        geo = layout.geo.copy()
        geo[loops.PADDED] = padded
        geo[loops.PLANES] = planes and spec.stride[-2:] == (1, 1)
        loops.run(
            np.ascontiguousarray(signal).ravel(),
            np.ascontiguousarray(kernel).ravel(),
            geo,
            out.ravel(),
            workers,
            accumulate=True,
        )
        expected = start + _reference(spec, x, k)
        assert_close(out, expected, spec.acc_dtype, terms=k.size, scale=50.0 * k.size)


@pytest.mark.parametrize("case", [6, 8, 9, 12, 13, 14])
def test_the_padded_path_gives_the_same_bits_in_bands_of_any_height(case, monkeypatch):
    """The padded path copies the signal rows of one band of output rows at a time
    (`costs.direct_band_rows`), or reads a band inside the signal in place; each
    output gets the same terms in the same order whatever the bands' height, and the
    same bits on one thread or two (the compiler may fuse a multiply-add in one loop
    and not in another, so bands of other heights agree to rounding)."""
    sx, sk, options = CASES[case]
    x, k, spec = _prepared("correlate", sx, sk, "float64", options, case)
    monkeypatch.setattr(costs, "direct_padded", lambda spec: True)
    monkeypatch.setattr(costs, "direct_planes", lambda spec: False)
    monkeypatch.setattr(costs, "PARALLEL_MIN_TERMS", 0)
    results = []
    for rows, workers in ((1, 1), (1, 2), (2, 2), (3, 1), (None, 2)):  # None: a band per plane
        height = lambda planes, o1, *rest, rows=rows: o1 if rows is None else min(rows, o1)  # noqa: E731
        monkeypatch.setattr(costs, "direct_band_rows", height)
        direct._layout.cache_clear()
        forget_plans()
        results.append(make_plan(spec, "direct", workers=workers)(x, k))
    direct._layout.cache_clear()
    forget_plans()
    assert np.array_equal(results[0], results[1])
    scale = float(np.abs(x).max()) * float(np.abs(k).sum())
    for got in results:
        assert_close(got, _reference(spec, x, k), np.float64, terms=k.size, scale=scale)


IN_PLACE = [
    # (x shape, k shape, options): kernels of few taps, whose inner bands are read in place
    ((13, 17), (3, 3), dict(mode="same")),
    ((13, 17), (3, 3), dict(mode="full")),
    ((13, 17), (2, 4), dict(mode="same", origin=(0, 1))),
    ((13, 17), (1, 9), dict(mode="same")),
    ((13, 17), (9, 1), dict(mode="full")),
    ((15, 19), (3, 3), dict(mode="same", dilation=(2, 3))),
    ((13, 17), (3, 3), dict(mode="valid", pads=((2, 1), (0, 4)))),
    ((6, 11, 12), (3, 3, 1), dict(mode="same")),
    ((3, 14, 10), (1, 3, 3), dict(mode="same", axes=(1, 2))),
    ((14, 150), (3, 3), dict(mode="same")),  # rows of wide tiles, a narrow one, a last
]


@pytest.mark.parametrize("band", [2, 5])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("case", range(len(IN_PLACE)))
def test_bands_inside_the_signal_read_it_in_place(case, dtype, band, monkeypatch):
    """With zero padding and stride 1, a band whose rows all lie inside the signal is
    read where it is (where `costs.direct_bands_in_place`): its outer columns, whose
    taps reach into the padding, are summed apart. Bands of two rows, so that most are,
    and of five: a tile of four rows (with AVX-512, float sums in registers) and one
    more row."""
    sx, sk, options = IN_PLACE[case]
    x, k, spec = _prepared("correlate", sx, sk, dtype, options, [case, len(dtype)])
    monkeypatch.setattr(costs, "direct_bands_in_place", lambda spec: True)
    monkeypatch.setattr(costs, "direct_padded", lambda spec: True)
    monkeypatch.setattr(costs, "direct_planes", lambda spec: False)
    monkeypatch.setattr(costs, "direct_band_rows", lambda planes, o1, *rest: min(band, o1))
    direct._layout.cache_clear()
    forget_plans()
    try:
        got = make_plan(spec, "direct", workers=2)(x, k)
        x[(..., *[n // 2 for n in x.shape[-2:]])] = np.nan  # a NaN reaches its window only
        spread = make_plan(spec, "direct", workers=1)(x, k)
        x[...] = np.where(np.isnan(x), 1.0, 0.0)
        window = make_plan(spec, "reference")(x, np.ones_like(k)) != 0
    finally:
        direct._layout.cache_clear()
        forget_plans()
    x, k, spec = _prepared("correlate", sx, sk, dtype, options, [case, len(dtype)])
    scale = float(np.abs(x).max()) * float(np.abs(k).sum())
    assert_close(got, _reference(spec, x, k), np.dtype(dtype), terms=k.size, scale=scale)
    assert window.any() and np.array_equal(np.isnan(spread), window)


@pytest.mark.parametrize(
    ("sx", "sk", "mode", "in_place"),
    [
        ((2048, 2048), (3, 3), "same", True),  # 2 outer columns of 9 taps a row of 2048
        ((2048, 2048), (5, 5), "same", False),  # 25 taps: the padded rows pay off
        ((1000,), (8,), "full", False),  # 14 outer columns of 8 taps: more than a copy
        ((4096,), (8,), "full", True),
        ((64, 64), (3, 3), "same", False),
        ((64, 300), (3, 3), "valid", True),  # no outer columns
    ],
)
def test_bands_are_read_in_place_where_rows_outweigh_their_edges(sx, sk, mode, in_place):
    """`costs.direct_bands_in_place`: few taps, and rows of at least
    `DIRECT_IN_PLACE_VALUES_PER_EDGE_TERM` values for each term of their outer columns
    (columns ``(k - 1)·2`` in full mode, ``k - 1`` in same mode, none in valid mode)."""
    spec = build_spec("convolve", np.zeros(sx), np.zeros(sk), mode)
    assert costs.direct_bands_in_place(spec) is in_place


@pytest.mark.parametrize("boundary", ["edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_band_copies_pad_by_every_boundary_rule(boundary, n, path):
    """On the padded path the band copies pad by the rule themselves (no padded copy of
    the whole signal first), also where the padding spans several periods."""
    rng = np.random.default_rng(n)
    x, k = rng.standard_normal((2, n, n + 2)), rng.standard_normal((1, 6, 9))
    spec = build_spec("correlate", x, k, "full", boundary=boundary, axes=(1, 2))
    assert costs.direct_pads_in_copies(spec) == path.startswith("padded")
    got = make_plan(spec, "direct", workers=2)(x, k)
    scale = float(np.abs(x).max()) * float(np.abs(k).sum())
    assert_close(got, _reference(spec, x, k), np.float64, terms=k.size, scale=scale)


def test_the_padded_path_buffers_one_band_per_thread_in_cache():
    """No copy of the whole padded signal: i8's (2048² float64, 11×11) would be 33 MiB,
    fresh from the operating system and faulted in on every call."""
    spec = build_spec("convolve", np.zeros((2048, 2048)), np.zeros((11, 11)), "same")
    assert costs.direct_padded(spec)
    assert costs.direct_padded_bytes(spec, 1) <= costs.DIRECT_BAND_BYTES
    geo = direct._layout(spec, 2).geo
    assert 1 < geo[23] < 2048  # rows per band: several bands, several rows each


def test_the_cost_model_counts_the_loops_passes():
    from convolib.algorithms import _direct_kernels

    assert costs.DIRECT_TAPS_PER_PASS == _direct_kernels.TAPS_PER_PASS
    assert costs.DIRECT_LINE_MIN_TAPS == _direct_kernels.LINE_MIN_TAPS


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("taps", [16, 37, 70])
def test_each_output_gets_the_same_bits_wherever_it_lies(path, taps, dtype):
    """Kernel rows run as lines in tiles of vectors, the outputs after the last whole
    tile in one masked tile: an output's terms come in one order whatever its place in
    a tile, so a signal cut anywhere (as a stream's chunks cut it) gives the same bits."""
    rng = np.random.default_rng(taps)
    x = random_array(rng, (2, 700), dtype)
    k = random_array(rng, (1, taps), dtype)

    def valid(signal):
        spec = build_spec("correlate", signal, k, "valid", axes=1)
        return make_plan(spec, "direct", workers=2)(signal, k)

    whole = valid(x)
    for start, stop in ((1, 700), (7, 650), (63, 700), (64, 400), (129, 300), (200, 290)):
        got = valid(x[:, start:stop])
        assert np.array_equal(got, whole[:, start : stop - taps + 1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_small_calls_run_the_compiled_loop_on_operands_of_any_layout(dtype):
    """Small problems call the serial loop's compiled entry past numba's dispatcher
    (`direct._compiled`) where both 1-D operands are contiguous, aligned and writeable,
    and the dispatcher on contiguous copies otherwise: every layout gives the bits of
    the contiguous call, and the reference's values."""
    rng = np.random.default_rng(3)
    x, k = random_array(rng, (2, 1000), dtype), random_array(rng, (8,), dtype)
    spec = build_spec("convolve", x[0], k, "full")
    run = direct.Direct().bind(spec, 1, reverse=spec.kernel_flip)
    expected = run(x[0], k)
    assert_close(expected, make_plan(spec, "reference")(x[0], k), dtype)
    strided = np.ascontiguousarray(np.stack([x[0], x[1]], axis=1)).reshape(-1)[::2]
    readonly = x[0].copy()
    readonly.flags.writeable = False  # the dispatcher compiles a loop for it: float64 only
    for signal in (strided, x[0].copy(), *([readonly] if dtype == "float64" else [])):
        assert np.array_equal(signal, x[0])
        assert np.array_equal(run(signal, k), expected)
    assert np.array_equal(run(x[0], k[::-1].copy()[::-1]), expected)
