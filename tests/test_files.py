"""`convolib.files`: filtering images, WAV, NPY and CSV files, and the rules for files.

Oracles: ``numpy.convolve`` per channel (exact in int64, long double for floats; the
helpers of test_stream.py), ``scipy.signal`` and ``scipy.ndimage`` on the decoded
pixels, and independent readers and writers: ``scipy.io.wavfile``, the standard
``wave`` module, OpenCV and Pillow for images, ``numpy.loadtxt`` for CSV.
"""

from __future__ import annotations

import os
import struct
import wave
import zlib

import numpy as np
import pytest
import scipy.io.wavfile
from scipy import ndimage, signal

import convolib
from convolib.bench import traced_peak
from convolib.files import _arrays, _safety, _wav, filter_file, read_array, read_kernel, write_array
from test_stream import check_stream, convolve_channels, draw_signal

Image = pytest.importorskip("PIL.Image")
cv2 = pytest.importorskip("cv2")

SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def message_of(func, *args, cls=convolib.ConvolibError, **kwargs) -> str:
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    return str(info.value)


def streamed(src, dst, k, **kwargs):
    """`filter_file` as a streaming FIR filter: convolution, full output by default."""
    kwargs.setdefault("op", "convolve")
    kwargs.setdefault("mode", "full")
    return filter_file(src, dst, k, **kwargs)


# ---------------------------------------------------------------------------- NPY files


@pytest.mark.parametrize(
    ("dtype", "shape", "axis", "k"),
    [
        ("int16", (1000,), None, np.array([1, -2, 3, 5])),
        (">f8", (3, 777), -1, np.array([0.5, 0.25, -1.0, 2.0, 1e-3])),  # big-endian
        ("float32", (500, 2), 0, np.arange(10.0) / 9),
        ("complex64", (4, 300, 2), 1, np.array([1j, 1, -1])),
        ("uint8", (0,), None, np.array([1, 1])),
    ],
)
@pytest.mark.parametrize("mode", ["full", "causal"])
@pytest.mark.parametrize("chunk", [1, 97, None])
def test_npy_stream_matches_whole_array(tmp_path, dtype, shape, axis, k, mode, chunk):
    rng = np.random.default_rng(len(shape))
    x = draw_signal(rng, shape, np.dtype(dtype).newbyteorder("=")).astype(dtype)
    if len(shape) == 2:
        x = np.asfortranarray(x)
    src, dst = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(src, x)
    options = {"chunk": chunk} if chunk else {}
    done = streamed(src, dst, k, axis=axis, mode=mode, **options)
    assert done.plan is None and done.how.startswith("streamed")
    a = -1 if axis is None else axis % x.ndim
    check_stream(np.load(dst), x.astype(np.dtype(dtype).newbyteorder("=")), k, a, mode)
    np.testing.assert_array_equal(np.load(src), x)  # the input is untouched


@pytest.mark.parametrize("op", ["correlate", "convolve"])
@pytest.mark.parametrize("mode", ["same", "valid"])
@pytest.mark.parametrize("taps", [1, 4, 5])
def test_npy_stream_same_and_valid_match_scipy(tmp_path, op, mode, taps):
    rng = np.random.default_rng(taps)
    x = rng.integers(-50, 50, (3, 301))
    k = rng.integers(-5, 5, taps)
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, x)
    done = filter_file(src, dst, k, op=op, mode=mode, chunk=64)
    assert done.how == "streamed in chunks of 64 samples"
    expected = getattr(signal, op)(x, k[None, :], mode)  # SciPy's shapes and centring
    np.testing.assert_array_equal(np.load(dst), expected)


def test_npy_valid_with_a_kernel_longer_than_the_signal_swaps_like_scipy(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.array([1, 2]))
    filter_file(src, dst, [1, 2, 3, 4], mode="valid")
    np.testing.assert_array_equal(np.load(dst), signal.correlate([1, 2], [1, 2, 3, 4], "valid"))


@pytest.mark.parametrize("boundary", ["reflect", "symmetric", "wrap", "edge", "constant"])
def test_npy_nd_kernel_in_memory_matches_ndimage(tmp_path, boundary):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 41))
    k = rng.standard_normal((5, 3))
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, x)
    done = filter_file(src, dst, k, boundary=boundary)
    assert done.plan is not None and done.plan.spec.boundary == boundary
    ndimage_mode = {"reflect": "mirror", "symmetric": "reflect", "edge": "nearest"}
    expected = ndimage.correlate(x, k, mode=ndimage_mode.get(boundary, boundary))
    np.testing.assert_allclose(np.load(dst), expected, rtol=1e-12, atol=1e-12)


