"""convolib.learned: a correlation model and a convolution model fitted to the same data
learn kernels that are 180° rotations of each other.

Oracles: central finite differences and torch autograd for the gradients; scipy.signal
for the data; NumPy least squares on the window matrix for the fitted kernels; the
Hessian's eigenvalues for how fast the two kernels become flips; the least-squares
covariance for how close noise lets them come to the hidden kernel.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from convolib import ArgumentError, ArgumentTypeError
from convolib.learned import HIDDEN, LearnedKernels, figure, fit, loss_and_gradient

RNG_KERNELS = {
    "F 5x5": HIDDEN,
    "random 3x3": np.random.default_rng(11).standard_normal((3, 3)),
    "random 2x4": np.random.default_rng(12).standard_normal((2, 4)),
}


def _half_turn(k):
    return np.asarray(k)[::-1, ::-1]


def _problem(rng, n=3, size=(6, 7), kernel=(3, 2)):
    x = rng.standard_normal((n, *size))
    out = (n, size[0] - kernel[0] + 1, size[1] - kernel[1] + 1)
    return x, rng.standard_normal(out), rng.standard_normal(kernel), float(rng.standard_normal())


def _numeric_gradient(x, y, w, b, flip, h=1e-6):
    def loss(w_, b_):
        return loss_and_gradient(x, y, w_, b_, flip=flip)[0]

    grad_w = np.zeros_like(w)
    for index in np.ndindex(*w.shape):
        e = np.zeros_like(w)
        e[index] = h
        grad_w[index] = (loss(w + e, b) - loss(w - e, b)) / (2 * h)
    return grad_w, (loss(w, b + h) - loss(w, b - h)) / (2 * h)


# --- the training step's gradient ------------------------------------------------------------


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("kernel", [(3, 2), (1, 3), (2, 2), (4, 4)])
def test_gradient_matches_finite_differences(flip, kernel):
    x, y, w, b = _problem(np.random.default_rng(sum(kernel) + flip), kernel=kernel)
    loss, grad_w, grad_b = loss_and_gradient(x, y, w, b, flip=flip)
    numeric_w, numeric_b = _numeric_gradient(x, y, w, b, flip)
    np.testing.assert_allclose(grad_w, numeric_w, rtol=1e-6, atol=1e-8)
    assert grad_b == pytest.approx(numeric_b, rel=1e-6, abs=1e-8)
    op = signal.convolve2d if flip else signal.correlate2d
    expected = np.mean([(op(xi, w, "valid") + b - yi) ** 2 for xi, yi in zip(x, y, strict=True)])
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("flip", [False, True])
def test_gradient_matches_torch_autograd(flip):
    torch = pytest.importorskip("torch")
    x, y, w, b = _problem(np.random.default_rng(5 + flip), n=2, size=(7, 5), kernel=(3, 3))
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor([b], dtype=torch.float64, requires_grad=True)
    weight = tw.flip((0, 1)) if flip else tw
    pred = torch.nn.functional.conv2d(torch.tensor(x)[:, None], weight[None, None], tb)
    loss = ((pred[:, 0] - torch.tensor(y)) ** 2).mean()
    loss.backward()
    got_loss, grad_w, grad_b = loss_and_gradient(x, y, w, b, flip=flip)
    assert got_loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(grad_w, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert grad_b == pytest.approx(tb.grad.item(), rel=1e-10)


@given(
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    extra=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    seed=st.integers(0, 2**16),
)
def test_flipped_model_has_the_flipped_loss_and_gradient(kh, kw, extra, seed):
    """The convolution model at w is the correlation model at w rotated 180°, so its
    loss is equal and its gradient is the rotated gradient."""
    size = (kh + extra[0], kw + extra[1])
    x, y, w, b = _problem(np.random.default_rng(seed), n=2, size=size, kernel=(kh, kw))
    loss_conv, grad_conv, bias_conv = loss_and_gradient(x, y, w, b, flip=True)
    loss_corr, grad_corr, bias_corr = loss_and_gradient(x, y, _half_turn(w), b, flip=False)
    assert loss_conv == pytest.approx(loss_corr, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(grad_conv, _half_turn(grad_corr), rtol=1e-12, atol=1e-12)
    assert bias_conv == pytest.approx(bias_corr, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("call", "cls", "words"),
    [
        (lambda x, y, w: loss_and_gradient(x[0], y, w), ArgumentError, "images.shape"),
        (lambda x, y, w: loss_and_gradient(x, y[:, 1:], w), ArgumentError, "targets.shape"),
        (lambda x, y, w: loss_and_gradient(x, y, w[None]), ArgumentError, "weight.shape"),
        (lambda x, y, w: loss_and_gradient(x, y, np.ones((9, 9))), ArgumentError, "images.shape"),
        (lambda x, y, w: loss_and_gradient(x, y, w * np.nan), ArgumentError, "weight"),
        (lambda x, y, w: loss_and_gradient(x, y, w + 1j), ArgumentTypeError, "weight.dtype"),
        (lambda x, y, w: loss_and_gradient(x, y, w, "1"), ArgumentTypeError, "bias"),
        (lambda x, y, w: loss_and_gradient(x, y, w, flip="yes"), ArgumentTypeError, "flip"),
    ],
)
def test_loss_and_gradient_refuses_bad_arguments(call, cls, words):
    x, y, w, _ = _problem(np.random.default_rng(0))
    with pytest.raises(cls, match=words):
        call(x, y, w)


# --- fitting ---------------------------------------------------------------------------------


def _windows(result: LearnedKernels) -> np.ndarray:
    """The window matrix of the correlation model: one row per training output (the
    input window it reads, then a 1 for the bias)."""
    kh, kw = result.hidden.shape
    windows = sliding_window_view(result.train_images, (kh, kw), axis=(1, 2))
    rows = windows.reshape(-1, kh * kw)
    return np.hstack([rows, np.ones((len(rows), 1))])


def _least_squares(result: LearnedKernels):
    """The exact minimiser of the correlation model's loss, and its mean squared error."""
    a = _windows(result)
    y = result.train_targets.ravel()
    solution = np.linalg.lstsq(a, y, rcond=None)[0]
    mse = float(np.mean((a @ solution - y) ** 2))
    return solution[:-1].reshape(result.hidden.shape), float(solution[-1]), mse


