"""The demo (``convolib demo``, run as a subprocess): its printed numbers and the PNG it writes.

Expected values come from scipy (``scipy.signal`` for the worked example,
``scipy.ndimage`` for the filtered panels), never from the demo's own text.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage, signal

from convolib import demo
from convolib.cli import COMPILING_NOTE
from helpers import chromium, needs_chromium

PIL_Image = pytest.importorskip("PIL.Image")

IMAGES = ["dice.png", "filters.png", "learned.png", "lti.png"]
X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K = [[1, 2], [3, 4]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """Run the demo once in a subprocess; its stdout and the folder it wrote to."""
    out = tmp_path_factory.mktemp("demo-output")
    proc = subprocess.run(
        [sys.executable, "-m", "convolib", "demo", "--out", str(out)],
        capture_output=True,
        encoding="utf-8",
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr in ("", COMPILING_NOTE + "\n")  # the note, where numba compiles
    return proc.stdout, out


def _printed(stdout: str, call: str) -> tuple[list[list[int]], str]:
    """The array printed after ``call = `` and the worked sum on the next line."""
    match = re.search(re.escape(call) + r"\s*=\s*(\[\[.*?\]\])\s.*\n\s*(y\[0,0\] = .*)", stdout)
    assert match, f"{call!r} not found in:\n{stdout}"
    return ast.literal_eval(match.group(1)), match.group(2)


def _check_sum(line: str, expected: int, weights: list[int]) -> None:
    """``y[0,0] = a·b + ... = total``: the products add up and equal ``expected``."""
    terms, total = line.removeprefix("y[0,0] = ").rsplit(" = ", 1)
    pairs = [tuple(map(int, t.split("·"))) for t in terms.split(" + ")]
    assert [a for a, _ in pairs] == [1, 2, 4, 5]  # the window x[0:2, 0:2]
    assert [b for _, b in pairs] == weights
    assert sum(a * b for a, b in pairs) == int(total) == expected


def test_prints_correlation_and_convolution(run: tuple[str, Path]) -> None:
    stdout, _ = run
    corr, corr_sum = _printed(stdout, 'correlate(x, k, "valid")')
    conv, conv_sum = _printed(stdout, 'convolve(x, k, "valid")')
    expected_corr = signal.correlate2d(X, K, "valid")
    expected_conv = signal.convolve2d(X, K, "valid")
    assert corr == expected_corr.tolist() == [[37, 47], [67, 77]]
    assert conv == expected_conv.tolist()
    _check_sum(corr_sum, int(expected_corr[0, 0]), [1, 2, 3, 4])
    _check_sum(conv_sum, int(expected_conv[0, 0]), [4, 3, 2, 1])
    assert "[[20, 26], [38, 44]]" in stdout and "wrong" in stdout


def test_prints_exact_box_sum_and_plan(run: tuple[str, Path]) -> None:
    stdout, _ = run
    img8 = np.round(np.clip(demo.synthetic_image(), 0, 1) * 255).astype(np.int64)
    box_max = ndimage.correlate(img8, np.ones((3, 3), np.int64), mode="constant").max()
    assert re.search(rf"-> int64, max {box_max}\b", stdout)
    assert "algorithm: separable" in stdout and "of rank 1" in stdout and "candidate" in stdout


def test_ends_with_absolute_report_path(run: tuple[str, Path]) -> None:
    stdout, out = run
    last = stdout.rstrip().splitlines()[-1]
    printed = Path(last.removeprefix("Wrote "))
    assert printed.is_absolute()
    assert printed == (out / "report.html").absolute()
    # the page and its images, no temporary file left behind
    assert sorted(p.name for p in out.iterdir()) == [*IMAGES, "report.html"]


def test_report_is_self_contained(run: tuple[str, Path]) -> None:
    _, out = run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    for name in IMAGES:
        assert f'data-name="{name}"' in page
    assert "[[37, 47], [67, 77]]" in page.replace("\n", " ") or "37" in page
    assert "kernel not flipped" in page or "y[0,0]" in page


def test_dice_numbers_are_exact(run: tuple[str, Path]) -> None:
    """P(2d6 = 7) = 6/36 and P(3d6 = 10) = 27/216, counted here by enumeration."""
    from fractions import Fraction
    from itertools import product

    stdout, _ = run
    seven = Fraction(sum(a + b == 7 for a, b in product(range(1, 7), repeat=2)), 36)
    ten = Fraction(sum(sum(t) == 10 for t in product(range(1, 7), repeat=3)), 216)
    assert f"P(2d6 = 7) = {seven}, P(3d6 = 10) = {ten}" in stdout


@needs_chromium
def test_report_in_headless_chromium(run: tuple[str, Path], tmp_path: Path) -> None:
    """Every image of the page loads (a script added to a copy of the page records each
    image's natural size into the DOM) and the rendered page is not blank."""
    _, out = run
    page = (out / "report.html").read_text(encoding="utf-8")
    probe = (
        "<script>window.addEventListener('load', () => { const d = document.createElement('pre');"
        " d.id = 'probe'; d.textContent = JSON.stringify([...document.images].map("
        "i => [i.dataset.name, i.complete, i.naturalWidth, i.naturalHeight]));"
        " document.body.appendChild(d); });</script>"
    )
    copy = tmp_path / "report.html"
    copy.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, copy.as_uri(), "--dump-dom", "--virtual-time-budget=5000")
    import html
    import json

    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the page's load handler did not run"
    images = json.loads(html.unescape(found.group(1)))
    assert sorted(name for name, *_ in images) == IMAGES
    for name, complete, width, height in images:
        assert complete and width > 100 and height > 100, name
    shot = tmp_path / "shot.png"
    chromium(
        tmp_path, (out / "report.html").as_uri(), f"--screenshot={shot}", "--window-size=1200,2400"
    )
    with PIL_Image.open(shot) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100, "the screenshot is blank"


