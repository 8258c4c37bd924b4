"""Streaming: `convolib.stream.Filter` (files: test_files.py).

Oracles: ``numpy.convolve`` per channel, exact in int64 for the small integers used
here, and in long double (extended precision) for floats, whose streamed results
must stay within the documented bounds (DESIGN.md):

* direct family, per element: ``2·m·eps·(|x| * |k|)`` (times 4 for complex: a
  complex product and sum cost a few more roundings, as in test_accuracy.py);
* FFT family, in max norm per channel: ``eps·log2(L)·‖x‖₂·‖k‖₂``, with ``L`` the
  padded length of a call, at most ``n + 2m`` here;

each output comes from one call of one algorithm, so it is within the larger of
the two, plus the final rounding into the output dtype.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib.stream import Filter

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps,
    reason="the float oracle needs an extended-precision long double",
)


# ------------------------------------------------------------------------------ oracles


def convolve_channels(x: np.ndarray, k: np.ndarray, axis: int, dtype) -> np.ndarray:
    """Full convolution along ``axis`` with ``numpy.convolve``, one channel at a time.

    ``k`` holds the taps on its last axis; its leading axes broadcast against the
    channel axes of ``x``, aligned on the right. An empty signal gives an empty
    result, as ``scipy.signal.convolve`` and ``convolib.convolve`` do.
    """
    xt = np.moveaxis(x, axis, -1)
    n, m = xt.shape[-1], k.shape[-1]
    channels = np.broadcast_shapes(xt.shape[:-1], k.shape[:-1])
    xb = np.broadcast_to(xt, (*channels, n)).astype(dtype)
    kb = np.broadcast_to(k, (*channels, m)).astype(dtype)
    out = np.zeros((*channels, n + m - 1 if n else 0), dtype)
    for index in np.ndindex(*channels):
        if n:
            out[index] = np.convolve(xb[index], kb[index])
    return np.moveaxis(out, -1, axis)


def wide(dtype) -> type:
    return np.clongdouble if np.dtype(dtype).kind == "c" else np.longdouble


def assert_within_bound(got: np.ndarray, x: np.ndarray, k: np.ndarray, axis: int) -> None:
    """``got`` (full or a prefix along ``axis``) is within the bounds of the module doc."""
    acc = np.result_type(x.dtype, k.dtype)
    eps = float(np.finfo(np.float32 if acc == np.float16 else acc).eps)
    out_eps = float(np.finfo(got.dtype).eps)
    exact = convolve_channels(x, k, axis, wide(acc))
    magnitude = convolve_channels(np.abs(x), np.abs(k), axis, np.longdouble)
    n, m = x.shape[axis], k.shape[-1]
    direct = 2 * m * (4 if acc.kind == "c" else 1) * eps * magnitude
    x_norm = np.linalg.norm(np.moveaxis(x.astype(wide(acc)), axis, -1), axis=-1)
    k_norm = np.linalg.norm(k.astype(wide(acc)), axis=-1)
    fft = eps * math.log2(n + 2 * m) * np.expand_dims(x_norm * k_norm, axis)
    bound = np.maximum(direct, fft) + out_eps * np.abs(exact) + np.finfo(np.float32).tiny
    exact = exact[tuple(slice(0, s) for s in got.shape)]
    bound = bound[tuple(slice(0, s) for s in got.shape)]
    err = np.abs(got.astype(exact.dtype) - exact)
    assert got.shape == exact.shape
    worst = np.max(err / bound, initial=0.0)
    assert worst <= 1, f"error {float(worst):.3g} times the documented bound"


def check_stream(got, x, k, axis, mode) -> None:
    """``got`` is the stream's output for ``x``: exact for integers, within bounds else."""
    n = x.shape[axis]
    expected_dtype = np.dtype(np.int64) if x.dtype.kind in "biu" and k.dtype.kind in "biu" else None
    length = n + k.shape[-1] - 1 if mode == "full" and n else n
    assert got.shape[axis] == length
    if expected_dtype is not None:
        assert got.dtype == expected_dtype
        exact = convolve_channels(x, k, axis, np.int64)
        np.testing.assert_array_equal(got, np.take(exact, range(length), axis=axis))
        # the one-shot API gives the same, bit for bit
        oneshot = convolib.convolve(x, kernel_along(k, x.ndim, axis), axes=axis % x.ndim)
        np.testing.assert_array_equal(got, np.take(oneshot, range(length), axis=axis))
    else:
        assert got.dtype == convolib.convolve(np.zeros(1, x.dtype), np.zeros(1, k.dtype)).dtype
        assert_within_bound(got, x, k, axis)