@pytest.fixture(scope="module")
def default() -> LearnedKernels:
    return fit()


@pytest.mark.parametrize("data", ["convolve", "correlate"])
def test_the_data_come_from_the_hidden_kernel(data):
    r = fit(RNG_KERNELS["random 3x3"], data=data, noise=0.2, seed=4)
    op = signal.convolve2d if data == "convolve" else signal.correlate2d
    clean = np.stack([op(x, r.hidden, "valid") for x in r.train_images]) + r.hidden_bias
    residual = r.train_targets - clean
    assert abs(residual.std() / 0.2 - 1) < 0.05
    assert abs(residual.mean()) < 4 * 0.2 / math.sqrt(residual.size)


@pytest.mark.parametrize("data", ["convolve", "correlate"])
@pytest.mark.parametrize("name", list(RNG_KERNELS))
def test_both_models_reach_the_least_squares_kernel(name, data):
    r = fit(RNG_KERNELS[name], data=data, seed=7)
    w_ls, b_ls, mse = _least_squares(r)
    np.testing.assert_allclose(r.correlation, w_ls, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r.convolution, _half_turn(w_ls), rtol=0, atol=1e-8)
    assert r.correlation_bias == pytest.approx(b_ls, abs=1e-8)
    assert r.convolution_bias == pytest.approx(b_ls, abs=1e-8)
    assert r.losses_correlation[-1] == pytest.approx(mse, rel=1e-9)
    assert r.losses_convolution[-1] == pytest.approx(mse, rel=1e-9)
    assert r.flip_gap <= 2e-8