def test_npy_causal_with_reflect_boundary_looks_only_back(tmp_path):
    x = np.arange(1.0, 9.0)
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, x)
    filter_file(src, dst, [1.0, 10.0, 100.0], op="convolve", mode="causal", boundary="reflect")
    # y[t] = x[t] + 10 x[t-1] + 100 x[t-2], with x[-1] = x[1] and x[-2] = x[2] (reflect)
    padded = np.concatenate(([3.0, 2.0], x))
    expected = [padded[t + 2] + 10 * padded[t + 1] + 100 * padded[t] for t in range(8)]
    np.testing.assert_array_equal(np.load(dst), expected)


def test_npy_memory_stays_far_below_the_file_size(tmp_path):
    n = 2**21
    src, dst = tmp_path / "big.npy", tmp_path / "out.npy"
    out = np.lib.format.open_memmap(src, mode="w+", dtype=np.float64, shape=(n,))
    out[:] = np.sin(np.arange(n) * 0.01)
    del out
    size = os.path.getsize(src)
    k = np.hanning(33)
    streamed(src, dst, k, chunk=4096)  # warm-up: compile, plan caches
    peak = traced_peak(lambda: streamed(src, dst, k, chunk=4096, overwrite=True))
    assert peak < size / 16, f"peak {peak} bytes for a {size}-byte file"
    y = np.load(dst, mmap_mode="r")
    x = np.load(src, mmap_mode="r")
    np.testing.assert_allclose(y[1000:1100], np.convolve(x[950:1100], k, "valid")[18:], rtol=1e-12)


def test_progress_reports_output_samples(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.arange(10))
    calls = []
    streamed(src, dst, [1, 1, 1], chunk=4, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 12), (8, 12), (10, 12), (12, 12)]
    calls.clear()
    streamed(src, dst, [1, 1, 1], chunk=4, mode="causal", overwrite=True,
             progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    assert calls == [(4, 10), (8, 10), (10, 10)]
    with pytest.raises(convolib.ArgumentTypeError, match=r"progress='yes': must be a callable"):
        streamed(src, dst, [1, 1, 1], overwrite=True, progress="yes")


def test_memory_budget_refuses_before_writing(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.zeros((200, 200)))
    msg = message_of(filter_file, src, dst, np.ones((3, 3)), max_memory="100K",
                     cls=convolib.MemoryBudgetError)  # fmt: skip
    assert "100 KiB" not in msg and "over the memory budget" in msg and "--max-memory" in msg
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]
    filter_file(src, dst, np.ones((3, 3)), max_memory="1G")
    assert np.load(dst).shape == (200, 200)


# ---------------------------------------------------------------------------- the rules


def test_failure_leaves_no_output_and_no_temporary_file(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.arange(100))

    def stop(done, total):
        if done > 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        streamed(src, dst, [1, 2], chunk=10, progress=stop)
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]


def test_overwrite_rules(tmp_path):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.arange(5))
    np.save(dst, np.zeros(3))
    msg = message_of(filter_file, src, dst, [1])
    assert "already exists" in msg and "overwrite=True" in msg
    np.testing.assert_array_equal(np.load(dst), np.zeros(3))
    streamed(src, dst, [2], overwrite=True)
    np.testing.assert_array_equal(np.load(dst), [0, 2, 4, 6, 8])
    os.symlink(src, tmp_path / "link.npy")
    for same in (src, tmp_path / "." / "x.npy", tmp_path / "link.npy"):
        msg = message_of(filter_file, src, same, [1], overwrite=True)
        assert "never overwritten" in msg
    np.testing.assert_array_equal(np.load(src), np.arange(5))


def test_bad_file_arguments(tmp_path):
    good = tmp_path / "x.npy"
    np.save(good, np.arange(5))
    text = tmp_path / "notes.npy"
    text.write_text("hello, not an array")
    truncated = tmp_path / "cut.npy"
    truncated.write_bytes(good.read_bytes()[:-8])
    objects = tmp_path / "obj.npy"
    np.save(objects, np.array([1, "a"], dtype=object), allow_pickle=True)
    scalar = tmp_path / "scalar.npy"
    np.save(scalar, np.float64(3))
    out = tmp_path / "out.npy"
    cases = [
        ((tmp_path / "missing.npy", out, [1]), {}, "does not exist"),
        ((tmp_path, out, [1]), {}, "is not a regular file"),
        ((text, out, [1]), {}, "is not a file convolib filters"),
        ((truncated, out, [1]), {}, "could not be read as a NPY file"),
        ((objects, out, [1]), {}, "never pickled objects"),
        ((scalar, out, [1]), {}, "holds a scalar"),
        ((good, tmp_path / "out.wav", [1]), {}, "must end in .npy or .csv"),
        ((good, tmp_path / "no" / "out.npy", [1]), {}, "does not exist"),
        ((good, out, [1]), {"axis": 3}, "axis=3"),
        ((good, out, []), {}, "non-empty"),
        ((good, out, np.ones((2, 2))), {}, "kernel.shape=(2, 2)"),
        ((good, out, [1]), {"chunk": 0}, "chunk=0"),
        ((good, out, [1]), {"mode": "sme"}, "Did you mean 'same'?"),
        ((good, out, [1]), {"op": "conv"}, "op='conv'"),
        ((good, out, [1]), {"boundary": "mirror"}, "boundary='mirror'"),
        ((good, out, [1]), {"max_memory": "lots"}, "max_memory='lots'"),
    ]
    for args, kwargs, fragment in cases:
        msg = message_of(filter_file, *args, **kwargs)
        assert fragment in msg, (fragment, msg)
    for args, kwargs in [
        ((good, out, [1]), {"progress": 3}),
        ((good, out, [1]), {"overwrite": "yes"}),
        ((3, out, [1]), {}),
        ((good, out, ["a"]), {}),
    ]:
        message_of(filter_file, *args, cls=convolib.ArgumentTypeError, **kwargs)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["x.npy", "notes.npy", "cut.npy", "obj.npy", "scalar.npy"]
    )


