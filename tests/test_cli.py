"""The ``convolib`` command, end to end: each subcommand in a real subprocess, on real files.

Expected values come from scipy, numpy, exact enumeration, or derivations written
here. `demo` and `bench` run through the command in test_demo.py and test_bench.py.
"""

from __future__ import annotations

import ast
import os
import pty
import re
import subprocess
import sys
from fractions import Fraction
from itertools import product
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
from scipy import signal

from convolib.cli import COMPILING_NOTE

Image = pytest.importorskip("PIL.Image")

COMMAND = [sys.executable, "-m", "convolib"]
X = "[[1,2,3],[4,5,6],[7,8,9]]"
K = "[[1,2],[3,4]]"


def run(*args: str, cwd: Path | None = None, code: int = 0, env: dict | None = None):
    """Run the command; check its exit status; its standard output and error (without
    the note that it is compiling, which depends on what numba has compiled before)."""
    proc = subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout, proc.stderr.replace(COMPILING_NOTE + "\n", "")


def one_line_error(stderr: str) -> str:
    """The error line: one line, no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convolib: error: "), stderr
    return lines[0]


def printed(stdout: str) -> np.ndarray:
    """An array as NumPy prints it (no commas), read back."""
    return np.array(ast.literal_eval(re.sub(r"(?<=[\d\]])\s+(?=[-\d\[])", ",", stdout.strip())))


# ---------------------------------------------------------------------------- help, usage


def test_help_shows_examples_and_every_command():
    out, _ = run("--help")
    for command in ("filter", "convolve", "correlate", "explain", "check", "dice", "shape",
                    "plan", "bench", "calibrate", "demo", "kernels"):  # fmt: skip
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), command
    assert "Examples:" in out and "Exit status: 0 ok, 1 failure, 2 usage error." in out
    out, _ = run("filter", "--help")
    assert "convolib filter photo.png blurred.png --kernel gaussian:sigma=2" in out
    out, _ = run("--version")
    assert re.fullmatch(r"convolib, version \S+\n", out)


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("convolib")
    if not script.exists():
        pytest.skip("not an installed environment")
    proc = subprocess.run([script, "dice", "d4"], capture_output=True, text=True, check=True)
    assert "4 values from 1 to 4" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("correlate", X),  # missing B
        ("correlate", X, K, "--mode", "sme"),
        ("correlate", X, K, "--frobnicate"),
        ("filter", "a.png", "b.png"),  # missing --kernel
        ("nosuchcommand",),
    ],
)
def test_usage_errors_exit_2(args):
    _, err = run(*args, code=2)
    assert "Usage:" in err and "Traceback" not in err


def test_shell_completion_script():
    out, _ = run(env={"_CONVOLIB_COMPLETE": "bash_source"})
    assert "_CONVOLIB_COMPLETE" in out and "complete " in out


# ---------------------------------------------------------------------------- convolve / correlate


def test_correlate_and_convolve_print_the_true_values():
    out, _ = run("correlate", X, K, "--mode", "valid")
    x, k = np.arange(1, 10).reshape(3, 3), np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(printed(out), signal.correlate(x, k, "valid"))
    out, _ = run("convolve", X, K)
    np.testing.assert_array_equal(printed(out), signal.convolve(x, k, "full"))
    out, _ = run("correlate", "[1,2,3,4]", "[1,0,0]", "--mode", "same", "--boundary", "reflect")
    assert printed(out).tolist() == [2, 1, 2, 3]  # d c b | a b c d: the left neighbour of 1 is 2


def test_files_in_and_out(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20, 30))
    b = rng.standard_normal((4, 3))
    np.save(tmp_path / "a.npy", a)
    np.savetxt(tmp_path / "b.csv", b, delimiter=",")
    _, err = run("convolve", "a.npy", "b.csv", "-o", "y.npy", "--mode", "same", cwd=tmp_path)
    assert err.startswith("wrote y.npy (20×30, float64")
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), signal.convolve(a, b, "same"))
    _, err = run("convolve", "a.npy", "b.csv", "-o", "y.npy", cwd=tmp_path, code=1)
    assert "already exists" in one_line_error(err) and "--force" in err
    run("convolve", "a.npy", "b.csv", "-o", "y.csv", "--force", cwd=tmp_path)
    np.testing.assert_allclose(
        np.loadtxt(tmp_path / "y.csv", delimiter=","), signal.convolve(a, b), rtol=1e-12
    )
    run("convolve", "a.npy", "b.csv", "-o", "a.npy", "--force", cwd=tmp_path, code=1)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), a)  # the input survives


def test_large_results_are_summarised(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(5000))
    out, err = run("convolve", "a.npy", "[1, 1]", cwd=tmp_path)
    assert "..." in out and "save all of it with -o" in err
    out, err = run("-q", "convolve", "a.npy", "[1, 1]", cwd=tmp_path)
    assert "..." in out and err == ""


def test_verbose_prints_the_plan_and_exact_integers_stay_exact():
    out, err = run("convolve", "[4611686018427387904, 4611686018427387904]", "[1, 0, -1]", "-v")
    assert "algorithm:" in err and "why:" in err
    assert printed(out).tolist() == [2**62, 2**62, -(2**62), -(2**62)]
    _, err = run("convolve", "[4611686018427387904, 4611686018427387904]", "[1, 1]", code=1)
    assert "outside the int64 range" in one_line_error(err)


# ---------------------------------------------------------------------------- filter


def test_filter_an_image(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (40, 60, 3), endpoint=True).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.png")
    sharpen = "[[0,-1,0],[-1,5,-1],[0,-1,0]]"
    out, err = run("filter", "in.png", "out.png", "--kernel", sharpen, cwd=tmp_path)
    assert out == "" and re.fullmatch(r"wrote out\.png \(40×60×3, uint8; \w+; .* s\)\n", err)
    padded = np.pad(pixels.astype(int), ((1, 1), (1, 1), (0, 0)), mode="reflect")
    k = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])[:, :, None]
    expected = np.clip(signal.correlate(padded, k, "valid"), 0, 255)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), expected)
    # a named kernel, another format, and --verbose
    _, err = run("filter", "in.png", "blur.tif", "-k", "gaussian:sigma=1.5", "-v", cwd=tmp_path)
    assert "input: PNG, colour, uint8" in err and "algorithm:" in err
    assert np.asarray(Image.open(tmp_path / "blur.tif")).shape == (40, 60, 3)


def test_filter_a_wav_file_streams(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.integers(-20000, 20000, (10000, 2)).astype(np.int16)
    scipy.io.wavfile.write(tmp_path / "in.wav", 16000, x)
    _, err = run("filter", "in.wav", "out.wav", "-k", "[1, 2, 1]", "--op", "convolve",
                 "--mode", "causal", cwd=tmp_path)  # fmt: skip
    assert "streamed in chunks" in err
    rate, got = scipy.io.wavfile.read(tmp_path / "out.wav")
    full = np.stack([np.convolve(x[:, c].astype(np.int64), [1, 2, 1]) for c in (0, 1)], axis=1)
    assert rate == 16000
    np.testing.assert_array_equal(got, np.clip(full[:10000], -32768, 32767))


def test_filter_npy_and_csv(tmp_path):
    x = np.arange(24).reshape(4, 6)
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", fmt="%d")
    np.save(tmp_path / "taps.npy", np.array([1, -1]))
    run("filter", "x.npy", "y.npy", "-k", "taps.npy", "--axis", "0", "--mode", "full",
        "--op", "convolve", cwd=tmp_path)  # fmt: skip
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.diff(x, axis=0, prepend=0,
                                                                       append=0))  # fmt: skip
    run("filter", "x.csv", "y.csv", "-k", "box:size=3,normalize=false", cwd=tmp_path)
    got = np.loadtxt(tmp_path / "y.csv", delimiter=",")
    np.testing.assert_array_equal(got, signal.correlate(x, np.ones((3, 3)), "same"))


def test_filter_refusals_are_one_line(tmp_path):
    noise = np.random.default_rng(3).integers(0, 255, (30, 30), endpoint=True).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "in.png")
    data = (tmp_path / "in.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    (tmp_path / "bad.csv").write_text("1,2\n3,oops\n")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    Image.fromarray(noise).save(tmp_path / "in.gif")
    scipy.io.wavfile.write(tmp_path / "in.wav", 8000, np.arange(100, dtype=np.int16))
    (tmp_path / "cut.wav").write_bytes((tmp_path / "in.wav").read_bytes()[:-11])
    (tmp_path / "taken.png").write_bytes(b"keep me")
    cases = [
        (("cut.png", "o.png", "-k", "box"), "could not be decoded as an image"),
        (("in.png", "o.png", "-k", "box", "--max-pixels", "100"), "over the limit of 100"),
        (("in.png", "o.png", "-k", "box", "--max-memory", "1K"), "over the memory budget"),
        (("in.png", "in.png", "-k", "box", "--force"), "never overwritten"),
        (("in.png", "o.png", "-k", "gausian"), "Did you mean 'gaussian'?"),
        (("obj.npy", "o.npy", "-k", "[1]"), "never pickled"),
        (("bad.csv", "o.csv", "-k", "[1]"), "line 2, column 2 holds 'oops'"),
        (("missing.wav", "o.wav", "-k", "[1]"), "does not exist"),
        (("ragged.csv", "o.csv", "-k", "[1]"), "line 2 has 1 cells and line 1 has 2"),
        (("in.gif", "o.png", "-k", "box"), "PNG, JPEG, TIFF, BMP, WAV, NPY or .csv"),
        (("in.png", "o.gif", "-k", "box"), "must end in one of .png"),
        (("cut.wav", "o.wav", "-k", "[1]"), "is truncated"),
        (("in.png", "taken.png", "-k", "box"), "already exists"),
    ]
    for args, fragment in cases:
        _, err = run("filter", *args, cwd=tmp_path, code=1)
        assert fragment in one_line_error(err), (fragment, err)
    inputs = ["bad.csv", "cut.png", "cut.wav", "in.gif", "in.png", "in.wav", "obj.npy",
              "ragged.csv", "taken.png"]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == inputs  # no output, no temporary file
    assert (tmp_path / "taken.png").read_bytes() == b"keep me"
    _, err = run("filter", "cut.wav", "o.wav", "-k", "[2]", "--lenient", cwd=tmp_path)
    assert scipy.io.wavfile.read(tmp_path / "o.wav")[1].tolist() == list(range(0, 188, 2))
    _, err = run("--debug", "filter", "cut.png", "o.png", "-k", "box", cwd=tmp_path, code=1)
    assert "Traceback" in err


def test_progress_bar_only_on_a_terminal(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(2**20))
    args = ["filter", "x.npy", "y.npy", "-k", "[1, 1]", "--mode", "full"]
    _, err = run(*args, cwd=tmp_path)
    assert "%" not in err and err.startswith("wrote y.npy")
    _, err = run(*args, "--force", "-q", cwd=tmp_path)
    assert err == ""
    leader, follower = pty.openpty()  # standard error on a terminal
    proc = subprocess.run([*COMMAND, *args, "--force"], cwd=tmp_path, stdout=subprocess.PIPE,
                          stderr=follower, timeout=300, check=True)  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"filtering x.npy" in shown and b"100%" in shown


# ---------------------------------------------------------------------------- explain / check


def test_explain_text_html_gif_markdown(tmp_path):
    out, _ = run("explain", X, K, "--mode", "valid", "--no-color")
    assert "= 1·1 + 2·2 + 3·4 + 4·5" in out and "= 37" in out  # kernel · window
    out, _ = run("explain", X, K, "--op", "convolve", "--mode", "valid", "--no-color")
    assert "= 4·1 + 3·2 + 2·4 + 1·5" in out and "= 23" in out  # the kernel flipped
    _, err = run("explain", X, K, "--html", "e.html", "--gif", "e.gif", "--markdown", "e.md",
                 cwd=tmp_path)  # fmt: skip
    assert "wrote e.html" in err and "wrote e.gif" in err
    assert (tmp_path / "e.html").read_text().lower().startswith("<!doctype html>")
    assert Image.open(tmp_path / "e.gif").n_frames == 16  # one per output of the full 4×4
    assert "$$" in (tmp_path / "e.md").read_text()
    _, err = run("explain", X, K, "--html", "e.html", cwd=tmp_path, code=1)
    assert "already exists" in one_line_error(err)


def test_check_finds_the_mistake():
    out, _ = run("check", X, K, "[[23,33],[53,63]]", code=1)  # the convolution, not torch's
    assert "kernel" in out and "flip" in out
    assert re.search(r"\[0,0\]\s+23\s+37", out)
    out, _ = run("check", X, K, "[[37,47],[67,77]]")
    assert "OK: all 4 entries agree." in out


# ---------------------------------------------------------------- dice, shape, kernels, plan


def test_dice_exact(tmp_path):
    out, _ = run("dice", "2d6", "--at", "7")
    sums = [a + b for a, b in product(range(1, 7), repeat=2)]
    assert f"P(sum = 7) = {Fraction(sums.count(7), 36)}" in out
    assert f"P(sum <= 7) = {Fraction(sum(s <= 7 for s in sums), 36)}" in out
    run("dice", "3d6+2", "--plot", "d.png", cwd=tmp_path)
    assert Image.open(tmp_path / "d.png").size[0] > 100
    _, err = run("dice", "2d", code=1)
    assert "convolib: error: " in err


def test_shape_and_parameters():
    out, _ = run("shape", "--input", "1,3,224,224", "--weight", "64,3,7,7", "--stride", "2",
                 "--padding", "3")  # fmt: skip
    # (224 + 2·3 - 7) // 2 + 1 = 112; 64·3·7·7 weights + 64 biases = 9472
    assert "output shape: (1, 64, 112, 112)" in out and "9,472" in out
    out, _ = run("shape", "--input", "1,16,16,16", "--weight", "16,8,4,4", "--stride", "2",
                 "--padding", "1", "--transposed", "--no-bias")  # fmt: skip
    # (16 - 1)·2 - 2·1 + (4 - 1) + 1 = 32 per axis; 8 output channels
    assert "output shape: (1, 8, 32, 32)" in out and "parameters: 2,048" in out
    _, err = run("shape", "--input", "1,3,4,4", "--weight", "8,3,7,7", code=1)
    assert "convolib: error: " in one_line_error(err)


def test_kernels_and_plan():
    out, _ = run("kernels")
    assert re.search(r"^gaussian:sigma", out, re.MULTILINE)
    out, _ = run("plan", "2048x2048:float32", "gaussian:sigma=3", "--mode", "same")
    assert "x(2048, 2048) float32" in out and "algorithm: separable" in out
    out, _ = run("plan", "1000:int64", "[1, 2, 3]", "--method", "ntt")
    assert "forced by method='ntt'" in out
    _, err = run("plan", "100:float99", "[1]", code=2)
    assert "not a NumPy dtype" in err


def test_calibrate_writes_its_cache(tmp_path):
    out, _ = run("calibrate", env={"XDG_CACHE_HOME": str(tmp_path), "CONVOLIB_CALIBRATION": ""})
    assert "direct" in out and str(tmp_path) in out
    assert list(tmp_path.rglob("*.json"))


def test_broken_pipe_is_quiet():
    proc = subprocess.run(f"{sys.executable} -m convolib kernels | head -n 1", shell=True,
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert proc.stderr == ""
