"""Learned kernels: why a convolution layer may slide its kernel without flipping it.

A layer that correlates (``nn.conv(x, w)``, what deep-learning frameworks call
convolution) and one that truly convolves (``nn.conv(x, w, flip=True)``) compute the
same family of functions: weight ``w`` in one is weight ``w[::-1, ::-1]`` (the kernel
rotated 180°) in the other. Train both on the same data and they learn kernels that
are half-turns of each other, and make the same predictions; so whether a learned
layer flips its kernel does not matter.

`fit` shows it with convolib's own gradients (`convolib.nn.conv_grad_weight` and
`convolib.nn.conv_grad_bias`): random images go through a hidden kernel (by true
convolution, or by correlation with ``data="correlate"``), noise is added, and each
model is fitted by gradient descent on the mean squared error. The model whose
operation made the data recovers the hidden kernel as it is; the other recovers it
rotated 180°. `figure` draws the kernels and the loss curves.

>>> r = fit(seed=0)  # the data are made by convolution with the hidden kernel
>>> bool(r.flip_gaps[0] > 0.1), r.flip_gap < 1e-9  # max |conv. - corr. rotated 180°|
(True, True)
>>> float(np.abs(r.convolution - r.hidden).max()) < 0.01  # learned as it is
True
>>> float(np.abs(r.correlation - r.hidden[::-1, ::-1]).max()) < 0.01  # rotated 180°
True
>>> r.recovery_error < 5 * r.noise_floor, r.prediction_gap < 1e-8 * r.prediction_scale
(True, True)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import nn
from .errors import ArgumentTypeError, bad_argument, choice_error

__all__ = ["LearnedKernels", "figure", "fit", "loss_and_gradient"]

HIDDEN = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0, -0.5],
    ]
)
"""The default hidden kernel: a letter F (with a negative corner), whose 180° rotation
is plainly a different kernel, so a flipped result shows at a glance."""
HIDDEN.setflags(write=False)

MAX_SAMPLES = 2**22
"""The most pixels `fit` generates (training images × size²): a few seconds of work."""

TEST_IMAGES = 4
"""Fresh images (drawn after the training set) on which the two models' predictions
are compared."""


@dataclass(frozen=True, eq=False)
class LearnedKernels:
    """What `fit` returns (read-only arrays).

    ``correlation`` is the kernel learned by the correlation model
    (``nn.conv(x, w)``), ``convolution`` the one learned by the convolution model
    (``nn.conv(x, w, flip=True)``); ``*_bias`` their biases; ``losses_*`` the mean
    squared error on the training set before each step and after the last
    (``steps + 1`` values). ``train_images`` (N, size, size) and ``train_targets``
    (N, size - kh + 1, size - kw + 1) are the data both were fitted to.
    """

    hidden: np.ndarray
    hidden_bias: float
    data: str
    correlation: np.ndarray
    convolution: np.ndarray
    correlation_bias: float
    convolution_bias: float
    losses_correlation: np.ndarray
    losses_convolution: np.ndarray
    flip_gaps: np.ndarray
    """`flip_gap` before each step and after the last: how the two kernels become
    flips of each other as training goes on."""
    prediction_gap: float
    """max |correlation model - convolution model| over `TEST_IMAGES` fresh images."""
    prediction_scale: float
    """max |prediction| over the same images, for scale."""
    train_images: np.ndarray
    train_targets: np.ndarray
    noise: float
    steps: int
    lr: float
    momentum: float
    seed: int

    @property
    def expected_correlation(self) -> np.ndarray:
        """The kernel the correlation model should learn: the hidden one if the data
        were made by correlation, else the hidden one rotated 180°."""
        return self.hidden if self.data == "correlate" else _half_turn(self.hidden)

    @property
    def expected_convolution(self) -> np.ndarray:
        """The kernel the convolution model should learn (see `expected_correlation`)."""
        return self.hidden if self.data == "convolve" else _half_turn(self.hidden)

    @property
    def flip_gap(self) -> float:
        """max |convolution - correlation rotated 180°|: 0 when the kernels are flips."""
        return float(np.abs(self.convolution - _half_turn(self.correlation)).max())

    @property
    def recovery_error(self) -> float:
        """The larger of the two models' max |learned - expected| over the taps."""
        return float(
            max(
                np.abs(self.correlation - self.expected_correlation).max(),
                np.abs(self.convolution - self.expected_convolution).max(),
            )
        )

    @property
    def noise_floor(self) -> float:
        """``noise / sqrt(M)`` for M training outputs: the standard deviation that the
        noise leaves on each learned tap of white-noise images (least squares with
        ``AᵀA ≈ M·I``); no number of steps removes it."""
        return self.noise / math.sqrt(self.train_targets.size)

    def __str__(self) -> str:
        losses = (self.losses_correlation[-1], self.losses_convolution[-1])
        return "\n".join(
            [
                f"hidden {self.hidden.shape[0]}x{self.hidden.shape[1]} kernel, data made by "
                f"{self.data} + noise {self.noise:g}; {self.steps} steps of gradient descent "
                f"(lr {self.lr:g}, momentum {self.momentum:g}) on "
                f"{self.train_targets.size} outputs",
                f"final loss: correlation {losses[0]:.6g}, convolution {losses[1]:.6g} "
                f"(noise variance {self.noise**2:.6g})",
                f"max |convolution kernel - correlation kernel rotated 180°| = {self.flip_gap:.3g}",
                f"max |learned - hidden (as is or rotated)| = {self.recovery_error:.3g} "
                f"(noise floor per tap {self.noise_floor:.3g})",
                f"max |prediction gap| on fresh images = {self.prediction_gap:.3g} "
                f"(predictions up to {self.prediction_scale:.3g})",
            ]
        )