def kernel_along(k: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """``k`` (taps last, channels leading) as a kernel for ``convolib.convolve(..., axes=axis)``."""
    k = k.reshape((1,) * (ndim - k.ndim) + k.shape)
    return np.moveaxis(k, -1, axis)


def run_stream(f: Filter, chunks, axis: int, flush: bool) -> np.ndarray:
    outs = [f.process(c) for c in chunks]
    if flush:
        outs.append(f.flush())
    return np.concatenate(outs, axis=axis)


def split(x: np.ndarray, lengths, axis: int) -> list[np.ndarray]:
    """``x`` cut along ``axis`` into pieces of ``lengths`` (the last takes the rest)."""
    cuts = np.cumsum(lengths)[:-1] if len(lengths) else []
    return np.split(x, cuts, axis=axis)


def draw_signal(rng, shape, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(
            dtype
        )
    values = rng.standard_normal(shape) * 10.0 ** rng.uniform(-2, 2, shape)
    if dtype.kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


# (channel shape of x, time-axis position, channel shape of k)
LAYOUTS = [
    ((), 0, ()),
    ((3,), 0, ()),
    ((3,), 1, ()),
    ((3,), 0, (3,)),
    ((1,), 1, (4,)),  # one signal through a bank of four kernels
    ((2, 3), 1, ()),
    ((2, 3), 2, (3,)),
    ((2, 3), 0, (2, 1)),
]
DTYPES = ["int16", "int64", "uint8", "bool", "float64", "float32", "complex128"]


@st.composite
def streams(draw):
    m = draw(st.integers(1, 12))
    short = st.integers(0, 3 * m + 4)
    lengths = draw(st.lists(st.one_of(short, st.just(0), st.integers(40, 200)), max_size=8))
    channels, position, kchannels = draw(st.sampled_from(LAYOUTS))
    ndim = len(channels) + 1
    axis = draw(st.sampled_from([position, position - ndim]))
    x_dtype = draw(st.sampled_from(DTYPES))
    k_dtype = x_dtype if draw(st.booleans()) else draw(st.sampled_from(["int8", "float64"]))
    mode = draw(st.sampled_from(["full", "causal"]))
    block = draw(st.sampled_from([None, None, 1, 3, 7]))
    seed = draw(st.integers(0, 2**32 - 1))
    return m, lengths, channels, position, axis, kchannels, x_dtype, k_dtype, mode, block, seed


@given(streams())
def test_chunked_stream_equals_one_shot(case):
    m, lengths, channels, position, axis, kchannels, x_dtype, k_dtype, mode, block, seed = case
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    shape = (*channels[:position], n, *channels[position:])
    x = draw_signal(rng, shape, x_dtype)
    k = draw_signal(rng, (*kchannels, m), k_dtype)
    f = Filter(k, axis, mode=mode, block=block)
    pieces = split(x, lengths, position) if lengths else [x]
    outs = [f.process(piece) for piece in pieces]
    for piece, out in zip(pieces, outs, strict=True):
        assert out.shape[position] == piece.shape[position]  # zero added latency
    outs.append(f.flush())
    assert outs[-1].shape[position] == (m - 1 if mode == "full" and n else 0)
    check_stream(np.concatenate(outs, axis=position), x, k, position, mode)


@pytest.mark.parametrize("dtype", ["float16", "complex64"])
def test_other_float_dtypes(dtype):
    rng = np.random.default_rng(1)
    x = draw_signal(rng, 300, dtype)
    k = draw_signal(rng, 9, dtype)
    got = run_stream(Filter(k), split(x, [0, 5, 100, 1, 60], 0), 0, flush=True)
    assert got.dtype == convolib.convolve(x, k).dtype == np.dtype(dtype)
    check_stream(got, x, k, 0, "full")


def test_long_kernel_and_long_chunks_use_blocks():
    """Chunks far longer than the block are cut; a kernel longer than the block too."""
    rng = np.random.default_rng(2)
    x = rng.integers(-100, 100, 5000)
    k = rng.integers(-100, 100, 700)
    f = Filter(k, block=256)
    got = run_stream(f, split(x, [3000, 10, 1500], 0), 0, flush=True)
    check_stream(got, x, k, 0, "full")
    fx = Filter(k.astype(float))
    got = run_stream(fx, split(x.astype(float), [1, 4000, 3], 0), 0, flush=True)
    check_stream(got, x.astype(float), k.astype(float), 0, "full")


@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
def test_transform_paths_stay_within_bounds(method):
    """A long kernel: auto takes a transform for long calls (fft, or lanes_fft's frames)."""
    rng = np.random.default_rng(4)
    x = draw_signal(rng, 16000, "float64")
    k = draw_signal(rng, 2000, "float64")
    chosen = {
        convolib.plan("convolve", np.zeros(n + 1999), k, "valid", method=method).algorithm
        for n in (6000, 9000)
    }
    assert chosen <= {"fft", "lanes_fft"} if method == "auto" else chosen == {method}
    got = run_stream(Filter(k, method=method), split(x, [6000, 1, 9000, 3], 0), 0, flush=True)
    check_stream(got, x, k, 0, "full")


def test_integers_stay_exact_with_a_long_kernel():
    rng = np.random.default_rng(6)
    x, k = rng.integers(-1000, 1000, 9000), rng.integers(-1000, 1000, 2500)
    got = run_stream(Filter(k), split(x, [6000, 2, 2000], 0), 0, flush=True)
    check_stream(got, x, k, 0, "full")


def test_a_forced_method_that_cannot_run_a_call_says_why():
    with pytest.raises(convolib.ArgumentError, match="method='fft'"):
        Filter([1, 2], method="fft").process([1, 2, 3])


def test_block_comes_from_the_cost_model():
    f = Filter(np.ones(31))
    assert f.block is None  # chosen once the first chunk fixes dtype and channels
    f.process(np.zeros(0))
    assert f.block is not None and f.block >= 64 and f.block & (f.block - 1) == 0
    g = Filter(np.ones(31), block=100)
    assert g.block == 100


def test_nan_stays_in_its_windows():
    x = np.arange(200.0)
    x[57] = np.nan
    k = np.ones(5)
    got = run_stream(Filter(k), split(x, [50, 3, 100], 0), 0, flush=True)
    assert np.flatnonzero(np.isnan(got)).tolist() == list(range(57, 62))


def test_safe_dtype_changes_are_promoted_like_concatenate():
    x = [np.array([1, 2], np.int16), np.array([3], np.int8), np.array([4, 5], np.uint8)]
    f = Filter([1, 1], mode="causal")
    got = np.concatenate([f.process(c) for c in x])
    np.testing.assert_array_equal(got, np.convolve(np.concatenate(x).astype(int), [1, 1])[:5])


def test_overflow_leaves_the_state_unchanged():
    f = Filter([1, 1], mode="causal")
    with pytest.raises(convolib.ExactOverflowError):
        f.process(np.array([2**62, 2**62]))
    np.testing.assert_array_equal(f.process(np.array([1, 2])), [1, 3])  # zero history still


# --------------------------------------------------------------------------------- state


STATE_CASES = [
    # (x dtype, k, axis, channels, time position, mode)
    ("int32", np.array([3, -1, 4, 1, -5]), -1, (2,), 1, "full"),
    ("float64", np.array([0.25, 0.5, 0.25, 1e-3, -2.0, 7.5]), 0, (3,), 0, "causal"),
    ("complex128", np.array([1 + 1j, 2, -1j]), 1, (2, 2), 1, "full"),
    ("float32", np.arange(12.0).reshape(3, 4) / 7, 0, (3,), 0, "full"),
    ("int64", np.array([1]), -1, (), 0, "full"),
]


@pytest.mark.parametrize("case", range(len(STATE_CASES)))
@pytest.mark.parametrize("cut", [0, 1, 3, 6])
def test_state_round_trip_through_npz_is_bit_for_bit(tmp_path, case, cut):
    dtype, k, axis, channels, position, mode = STATE_CASES[case]
    rng = np.random.default_rng(case)
    lengths = [7, 0, 2, 90, 1, 5, 40]
    x = draw_signal(rng, (*channels[:position], sum(lengths), *channels[position:]), dtype)
    chunks = split(x, lengths, position)

    whole = run_stream(Filter(k, axis, mode=mode), chunks, position, flush=True)

    first = Filter(k, axis, mode=mode)
    before = [first.process(c) for c in chunks[:cut]]
    path = tmp_path / "state.npz"
    np.savez(path, **first.state())
    with np.load(path) as saved:  # allow_pickle=False: plain arrays only
        resumed = Filter.restore(saved)
    after = [resumed.process(c) for c in chunks[cut:]] + [resumed.flush()]
    got = np.concatenate(before + after, axis=position)
    assert got.dtype == whole.dtype
    np.testing.assert_array_equal(got, whole)
    assert resumed.block == first.block or cut == 0


def test_state_round_trip_in_a_new_process(tmp_path):
    """A job restarted in a fresh interpreter continues with identical output."""
    rng = np.random.default_rng(5)
    x, k = rng.standard_normal(3000), rng.standard_normal(200)
    chunks = split(x, [1000, 37], 0)
    whole = run_stream(Filter(k), chunks, 0, flush=True)
    f = Filter(k)
    head = f.process(chunks[0])
    np.savez(tmp_path / "state.npz", **f.state())
    np.save(tmp_path / "rest.npy", np.concatenate(chunks[1:]))
    script = (
        "import sys, numpy as np\n"
        "from convolib.stream import Filter\n"
        "f = Filter.restore(np.load(sys.argv[1] + '/state.npz'))\n"
        "rest = np.load(sys.argv[1] + '/rest.npy')\n"
        "y = np.concatenate([f.process(rest[:37]), f.process(rest[37:]), f.flush()])\n"
        "np.save(sys.argv[1] + '/tail.npy', y)\n"
    )
    env = {**os.environ, "CONVOLIB_CALIBRATION": os.environ.get("CONVOLIB_CALIBRATION", "off")}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env)
    got = np.concatenate([head, np.load(tmp_path / "tail.npy")])
    np.testing.assert_array_equal(got, whole)


def test_state_is_plain_data():
    f = Filter(np.array([1.0, 2.0]), axis=0, block=16)
    f.process(np.ones((4, 3)))
    state = f.state()
    for key, value in state.items():
        assert isinstance(value, int | str | np.ndarray), key
        assert not isinstance(value, np.ndarray) or value.dtype.kind in "biufcU", key
    state["history"][...] = 99  # a copy, not the filter's own array
    np.testing.assert_array_equal(f.process(np.zeros((0, 3))), np.zeros((0, 3)))
    assert f.state()["history"].max() == 1


def test_state_keeps_the_block():
    """The block is part of the state, so a restore on another machine cuts the same way."""
    f = Filter([1.0, 2.0], block=5)
    assert f.state()["block"] == 5
    assert Filter.restore(f.state()).block == 5
    g = Filter([1.0, 2.0])
    g.process([1.0])
    state = g.state()
    assert state["block"] == g.block
    state["block"] = 3
    assert Filter.restore(state).block == 3


def test_state_before_start_and_after_flush():
    fresh = Filter.restore(Filter([1, 2]).state())
    np.testing.assert_array_equal(fresh.process([1, 1]), [1, 3])
    done = Filter([1, 2])
    done.process([1])
    done.flush()
    ended = Filter.restore(done.state())
    with pytest.raises(convolib.ArgumentError, match="flushed"):
        ended.process([1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("history"), "no 'history' entry"),
        (lambda s: s.update(format="something else"), "is not a convolib.stream.Filter state"),
        (lambda s: s.update(version=99), "version 1"),
        (lambda s: s.update(history=np.zeros((3, 2))), "len(k) - 1 = 2"),
        (lambda s: s.update(axis="last"), "state['axis']='last': must be an int"),
        (lambda s: s.update(kernel=np.zeros(0)), "has no taps"),
    ],
)
def test_restore_rejects_bad_states(change, message):
    f = Filter([1, 2, 3], axis=0)
    f.process(np.ones((4, 2)))
    state = f.state()
    change(state)
    with pytest.raises(convolib.ConvolibError) as info:
        Filter.restore(state)
    assert message in str(info.value)


