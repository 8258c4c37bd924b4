"""The benchmark suite (``python -m convolib.bench``): its JSON, its chart, its checks.

Peers (OpenCV, torch) and matplotlib may or may not be installed; these tests pass
either way. Timings are not asserted, only that they are there and positive.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import convolib
from convolib import bench

CASES = ["s1", "i1", "e1"]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_quick_run(tmp_path: Path) -> None:
    """One run of ``convolib bench --quick --cases s1,i1,e1`` in a subprocess: exit
    status, JSON, table, chart."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "convolib",
            "bench",
            "--quick",
            "--cases",
            ",".join(CASES),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        encoding="utf-8",
        check=False,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check_json(json.loads((tmp_path / "bench.json").read_text(encoding="utf-8")))
    for word in ("case", "ratio", "regret", "roofline", *CASES, "geometric mean"):
        assert word in proc.stdout
    if importlib.util.find_spec("matplotlib") is None:
        assert "matplotlib is not installed" in proc.stdout
    else:
        _check_png(tmp_path / "bench.png")


def _check_json(data: dict[str, Any]) -> None:
    assert {"machine", "settings", "roofline", "cases", "summary", "errors"} <= set(data)
    assert data["errors"] == []
    assert data["settings"]["quick"] is True
    assert data["settings"]["threads"] == 2
    roof = data["roofline"]
    assert _positive(roof["bandwidth_bytes_per_s"])
    assert all(_positive(roof["peak_flops_per_s"][d]) for d in ("float32", "float64"))
    assert "input + output" in roof["bytes_counted"]
    assert [c["id"] for c in data["cases"]] == CASES
    for case in data["cases"]:
        assert case["errors"] == [], case["errors"]
        assert _positive(case["convolib"]["median_s"])
        assert case["best_peer"] in case["peers"]
        assert _positive(case["ratio"])
        assert case["ratio"] == pytest.approx(case["best_peer_s"] / case["convolib"]["median_s"])
        assert case["algorithm"] in convolib.methods()
        assert case["algorithm"] in case["forced"]
        assert _positive(case["regret"])
        assert _positive(case["peak_memory_mib"])
        assert _positive(case["peak_memory_x_io"])
        for entry in case["peers"].values():  # timed, or skipped/failed with a reason
            assert _positive(entry.get("median_s")) or entry.get("skipped") or entry.get("failed")
    s1, i1, e1 = data["cases"]
    for case in (s1, i1):  # the plan's algorithm is auto's own computation: not timed twice
        assert case["forced"][case["algorithm"]]["samples"] == case["convolib"]["samples"]
        assert case["regret"] >= 1
    assert e1["forced"][e1["algorithm"]]["samples"] != e1["convolib"]["samples"]  # a chain
    assert _positive(s1["roofline"]["fraction"]) and _positive(i1["roofline"]["fraction"])
    assert e1["roofline"]["fraction"] is None  # Python ints have no roofline
    assert _positive(s1["scipy_signal_convolve_ratio"])
    summary = data["summary"]
    assert _positive(summary["geomean_ratio_siv"])
    assert summary["geomean_ratio_siv_cases"] == 2
    assert {t["met"] for t in summary["targets"]} <= {True, False, None}


def _check_png(path: Path) -> None:
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100
    assert float(pixels[..., :3].std()) > 0.01  # not one flat colour


def test_compare_helper() -> None:
    want = np.arange(1.0, 11.0)
    assert bench.compare(want + 1e-7, want, exact=False, rtol=1e-6) is None
    assert "tolerance" in bench.compare(want * 1.01, want, exact=False, rtol=1e-6)
    assert "shape" in bench.compare(want[:-1], want, exact=False, rtol=1e-6)
    assert "NaN" in bench.compare(np.full(10, np.nan), want, exact=False, rtol=1e-6)
    ints = np.arange(10, dtype=np.int64)
    assert bench.compare(ints.astype(np.float32), ints, exact=True, rtol=0) is None
    message = bench.compare(ints + (ints == 3), ints, exact=True, rtol=0)
    assert message.startswith("1 of 10 values differ, first at (3,)")
    big = np.array([2**100, 3], dtype=object)
    assert bench.compare(big.copy(), big, exact=True, rtol=0) is None
    assert bench.compare(big + 1, big, exact=True, rtol=0) is not None


