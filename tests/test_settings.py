"""Threads, tuning and calibration: settings that change speed, never results."""

import json
import math
import statistics
import threading
import time

import numpy as np
import pytest

import convolib
from convolib import calibration, compiling, planner, threads
from convolib.algorithms import registry
from helpers import assert_concurrent_calls_match_serial

RNG = np.random.default_rng(7)
X = RNG.standard_normal((300, 400))
K = RNG.standard_normal((5, 5))


def test_workers_do_not_change_results():
    one = convolib.convolve(X, K, "same", workers=1)
    two = convolib.convolve(X, K, "same", workers=2)
    assert np.array_equal(one, two)
    assert convolib.plan("convolve", X, K, workers=1).workers == 1


def test_negative_workers_count_back_from_the_cores():
    assert convolib.plan("convolve", X, K, workers=-1).workers == threads.cpu_count()


@pytest.mark.parametrize("bad", [0, -10_000, 1.5, "2", True])
def test_bad_workers_are_refused(bad):
    with pytest.raises((convolib.ArgumentError, convolib.ArgumentTypeError), match="workers="):
        convolib.convolve(X, K, workers=bad)


def test_set_workers_is_the_default_and_returns_the_previous_setting():
    previous = convolib.set_workers(1)
    try:
        assert convolib.plan("convolve", X, K).workers == 1
        assert "), 1 thread\n" in str(convolib.plan("convolve", X, K))
    finally:
        assert convolib.set_workers(previous) == 1
    assert convolib.plan("convolve", X, K).workers == threads.resolve(previous)


def test_set_workers_reaches_calls_planned_before(monkeypatch):
    x, k = RNG.standard_normal((301, 40)), RNG.standard_normal((5, 5))
    assert convolib.plan("convolve", x, k, "same").algorithm == "direct"
    convolib.convolve(x, k, "same")
    direct = type(registry()["direct"])
    bound, bind = [], direct.bind
    monkeypatch.setattr(
        direct, "bind", lambda self, s, w, **kw: bound.append(w) or bind(self, s, w, **kw)
    )
    previous = convolib.set_workers(1)
    try:
        convolib.convolve(x, k, "same")
    finally:
        convolib.set_workers(previous)
    assert bound == [1]


def test_concurrent_calls_match_serial_calls():
    cases = [
        (RNG.standard_normal((200 + i, 300)), RNG.standard_normal((3 + i % 3, 4))) for i in range(6)
    ]

    def call(x, k):
        return convolib.correlate(x, k, "same", boundary="reflect")

    assert_concurrent_calls_match_serial(call, cases, threads=4, rounds=3)


def test_tune_measures_candidates_and_keeps_the_result():
    x, k = RNG.standard_normal((64, 64)), RNG.standard_normal((3, 3))
    tuned = convolib.plan("convolve", x, k, "same", tune=True)
    assert tuned.reason.startswith("measured fastest of")
    assert tuned is convolib.plan("convolve", x, k, "same", tune=True)  # once per signature
    assert np.allclose(
        convolib.convolve(x, k, "same", tune=True),
        convolib.convolve(x, k, "same", method="reference"),
    )


def test_set_tune_is_the_default():
    x, k = RNG.standard_normal((40, 50)), RNG.standard_normal((3, 2))
    previous = convolib.set_tune(True)
    try:
        assert convolib.plan("correlate", x, k).reason.startswith("measured")
    finally:
        convolib.set_tune(previous)
    assert convolib.plan("correlate", x, k).reason.startswith(("lowest", "the only"))
    with pytest.raises(convolib.ArgumentTypeError, match="tune="):
        convolib.plan("correlate", x, k, tune="yes")


