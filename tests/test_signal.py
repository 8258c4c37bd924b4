"""convolib.signal: LTI responses, correlation lags and template matching, against oracles.

Oracles: numpy/scipy (``np.convolve``, ``scipy.integrate.trapezoid``,
``scipy.signal.correlate`` and ``correlation_lags``), closed-form responses derived
here, a long-double brute-force NCC written here, and OpenCV where installed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import convolib
from convolib.errors import ArgumentError, ArgumentTypeError
from convolib.signal import (
    NCC_ACCURACY,
    Response,
    correlation_lags,
    match_template,
    response,
)

# --- response ---------------------------------------------------------------------------------


@pytest.mark.parametrize("nx", [1, 2, 5, 9])
@pytest.mark.parametrize("nh", [1, 3, 9, 12])
@pytest.mark.parametrize("mode", ["causal", "full"])
def test_rectangle_rule_is_dt_times_the_discrete_convolution(nx, nh, mode):
    rng = np.random.default_rng(nx * 100 + nh)
    x, h = rng.standard_normal(nx), rng.standard_normal(nh)
    r = response(x, h, 0.25, mode=mode, t0=-1.0)
    full = 0.25 * np.convolve(x, h)
    expected = full[:nx] if mode == "causal" else full
    np.testing.assert_allclose(r.y, expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(r.t, -1.0 + 0.25 * np.arange(len(expected)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("nx", [1, 2, 6, 11])
@pytest.mark.parametrize("nh", [1, 2, 7, 14])
@pytest.mark.parametrize("mode", ["causal", "full"])
def test_trapezoid_rule_matches_scipy_trapezoid_on_each_overlap(nx, nh, mode):
    rng = np.random.default_rng(nx * 31 + nh)
    x, h, dt = rng.standard_normal(nx), rng.standard_normal(nh), 0.1
    r = response(x, h, dt, mode=mode, rule="trapezoid")
    expected = []
    for n in range(len(r.y)):
        m = np.arange(max(0, n - nh + 1), min(n, nx - 1) + 1)  # where both are sampled
        expected.append(scipy.integrate.trapezoid(x[m] * h[n - m], dx=dt))
    np.testing.assert_allclose(r.y, expected, rtol=1e-12, atol=1e-14)


def _observed_orders(errors):
    return [math.log2(a / b) for a, b in itertools.pairwise(errors)]


@pytest.mark.parametrize(("rule", "order"), [("rectangle", 1), ("trapezoid", 2)])
def test_step_response_of_exponential_decay_converges_at_the_rules_order(rule, order):
    # h(t) = exp(-t/τ)/τ driven by a unit step u(t):
    # y(t) = ∫_0^t exp(-(t-s)/τ)/τ ds = 1 - exp(-t/τ).
    tau, end = 0.7, 4.0
    errors = []
    for dt in (0.1, 0.05, 0.025, 0.0125):
        t = dt * np.arange(round(end / dt) + 1)
        r = response(np.ones_like(t), np.exp(-t / tau) / tau, dt, rule=rule)
        errors.append(np.max(np.abs(r.y - (1 - np.exp(-r.t / tau)))))
    for p in _observed_orders(errors):
        assert abs(p - order) < 0.05, (errors, p)
    if rule == "rectangle":
        # Leading error: the rectangle sum adds dt/2·(x(0)h(t) + x(t)h(0)) at each t,
        # largest at t = 0, where it is dt·x(0)h(0) = dt/τ (the integral is 0 there).
        assert errors[-1] == pytest.approx(0.0125 / tau, rel=1e-9)


@pytest.mark.parametrize(("rule", "order"), [("rectangle", 1), ("trapezoid", 2)])
def test_seed_decaying_response_to_a_varying_input(rule, order):
    # The seeds' signal example: an input f(t) enters a system whose response g(t)
    # decays exponentially; the output at T is the sum of all earlier inputs, each
    # decayed by the time since it entered. With f(t) = sin(t), g(t) = a·exp(-a t):
    # y(t) = a ∫_0^t sin(s) e^{-a(t-s)} ds, and ∫_0^t sin(s) e^{as} ds =
    # (e^{at}(a sin t - cos t) + 1)/(1 + a²), so y(t) = a(a sin t - cos t + e^{-at})/(1 + a²).
    a, end = 0.5, 10.0
    errors = []
    for dt in (0.1, 0.05, 0.025):
        t = dt * np.arange(round(end / dt) + 1)
        r = response(np.sin(t), a * np.exp(-a * t), dt, rule=rule)
        exact = a * (a * np.sin(r.t) - np.cos(r.t) + np.exp(-a * r.t)) / (1 + a * a)
        errors.append(np.max(np.abs(r.y - exact)))
    for p in _observed_orders(errors):
        assert abs(p - order) < 0.05, (errors, p)


def test_seed_flip_slide_sum_at_time_10():
    # The seeds' picture: y(10) = f(10)g(0) + f(9)g(1) + ... + f(0)g(10), with dt = 1.
    f = np.cos(np.arange(11.0)) + 2
    g = np.exp(-np.arange(11.0) / 3)
    by_hand = sum(f[10 - k] * g[k] for k in range(11))
    assert response(f, g).y[10] == pytest.approx(by_hand, rel=1e-14)


def test_seed_meal_example():
    # The seeds' meal example: 100 kcal eaten at time 1 and 80 kcal at time 2; a
    # fraction g(k) of a meal is left k time units after it: g(0) = 1 (nothing lost
    # at once, our assumption), g(1) = 0.9, g(2) = 0.7. What is left at time n is
    # Σ_m f(m) g(n - m):
    #   time 2: f(1)g(1) + f(2)g(0) = 100·0.9 + 80·1   = 170
    #   time 3: f(1)g(2) + f(2)g(1) = 100·0.7 + 80·0.9 = 142
    #   time 4: f(2)g(2)            = 80·0.7           = 56
    # (the blog writes 100·70% + 80·90% for time 2: that sum belongs to time 3).
    r = response([0, 100, 80], [1, 0.9, 0.7], mode="full")
    np.testing.assert_allclose(r.t, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(r.y, [0, 100, 170, 142, 56], rtol=1e-15)


def test_channels_broadcast_against_one_impulse_response_or_one_each():
    rng = np.random.default_rng(7)
    x, h = rng.standard_normal((3, 20)), rng.standard_normal((3, 6))
    shared = response(x, h[0], 0.5, mode="full").y
    each = response(x, h, 0.5, mode="full", rule="trapezoid").y
    for c in range(3):
        np.testing.assert_allclose(shared[c], response(x[c], h[0], 0.5, mode="full").y)
        np.testing.assert_allclose(
            each[c], response(x[c], h[c], 0.5, mode="full", rule="trapezoid").y, atol=1e-14
        )
    along0 = response(x.T, h[0], 0.5, axis=0).y
    assert along0.shape == (20, 3)
    np.testing.assert_allclose(along0.T, 0.5 * np.array([np.convolve(v, h[0])[:20] for v in x]))
    bank = response(x[0], h, 0.5).y  # one input, three systems
    np.testing.assert_allclose(bank, 0.5 * np.array([np.convolve(x[0], k)[:20] for k in h]))
    with_ones = response(x, h[:1], 0.5).y  # a length-1 channel axis broadcasts
    np.testing.assert_allclose(with_ones, shared[:, :20])


def test_response_dtypes_and_result_type():
    r32 = response(np.ones(5, np.float32), np.ones(3, np.float32), 0.5)
    assert r32.y.dtype == np.float32 and r32.t.dtype == np.float64
    r_int = response([1, 2, 3], [1, 1], 2)
    assert r_int.y.dtype == np.float64
    np.testing.assert_array_equal(r_int.y, [2.0, 6.0, 10.0])
    z = np.array([1 + 1j, 2, -1j])
    rc = response(z, [1, 1j], 0.5, mode="full", rule="trapezoid")
    expected = [
        scipy.integrate.trapezoid(
            [z[m] * [1, 1j][n - m] for m in range(max(0, n - 1), min(n, 2) + 1)], dx=0.5
        )
        for n in range(4)
    ]
    np.testing.assert_allclose(rc.y, expected, atol=1e-15)
    t, y = r_int  # a named tuple
    assert isinstance(r_int, Response) and t is r_int.t and y is r_int.y


def test_response_nan_stays_in_the_outputs_that_sum_it():
    x = np.arange(12.0)
    x[5] = np.nan
    for rule in ("rectangle", "trapezoid"):
        y = response(x, [1.0, 2.0, 3.0], mode="full", rule=rule).y
        assert np.isnan(y).nonzero()[0].tolist() == [5, 6, 7]


@pytest.mark.parametrize(
    ("kwargs", "cls", "words"),
    [
        ({"dt": 0}, ArgumentError, "dt=0: must be > 0"),
        ({"dt": float("nan")}, ArgumentError, "must be finite"),
        ({"dt": "1"}, ArgumentTypeError, "must be a real number"),
        ({"t0": float("inf")}, ArgumentError, "t0=inf: must be finite"),
        ({"mode": "same"}, ArgumentError, "must be one of 'causal', 'full'"),
        ({"rule": "simpson"}, ArgumentError, "must be one of 'rectangle', 'trapezoid'"),
        ({"axis": 1}, ArgumentError, "axis=1: must be in [-1, 0]"),
        ({"axis": 0.5}, ArgumentTypeError, "axis=0.5: must be an integer"),
        ({"x": []}, ArgumentError, "x=(0,): must not be empty"),
        ({"x": 3.0}, ArgumentError, "must have at least one axis"),
        ({"x": ["a", "b"]}, ArgumentTypeError, "x.dtype"),
        (
            {"x": np.ones((2, 2)), "h": np.ones((2, 2, 2))},
            ArgumentError,
            "must be 1-D or have as many axes as x",
        ),
        ({"x": np.ones((2, 5)), "h": np.ones((3, 2))}, ArgumentError, "channel axis 0"),
    ],
)
def test_response_errors_name_the_argument_and_the_rule(kwargs, cls, words):
    args = {"x": [1.0, 2.0], "h": [1.0, 0.5], **kwargs}
    with pytest.raises(cls) as info:
        response(args.pop("x"), args.pop("h"), **args)
    assert words in str(info.value)


# --- correlation_lags -------------------------------------------------------------------------

GRID = [(nx, nk) for nx in range(1, 10) for nk in range(1, 10)]


def _lag_sum(x, k, lag):
    """Σ_j x[lag + j] conj(k[j]) with x zero outside its samples: correlate's definition."""
    return sum(x[lag + j] * np.conj(k[j]) for j in range(len(k)) if 0 <= lag + j < len(x))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_lags_label_every_output_of_correlate(mode):
    rng = np.random.default_rng(3)
    for nx, nk in GRID:
        x = rng.standard_normal(nx) + 1j * rng.standard_normal(nx)
        k = rng.standard_normal(nk) + 1j * rng.standard_normal(nk)
        y = convolib.correlate(x, k, mode)
        lags = correlation_lags(nx, nk, mode)
        assert lags.shape == y.shape, (nx, nk)
        np.testing.assert_allclose(y, [_lag_sum(x, k, int(lag)) for lag in lags], atol=1e-12)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_lags_agree_with_scipy(mode):
    rng = np.random.default_rng(4)
    for nx, nk in GRID:
        ours, theirs = correlation_lags(nx, nk, mode), scipy.signal.correlation_lags(nx, nk, mode)
        if mode != "same" or nx % 2 == 0 or nk % 2 == 1:
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{nx=} {nk=}")
            continue
        # Odd n_x, even n_k, 'same': scipy 1.17's correlation_lags disagrees with its own
        # correlate by one there. Agree with scipy where its lags label scipy.signal.correlate.
        x, k = rng.standard_normal(nx), rng.standard_normal(nk)
        y = scipy.signal.correlate(x, k, mode)
        if np.allclose(y, [_lag_sum(x, k, int(lag)) for lag in theirs]):
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{nx=} {nk=}")
        np.testing.assert_allclose(y, [_lag_sum(x, k, int(lag)) for lag in ours])