def test_restore_needs_a_mapping():
    with pytest.raises(convolib.ArgumentTypeError, match="mapping"):
        Filter.restore([1, 2])


# -------------------------------------------------------------------------------- errors


def message_of(cls, func, *args, **kwargs) -> str:
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    assert isinstance(info.value, convolib.ConvolibError)
    return str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "cls", "fragments"),
    [
        ({"k": []}, convolib.ArgumentError, ["k.shape=(0,)", "has no taps"]),
        ({"k": np.zeros((3, 0))}, convolib.ArgumentError, ["has no taps"]),
        ({"k": 3}, convolib.ArgumentError, ["k=array(3)", "not a scalar", "np.atleast_1d"]),
        ({"k": np.array([1, 2], object)}, convolib.ArgumentTypeError, ["object arrays"]),
        ({"k": ["a", "b"]}, convolib.ArgumentTypeError, ["k.dtype", "numeric"]),
        ({"k": [1], "mode": "ful"}, convolib.ArgumentError, ["mode='ful'", "'full'", "'causal'"]),
        ({"k": [1], "mode": "same"}, convolib.ArgumentError, ["mode='same'", "'causal'"]),
        ({"k": [1], "method": "fast"}, convolib.ArgumentError, ["method='fast'", "'auto'"]),
        ({"k": [1], "block": 0}, convolib.ArgumentError, ["block=0", "at least 1"]),
        ({"k": [1], "block": 2.5}, convolib.ArgumentTypeError, ["block=2.5", "an int"]),
        ({"k": [1], "axis": "time"}, convolib.ArgumentTypeError, ["axis='time'", "an int"]),
        ({"k": [1], "axis": True}, convolib.ArgumentTypeError, ["axis=True"]),
    ],
)
def test_bad_filter_arguments(kwargs, cls, fragments):
    msg = message_of(cls, Filter, **kwargs)
    for fragment in fragments:
        assert fragment in msg, msg