@pytest.mark.parametrize("data", ["convolve", "correlate"])
@pytest.mark.parametrize("name", list(RNG_KERNELS))
def test_recovery_of_the_hidden_kernel_within_the_noise(name, data):
    """The least-squares kernel differs from the hidden one by noise alone, with
    covariance σ²(AᵀA)⁻¹; every learned tap is within 5 of its standard deviations
    (plus what the steps leave), one model's as is, the other's rotated 180°."""
    hidden = RNG_KERNELS[name]
    r = fit(hidden, data=data, noise=0.3, seed=8)
    a = _windows(r)
    std = 0.3 * np.sqrt(np.diag(np.linalg.inv(a.T @ a)))[:-1].reshape(hidden.shape)
    as_correlation = hidden if data == "correlate" else _half_turn(hidden)
    assert np.all(np.abs(r.correlation - as_correlation) <= 5 * std + 1e-8)
    assert np.all(np.abs(r.convolution - _half_turn(as_correlation)) <= 5 * std + 1e-8)
    np.testing.assert_array_equal(r.expected_correlation, as_correlation)
    np.testing.assert_array_equal(r.expected_convolution, _half_turn(as_correlation))
    assert r.recovery_error <= 5 * float(std.max()) + 1e-8
    # the noise floor is the white-image estimate of the same standard deviation
    assert r.noise_floor == pytest.approx(float(std.mean()), rel=0.1)


def test_recovery_fails_where_it_should(default):
    """Not a vacuous check: the model that did not make the data does not learn the
    hidden kernel as it is (the F is asymmetric)."""
    assert np.abs(default.correlation - default.hidden).max() > 0.9
    assert np.abs(default.convolution - default.hidden).max() < 0.01


@pytest.mark.parametrize("steps", [1, 5, 30])
def test_the_kernels_become_flips_at_the_rate_of_gradient_descent(steps):
    """``rot180(conv kernel) - corr kernel`` follows ``e ← (I - lr·H) e`` with H the
    loss's Hessian ``2 AᵀA / M``: its 2-norm shrinks at least by ``ρ = max|1 - lr·λ|``
    per step, from a start where the two random kernels are far from flips."""
    r = fit(RNG_KERNELS["random 3x3"], steps=steps, lr=0.2, seed=9)
    a = _windows(r)
    rho = float(np.max(np.abs(1 - 0.2 * np.linalg.eigvalsh(2 * a.T @ a / len(a)))))
    assert rho < 1
    p = r.hidden.size
    assert r.flip_gaps[0] > 0.05
    for t, gap in enumerate(r.flip_gaps):
        assert gap <= math.sqrt(p) * rho**t * r.flip_gaps[0] * (1 + 1e-9) + 1e-12
    if steps < 30:
        assert r.flip_gap > 1e-3  # not yet flips: the relation comes from training


def test_from_a_zero_start_the_kernels_are_flips_at_every_step():
    r = fit(init_scale=0.0, steps=4)
    assert r.recovery_error > 0.1  # far from converged
    assert float(np.max(r.flip_gaps)) <= 1e-12
    np.testing.assert_allclose(r.losses_correlation, r.losses_convolution, rtol=1e-12)


def test_the_predictions_agree(default):
    assert default.prediction_scale > 1
    assert default.prediction_gap <= 1e-8 * default.prediction_scale
    early = fit(steps=3)
    assert early.prediction_gap > 0.1  # different random starts, not trained yet


def test_momentum_reaches_the_same_kernels():
    plain, heavy = fit(seed=2), fit(seed=2, momentum=0.5, lr=0.05, steps=120)
    assert heavy.flip_gap <= 1e-7
    np.testing.assert_allclose(heavy.correlation, plain.correlation, atol=1e-7)
    np.testing.assert_allclose(heavy.convolution, plain.convolution, atol=1e-7)


def test_the_loss_falls_to_the_noise_variance(default):
    for losses in (default.losses_correlation, default.losses_convolution):
        assert len(losses) == default.steps + 1
        assert losses[0] > 100 * losses[-1]
        assert losses[-1] == pytest.approx(default.noise**2, rel=0.05)
        assert np.all(np.diff(losses) <= 1e-12)  # plain gradient descent, small lr