def _panels(out: Path) -> list[np.ndarray]:
    with PIL_Image.open(out / "filters.png") as im:
        assert im.format == "PNG" and im.mode == "L"
        pixels = np.asarray(im, dtype=np.float64)
    n = demo.SIZE
    assert pixels.shape == (demo.LABEL_HEIGHT + n, 4 * n + 3 * demo.PANEL_GAP)
    body = pixels[demo.LABEL_HEIGHT :]
    gaps = [
        body[:, i * (n + demo.PANEL_GAP) - demo.PANEL_GAP : i * (n + demo.PANEL_GAP)]
        for i in (1, 2, 3)
    ]
    assert all((g == 255).all() for g in gaps)
    return [body[:, i * (n + demo.PANEL_GAP) : i * (n + demo.PANEL_GAP) + n] for i in range(4)]


def _mean_abs_laplacian(a: np.ndarray) -> float:
    lap = a[1:-1, :-2] + a[1:-1, 2:] + a[:-2, 1:-1] + a[2:, 1:-1] - 4 * a[1:-1, 1:-1]
    return float(np.abs(lap).mean())


def test_png_has_four_real_panels(run: tuple[str, Path]) -> None:
    _, out = run
    original, blurred, sharpened, edges = _panels(out)
    for panel in (original, blurred, sharpened, edges):
        assert panel.std() > 10  # not blank
    assert edges.max() == 255  # normalised by its max
    assert _mean_abs_laplacian(blurred) < 0.5 * _mean_abs_laplacian(original)
    assert _mean_abs_laplacian(sharpened) > _mean_abs_laplacian(original)


def test_png_panels_match_scipy(run: tuple[str, Path]) -> None:
    """Each panel is what scipy.ndimage computes (NumPy's 'reflect' is ndimage's 'mirror')."""
    _, out = run
    img = demo.synthetic_image()
    sobel = np.hypot(ndimage.sobel(img, 0, mode="mirror"), ndimage.sobel(img, 1, mode="mirror"))
    sharpen = ndimage.correlate(img, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], mode="mirror")
    expected = [
        img,
        ndimage.gaussian_filter(img, 2.0, mode="mirror", truncate=3.0),
        np.clip(sharpen, 0, 1),
        sobel / sobel.max(),
    ]
    for panel, want in zip(_panels(out), expected, strict=True):
        assert np.abs(panel - np.round(want * 255)).max() <= 1


def test_import_convolib_does_not_import_demo() -> None:
    probe = "import sys, convolib; print('convolib.demo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_main_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "folder"
    assert demo.main(["--out", str(out)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(str((out / "report.html").absolute()))
    assert (out / "filters.png").is_file() and (out / "report.html").is_file()
    with pytest.raises(SystemExit) as exc:
        demo.main(["--help"])
    assert exc.value.code == 0
    assert "--out" in capsys.readouterr().out


def test_without_pillow_skips_only_the_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import ...` fail
    assert demo.main(["--out", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    assert "pip install pillow" in stdout
    assert "[[37, 47], [67, 77]]" in stdout and "algorithm:" in stdout
    assert not (tmp_path / "filters.png").exists()


def test_unwritable_out_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert demo.main(["--out", str(blocker)]) == 1
    assert "could not write" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"
