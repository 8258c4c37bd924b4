"""Threads, tuning and calibration: settings that change speed, never results."""

import json
import math

import numpy as np
import pytest

import convolib
from convolib import calibration, planner, threads
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
        assert json.loads(path.read_text())["factors"] == factors
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
        assert saved["factors"]["direct"] == calibration.factor("direct")
    finally:
        monkeypatch.setattr(calibration, "_factors", {})


def test_calibration_off_uses_the_built_in_constants(monkeypatch):
    monkeypatch.setattr(calibration, "_factors", None)
    monkeypatch.setenv("CONVOLIB_CALIBRATION", "off")
    assert calibration.factor("direct") == 1.0
