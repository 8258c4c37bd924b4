"""Dask arrays through `convolib.convolve` / `correlate` (src/convolib/chunked.py).

Oracles: the in-memory `convolib` functions on the computed input (the chunked path
must give their values, shapes and dtypes exactly for integers), and, independently,
``np.pad`` of the whole array followed by ``scipy.signal.correlate(..., "valid")``
with pad widths derived here from the documented mode and origin rules.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import dask
import dask.array as da
import dask.bag
import dask.core
import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib import chunked
from helpers import assert_close

OPS = {"convolve": convolib.convolve, "correlate": convolib.correlate}
MODES = ("full", "same", "valid")
BOUNDARIES = ("constant", "edge", "reflect", "symmetric", "wrap", "zeros", "replicate", "circular")
NUMPY_NAME = {"zeros": "constant", "replicate": "edge", "circular": "wrap"}


@pytest.fixture(autouse=True)
def synchronous():
    """Blocks run in this thread: quick, and exceptions surface as they are."""
    with dask.config.set(scheduler="synchronous"):
        yield


def forbidden_get(*args, **kwargs):
    raise AssertionError("something was computed before .compute()")


def assert_same(got: da.Array, want: np.ndarray) -> None:
    """``got`` is a Dask array whose values, shape and dtype are ``want``'s."""
    assert isinstance(got, da.Array)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    value = got.compute()
    assert value.dtype == want.dtype
    if want.dtype.kind in "fc":
        assert_close(value, want)
    else:
        np.testing.assert_array_equal(value, want)


def random_chunks(draw, n: int) -> tuple[int, ...]:
    """A random partition of ``n`` (1-element chunks included)."""
    cuts = draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=n)) if n > 1 else set()
    edges = [0, *sorted(c for c in cuts if c < n), n]
    return tuple(b - a for a, b in itertools.pairwise(edges))