def test_first_chunk_errors():
    msg = message_of(convolib.ArgumentError, Filter([1, 2], axis=2).process, np.ones((3, 4)))
    assert "axis=2" in msg and "[-2, 1]" in msg
    msg = message_of(convolib.ArgumentError, Filter([1, 2]).process, 5)
    assert "scalar" in msg
    msg = message_of(convolib.ArgumentError, Filter(np.ones((4, 3))).process, np.ones((3, 10)))
    assert "k.shape=(4, 3)" in msg and "(3,)" in msg
    msg = message_of(convolib.ArgumentError, Filter(np.ones((2, 2, 3))).process, np.ones((2, 10)))
    assert "k.shape" in msg
    msg = message_of(
        convolib.ArgumentTypeError, Filter([1]).process, np.array([1, 2], dtype=object)
    )
    assert "object arrays" in msg


@pytest.mark.parametrize(
    ("first", "later", "cls", "fragments"),
    [
        (
            np.ones((5, 3)),
            np.ones((5, 4)),
            convolib.ArgumentError,
            ["chunk.shape=(5, 4)", "(n, 3)"],
        ),
        (np.ones((5, 3)), np.ones(5), convolib.ArgumentError, ["chunk.shape=(5,)"]),
        (np.ones((5, 3)), np.ones((5, 3, 1)), convolib.ArgumentError, ["chunk.shape"]),
        (np.ones(4), np.ones(4, complex), convolib.ArgumentTypeError, ["complex128", "float64"]),
        (np.ones(4, int), np.ones(4), convolib.ArgumentTypeError, ["chunk.dtype", "astype"]),
        (np.ones(4, np.float32), np.ones(4), convolib.ArgumentTypeError, ["float32"]),
    ],
)
def test_chunks_must_match_the_stream(first, later, cls, fragments):
    f = Filter([1.0, 2.0], axis=0)
    f.process(first)
    msg = message_of(cls, f.process, later)
    for fragment in fragments:
        assert fragment in msg, msg
    assert f.process(first).shape == first.shape  # the refused chunk changed nothing