def test_parse_size():
    assert _safety.parse_size("m", "2G") == 2 * 10**9
    assert _safety.parse_size("m", "512MiB") == 512 * 2**20
    assert _safety.parse_size("m", "1.5k") == 1500
    assert _safety.parse_size("m", "100") == 100
    assert _safety.parse_size("m", "64 kib") == 65536
    for bad in ("", "-1G", "0", "G", "2X", "1e3"):
        assert "must be a positive size" in message_of(_safety.parse_size, "m", bad)


def test_disk_space_is_checked_before_streaming(tmp_path, monkeypatch):
    src, dst = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(src, np.zeros(1000))
    usage = os.statvfs(tmp_path)
    del usage
    monkeypatch.setattr(
        "convolib.files.shutil.disk_usage", lambda _: type("U", (), {"free": 100})()
    )
    msg = message_of(streamed, src, dst, [1, 2])
    assert "free" in msg and "disk" in msg
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]


# ---------------------------------------------------------------------------- CSV


def test_csv_reads_like_loadtxt_and_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5)) * 10.0 ** rng.integers(-300, 300, (4, 5))
    path = tmp_path / "x.csv"
    write_array(path, x)
    np.testing.assert_array_equal(np.loadtxt(path, delimiter=","), x)  # independent reader
    np.testing.assert_array_equal(read_array("a", str(path)), x)  # exact round trip
    ints = tmp_path / "i.csv"
    ints.write_text("# a comment\n1, 2 ,3\n\n-4,5,6\n")
    got = read_array("a", str(ints))
    assert got.dtype == np.int64 and got.tolist() == [[1, 2, 3], [-4, 5, 6]]
    one = tmp_path / "one.csv"
    one.write_text("\ufeff1.5,2,nan,1+2j\n")
    got = read_array("a", str(one))
    assert got.shape == (4,) and got.dtype == np.complex128 and got[3] == 1 + 2j


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1,2,3\n4,5\n", "line 2 has 2 cells and line 1 has 3"),
        ("1,2\n3,x\n", "line 2, column 2 holds 'x', which is not a number"),
        ("# only\n1,,3\n", "line 2, column 2 is empty"),
        ("\n# nothing\n", "holds no numbers"),
        ("99999999999999999999\n", "outside the int64 range"),
    ],
)
def test_bad_csv_reports_line_and_column(tmp_path, text, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert fragment in message_of(read_array, "A", str(path))


def test_csv_limits(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("1,2,3\n" * 10)
    monkeypatch.setattr(_arrays, "CSV_MAX_BYTES", 20)
    assert "over the CSV limit" in message_of(read_array, "A", str(path))
    monkeypatch.setattr(_arrays, "CSV_MAX_BYTES", 10**6)
    monkeypatch.setattr(_arrays, "CSV_MAX_CELLS", 20)
    assert "more than 20 cells" in message_of(read_array, "A", str(path))


def test_csv_filter_matches_scipy_and_refuses_3d_output(tmp_path):
    x = np.arange(30).reshape(5, 6) % 7
    src, dst = tmp_path / "x.csv", tmp_path / "y.csv"
    np.savetxt(src, x, delimiter=",", fmt="%d")
    filter_file(src, dst, SHARPEN)
    np.testing.assert_array_equal(read_array("y", str(dst)), signal.correlate(x, SHARPEN, "same"))
    cube = tmp_path / "cube.npy"
    np.save(cube, np.ones((2, 2, 2)))
    assert "1-D or 2-D" in message_of(filter_file, cube, tmp_path / "c.csv", np.ones((1, 1, 1)))
    assert not (tmp_path / "c.csv").exists()


def test_literals_and_kernels():
    np.testing.assert_array_equal(read_array("a", "[[1, 2], [3, 4]]"), [[1, 2], [3, 4]])
    assert read_array("a", "1, 2.5").tolist() == [1.0, 2.5]
    assert read_array("a", "7").tolist() == [7]
    np.testing.assert_array_equal(read_kernel("sobel:axis=0"), convolib.kernels.sobel(0))
    for bad, fragment in [
        ("[[1, 2], [3]]", "ragged"),
        ("[1, 'a']", "only numbers"),
        ("[1, 2", "not an array literal"),
        ("__import__('os')", "must be one of"),  # not a literal: a (bad) kernel name
    ]:
        assert fragment in message_of(read_kernel, bad)


# ---------------------------------------------------------------------------- WAV


def write_pcm(path, samples: np.ndarray, width: int, rate: int = 8000) -> None:
    """Signed integer ``samples`` (frames, channels) as a PCM WAV through the standard
    ``wave`` module (8-bit: unsigned, offset 128)."""
    frames = bytearray()
    for value in samples.reshape(-1).tolist():
        if width == 1:
            frames += (value + 128).to_bytes(1, "little")
        else:
            frames += value.to_bytes(width, "little", signed=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def read_pcm(path) -> tuple[int, np.ndarray]:
    """Samples as signed ints, shape (frames, channels), through scipy.io.wavfile."""
    rate, raw = scipy.io.wavfile.read(path)
    data = raw.reshape(len(raw), -1).astype(np.int64)
    if raw.dtype == np.uint8:
        data -= 128
    return rate, data


def saturate(y: np.ndarray, width: int) -> np.ndarray:
    high = 2 ** (8 * width - 1) - 1
    return np.clip(np.rint(y), -high - 1, high).astype(np.int64)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("mode", ["full", "causal"])
def test_pcm_wav_matches_whole_array(tmp_path, width, channels, mode):
    rng = np.random.default_rng(width * 10 + channels)
    high = 2 ** (8 * width - 1) - 1
    x = rng.integers(-high - 1, high, (1234, channels), endpoint=True)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_pcm(src, x, width, rate=22050)
    rate, back = read_pcm(src)
    if width == 3:
        back >>= 8  # scipy returns 24-bit samples in the top bits of int32
    np.testing.assert_array_equal(back, x)  # the test's own writer is right
    k = np.array([1, -2, 3, 1]) if channels == 1 else np.array([[1, 1, 0, 0], [0, 1, -1, 2]])
    streamed(src, dst, k, chunk=100, mode=mode)
    rate, got = read_pcm(dst)
    if width == 3:
        got >>= 8
    assert rate == 22050
    exact = convolve_channels(x, k, 0, np.int64)
    expected = saturate(exact[: len(got)], width)
    assert len(got) == (len(x) + 3 if mode == "full" else len(x))
    np.testing.assert_array_equal(got, expected)
    assert (np.abs(exact) > high).any()  # saturation was exercised


def test_wav_memory_stays_far_below_the_file_size(tmp_path):
    frames = 2**22  # 16 MiB of stereo 16-bit samples
    src, dst = tmp_path / "long.wav", tmp_path / "out.wav"
    x = (np.sin(np.arange(2 * frames) * 0.001) * 20000).astype(np.int16).reshape(frames, 2)
    scipy.io.wavfile.write(src, 44100, x)
    size = os.path.getsize(src)
    k = np.hanning(65) / np.hanning(65).sum()
    filter_file(src, dst, k, chunk=8192)  # warm-up: compile, plan caches
    peak = traced_peak(lambda: filter_file(src, dst, k, chunk=8192, overwrite=True))
    assert peak < size / 8, f"peak {peak} bytes for a {size}-byte file"
    got = scipy.io.wavfile.read(dst)[1]
    expected = signal.correlate(x[5000:6000].astype(float), k[:, None], "valid")
    assert np.abs(got[5032 : 6000 - 32] - expected).max() <= 0.5 + 1e-9


def test_wav_hand_derived_values(tmp_path):
    # 16-bit, k = [2]: 30000 -> 60000 saturates to 32767; -30000 -> -32768; 100 -> 200.
    src, dst = tmp_path / "a.wav", tmp_path / "b.wav"
    write_pcm(src, np.array([[30000], [-30000], [100]]), 2)
    filter_file(src, dst, [2])
    assert read_pcm(dst)[1].ravel().tolist() == [32767, -32768, 200]
    # 8-bit bytes 128, 200, 0 are the samples 0, 72, -128; k = [1, 1] gives
    # 0, 72, -56, -128, stored as bytes 128, 200, 72, 0 (an odd data chunk, padded).
    src8, dst8 = tmp_path / "c.wav", tmp_path / "d.wav"
    with wave.open(str(src8), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes([128, 200, 0]))
    streamed(src8, dst8, [1, 1])
    with wave.open(str(dst8), "rb") as r:
        assert list(r.readframes(10)) == [128, 200, 72, 0]
    # a float kernel rounds to nearest, ties to even: 3 * 0.5 = 1.5 -> 2, 5 * 0.5 -> 2
    src2, dst2 = tmp_path / "e.wav", tmp_path / "f.wav"
    write_pcm(src2, np.array([[3], [5], [-3]]), 2)
    filter_file(src2, dst2, [0.5])
    assert read_pcm(dst2)[1].ravel().tolist() == [2, 2, -2]


def test_wav_float_kernel_within_one_step(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.integers(-3000, 3000, (5000, 2))
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_pcm(src, x, 2)
    k = np.hanning(101)
    k /= k.sum()
    streamed(src, dst, k, chunk=333)
    got = read_pcm(dst)[1]
    exact = convolve_channels(x, k, 0, np.longdouble)
    assert np.max(np.abs(got - exact)) <= 0.5 + 1e-6  # rounded once, to the nearest


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["same", "full", "valid"])
def test_float_wav_keeps_its_format(tmp_path, dtype, mode):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3000, 3)) * 0.3).astype(dtype)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    scipy.io.wavfile.write(src, 44100, x)
    k = np.array([0.1, -0.5, 2.0, 0.25])
    done = filter_file(src, dst, k, mode=mode, chunk=500)
    assert done.source == f"{np.dtype(dtype).itemsize * 8}-bit float, 3 channel(s), 44100 Hz"
    rate, got = scipy.io.wavfile.read(dst)
    assert rate == 44100 and got.dtype == np.dtype(dtype)
    expected = signal.correlate(x.astype(np.float64), k[:, None], mode)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 if dtype == "float32" else 1e-12)