def test_calibrate_writes_factors_that_the_planner_uses(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CONVOLIB_CALIBRATION")
    monkeypatch.setattr(calibration, "_factors", {})
    before = convolib.plan("convolve", X, K, method="direct")  # made with factor 1
    try:
        factors = convolib.calibrate(repeats=2)
        assert {"direct", "reference"} <= set(factors)
        assert all(0.1 <= f <= 10 for f in factors.values())
        path = calibration.cache_path()
        assert str(path).startswith(str(tmp_path))
        saved = json.loads(path.read_text())
        assert saved.pop("tried") <= time.time()
        assert saved == {
            "version": convolib.__version__,
            "model": calibration.model_key(),
            "factors": factors,
            "missing": [],  # calibrate() compiles what it times
        }
        # A new process would load them from the cache:
        monkeypatch.setattr(calibration, "_factors", None)
        assert calibration.factor("direct") == factors["direct"]
        plan = convolib.plan("convolve", X, K, method="direct")
        raw = registry()["direct"].cost(plan.spec, plan.workers).seconds
        assert plan.seconds == pytest.approx(raw * factors["direct"])
        assert before.seconds == pytest.approx(raw)  # made again, not taken from a cache
    finally:
        monkeypatch.setattr(calibration, "_factors", {})
        planner.forget_plans()


def test_calibrate_times_no_call_whose_estimate_rules_it_out(monkeypatch):
    """An infinite estimate (interleaved's, for buffers too large for the cache) is one
    ``auto`` never plans: timing it would only divide by infinity."""
    from convolib.algorithms import Cost

    reference = registry()["reference"]
    monkeypatch.setattr(reference, "cost", lambda spec, workers: Cost(math.inf, 0))
    monkeypatch.setattr(calibration, "_factors", {})
    try:
        factors = calibration.calibrate(save=False, repeats=1)
        assert "reference" not in factors and "direct" in factors
    finally:
        monkeypatch.setattr(calibration, "_factors", {})
        planner.forget_plans()


def test_factors_of_another_cost_model_are_measured_again(tmp_path, monkeypatch):
    """A cache written before the cost model changed (same version) is not trusted."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CONVOLIB_CALIBRATION")
    monkeypatch.setattr(calibration, "_factors", None)
    path = calibration.cache_path()
    path.parent.mkdir(parents=True)
    stale = {"version": convolib.__version__, "model": "old", "factors": {"direct": 9.5}}
    path.write_text(json.dumps(stale))
    try:
        assert calibration.factor("direct") != 9.5  # the stale factor is dropped ...
        saved = json.loads(path.read_text())  # ... and the machine measured again
        assert saved["model"] == calibration.model_key()
        assert saved["factors"].get("direct", 1.0) == calibration.factor("direct")
    finally:
        monkeypatch.setattr(calibration, "_factors", {})


def test_a_typical_ratio_ignores_a_burst_and_moves_little_between_two_groups():
    """The factor is the geometric mean of the middle half of the ratios: a burst that
    slows one problem is left out, as by a median; where the ratios fall in two groups,
    one problem crossing from one to the other moves it by its share, where it moved
    the median of eight from 1.19 to 1.47."""
    assert calibration.typical([1.0] * 6 + [50.0]) == pytest.approx(1.0)
    assert calibration.typical([2.0, 8.0]) == pytest.approx(4.0)
    low = [0.54, 0.6, 0.7, 0.9, 1.48, 1.58, 1.7, 3.23]
    high = [*low[:3], 1.45, *low[4:]]
    moved = calibration.typical(high) / calibration.typical(low)
    assert moved < 1.15 < statistics.median(high) / statistics.median(low)


def test_calibration_off_uses_the_built_in_constants(monkeypatch):
    monkeypatch.setattr(calibration, "_factors", None)
    monkeypatch.setenv("CONVOLIB_CALIBRATION", "off")
    assert calibration.factor("direct") == 1.0


def _fresh_loop(module: str):
    """A numba function not compiled yet, whose code numba takes for ``module``'s."""
    import numba

    def triple(a):
        return 3 * a

    triple.__module__ = module
    return numba.njit(triple)


def test_compiling_refused_stops_convolib_loops_before_they_compile():
    from convolib.algorithms._launch import each_in_threads

    ours, theirs = _fresh_loop("convolib.a_loop"), _fresh_loop("another_package")
    with compiling.compiling_refused():
        with pytest.raises(compiling.CompilingRefusedError, match=r"convolib\.a_loop\._fresh_loop"):
            ours(2)
        refused = []  # in the tasks convolib's threads run for the body, too

        def task(a):
            time.sleep(0.02)  # long enough for both threads to take some
            with pytest.raises(compiling.CompilingRefusedError):
                ours(a)
            refused.append(threading.current_thread().name)

        each_in_threads(2, task, range(6))
        assert len(refused) == 6 and any(name.startswith("convolib") for name in refused)
        assert ours.signatures == []  # nothing was compiled
        assert theirs(2) == 6  # other packages compile as usual
    assert ours(2) == 6  # outside, convolib's compile as usual
    with compiling.compiling_refused():
        assert ours(3) == 9  # and once compiled, run inside
        done = []
        each_in_threads(2, lambda a: done.append(ours(a)), [1, 2, 3, 4])
        assert sorted(done) == [3, 6, 9, 12]


def test_first_plan_times_compiled_loops_only_and_a_later_one_the_rest(tmp_path, monkeypatch):
    """In a fresh environment the first plan does not compile every algorithm's loops
    (three minutes) to time them: an algorithm whose loops are not compiled is noted,
    and timed by the first plan of a process an hour later, once a call has compiled
    them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CONVOLIB_CALIBRATION")
    reference = registry()["reference"]
    loop, run = _fresh_loop("convolib.reference_loop"), reference.run

    def run_with_a_loop(*args):  # as if reference summed in a loop not yet compiled
        loop(1)
        return run(*args)

    monkeypatch.setattr(reference, "run", run_with_a_loop)
    monkeypatch.setattr(calibration, "_factors", None)
    try:
        assert calibration.factor("reference") == 1.0
        first = json.loads(calibration.cache_path().read_text())
        assert "reference" in first["missing"] and "reference" not in first["factors"]
        assert loop.signatures == []
        assert set(first["factors"]) | set(first["missing"]) >= {"fft", "reference"}
        loop(1)  # a call of this process compiles it (numba would keep it on disk)
        monkeypatch.setattr(calibration, "_factors", None)  # a later process, within the hour:
        assert calibration.factor("reference") == 1.0  # the cache is not looked at again
        monkeypatch.setattr(calibration, "RETRY_SECONDS", 0)
        monkeypatch.setattr(calibration, "_factors", None)  # a process after the hour
        later = calibration.factor("reference")
        second = json.loads(calibration.cache_path().read_text())
        assert "reference" not in second["missing"]
        assert second["factors"]["reference"] == later and 0.1 <= later <= 10
        timed = {name: f for name, f in first["factors"].items() if name not in first["missing"]}
        assert timed.items() <= second["factors"].items()  # not timed again
    finally:
        monkeypatch.setattr(calibration, "_factors", {})
        planner.forget_plans()


def test_complete_times_what_the_first_plans_could_not(tmp_path, monkeypatch):
    """The benchmark suite plans as a fully calibrated machine does: `complete` compiles
    and times the algorithms left untimed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CONVOLIB_CALIBRATION")
    monkeypatch.setattr(calibration, "CASES", calibration.CASES[:1])  # one small call
    reference = registry()["reference"]
    loop, run = _fresh_loop("convolib.another_reference_loop"), reference.run

    def run_with_a_loop(*args):
        loop(1)
        return run(*args)

    monkeypatch.setattr(reference, "run", run_with_a_loop)
    monkeypatch.setattr(calibration, "_factors", None)
    monkeypatch.setattr(calibration, "_missing", [])
    try:
        calibration.factor("reference")
        assert "reference" in json.loads(calibration.cache_path().read_text())["missing"]
        calibration.complete()
        saved = json.loads(calibration.cache_path().read_text())
        assert saved["missing"] == [] and "reference" in saved["factors"]
        assert loop.signatures  # compiled to be timed
        assert calibration.factor("reference") == saved["factors"]["reference"]
    finally:
        monkeypatch.setattr(calibration, "_factors", {})
        planner.forget_plans()


def test_calibrate_reports_progress(monkeypatch):
    monkeypatch.setattr(calibration, "CASES", calibration.CASES[:2])
    monkeypatch.setattr(calibration, "_factors", {})
    steps = []
    try:
        calibration.calibrate(save=False, repeats=1, progress=lambda *step: steps.append(step))
    finally:
        monkeypatch.setattr(calibration, "_factors", {})
        planner.forget_plans()
    total = steps[0][1]
    assert steps == [(done, total) for done in range(1, total + 1)]
    assert total > calibration.ROUNDS  # a step for each call, then one for each round
    with pytest.raises(convolib.ArgumentTypeError, match="progress"):
        convolib.calibrate(progress="yes")


def test_the_first_compilation_is_announced_once(capsys):
    from convolib import cli

    heard = []
    compiling.announce_first(heard.append)
    cli._note_compiling()  # the CLI's note, on standard error
    refused = _fresh_loop("convolib.refused_loop")
    with compiling.compiling_refused(), pytest.raises(compiling.CompilingRefusedError):
        refused(1)  # a refused compilation is none
    assert heard == []
    _fresh_loop("another_package")(1)
    assert heard == []  # only convolib's loops
    _fresh_loop("convolib.first_loop")(1)
    _fresh_loop("convolib.second_loop")(1)
    assert heard == ["convolib.first_loop._fresh_loop.<locals>.triple"]
    assert "convolib: compiling its loops for this machine" in capsys.readouterr().err