def test_fit_is_deterministic():
    one, two, other = fit(seed=3, steps=20), fit(seed=3, steps=20), fit(seed=4, steps=20)
    for field in dataclasses.fields(LearnedKernels):
        a, b = getattr(one, field.name), getattr(two, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, field.name
    assert not np.array_equal(one.train_images, other.train_images)
    assert not np.array_equal(one.correlation, other.correlation)


def test_the_result_is_read_only(default):
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.steps = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        default.correlation[0, 0] = 1.0
    assert HIDDEN.flags.writeable is False


def test_the_summary_prints_the_numbers(default):
    text = str(default)
    assert f"{default.flip_gap:.3g}" in text
    assert f"{default.recovery_error:.3g}" in text
    assert "rotated 180°" in text


def test_divergence_is_an_error_not_a_result():
    with pytest.raises(ArgumentError, match=r"lr=1\.5: training diverged.*smaller lr"):
        fit(lr=1.5)


@pytest.mark.parametrize(
    ("kwargs", "cls", "words"),
    [
        ({"data": "conv"}, ArgumentError, "data='conv': must be one of 'convolve', 'correlate'"),
        ({"hidden": [1.0, 2.0]}, ArgumentError, "hidden.shape"),
        ({"hidden": [[1.0, np.inf]]}, ArgumentError, "finite"),
        ({"hidden": [["a"]]}, ArgumentTypeError, "hidden.dtype"),
        ({"size": 4}, ArgumentError, "size=4: must be at least 5"),
        ({"steps": 0}, ArgumentError, "steps=0"),
        ({"steps": 2.0}, ArgumentTypeError, "steps=2.0: must be an integer"),
        ({"lr": 0}, ArgumentError, "lr=0"),
        ({"momentum": 1.0}, ArgumentError, "momentum"),
        ({"noise": -0.1}, ArgumentError, "noise"),
        ({"noise": float("nan")}, ArgumentError, "noise"),
        ({"n_images": 0}, ArgumentError, "n_images=0"),
        ({"hidden_bias": float("inf")}, ArgumentError, "hidden_bias=inf: must be a finite real"),
        ({"seed": -1}, ArgumentError, "seed"),
        ({"n_images": 1, "size": 6}, ArgumentError, "training outputs"),
        ({"n_images": 5000, "size": 64}, ArgumentError, "limit"),
    ],
)
def test_fit_refuses_bad_arguments(kwargs, cls, words):
    with pytest.raises(cls, match=words.replace("(", r"\(").replace(".", r"\.")):
        fit(**kwargs)


# --- the figure ------------------------------------------------------------------------------


def test_figure_writes_a_non_blank_png(default, tmp_path):
    pytest.importorskip("matplotlib")
    pil = pytest.importorskip("PIL.Image")
    path = tmp_path / "learned.png"
    fig = figure(default, path)
    assert len(fig.axes) == 6  # four kernels, the colour bar, the training curves
    with pil.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 1000 and image.height > 250
        pixels = np.asarray(image.convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert colours > 50, "the figure is (nearly) blank"
    assert (pixels.reshape(-1, 3).std(axis=0) > 20).all()


def test_figure_without_a_path_writes_nothing(default, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    fig = figure(default)
    assert fig.axes and os.listdir(tmp_path) == []


def test_figure_refuses_other_objects():
    with pytest.raises(ArgumentTypeError, match="must be a LearnedKernels"):
        figure({"correlation": HIDDEN})


def test_threads_do_not_change_the_result():
    one, two = fit(steps=30, workers=1), fit(steps=30, workers=2)
    np.testing.assert_allclose(one.correlation, two.correlation, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.convolution, two.convolution, rtol=0, atol=1e-12)
    with pytest.raises(ArgumentError, match="workers"):
        fit(workers=0)