def test_wav_boundary_other_than_zero_runs_in_memory(tmp_path):
    x = np.array([[10], [20], [30], [40]])
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_pcm(src, x, 2)
    done = filter_file(src, dst, [1, 1, 1], boundary="edge")
    assert done.plan is not None
    # edge padding: 10 | 10 20 30 40 | 40 -> windows of three summed
    assert read_pcm(dst)[1].ravel().tolist() == [40, 60, 90, 110]


def extensible_wav(samples: np.ndarray, bits: int, rate: int = 48000) -> bytes:
    """24- or 32-bit PCM in a WAVE_FORMAT_EXTENSIBLE file, packed by hand (per the
    Microsoft WAVEFORMATEXTENSIBLE layout: 40-byte fmt chunk, subformat GUID)."""
    channels = samples.shape[1]
    width = bits // 8
    data = b"".join(int(v).to_bytes(width, "little", signed=True) for v in samples.ravel())
    guid = struct.pack("<H", 1) + bytes.fromhex("000000001000800000aa00389b71")
    fmt = struct.pack(
        "<HHIIHHHHI", 0xFFFE, channels, rate, rate * channels * width, channels * width,
        bits, 22, bits, 0,
    ) + guid  # fmt: skip
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_extensible_wav(tmp_path):
    x = np.array([[1000, -7], [2000, 8], [-3000, 9]])
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    src.write_bytes(extensible_wav(x, 24))
    streamed(src, dst, [1, 1])
    rate, got = scipy.io.wavfile.read(dst)
    assert rate == 48000
    assert (got >> 8).tolist() == [[1000, -7], [3000, 1], [-1000, 17], [-3000, 9]]


