"""Every script in examples/ runs, asserts what it shows, and writes nothing unasked.

Each runs in a subprocess with this interpreter (the project's venv under ``make
test``) from an empty working folder, which must still be empty afterwards. The
scripts are found by glob, so a new example is tested as soon as it lands.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def _run(args: list[str], cwd: Path, *, prelude: str = "") -> subprocess.CompletedProcess:
    """Run a script as ``python SCRIPT ARGS`` (after ``prelude`` when given)."""
    if prelude:
        script, rest = args[0], args[1:]
        code = (
            f"import runpy, sys; sys.argv = {[script, *rest]!r}; {prelude}; "
            f"runpy.run_path({script!r}, run_name='__main__')"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, *args]
    return subprocess.run(
        command, check=False, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_the_examples_are_there():
    names = {p.name for p in SCRIPTS}
    expected = {
        "conv_vs_corr.py",
        "identity_kernel.py",
        "symmetric_kernels.py",
        "dice.py",
        "smoothing_sharpening.py",
        "layer_shapes.py",
        "conv3d.py",
        "fft_large_kernel.py",
        "learned_kernel.py",
    }
    assert expected <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_runs_and_writes_nothing(script: Path, tmp_path: Path):
    done = _run([str(script)], tmp_path)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{script.name} printed nothing"
    assert list(tmp_path.iterdir()) == [], f"{script.name} wrote into the working folder"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_names_its_seed_scenario(script: Path):
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert doc, f"{script.name} has no module docstring"
    assert "seed" in doc.lower(), f"{script.name}'s docstring does not name its seed scenario"


def test_learned_kernel_writes_its_figure_only_into_out(tmp_path: Path):
    pil = pytest.importorskip("PIL.Image")
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    done = _run([str(EXAMPLES / "learned_kernel.py"), "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["learned_kernel.png"]
    with pil.open(out / "learned_kernel.png") as image:
        assert image.format == "PNG" and image.width > 1000


@pytest.mark.parametrize(
    ("script", "sabotage"),
    [
        # convolution computed as correlation: the seeds' most common mistake
        ("conv_vs_corr.py", "import convolib; convolib.convolve = convolib.correlate"),
        # a uniform die is symmetric, so there the flip cannot show; an off-by-one can
        (
            "dice.py",
            "import convolib, numpy; f = convolib.convolve; "
            "convolib.convolve = lambda *a, **o: numpy.roll(f(*a, **o), 1)",
        ),
        (
            "symmetric_kernels.py",
            "import convolib; convolib.convolve = lambda x, k, *a, **o: "
            "convolib.correlate(x, k[::-1], *a, **o)",
        ),
        # stopped long before the kernels become flips of each other
        (
            "learned_kernel.py",
            "import convolib.learned as m; f = m.fit; m.fit = lambda **o: f(**o, steps=5)",
        ),
    ],
)
def test_an_example_whose_claim_breaks_exits_non_zero(script: str, sabotage: str, tmp_path):
    """The assertions are live: with a wrong library underneath, the script fails."""
    done = _run([str(EXAMPLES / script)], tmp_path, prelude=sabotage)
    assert done.returncode != 0, f"{script} passed with a broken library:\n{done.stdout}"
    assert "FAILED: " in done.stderr, f"{script} crashed instead of failing a check"