@pytest.mark.parametrize("delay", [-3, -1, 0, 2, 7])
def test_the_peak_lag_is_the_delay(delay):
    k = np.array([1.0, -2.0, 4.0, 3.0])
    x = np.zeros(12)
    for j, v in enumerate(k):
        if 0 <= delay + j < len(x):
            x[delay + j] = v
    lags = correlation_lags(len(x), len(k))
    if delay >= 0:  # the whole copy lies inside x
        assert lags[np.argmax(convolib.correlate(x, k))] == delay
    same = convolib.correlate(x, k, "same")
    lags_same = correlation_lags(len(x), len(k), "same")
    np.testing.assert_allclose(same, [_lag_sum(x, k, int(lag)) for lag in lags_same])


@pytest.mark.parametrize(
    ("args", "cls", "words"),
    [
        ((0, 3), ArgumentError, "n_x=0: must be at least 1"),
        ((3, -1), ArgumentError, "n_k=-1: must be at least 1"),
        ((3.0, 3), ArgumentTypeError, "n_x=3.0: must be an integer"),
        ((True, 3), ArgumentTypeError, "must be an integer"),
        ((3, 3, "circular"), ArgumentError, "must be one of 'full', 'same', 'valid'"),
    ],
)
def test_lag_errors(args, cls, words):
    with pytest.raises(cls) as info:
        correlation_lags(*args)
    assert words in str(info.value)