def test_truncated_wav_refused_unless_lenient(tmp_path):
    src = tmp_path / "in.wav"
    write_pcm(src, np.arange(40).reshape(20, 2), 2)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(src.read_bytes()[:-6])  # 1.5 frames short
    dst = tmp_path / "out.wav"
    msg = message_of(filter_file, cut, dst, [1])
    assert "truncated" in msg and "--lenient" in msg
    assert not dst.exists()
    done = filter_file(cut, dst, [1], lenient=True)
    assert done.shape == (18, 2)
    np.testing.assert_array_equal(read_pcm(dst)[1], np.arange(36).reshape(18, 2))


def test_bad_wav_files(tmp_path):
    src = tmp_path / "in.wav"
    write_pcm(src, np.arange(40).reshape(20, 2), 2)
    adpcm = tmp_path / "adpcm.wav"
    raw = bytearray(src.read_bytes())
    raw[20:22] = struct.pack("<H", 2)  # format code 2 (MS ADPCM)
    adpcm.write_bytes(bytes(raw))
    no_data = tmp_path / "nodata.wav"
    head = src.read_bytes()[:36]
    no_data.write_bytes(head[:4] + struct.pack("<I", 28) + head[8:])  # RIFF, fmt, nothing else
    fmt = src.read_bytes()[:36]
    odd = tmp_path / "odd.wav"
    odd.write_bytes(fmt[:4] + struct.pack("<I", 36 + 8 + 3 - 8) + fmt[8:] + b"data" +
                    struct.pack("<I", 3) + b"\x01\x02\x03")  # fmt: skip
    out = tmp_path / "out.wav"
    cases = [
        ((adpcm, out, [1]), {}, "sample format 0x0002"),
        ((no_data, out, [1]), {}, "no data chunk"),
        ((odd, out, [1]), {}, "not a whole number of 4-byte frames"),
        ((src, out, [1]), {"axis": 0}, "axis=0"),
        ((src, out, [1j]), {}, "complex"),
        ((src, out, np.ones((2, 1, 3))), {}, "(2, taps)"),
        ((src, out, np.ones((3, 3))), {}, "kernel.shape=(3, 3)"),
        ((src, out, [np.nan]), {}, "NaN"),
        ((src, out, [1]), {"out_dtype": "int64"}, "out_dtype='int64'"),
        ((src, tmp_path / "out.npy", [1]), {}, "must end in .wav"),
    ]
    for args, kwargs, fragment in cases:
        assert fragment in message_of(filter_file, *args, **kwargs), fragment
    assert sorted(os.listdir(tmp_path)) == ["adpcm.wav", "in.wav", "nodata.wav", "odd.wav"]