def _half_turn(k: np.ndarray) -> np.ndarray:
    return k[::-1, ::-1]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _integer(arg: str, value: object, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise bad_argument(arg, value, "must be an integer", cls=ArgumentTypeError)
    if value < low:
        raise bad_argument(arg, value, f"must be at least {low}")
    return int(value)


def _real(arg: str, value: object, low: float, high: float = math.inf, *, open_low=False):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise bad_argument(arg, value, "must be a real number", cls=ArgumentTypeError)
    v = float(value)
    below = v <= low if open_low else v < low
    if not math.isfinite(v) or below or v >= high:
        if math.isinf(low):
            raise bad_argument(arg, value, "must be a finite real number")
        lo = "(" if open_low else "["
        hi = "inf)" if math.isinf(high) else f"{high:g})"
        raise bad_argument(arg, value, f"must be a finite number in {lo}{low:g}, {hi}")
    return v


def _real_array(arg: str, value: object, ndim: int) -> np.ndarray:
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise bad_argument(
            arg, value, f"could not be read as an array ({err})", cls=ArgumentTypeError
        ) from None
    if a.dtype.kind not in "biuf":
        raise bad_argument(f"{arg}.dtype", a.dtype, "must be real numbers", cls=ArgumentTypeError)
    if a.ndim != ndim or 0 in a.shape:
        raise bad_argument(f"{arg}.shape", a.shape, f"must have {ndim} non-empty axes")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise bad_argument(arg, None, "must be finite (no NaN or inf)", show_value=False)
    return a


def loss_and_gradient(
    images: object, targets: object, weight: object, bias: float = 0.0, *, flip: bool = False
) -> tuple[float, np.ndarray, float]:
    """The training step's numbers for one single-kernel layer: the mean squared error
    ``mean((nn.conv(x, w, b, flip=flip) - targets)**2)`` over all outputs and its
    gradients with respect to ``weight`` and ``bias``.

    ``images`` is (N, H, W), ``weight`` (kh, kw), ``targets`` (N, H - kh + 1,
    W - kw + 1) (valid outputs). The gradients are convolib's own
    (`convolib.nn.conv_grad_weight`, `convolib.nn.conv_grad_bias`).

    A 2×2 kernel of ones on ``0..8``: the outputs are the window sums 8, 12, 20, 24
    (targets 0), so the loss is their mean square 296; ``dL/dy = y / 2`` gives
    ``dw[0, 0] = (4·0 + 6·1 + 10·3 + 12·4) = 84`` and ``db = 4 + 6 + 10 + 12 = 32``:

    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> loss, dw, db = loss_and_gradient(x, np.zeros((1, 2, 2)), np.ones((2, 2)))
    >>> loss, dw.tolist(), db
    (296.0, [[84.0, 116.0], [180.0, 212.0]], 32.0)
    """
    x = _real_array("images", images, 3)
    w = _real_array("weight", weight, 2)
    y = _real_array("targets", targets, 3)
    b = _real("bias", bias, -math.inf)
    if not isinstance(flip, bool | np.bool_):
        raise bad_argument("flip", flip, "must be True or False", cls=ArgumentTypeError)
    if any(n < m for n, m in zip(x.shape[1:], w.shape, strict=True)):
        raise bad_argument(
            "images.shape", x.shape, f"each image must be at least as large as the kernel {w.shape}"
        )
    want = (x.shape[0], *(n - m + 1 for n, m in zip(x.shape[1:], w.shape, strict=True)))
    if y.shape != want:
        raise bad_argument(
            "targets.shape", y.shape, f"must be {want}, the valid outputs of images and weight"
        )
    return _step(x[:, None], y, w[None, None], b, bool(flip))


def _step(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, flip: bool, workers=1):
    """Loss and gradients for a batched layer: x (N, 1, H, W), w (1, 1, kh, kw)."""
    residual = nn.conv(x, w, np.array([b]), flip=flip, workers=workers)[:, 0] - y
    loss = float(np.mean(residual**2))
    g_out = (2.0 / residual.size) * residual[:, None]
    grad_w = nn.conv_grad_weight(x, w.shape, g_out, flip=flip, workers=workers)
    grad_b = float(nn.conv_grad_bias(g_out)[0])
    return loss, grad_w[0, 0], grad_b


class _Model:
    """One layer being trained: weights, heavy-ball velocity, losses, last gradients."""

    def __init__(self, w: np.ndarray, flip: bool, workers: int | None) -> None:
        self.w, self.b, self.flip, self.workers = w, 0.0, flip, workers
        self.velocity_w, self.velocity_b = np.zeros_like(w), 0.0
        self.losses: list[float] = []
        self.grads: tuple[np.ndarray, float] = (np.zeros_like(w), 0.0)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> None:
        loss, grad_w, grad_b = _step(x, y, self.w, self.b, self.flip, self.workers)
        self.losses.append(loss)
        self.grads = (grad_w[None, None], grad_b)

    def step(self, lr: float, momentum: float) -> None:
        self.velocity_w = momentum * self.velocity_w - lr * self.grads[0]
        self.velocity_b = momentum * self.velocity_b - lr * self.grads[1]
        self.w = self.w + self.velocity_w
        self.b += self.velocity_b


def fit(
    hidden: object = None,
    *,
    data: str = "convolve",
    hidden_bias: float = 0.5,
    noise: float = 0.1,
    n_images: int = 16,
    size: int = 32,
    steps: int = 100,
    lr: float = 0.1,
    momentum: float = 0.0,
    init_scale: float = 0.1,
    seed: int = 0,
    workers: int | None = 1,
) -> LearnedKernels:
    """Fit a correlation model and a convolution model to data from a hidden kernel.

    ``n_images`` standard-normal images of ``size``×``size`` pixels go through
    ``hidden`` (default `HIDDEN`, 5×5) by ``data`` (``"convolve"``: a true
    convolution, ``"correlate"``: a deep-learning layer), in ``valid`` mode, plus
    ``hidden_bias``, plus Gaussian noise of standard deviation ``noise``. Each model
    (one kernel of ``hidden``'s shape and a bias) starts from its own random weights
    (standard deviation ``init_scale``; 0 starts both at zero) and takes ``steps``
    steps of gradient descent with learning rate ``lr`` and heavy-ball ``momentum``
    on the mean squared error. Everything is drawn from ``seed``, so equal arguments
    give equal results. ``workers`` is `convolib.convolve`'s; the layers are small,
    so each runs on one thread by default.

    Without noise, both models recover the hidden kernel exactly (to the steps'
    convergence), one of them rotated 180°:

    >>> r = fit([[0.0, 1.0], [2.0, 3.0]], data="correlate", noise=0.0, seed=1)
    >>> np.allclose(r.correlation, [[0, 1], [2, 3]]), np.allclose(r.convolution, [[3, 2], [1, 0]])
    (True, True)
    """
    kernel = HIDDEN if hidden is None else _real_array("hidden", hidden, 2)
    if data not in ("convolve", "correlate"):
        raise choice_error("data", data, ("convolve", "correlate"))
    hidden_bias = _real("hidden_bias", hidden_bias, -math.inf)
    noise = _real("noise", noise, 0.0)
    n_images = _integer("n_images", n_images, 1)
    size = _integer("size", size, max(kernel.shape))
    steps = _integer("steps", steps, 1)
    lr = _real("lr", lr, 0.0, open_low=True)
    momentum = _real("momentum", momentum, 0.0, 1.0)
    init_scale = _real("init_scale", init_scale, 0.0)
    seed = _integer("seed", seed, 0)
    if (n_images + TEST_IMAGES) * size * size > MAX_SAMPLES:
        raise bad_argument(
            "n_images, size",
            (n_images, size),
            f"would generate {(n_images + TEST_IMAGES) * size * size} pixels; the limit is "
            f"{MAX_SAMPLES}",
            "use fewer or smaller images",
        )
    outputs = n_images * math.prod(size - m + 1 for m in kernel.shape)
    if outputs < 4 * (kernel.size + 1):
        raise bad_argument(
            "n_images, size",
            (n_images, size),
            f"give {outputs} training outputs for {kernel.size + 1} learned numbers; "
            "at least 4 per learned number are needed to pin the kernel down",
            "use more or larger images",
        )

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_images + TEST_IMAGES, 1, size, size))
    w_true = kernel[None, None]
    bias = np.array([hidden_bias])
    clean = nn.conv(x, w_true, bias, flip=data == "convolve", workers=workers)[:, 0]
    x_train, x_test = x[:n_images], x[n_images:]
    y_train = clean[:n_images] + noise * rng.standard_normal(clean[:n_images].shape)

    corr = _Model(init_scale * rng.standard_normal(w_true.shape), False, workers)
    conv = _Model(init_scale * rng.standard_normal(w_true.shape), True, workers)
    gaps = []
    for step in range(steps + 1):
        gaps.append(float(np.abs(conv.w - corr.w[..., ::-1, ::-1]).max()))
        for model in (corr, conv):
            model.evaluate(x_train, y_train)
            losses = model.losses
            if (
                not math.isfinite(losses[-1])
                or losses[-1] > 100 * losses[0]
                or (step == steps and losses[-1] > losses[0])
            ):
                raise bad_argument(
                    "lr",
                    lr,
                    f"training diverged: the loss went from {losses[0]:.3g} to "
                    f"{losses[-1]:.3g} in {len(losses) - 1} steps",
                    "use a smaller lr (plain gradient descent on these images is stable "
                    "below about 1), or less momentum",
                )
            if step < steps:
                model.step(lr, momentum)
    p_corr = nn.conv(x_test, corr.w, np.array([corr.b]), workers=workers)[:, 0]
    p_conv = nn.conv(x_test, conv.w, np.array([conv.b]), flip=True, workers=workers)[:, 0]
    return LearnedKernels(
        hidden=_readonly(kernel),
        hidden_bias=hidden_bias,
        data=data,
        correlation=_readonly(corr.w[0, 0]),
        convolution=_readonly(conv.w[0, 0]),
        correlation_bias=corr.b,
        convolution_bias=conv.b,
        losses_correlation=_readonly(corr.losses),
        losses_convolution=_readonly(conv.losses),
        flip_gaps=_readonly(gaps),
        prediction_gap=float(np.abs(p_corr - p_conv).max()),
        prediction_scale=float(np.abs(p_corr).max()),
        train_images=_readonly(x_train[:, 0]),
        train_targets=_readonly(y_train),
        noise=noise,
        steps=steps,
        lr=lr,
        momentum=momentum,
        seed=seed,
    )