def _missing_peer() -> bench.Run:
    return importlib.import_module("convolib_no_such_peer")


def _case_with_a_wrong_peer() -> bench.Case:
    def build(rng: np.random.Generator, quick: bool) -> bench.Setup:
        x, k = rng.standard_normal(2000), rng.standard_normal(9)
        peers = {
            "numpy.convolve": bench.numpy_convolve(x, k),
            "wrong": lambda: lambda: np.convolve(x, k) * 1.01,
            "missing": _missing_peer,
        }
        return bench.convolve_setup(x, k, "full", peers=peers)

    return bench.Case("t1", "test: a peer that disagrees", build)


def test_a_wrong_peer_is_an_error() -> None:
    assert importlib.util.find_spec("convolib_no_such_peer") is None
    result = bench.run_case(_case_with_a_wrong_peer(), quick=True, repeats=2)
    assert "error" in result["peers"]["wrong"]
    assert any(e.startswith("wrong disagrees with convolib") for e in result["errors"])
    assert "not installed" in result["peers"]["missing"]["skipped"]
    assert result["best_peer"] == "numpy.convolve"  # the wrong peer is never timed
    assert _positive(result["ratio"])


def test_main_exits_1_on_a_mismatch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bench, "CASES", (_case_with_a_wrong_peer(),))
    assert bench.main(["--quick", "--cases", "t1", "--out", str(tmp_path), "--repeats", "2"]) == 1
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert data["errors"] and data["errors"][0].startswith("t1: wrong disagrees with convolib")


def test_unknown_case_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--cases", "zz9"])
    assert "unknown zz9" in capsys.readouterr().err


def test_each_sample_follows_untimed_calls_of_its_own() -> None:
    # A fast call (1 ms) runs untimed for WARM_S before each of its samples; a slow
    # one (over WARM_LIMIT_S) is only timed.
    import time

    log: list[str] = []

    def sleeper(name: str, seconds: float):
        def fn() -> None:
            log.append(name)
            time.sleep(seconds)

        return fn

    slow_s = bench.WARM_LIMIT_S * 1.2
    runs = {"fast": sleeper("fast", 1e-3), "slow": sleeper("slow", slow_s)}
    samples, rounds = bench.interleaved(runs, {"fast": 1e-3, "slow": slow_s}, 2, quick=True)
    assert rounds == 2 and all(len(v) == 2 for v in samples.values())
    assert log.count("slow") == 2  # timed only
    per_sample = math.ceil(bench.SAMPLE_S / 1e-3)
    warm_calls = log.count("fast") - 2 * per_sample
    assert bench.WARM_S >= 2e-3  # a few milliseconds: several calls of 1 ms
    assert warm_calls >= 2 * math.floor(bench.WARM_S / 1e-3 / 2)  # sleep() may overshoot


def test_the_bench_notes_openblas_without_avx512_kernels_on_an_avx512_cpu():
    from convolib.bench import blas_note

    def machine(avx512, arch):
        blas = [{"internal_api": "openblas", "version": "0.3.31", "architecture": arch}]
        return {"avx512f": avx512, "blas": blas}

    assert "OPENBLAS_CORETYPE=SkylakeX" in blas_note(machine(True, "Haswell"))
    assert blas_note(machine(True, "SkylakeX")) is None
    assert blas_note(machine(False, "Haswell")) is None  # AVX2 is all the CPU has
    assert blas_note({"avx512f": True}) is None  # no BLAS found


def test_a_call_that_may_compile_is_timed_again_however_slow_its_first_call():
    # A first call over a second is timed once for a peer (it is slow), but again for
    # convolib's calls, whose first may be numba compiling: that time would size the
    # rounds (one round, and a median of one sample).
    import time

    def compiling() -> tuple[Callable[[], int], list[int]]:
        calls: list[int] = []

        def fn() -> int:
            calls.append(1)
            if len(calls) == 1:
                time.sleep(1.05)
            return len(calls)

        return fn, calls

    fn, calls = compiling()
    assert bench._primed(fn, compiles=True)[0] == 2 and len(calls) == 2
    fn, calls = compiling()
    result, seconds = bench._primed(fn)
    assert result == 1 and seconds >= 1.0 and len(calls) == 1