def test_wav_out_dtype_writes_float(tmp_path):
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    write_pcm(src, np.array([[30000], [30000]]), 2)
    filter_file(src, dst, [1, 1], mode="full", op="convolve", out_dtype="float32")
    got = scipy.io.wavfile.read(dst)[1]
    assert got.dtype == np.float32 and got.tolist() == [30000.0, 60000.0, 30000.0]


def test_wav_header_matches_the_standard_module(tmp_path):
    info = _wav.WavInfo(False, 16, 2, 11025, 7, 0)
    path = tmp_path / "h.wav"
    path.write_bytes(_wav.header(info) + bytes(7 * 4))
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            2, 2, 11025, 7,
        )  # fmt: skip


# ---------------------------------------------------------------------------- images


def image_oracle(pixels: np.ndarray, k: np.ndarray, dtype) -> np.ndarray:
    """scipy.ndimage.correlate per channel in float64 (mode 'mirror' is convolib's
    'reflect'), rounded and saturated to ``dtype``."""
    x = pixels.astype(np.float64)
    kk = k if x.ndim == 2 else k[:, :, None]
    y = ndimage.correlate(x, kk, mode="mirror")
    info = np.iinfo(dtype)
    return np.clip(np.rint(y), info.min, info.max).astype(dtype)


@pytest.mark.parametrize(
    ("mode", "dtype", "suffix"),
    [
        ("L", np.uint8, ".png"),
        ("RGB", np.uint8, ".png"),
        ("L", np.uint8, ".bmp"),
        ("RGB", np.uint8, ".tif"),
        ("I;16", np.uint16, ".png"),
        ("I;16", np.uint16, ".tif"),
    ],
)
def test_images_match_ndimage(tmp_path, mode, dtype, suffix):
    rng = np.random.default_rng(5)
    high = np.iinfo(dtype).max
    shape = (37, 53, 3) if mode == "RGB" else (37, 53)
    pixels = rng.integers(0, high, shape, endpoint=True).astype(dtype)
    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    Image.fromarray(pixels).save(src)
    np.testing.assert_array_equal(np.asarray(Image.open(src)), pixels)
    done = filter_file(src, dst, SHARPEN)
    assert done.dtype == dtype and done.shape == shape
    got = cv2.imread(str(dst), cv2.IMREAD_UNCHANGED)  # an independent decoder
    if got.ndim == 3:
        got = got[:, :, ::-1]  # OpenCV stores BGR
    np.testing.assert_array_equal(got, image_oracle(pixels, SHARPEN, dtype))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_images(tmp_path, suffix, channels):
    rng = np.random.default_rng(channels)
    bgr = rng.integers(0, 65535, (21, 30, channels), endpoint=True).astype(np.uint16)
    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    assert cv2.imwrite(str(src), bgr)  # OpenCV writes 16-bit colour, which Pillow cannot
    rgb = bgr[:, :, [2, 1, 0, 3][:channels]]
    done = filter_file(src, dst, SHARPEN)
    assert done.dtype == np.uint16
    got = cv2.imread(str(dst), cv2.IMREAD_UNCHANGED)[:, :, [2, 1, 0, 3][:channels]]
    np.testing.assert_array_equal(got[:, :, :3], image_oracle(rgb[:, :, :3], SHARPEN, np.uint16))
    if channels == 4:
        np.testing.assert_array_equal(got[:, :, 3], rgb[:, :, 3])  # alpha kept