def test_call_order_errors():
    msg = message_of(convolib.ArgumentError, Filter([1, 2]).flush)
    assert "no chunk was processed" in msg and "process()" in msg
    f = Filter([1, 2], mode="causal")
    f.process([1, 2])
    assert f.flush().shape == (0,)  # a causal stream has no tail
    msg = message_of(convolib.ArgumentError, f.process, [1])
    assert "flushed" in msg and "new Filter" in msg
    msg = message_of(convolib.ArgumentError, f.flush)
    assert "already called" in msg


def test_inputs_are_not_modified_or_aliased():
    k = np.array([1.0, 2.0, 3.0])
    f = Filter(k)
    chunk = np.arange(5.0)
    f.process(chunk)
    k[:] = 0
    chunk[:] = 100  # the history must be a copy
    np.testing.assert_array_equal(f.process([0.0]), [3 * 3 + 2 * 4 + 0])
    np.testing.assert_array_equal(f.kernel, [1, 2, 3])
    assert not f.kernel.flags.writeable


def test_state_survives_npz_in_memory():
    f = Filter(np.array([[1, 2], [3, 4]]), axis=0)
    f.process(np.ones((3, 2), np.int8))
    buffer = io.BytesIO()
    np.savez(buffer, **f.state())
    buffer.seek(0)
    g = Filter.restore(np.load(buffer))
    chunk = np.ones((1, 2), np.int8)
    np.testing.assert_array_equal(g.process(chunk), f.process(chunk))