# --- match_template ---------------------------------------------------------------------------


def ncc_oracle(padded, template, flat_tol):
    """Zero-mean NCC of every valid window in long double, each window centred on its own
    mean; windows spanning at most flat_tol·max|window| give 0 (the documented rule)."""
    p = np.asarray(padded, np.longdouble)
    t = np.asarray(template, np.longdouble)
    t = t - t.mean()
    axes = tuple(range(p.ndim, 2 * p.ndim))
    w = sliding_window_view(p, t.shape)
    high, low = w.max(axis=axes), w.min(axis=axes)
    flat = high - low <= flat_tol * np.maximum(np.abs(high), np.abs(low))
    wc = w - w.mean(axis=axes, keepdims=True)
    num = (wc * t).sum(axis=axes)
    den = np.sqrt((wc * wc).sum(axis=axes) * (t * t).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(flat, 0, num / den)
    return r.astype(np.float64)


EPS_TOL = {np.dtype(np.float64): 4 * 2.0**-52, np.dtype(np.float32): 4 * 2.0**-23}


def assert_ncc(got, image, template, *, flat_tol=None, out_rounding=0.0):
    image = np.asarray(image)
    tol = EPS_TOL.get(image.dtype, 0.0) if flat_tol is None else flat_tol
    expected = ncc_oracle(image, template, tol)
    assert got.shape == expected.shape
    assert np.all(np.isfinite(got) == np.isfinite(expected))
    err = np.nanmax(np.abs(got - expected)) if got.size else 0.0
    assert err <= NCC_ACCURACY + out_rounding, err


@pytest.mark.parametrize(
    ("shape", "tshape"),
    [((40,), (1,)), ((40,), (7,)), ((33,), (33,)), ((20, 24), (5, 4)), ((20, 24), (1, 6)),
     ((9, 10, 11), (3, 2, 4)), ((9, 10, 11), (9, 1, 1))],
)  # fmt: skip
@pytest.mark.parametrize("offset", [0.0, -3e5, 1e6])
def test_ncc_matches_the_brute_force_in_1d_2d_3d(shape, tshape, offset):
    rng = np.random.default_rng(sum(shape) + len(tshape))
    image = offset + rng.standard_normal(shape)
    template = rng.standard_normal(tshape) if math.prod(tshape) > 1 else np.ones(tshape)
    if math.prod(tshape) == 1:
        with pytest.raises(ArgumentError, match="is flat"):
            match_template(image, template)
        return
    got = match_template(image, template)
    assert got.dtype == np.float64
    assert_ncc(got, image, template)


@given(
    data=st.data(),
    ndim=st.integers(1, 3),
    offset=st.sampled_from([0.0, 1.0, -250.0, 1e6, 2.0**40]),
    scale=st.sampled_from([1e-3, 1.0, 7.5, 1e4]),
    levels=st.integers(1, 4),
)
def test_ncc_brute_force_on_quantised_images(data, ndim, offset, scale, levels):
    # Few grey levels make flat windows, ties and exact copies common.
    shape = data.draw(st.tuples(*[st.integers(1, 9)] * ndim))
    tshape = data.draw(st.tuples(*[st.integers(1, s) for s in shape]))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    image = offset + scale * rng.integers(0, levels + 1, shape)
    template = rng.integers(0, 3, tshape).astype(np.float64)
    template.flat[0] = 3.0 if template.size > 1 else template.flat[0]
    if np.ptp(template) == 0:
        with pytest.raises(ArgumentError, match="is flat"):
            match_template(image, template)
        return
    assert_ncc(match_template(image, template), image, template)
    assert_ncc(match_template(image, template.astype(np.int16)), image, template)
    if offset == 0 and scale == 1:  # integers: only exactly constant windows are flat
        assert_ncc(match_template(image.astype(np.int64), template), image, template)


def test_offset_image_stays_accurate_where_the_textbook_formula_collapses():
    rng = np.random.default_rng(11)
    image = 1e6 + 1e-3 * rng.standard_normal((60, 70))
    template = image[12:21, 30:41].copy()
    got = match_template(image, template)
    assert_ncc(got, image, template)
    assert np.unravel_index(np.argmax(got), got.shape) == (12, 30)
    assert got[12, 30] == pytest.approx(1.0, abs=1e-12)
    # The textbook one-pass variance Σw² - (Σw)²/n in float64 loses every digit here.
    w = sliding_window_view(image, template.shape)
    n = template.size
    one_pass = (w * w).sum(axis=(2, 3)) - w.sum(axis=(2, 3)) ** 2 / n
    exact = ((w - w.mean(axis=(2, 3), keepdims=True)) ** 2).sum(axis=(2, 3))
    assert np.max(np.abs(one_pass - exact) / exact) > 1.0


def test_windows_of_tiny_variance_far_from_the_mean_are_recomputed_accurately():
    # Two plateaus 1e8 apart with noise 1e-4: every window's mean is 5e7 away from
    # the image mean, so window sums of squares cancel in all but 1 part in 1e23.
    rng = np.random.default_rng(12)
    image = np.zeros((40, 44))
    image[:, 22:] = 1e8
    image += 1e-4 * rng.standard_normal(image.shape)
    template = rng.standard_normal((5, 6))
    assert_ncc(match_template(image, template), image, template)
    assert_ncc(match_template(image[None], template[None]), image[None], template[None])


def test_a_few_windows_of_tiny_variance_far_from_the_mean():
    # A patch 1e8 above a textured image, with noise 1e-4: only the windows inside
    # the patch lose their variance to cancellation (they are recomputed one by one).
    rng = np.random.default_rng(22)
    image = rng.standard_normal((60, 60))
    image[30:40, 10:20] = 1e8 + 1e-4 * rng.standard_normal((10, 10))
    template = rng.standard_normal((5, 5))
    got = match_template(image, template)
    assert_ncc(got, image, template)
    assert np.abs(got[30:36, 10:16]).max() > 0.1


def test_float32_offset_image():
    rng = np.random.default_rng(13)
    image = (1e6 + 8 * rng.standard_normal((50, 50))).astype(np.float32)
    template = image[20:27, 5:12].copy()
    got = match_template(image, template)
    assert got.dtype == np.float32
    assert_ncc(got, image, template, out_rounding=2.0**-24)
    assert got[20, 5] == 1.0


def test_flat_regions_give_zero_not_nan_or_spikes():
    rng = np.random.default_rng(14)
    template = rng.standard_normal((4, 5))
    image = np.full((30, 30), 7.0)
    image[18:, 18:] = rng.standard_normal((12, 12))
    got = match_template(image, template)
    assert np.isfinite(got).all()
    assert np.all(got[:14, :] == 0) and np.all(got[:, :14] == 0)
    assert_ncc(got, image, template)
    ints = match_template(np.where(image == 7.0, 5, 9).astype(np.uint8), template.astype("f4"))
    assert ints.dtype == np.float32 and np.all(ints[:14, :14] == 0)

    # float32 rounding noise: 1e6 with a third of the samples one unit in the last
    # place higher (0.0625). The windows' variance is all rounding; default: 0.
    noisy = np.full((30, 30), 1e6, np.float32)
    up = rng.random(noisy.shape) < 0.3
    noisy[up] = np.nextafter(np.float32(1e6), np.float32(2e6))
    noisy[18:, 18:] += (100 * rng.standard_normal((12, 12))).astype(np.float32)
    got = match_template(noisy, template.astype(np.float32))
    assert np.all(got[:14, :] == 0) and np.all(got[:, :14] == 0)
    assert np.abs(got[20:, 20:]).max() > 0.2  # texture still correlates
    assert_ncc(got, noisy, template, out_rounding=2.0**-24)
    # flat_tol=0 takes the noise as data, exactly as the oracle does.
    raw = match_template(noisy, template, flat_tol=0)
    assert np.abs(raw[:14, :14]).max() > 0.5
    assert_ncc(raw, noisy, template, flat_tol=0.0, out_rounding=2.0**-24)


def test_inverted_and_affine_copies():
    rng = np.random.default_rng(15)
    image = rng.standard_normal(50)
    template = image[10:20]
    assert match_template(image, template)[10] == pytest.approx(1.0, abs=1e-14)
    assert match_template(image, 3 - 2 * template)[10] == pytest.approx(-1.0, abs=1e-14)
    assert match_template(5 * image + 1e3, template)[10] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("boundary", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("tshape", [(3, 3), (4, 2), (1, 5), (12, 3)])
def test_same_mode_pads_by_the_boundary_rule(boundary, tshape):
    rng = np.random.default_rng(16)
    image = 50 + rng.standard_normal((9, 11))
    template = rng.standard_normal(tshape)
    pads = [(m // 2, m - 1 - m // 2) for m in tshape]
    if boundary == "constant":
        padded = np.pad(image, pads, constant_values=50.5)
        got = match_template(image, template, mode="same", boundary=boundary, fill_value=50.5)
    else:
        padded = np.pad(image, pads, mode=boundary)
        got = match_template(image, template, mode="same", boundary=boundary)
    assert got.shape == image.shape
    assert_ncc(got, padded, template)


@pytest.mark.parametrize("tshape", [(3, 5), (4, 4), (2, 3)])
def test_same_mode_centring_matches_correlate(tshape):
    # A copy of the image window around p peaks at p, where correlate(image, t,
    # "same") puts that window's sum: template element m // 2 on the sample.
    rng = np.random.default_rng(17)
    image = rng.standard_normal((15, 16))
    p = (7, 9)
    lo = [c - m // 2 for c, m in zip(p, tshape, strict=True)]
    template = image[lo[0] : lo[0] + tshape[0], lo[1] : lo[1] + tshape[1]]
    got = match_template(image, template, mode="same")
    assert np.unravel_index(np.argmax(got), got.shape) == p
    box = np.ones(tshape)
    window_sums = convolib.correlate(image, box, "same")
    assert window_sums[p] == pytest.approx(template.sum())


def test_large_template_runs_on_a_transform_and_stays_accurate():
    rng = np.random.default_rng(18)
    image = 1e3 + rng.standard_normal((256, 256))
    template = rng.standard_normal((64, 64))
    algorithm = convolib.plan("correlate", image, template, "valid").algorithm
    assert algorithm in ("fft", "overlap_save", "lanes_fft"), algorithm
    image[100:164, 40:104] = 2e3 + 0.5 * template  # one exact (affine) copy
    got = match_template(image, template)
    assert np.unravel_index(np.argmax(got), got.shape) == (100, 40)
    assert got[100, 40] == pytest.approx(1.0, abs=1e-12)
    rows, cols = rng.integers(0, 193, 40), rng.integers(0, 193, 40)
    for i, j in zip(rows, cols, strict=True):
        expected = ncc_oracle(image[i : i + 64, j : j + 64], template, EPS_TOL[image.dtype])
        assert abs(got[i, j] - expected[0, 0]) <= NCC_ACCURACY


@pytest.mark.parametrize("tshape", [(5, 5), (8, 3), (1, 9), (16, 20)])
def test_agrees_with_opencv_tm_ccoeff_normed(tshape):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(19)
    image = (100 + 20 * rng.standard_normal((48, 52))).astype(np.float32)
    template = (rng.standard_normal(tshape)).astype(np.float32)
    theirs = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    ours = match_template(image, template)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, atol=2e-5)


def test_nonfinite_values_spoil_only_their_windows():
    rng = np.random.default_rng(20)
    image = rng.standard_normal((12, 13))
    image[4, 6], image[10, 1] = np.nan, -np.inf
    template = rng.standard_normal((3, 4))
    got = match_template(image, template)
    expected = ncc_oracle(np.where(np.isfinite(image), image, np.nan), template, 0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(got[2:5, 3:7]).all() and np.isnan(got).sum() == 3 * 4 + 2 * 2
    ok = ~np.isnan(got)
    assert np.max(np.abs(got[ok] - expected[ok])) <= NCC_ACCURACY
    edge = match_template(image, template, mode="same", fill_value=np.nan)
    assert np.isnan(edge[0]).all() and np.isnan(edge[:, 0]).all()
    assert np.isnan(match_template(np.full(5, np.nan), [1.0, 2.0])).all()


def test_inputs_are_not_modified_and_layouts_do_not_matter():
    rng = np.random.default_rng(21)
    base = 1e5 + rng.standard_normal((30, 40))
    template = rng.standard_normal((5, 6))
    copy = base.copy()
    expected = match_template(base, template)
    np.testing.assert_array_equal(base, copy)
    for image in (np.asfortranarray(base), base[::-1, ::-1][::-1, ::-1], base.astype(">f8")):
        np.testing.assert_allclose(match_template(image, template), expected, atol=1e-15)
    strided = np.repeat(base, 2, axis=1)[:, ::2]
    np.testing.assert_allclose(match_template(strided, template[::-1][::-1]), expected)


@pytest.mark.parametrize(
    ("image", "template", "kwargs", "cls", "words"),
    [
        (np.ones((4, 4)), np.arange(25.0).reshape(5, 5), {}, ArgumentError, "is larger than"),
        (np.ones((4, 4)), np.arange(3.0), {}, ArgumentError, "must have as many axes as image"),
        (np.ones(4) * 1j, [1.0, 2.0], {}, ArgumentTypeError, "image.dtype=dtype('complex128')"),
        (["a", "b"], [1.0, 2.0], {}, ArgumentTypeError, "image.dtype"),
        (np.ones((0, 3)), np.ones((1, 1)), {}, ArgumentError, "must not be empty"),
        (np.ones(9), [1.0, np.nan], {}, ArgumentError, "template: must hold finite values"),
        (np.ones(9), [2.0, 2.0, 2.0], {}, ArgumentError, "is flat (zero variance"),
        (np.ones(9), [1.0, 2.0], {"mode": "full"}, ArgumentError, "one of 'valid', 'same'"),
        (np.ones(9), [1.0, 2.0], {"boundary": "mirror"}, ArgumentError, "boundary='reflect'"),
        (np.ones(9), [1.0, 2.0], {"flat_tol": -1}, ArgumentError, "flat_tol=-1: must be >= 0"),
        (np.ones(9), [1.0, 2.0], {"fill_value": "0"}, ArgumentTypeError, "fill_value='0'"),
    ],
)
def test_match_template_errors(image, template, kwargs, cls, words):
    with pytest.raises(cls) as info:
        match_template(image, template, **kwargs)
    assert words in str(info.value)