def test_alpha_is_kept_and_jpeg_decodes_then_filters(tmp_path):
    rng = np.random.default_rng(8)
    rgba = rng.integers(0, 255, (16, 20, 4), endpoint=True).astype(np.uint8)
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(rgba).save(src)
    filter_file(src, dst, SHARPEN)
    got = np.asarray(Image.open(dst))
    np.testing.assert_array_equal(got[:, :, 3], rgba[:, :, 3])
    np.testing.assert_array_equal(got[:, :, :3], image_oracle(rgba[:, :, :3], SHARPEN, np.uint8))
    assert "alpha channel" in message_of(filter_file, src, tmp_path / "o.jpg", SHARPEN)
    assert "alpha channel is kept" in message_of(filter_file, src, tmp_path / "f.png", SHARPEN,
                                                 mode="full")  # fmt: skip
    jpeg, out = tmp_path / "in.jpg", tmp_path / "from_jpeg.png"
    Image.fromarray(rgba[:, :, :3]).save(jpeg, quality=90)
    decoded = np.asarray(Image.open(jpeg))
    filter_file(jpeg, out, SHARPEN)
    np.testing.assert_array_equal(
        np.asarray(Image.open(out)), image_oracle(decoded, SHARPEN, np.uint8)
    )


def test_image_options(tmp_path):
    pixels = np.arange(5 * 7, dtype=np.uint8).reshape(5, 7) * 7
    src = tmp_path / "in.png"
    Image.fromarray(pixels).save(src)
    full = tmp_path / "full.png"
    filter_file(src, full, np.ones((3, 3), np.int64), mode="full", out_dtype="uint16")
    got = np.asarray(Image.open(full))
    padded = np.pad(pixels.astype(int), 2, mode="reflect")  # the default boundary for images
    np.testing.assert_array_equal(got, signal.correlate(padded, np.ones((3, 3), int), "valid"))
    palette = tmp_path / "p.png"
    Image.fromarray(pixels).convert("P").save(palette)
    assert filter_file(palette, tmp_path / "p2.png", SHARPEN).shape == (5, 7, 3)
    msg = message_of(filter_file, src, tmp_path / "x.png", [1, 2, 1])
    assert "must be 2-D" in msg and "[[1, 2, 1]]" in msg
    assert "JPEG" in message_of(filter_file, src, tmp_path / "x.jpg", SHARPEN, out_dtype="uint16")
    assert "must end in one of" in message_of(filter_file, src, tmp_path / "x.gif", SHARPEN)
    assert "does not apply" in message_of(filter_file, src, tmp_path / "x.png", SHARPEN, axis=0)
    for bad in ("uint9", 3.5):
        message_of(filter_file, src, tmp_path / "x.png", SHARPEN, out_dtype=bad,
                   cls=convolib.ArgumentTypeError)  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("shape", [(9, 11), (9, 11, 3)])
def test_tiff_keeps_wide_samples(tmp_path, dtype, shape):
    tifffile = pytest.importorskip("tifffile")
    rng = np.random.default_rng(6)
    pixels = rng.integers(-1000, 1000, shape).astype(dtype)
    src, dst = tmp_path / "in.tif", tmp_path / "out.tif"
    tifffile.imwrite(src, pixels, photometric="rgb" if len(shape) == 3 else "minisblack")
    if len(shape) == 3 or dtype == "int32":
        done = filter_file(src, dst, SHARPEN, out_dtype=dtype)
    else:
        done = filter_file(src, dst, SHARPEN)
    got = tifffile.imread(dst)
    assert got.dtype == np.dtype(dtype) and done.shape == shape
    kk = SHARPEN if len(shape) == 2 else SHARPEN[:, :, None]
    expected = ndimage.correlate(pixels.astype(np.float64), kk, mode="mirror")
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-3)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_pixel_limit_refuses_a_bomb_before_decoding(tmp_path):
    # A valid PNG header announcing 100000 x 100000 pixels (10^10) and almost no data:
    # refused from the header alone.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b"")
    )  # fmt: skip
    messages: list[str] = []
    peak = traced_peak(
        lambda: messages.append(message_of(filter_file, bomb, tmp_path / "out.png", SHARPEN))
    )
    msg = messages[0]
    assert "100000×100000 = 10,000,000,000 pixels" in msg and "--max-pixels" in msg
    assert peak < 2**22
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(small)
    assert "over the limit of 99" in message_of(filter_file, small, tmp_path / "o.png", SHARPEN,
                                                max_pixels=99)  # fmt: skip
    filter_file(small, tmp_path / "o.png", SHARPEN, max_pixels=100)