def figure(result: LearnedKernels, path: str | Path | None = None):
    """Draw `fit`'s result: the hidden kernel, the kernel learned by correlation, the
    one learned by convolution and that one rotated 180°, on one colour scale; then
    both loss curves and the `flip_gaps`. Returns the matplotlib ``Figure``
    (rendered by Agg, without pyplot or a display); with ``path``, also writes it
    there (PNG unless the suffix names another format). Needs matplotlib (imported
    only here).

    >>> fig = figure(fit(steps=20))
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes[:5]]  # doctest: +NORMALIZE_WHITESPACE
    ['hidden kernel', 'learned by correlation', 'learned by convolution',
     'learned by convolution,', 'training (log scale)']
    """
    if not isinstance(result, LearnedKernels):
        raise bad_argument(
            "result",
            type(result).__name__,
            "must be a LearnedKernels (what fit() returns)",
            cls=ArgumentTypeError,
        )
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ModuleNotFoundError(
            "learned.figure needs matplotlib: pip install matplotlib"
        ) from err

    fig = Figure(figsize=(13, 3.1), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 5, width_ratios=[1, 1, 1, 1, 1.7])
    source = "convolution" if result.data == "convolve" else "correlation"
    panels = [
        (result.hidden, f"hidden kernel\n(data made by {source})"),
        (result.correlation, "learned by correlation\nnn.conv(x, w)"),
        (result.convolution, "learned by convolution\nnn.conv(x, w, flip=True)"),
        (_half_turn(result.convolution), "learned by convolution,\nrotated 180°"),
    ]
    top = max(float(np.abs(k).max()) for k, _ in panels) or 1.0
    image = None
    for ax, (k, title) in zip(axes, panels, strict=False):
        image = ax.imshow(k, cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes[:4]), shrink=0.85)
    ax = axes[4]
    steps = np.arange(len(result.losses_correlation))
    ax.semilogy(steps, result.losses_correlation, label="loss, correlation model")
    ax.semilogy(steps, result.losses_convolution, "--", label="loss, convolution model")
    if result.noise > 0:
        ax.axhline(result.noise**2, color="grey", linestyle=":", label="noise variance")
    gaps = np.maximum(result.flip_gaps, np.finfo(np.float64).tiny)
    ax.semilogy(steps, gaps, label="max |conv. kernel - corr. kernel rotated 180°|")
    ax.set_xlabel("step")
    ax.set_title("training (log scale)", fontsize=9)
    ax.legend(fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