@st.composite
def cases(draw, max_dims: int = 3):
    """(op, x, chunks, k, mode, options) with 1-3 axes, some of them batch axes."""
    nd = draw(st.integers(1, max_dims))
    side = {1: 12, 2: 7, 3: 5}[nd]
    shape = tuple(draw(st.integers(1, side)) for _ in range(nd))
    conv = draw(st.sets(st.integers(0, nd - 1), min_size=1)) if nd > 1 else {0}
    mode = draw(st.sampled_from(MODES))
    kshape = []
    for a, n in enumerate(shape):
        if a not in conv:  # batch axis: the kernel's length is 1 or x's
            kshape.append(draw(st.sampled_from([1, n])))
        elif mode == "valid":
            kshape.append(draw(st.integers(1, n)))
        else:  # kernels longer than the axis, and longer than two chunks
            kshape.append(draw(st.integers(1, n + 4)))
    options: dict = {"axes": tuple(sorted(conv)) if nd > 1 else None}
    boundary = draw(st.sampled_from(BOUNDARIES))
    options["boundary"] = boundary
    if boundary == "constant":
        options["fill_value"] = draw(st.integers(-3, 3))
    if mode == "same" and draw(st.booleans()):
        options["origin"] = tuple(
            draw(st.integers(-(kshape[a] // 2), (kshape[a] - 1) // 2)) for a in sorted(conv)
        )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-9, 10, shape)
    k = rng.integers(-9, 10, tuple(kshape))
    chunks = tuple(random_chunks(draw, n) for n in shape)
    return draw(st.sampled_from(sorted(OPS))), x, chunks, k, mode, options


# ------------------------------------------------------------------- against in-memory


@given(cases())
def test_matches_in_memory_exactly_for_integers(case):
    op, x, chunks, k, mode, options = case
    want = OPS[op](x, k, mode, **options)
    got = OPS[op](da.from_array(x, chunks=chunks), k, mode, **options)
    assert_same(got, want)


@given(cases(max_dims=2), st.sampled_from([np.float32, np.float64, np.complex128]))
def test_matches_in_memory_for_floats(case, dtype):
    op, x, chunks, k, mode, options = case
    fill = options.get("fill_value", 0) + 0.5
    if "fill_value" in options:
        options["fill_value"] = fill
    x, k = x.astype(dtype) / 4, k.astype(dtype) * (1 + 1j if dtype == np.complex128 else 1)
    want = OPS[op](x, k, mode, **options)
    got = OPS[op](da.from_array(x, chunks=chunks), k, mode, **options)
    assert got.dtype == want.dtype
    # Both sides round: twice the bound, with |x| * |k| bounded by max|x| * sum|k|.
    scale = 2 * max(np.abs(x).max(), abs(fill)) * np.abs(k).sum()
    assert_close(got.compute(), want, dtype, terms=k.size, scale=scale)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_grid_chunks_smaller_than_the_kernel(op, mode, boundary):
    rng = np.random.default_rng(7)
    x = rng.integers(-50, 50, (9, 11))
    k = rng.integers(-5, 6, (5, 4))  # halos of 4 and 3 over chunks of 1 to 3
    fill = {"fill_value": -7} if boundary == "constant" else {}
    want = OPS[op](x, k, mode, boundary=boundary, **fill)
    for chunks in [((2, 1, 3, 3), (3, 3, 3, 2)), (1, 2), ((9,), (1,) * 11)]:
        got = OPS[op](da.from_array(x, chunks=chunks), k, mode, boundary=boundary, **fill)
        assert_same(got, want)


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_origin(op):
    x = np.arange(60).reshape(6, 10) ** 2 % 17
    k = np.arange(1, 13).reshape(4, 3)
    xd = da.from_array(x, chunks=(4, 3))
    for origin in itertools.product(range(-2, 2), range(-1, 2)):
        for boundary in ("constant", "reflect", "wrap"):
            want = OPS[op](x, k, "same", boundary=boundary, origin=origin)
            assert_same(OPS[op](xd, k, "same", boundary=boundary, origin=origin), want)


def test_3d_volume_with_a_gaussian_and_forced_methods():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((14, 13, 12)).astype(np.float32)
    g = np.exp(-0.5 * (np.arange(5) - 2.0) ** 2).astype(np.float32)
    k = np.einsum("i,j,k->ijk", g, g, g)
    xd = da.from_array(x, chunks=(5, 4, 7))
    for method in ("auto", "direct", "fft", "separable", "reference"):
        want = convolib.convolve(x, k, "same", boundary="symmetric", method=method)
        got = convolib.convolve(xd, k, "same", boundary="symmetric", method=method)
        assert got.chunks == xd.chunks
        assert_close(got.compute(), want, np.float32, terms=k.size)


# ------------------------------------------------------------- an independent oracle


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("boundary", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("mode", MODES)
def test_whole_array_boundaries_against_np_pad(op, boundary, mode):
    """Pads longer than a chunk and than the array itself take their values from the
    whole array's far end or mirrors, as ``np.pad`` of the whole array does."""
    rng = np.random.default_rng(11)
    x = rng.integers(-20, 20, (4, 13))
    k = rng.integers(-3, 4, (6, 5)) if mode != "valid" else rng.integers(-3, 4, (3, 5))
    w = k if op == "correlate" else k[::-1, ::-1]
    m = np.array(w.shape)
    if mode == "full":
        pads = [(mi - 1, mi - 1) for mi in m]
    elif mode == "same":  # y[i] = sum_j x[i + j - m//2] w[j]
        pads = [(mi // 2, mi - 1 - mi // 2) for mi in m]
    else:
        pads = [(0, 0)] * 2
    extra = {"constant_values": 5} if boundary == "constant" else {}
    want = scipy.signal.correlate(np.pad(x, pads, mode=boundary, **extra), w, "valid")
    fill = {"fill_value": 5} if boundary == "constant" else {}
    got = OPS[op](da.from_array(x, chunks=(1, 4)), k, mode, boundary=boundary, **fill)
    np.testing.assert_array_equal(got.compute(), want)


@given(
    st.integers(1, 6),
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from(["edge", "reflect", "symmetric", "wrap"]),
)
def test_source_index_is_np_pad(n, lo, hi, boundary):
    want = np.pad(np.arange(n), (lo, hi), mode=boundary)
    np.testing.assert_array_equal(chunked.source_index(np.arange(-lo, n + hi), n, boundary), want)


# ------------------------------------------------------------- batch axes and chunks


def test_batch_axes_keep_their_chunks_and_kernel_slices():
    rng = np.random.default_rng(5)
    x = rng.integers(-9, 10, (6, 8, 7))
    xd = da.from_array(x, chunks=(2, 3, 7))
    for kshape in [(6, 3, 1), (1, 3, 2), (6, 1, 4)]:
        k = rng.integers(-9, 10, kshape)
        for mode in MODES:
            want = convolib.correlate(x, k, mode, axes=(1, 2), boundary="wrap")
            got = convolib.correlate(xd, k, mode, axes=(1, 2), boundary="wrap")
            assert got.chunks[0] == (2, 2, 2)  # never rechunked
            assert_same(got, want)


def test_batch_axis_of_length_one_broadcasts_against_the_kernel():
    rng = np.random.default_rng(6)
    x = rng.integers(-9, 10, (1, 10))
    k = rng.integers(-9, 10, (4, 3))
    want = convolib.convolve(x, k, "same", axes=1, boundary="reflect")
    got = convolib.convolve(da.from_array(x, chunks=(1, 3)), k, "same", axes=1, boundary="reflect")
    assert_same(got, want)


def test_output_chunks_follow_the_input():
    xd = da.from_array(np.arange(40.0).reshape(4, 10), chunks=(2, 4))
    k = np.ones((1, 5))
    assert convolib.convolve(xd, k, "same").chunks == ((2, 2), (4, 4, 2))
    assert convolib.convolve(xd, k, "full").chunks == ((2, 2), (6, 4, 4))  # grows by 4
    assert convolib.convolve(xd, k, "valid").chunks == ((2, 2), (2, 4))
    assert convolib.convolve(xd, k, "same", axes=1).chunks == ((2, 2), (4, 4, 2))


def test_blocks_receive_one_whole_chunk_and_thin_halo_slabs():
    xd = da.from_array(np.arange(16.0**3).reshape(16, 16, 16), chunks=8)
    (y,) = dask.optimize(convolib.convolve(xd, np.ones((3, 3, 3)), "same", boundary="wrap"))
    graph = dict(y.__dask_graph__())
    for block in itertools.product(range(2), repeat=3):
        inputs = dask.core.get_dependencies(graph, (y.name, *block))
        whole = [key for key in inputs if key[0] == xd.name]
        assert whole == [(xd.name, *block)]
        halos = [key for key in inputs if key[0].endswith("-halo")]
        assert len(halos) == 26  # around its own chunk: 6 faces, 12 edges, 8 corners


def test_the_threaded_scheduler_gives_the_same_values():
    rng = np.random.default_rng(4)
    x = rng.integers(-9, 10, (30, 40))
    k = rng.integers(-9, 10, (5, 6))
    want = convolib.convolve(x, k, "full", boundary="symmetric")
    got = convolib.convolve(da.from_array(x, chunks=(7, 9)), k, "full", boundary="symmetric")
    np.testing.assert_array_equal(got.compute(scheduler="threads"), want)


# ------------------------------------------------------------------------ laziness


def test_nothing_is_computed_until_compute():
    seen = []

    def source(block):
        seen.append(block.shape)
        return block

    x = np.arange(30.0).reshape(5, 6)
    xd = da.map_blocks(source, da.from_array(x, chunks=2), meta=np.empty((0, 0)))
    with dask.config.set(scheduler=forbidden_get):
        y = convolib.correlate(xd, np.ones((3, 3)), "same", boundary="symmetric")
        z = convolib.convolve(xd, np.ones((3, 3)), "full") * 2
    assert isinstance(y, da.Array)
    assert isinstance(z, da.Array)
    assert seen == []
    assert_close(y.compute(), convolib.correlate(x, np.ones((3, 3)), "same", boundary="symmetric"))
    assert seen


def test_a_dask_kernel_is_computed_and_a_numpy_signal_accepted():
    x = np.arange(20).reshape(4, 5)
    k = np.array([[1, -2], [3, 4]])
    want = convolib.convolve(x, k, "same", boundary="edge")
    got = convolib.convolve(da.from_array(x, chunks=2), da.from_array(k), "same", boundary="edge")
    assert_same(got, want)
    assert_same(convolib.convolve(x, da.from_array(k), "same", boundary="edge"), want)


def test_valid_mode_swap_with_the_kernel_larger():
    rng = np.random.default_rng(8)
    x, k = rng.integers(-9, 10, (3, 2)), rng.integers(-9, 10, (6, 5))
    for fn in OPS.values():
        want = fn(x, k, "valid")
        with dask.config.set(scheduler=forbidden_get):
            got = fn(da.from_array(x, chunks=1), k, "valid")
        assert_same(got, want)


def test_empty_inputs_give_zeros():
    x = da.zeros((0, 5), chunks=2, dtype=np.int64)
    want = convolib.convolve(np.zeros((0, 5), np.int64), np.ones((2, 2), np.int64))
    assert_same(convolib.convolve(x, np.ones((2, 2), np.int64)), want)


# ------------------------------------------------------------------------- numbers


def test_dtypes_are_the_in_memory_ones():
    rng = np.random.default_rng(9)
    img = rng.integers(0, 256, (7, 9)).astype(np.uint8)
    k8 = np.ones((3, 3), np.uint8)
    cases = [
        (img, k8, {"fill_value": 300}),  # a fill value uint8 cannot hold
        (img, k8, {"out_dtype": np.uint8}),  # saturating
        (img > 100, np.ones((2, 3), bool), {"fill_value": 1}),
        (rng.standard_normal((7, 9)).astype(np.float16), np.ones((3, 2), np.float16), {}),
        (
            rng.standard_normal((7, 9)) + 1j * rng.standard_normal((7, 9)),
            np.array([[1 + 2j, -1j], [0.5, 3]]),
            {"boundary": "reflect"},
        ),
    ]
    for x, k, options in cases:
        for fn in OPS.values():
            want = fn(x, k, "same", **options)
            assert_same(fn(da.from_array(x, chunks=(2, 4)), k, "same", **options), want)


def test_fractions_are_exact():
    x = np.array([Fraction(i, 3) for i in range(10)], dtype=object)
    k = np.array([Fraction(1, 2), Fraction(1, 3), 1], dtype=object)
    for fn in OPS.values():
        want = fn(x, k, "full", fill_value=Fraction(1, 7))
        got = fn(da.from_array(x, chunks=3), k, "full", fill_value=Fraction(1, 7))
        assert got.dtype == object
        assert list(got.compute()) == list(want)


def test_int64_overflow_raises_at_compute_and_fitting_results_are_exact():
    big = np.array([2**62, 2**62, -(2**62)])
    got = convolib.convolve(da.from_array(big, chunks=1), [1, 0, -1])
    assert_same(got, convolib.convolve(big, [1, 0, -1]))
    overflowing = convolib.convolve(da.from_array(big, chunks=1), [1, 1])
    with pytest.raises(convolib.ExactOverflowError, match="outside the int64 range"):
        overflowing.compute()


def test_nan_stays_in_its_windows():
    x = np.arange(24.0)
    x[9] = np.nan
    want = convolib.convolve(x, np.ones(5), "same")
    got = convolib.convolve(da.from_array(x, chunks=4), np.ones(5), "same")
    np.testing.assert_array_equal(np.isnan(got.compute()), np.isnan(want))
    assert np.isnan(want).sum() == 5


# -------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"mode": "sme"}, "mode='sme'"),
        ({"method": "fftx"}, "method='fftx'"),
        ({"method": "ntt"}, "method='ntt': cannot compute this"),
        ({"boundary": "mirror"}, "write boundary='reflect'"),
        ({"origin": 1, "mode": "full"}, "origin=1: only applies to mode='same'"),
        ({"workers": 0}, "workers=0"),
        ({"tune": 3}, "tune=3"),
        ({"axes": 2}, "axes=2"),
    ],
)
def test_bad_arguments_raise_before_anything_is_computed(options, match):
    xd = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
    with (
        dask.config.set(scheduler=forbidden_get),
        pytest.raises(convolib.ConvolibError, match=match),
    ):
        convolib.convolve(xd, np.ones((2, 2)), **options)


def test_unknown_chunk_sizes_and_other_collections_are_refused():
    xd = da.from_array(np.arange(10.0), chunks=5)
    unknown = xd[xd > 3]
    with pytest.raises(convolib.ArgumentError, match="compute_chunk_sizes"):
        convolib.convolve(unknown, [1.0, 1.0])
    bag = dask.bag.from_sequence([1, 2])
    with pytest.raises(convolib.ArgumentError, match=r"x: must be a dask\.array\.Array"):
        convolib.convolve(bag, [1.0])
    text = da.from_array(np.array(["a", "b"]), chunks=1)
    with pytest.raises(convolib.ArgumentTypeError, match=r"x\.dtype"):
        convolib.convolve(text, [1.0])


# ---------------------------------------------------------------------- distributed


def test_on_a_local_cluster_of_processes():
    from dask.distributed import Client, LocalCluster

    rng = np.random.default_rng(12)
    x = rng.integers(-100, 100, (40, 30))
    k = rng.integers(-3, 4, (5, 4))
    want = convolib.correlate(x, k, "same", boundary="wrap")
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        y = convolib.correlate(da.from_array(x, chunks=(7, 8)), k, "same", boundary="wrap")
        got = client.compute(y).result()
    np.testing.assert_array_equal(got, want)


def test_the_dask_benchmark_checks_its_slices_and_agrees_with_dask_image():
    pytest.importorskip("dask_image")
    from convolib import _dask_bench

    report = _dask_bench.run(side=40, chunk=16, taps=5, memory_limit="1GiB")
    checks = report["checks_max_relative_difference"]
    assert checks["corner_vs_np_pad"] < 1e-5
    assert checks["interior_vs_in_memory"] < 1e-5
    assert checks["corner_vs_dask_image"] < 1e-5
    ours, theirs = report["convolib"]["value"], report["dask_image"]["value"]
    assert abs(ours - theirs) <= 1e-4 * abs(theirs)
    assert report["cluster"]["workers_restarted"] == 0
    assert report["convolib"]["workers_peak_rss_mib"] > 0