def test_truncated_and_corrupt_images_are_refused(tmp_path):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 255, (64, 64, 3), endpoint=True).astype(np.uint8)
    good = tmp_path / "good.png"
    Image.fromarray(pixels).save(good)
    data = good.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(data[:100] + bytes(rng.integers(0, 255, len(data) - 100, dtype=np.uint8)))
    header_only = tmp_path / "head.jpg"
    header_only.write_bytes(b"\xff\xd8\xff\xe0garbage")
    gif = tmp_path / "a.gif"
    Image.fromarray(pixels).save(gif)
    for bad in (cut, corrupt, header_only):
        msg = message_of(filter_file, bad, tmp_path / "out.png", SHARPEN)
        assert "could not be decoded as an image" in msg, msg
    assert "is not a file convolib filters" in message_of(
        filter_file, gif, tmp_path / "out.png", SHARPEN
    )
    assert not (tmp_path / "out.png").exists()


def _srgb_profile() -> bytes:
    ImageCms = pytest.importorskip("PIL.ImageCms")
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _tiff_dpi_and_icc(path) -> tuple[tuple[float, float], bytes]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        (xn, xd), (yn, yd) = tags["XResolution"].value, tags["YResolution"].value
        per_inch = {2: 1.0, 3: 2.54}[int(tags["ResolutionUnit"].value)]
        return (xn / xd * per_inch, yn / yd * per_inch), bytes(tags["InterColorProfile"].value)


@pytest.mark.parametrize(
    "name, dtype, channels",
    [("png", "uint8", 3), ("png", "uint16", 3), ("png", "uint16", 1), ("jpg", "uint8", 3),
     ("tif", "uint8", 3), ("tif", "uint16", 3), ("tif", "float32", 1)],
)  # fmt: skip
def test_images_keep_their_colour_profile_and_resolution(tmp_path, name, dtype, channels):
    # Written by Pillow, pypng (with a hand-made iCCP chunk) or tifffile; read back by
    # Pillow (PNG, JPEG) or from the TIFF tags by tifffile.
    tifffile = pytest.importorskip("tifffile")
    png = pytest.importorskip("png")
    icc, dpi = _srgb_profile(), (300.0, 150.0)
    rng = np.random.default_rng(7)
    shape = (6, 8, channels) if channels > 1 else (6, 8)
    pixels = rng.integers(0, 200, shape).astype(dtype)
    src, dst = tmp_path / f"in.{name}", tmp_path / f"out.{name}"
    if name == "tif":
        per_cm = (dpi[0] / 2.54, dpi[1] / 2.54)
        photometric = "rgb" if channels == 3 else "minisblack"
        tifffile.imwrite(src, pixels, photometric=photometric, iccprofile=icc,
                         resolution=per_cm, resolutionunit="CENTIMETER")  # fmt: skip
    elif dtype == "uint16" and channels == 3:
        writer = png.Writer(8, 6, greyscale=False, bitdepth=16, x_pixels_per_unit=11811,
                            y_pixels_per_unit=5906, unit_is_meter=True)  # fmt: skip
        with open(src, "wb") as f:
            writer.write_array(f, pixels.reshape(-1))
        data = src.read_bytes()
        iccp = png_chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(icc))
        src.write_bytes(data[:33] + iccp + data[33:])  # after the signature and IHDR
    else:
        im = Image.frombytes("I;16", (8, 6), pixels.astype("<u2").tobytes()) if dtype == "uint16" \
            else Image.fromarray(pixels)  # fmt: skip
        im.save(src, icc_profile=icc, dpi=dpi)
    filter_file(src, dst, np.full((3, 3), 1 / 9))
    if name == "tif":
        got_dpi, got_icc = _tiff_dpi_and_icc(dst)
    else:
        with Image.open(dst) as out:
            got_dpi, got_icc = out.info.get("dpi"), out.info.get("icc_profile")
    assert got_icc == icc
    np.testing.assert_allclose(got_dpi, dpi, rtol=1e-3)


def test_multi_page_tiff_is_refused_and_a_thumbnail_page_is_not_counted(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    pixels = np.arange(48, dtype=np.uint16).reshape(6, 8)
    stack, with_thumb = tmp_path / "stack.tif", tmp_path / "thumb.tif"
    with tifffile.TiffWriter(stack) as tif:
        tif.write(pixels)
        tif.write(pixels + 1)
    with tifffile.TiffWriter(with_thumb) as tif:
        tif.write(pixels)
        tif.write(pixels[::2, ::2], subfiletype=1)  # a reduced-resolution copy
    msg = message_of(filter_file, stack, tmp_path / "out.tif", SHARPEN)
    assert "holds 2 images (pages)" in msg and "NPY" in msg
    assert not (tmp_path / "out.tif").exists()
    filter_file(with_thumb, tmp_path / "out2.tif", SHARPEN)
    got = tifffile.imread(tmp_path / "out2.tif")
    expected = ndimage.correlate(pixels.astype(float), SHARPEN, mode="mirror")
    np.testing.assert_array_equal(got, np.clip(np.rint(expected), 0, 65535))
