"""Convolution at work on signals: LTI responses, correlation lags, template matching.

* `response` approximates the output of a linear time-invariant system,
  ``y(t) = ∫ x(τ) h(t - τ) dτ``, from samples of the input ``x`` and of the impulse
  response ``h`` taken ``dt`` apart, with the time of every output sample.
* `correlation_lags` says which lag each output of `convolib.correlate` belongs to.
* `match_template` computes the zero-mean normalised cross-correlation of a template
  with every window of an image, in 1-D, 2-D or N-D, accurately even on flat regions
  and on images far from zero (``1e6 + a small signal``).

>>> r = response([1.0, 1.0, 1.0], [1.0, 0.5], dt=0.5)
>>> r.t.tolist(), r.y.tolist()
([0.0, 0.5, 1.0], [0.5, 0.75, 0.75])
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .api import convolve, correlate, plan
from .boundary import canonical_boundary, pad
from .errors import ArgumentTypeError, bad_argument, choice_error
from .numbers import as_operand

__all__ = ["NCC_ACCURACY", "Response", "correlation_lags", "match_template", "response"]

RESPONSE_MODES = ("causal", "full")
RULES = ("rectangle", "trapezoid")
LAG_MODES = ("full", "same", "valid")
MATCH_MODES = ("valid", "same")

NCC_ACCURACY = 1e-8
"""Every finite `match_template` value is within this of the exact normalised
cross-correlation of the input values (then rounded to the output dtype)."""

_FLAT_ULPS = 4
"""Default flatness tolerance, in units of the input dtype's machine epsilon."""

_REFINE_BLOCK = 2**21
"""Elements gathered at a time when windows are recomputed one by one."""

_REDO_SHARE = 20
"""Windows are recomputed one by one when at most 1 in this many needs it; above
that, one more pass over the whole image (centred on those windows, with the direct
sum) is cheaper: gathering a window costs about 20 times a direct-sum pass per window."""

_MAX_PASSES = 4
"""Passes over the whole image, each centred anew, before the rest are done one by one."""

_DIRECT_FAMILY = ("direct", "reference", "gemm")
"""Algorithms whose error is bounded window by window (the direct-sum bound)."""


# --- argument checks --------------------------------------------------------------------------


def _real(arg: str, value: object, *, positive: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise bad_argument(arg, value, "must be a real number", cls=ArgumentTypeError)
    number = float(value)
    if not math.isfinite(number):
        raise bad_argument(arg, value, "must be finite")
    if positive and number <= 0:
        raise bad_argument(arg, value, "must be > 0", "give the sample spacing, e.g. dt=0.01")
    return number


def _length(arg: str, value: object) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise bad_argument(
            arg, value, "must be an integer (a number of samples)", cls=ArgumentTypeError
        )
    if value < 1:
        raise bad_argument(arg, value, "must be at least 1")
    return int(value)


def _numeric(arg: str, value: object, kinds: str, what: str) -> np.ndarray:
    """``value`` as an array whose dtype kind is in ``kinds``, non-empty."""
    a = as_operand(arg, value)
    if a.dtype.kind not in kinds:
        raise bad_argument(f"{arg}.dtype", a.dtype, f"must be {what}", cls=ArgumentTypeError)
    if a.ndim == 0:
        raise bad_argument(
            arg, value, "must have at least one axis", "pass a 1-D array of samples or more"
        )
    if a.size == 0:
        raise bad_argument(arg, a.shape, "must not be empty (a length of 0 on some axis)")
    return a


# --- LTI responses ----------------------------------------------------------------------------


class Response(NamedTuple):
    """The sampled output of an LTI system: ``y`` along the time axis, at times ``t``.

    ``t`` is 1-D (float64); ``y`` has the time axis where the input had it. Unpacks
    as ``t, y = response(...)``.
    """

    t: np.ndarray
    y: np.ndarray


def response(
    x: object,
    h: object,
    dt: float = 1.0,
    *,
    mode: str = "causal",
    rule: str = "rectangle",
    t0: float = 0.0,
    axis: int = -1,
) -> Response:
    """The response ``y = x * h`` of an LTI system with impulse response ``h`` to input ``x``.

    ``x[m]`` is the input at time ``t0 + m·dt``, ``h[j]`` the impulse response ``j·dt``
    after the impulse (so ``h[0]`` is at lag 0: a causal system). Both are taken as
    zero outside their samples. The integral ``y(t) = ∫ x(τ) h(t - τ) dτ`` at
    ``t_n = t0 + n·dt`` is approximated by

    * ``rule="rectangle"``: ``dt · Σ_m x[m] h[n - m]``, the discrete convolution
      scaled by ``dt`` (each sample stands for a strip of width ``dt``); the error is
      O(dt) for smooth signals;
    * ``rule="trapezoid"``: the trapezoid rule over the interval where both signals
      are sampled: the same sum less half its first and last terms; the error is
      O(dt²) for signals smooth on that interval (a step that starts at ``t0``
      counts as smooth: its jump is at the end of the interval).

    ``mode="causal"`` returns the first ``len(x)`` outputs (the times the input
    covers; give ``h`` at least as long as ``x`` unless it has decayed by then),
    ``mode="full"`` all ``len(x) + len(h) - 1``. The time axis is ``axis`` of ``x``;
    the other axes are channels. ``h`` is either 1-D (one impulse response for every
    channel) or has as many axes as ``x``, its channel axes of the same length or 1
    (a 1-D ``x`` with an N-D ``h`` works the same way round). Integer and bool
    inputs are computed in float64; float32 stays float32; complex works. NaN and
    ±inf make non-finite only the outputs whose sum contains them (an infinite end
    term gives NaN under the trapezoid rule).

    >>> tau, dt = 1.0, 0.01
    >>> t = np.arange(0, 3, dt)
    >>> r = response(np.ones_like(t), np.exp(-t / tau) / tau, dt, rule="trapezoid")
    >>> bool(np.max(np.abs(r.y - (1 - np.exp(-r.t / tau)))) < 1e-5)  # unit-step response
    True
    """
    if not isinstance(mode, str) or mode not in RESPONSE_MODES:
        raise choice_error("mode", mode, RESPONSE_MODES)
    if not isinstance(rule, str) or rule not in RULES:
        raise choice_error("rule", rule, RULES)
    step = _real("dt", dt, positive=True)
    start = _real("t0", t0)
    xa = _numeric("x", x, "biufc", "bool, integer, floating or complex")
    ha = _numeric("h", h, "biufc", "bool, integer, floating or complex")
    xa, ha, ax = _line_up(xa, ha, axis)
    xa = xa.astype(np.float64) if xa.dtype.kind in "biu" else xa
    ha = ha.astype(np.float64) if ha.dtype.kind in "biu" else ha

    y = convolve(xa, ha, "full", axes=ax)
    nx, nh = xa.shape[ax], ha.shape[ax]
    n_out = nx if mode == "causal" else nx + nh - 1
    y = np.moveaxis(y, ax, -1)[..., :n_out]
    if rule == "trapezoid":
        # The sum over m in [lo, hi] holds the trapezoid rule's end terms in full.
        n = np.arange(n_out)
        lo, hi = np.maximum(0, n - (nh - 1)), np.minimum(n, nx - 1)
        xm, hm = np.moveaxis(xa, ax, -1), np.moveaxis(ha, ax, -1)
        ends = xm[..., lo] * hm[..., n - lo] + xm[..., hi] * hm[..., n - hi]
        y = y - ends / 2
    y = np.moveaxis(y * step, -1, ax)
    t = start + step * np.arange(n_out, dtype=np.float64)
    return Response(t, y)


def _line_up(x: np.ndarray, h: np.ndarray, axis: object) -> tuple[np.ndarray, np.ndarray, int]:
    """``x`` and ``h`` with the same number of axes, and the time axis as an index."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool | np.bool_):
        raise bad_argument("axis", axis, "must be an integer", cls=ArgumentTypeError)
    ndim = max(x.ndim, h.ndim)
    if x.ndim != h.ndim and min(x.ndim, h.ndim) != 1:
        raise bad_argument(
            "h",
            h.shape,
            f"must be 1-D or have as many axes as x; got x.ndim={x.ndim}, h.ndim={h.ndim}",
            "add length-1 channel axes to h",
        )
    if not -ndim <= axis < ndim:
        raise bad_argument("axis", axis, f"must be in [{-ndim}, {ndim - 1}] for {ndim}-D inputs")
    ax = int(axis) % ndim

    def widen(a: np.ndarray) -> np.ndarray:
        shape = [1] * ndim
        shape[ax] = a.shape[0]
        return a.reshape(shape)

    if x.ndim < ndim:
        x = widen(x)
    elif h.ndim < ndim:
        h = widen(h)
    for a in range(ndim):
        if a != ax and x.shape[a] != h.shape[a] and 1 not in (x.shape[a], h.shape[a]):
            raise bad_argument(
                "h",
                h.shape,
                f"channel axis {a} must have x's length ({x.shape[a]}) or 1",
                f"x has shape {x.shape} with time along axis {ax}",
            )
    return x, h, ax


# --- lags -------------------------------------------------------------------------------------


def correlation_lags(n_x: int, n_k: int, mode: str = "full") -> np.ndarray:
    """The lag of each output of ``convolib.correlate(x, k, mode)`` for 1-D ``x``, ``k``.

    `convolib.correlate` computes ``y[ℓ] = Σ_j x[ℓ + j] conj(k[j])``: at lag ``ℓ`` the
    kernel's first sample lies on ``x[ℓ]``. So if ``x`` holds a copy of ``k`` that
    starts at sample ``p`` (``x`` lags ``k`` by ``p`` samples), the peak is at lag
    ``p``; a negative lag means ``k`` starts before ``x``. ``full`` gives lags
    ``-(n_k - 1) ... n_x - 1``; ``same`` the ``n_x`` of them from
    ``-(n_k // 2)``; ``valid`` ``0 ... n_x - n_k`` (or ``n_x - n_k ... 0`` when
    ``k`` is the longer one). These are ``scipy.signal.correlation_lags``'s values,
    except in ``same`` mode with ``n_x`` odd and ``n_k`` even, where scipy 1.17 gives
    lags one larger than those of ``scipy.signal.correlate``'s (and convolib's)
    ``same`` output.

    >>> x, k = [0, 0, 1, 2, 3, 0], [1, 2, 3]
    >>> lags = correlation_lags(len(x), len(k))
    >>> int(lags[np.argmax(correlate(x, k))])  # k starts at x[2]
    2
    """
    nx, nk = _length("n_x", n_x), _length("n_k", n_k)
    if not isinstance(mode, str) or mode not in LAG_MODES:
        raise choice_error("mode", mode, LAG_MODES)
    if mode == "full":
        return np.arange(-(nk - 1), nx)
    if mode == "same":
        return np.arange(-(nk // 2), nx - nk // 2)
    return np.arange(nx - nk + 1) if nx >= nk else np.arange(nx - nk, 1)


# --- template matching ------------------------------------------------------------------------


def match_template(
    image: object,
    template: object,
    *,
    mode: str = "valid",
    boundary: str = "constant",
    fill_value: float = 0.0,
    flat_tol: float | None = None,
) -> np.ndarray:
    """Zero-mean normalised cross-correlation of ``template`` with every window of ``image``.

    For each window ``W`` of the template's shape, ``Σ (W - mean W)(T - mean T)``
    divided by ``sqrt(Σ (W - mean W)² · Σ (T - mean T)²)``: a value in ``[-1, 1]``,
    1 (or -1) where the window is an increasing (or decreasing) affine copy of the
    template; OpenCV's ``TM_CCOEFF_NORMED``, scikit-image's ``match_template``. Any
    number of axes; ``template`` has as many as ``image`` (length 1 on an axis
    matches along it one sample at a time, e.g. per colour channel).

    ``mode="valid"`` gives one value per window inside the image (shape
    ``image.shape - template.shape + 1``); ``"same"`` one per image sample, the
    window placed as by ``correlate(image, template, "same")`` (template element
    ``m // 2`` on the sample) over the image padded by ``boundary`` (a ``np.pad``
    rule; ``constant`` pads with ``fill_value``).

    Flat windows: where a window's values span at most ``flat_tol`` times its
    largest magnitude, its variance is zero or rounding noise, and the result is 0
    (never NaN, inf or a spurious ±1). The default ``flat_tol`` is 4 machine
    epsilons of the image's dtype (0 for integers and bools: exactly constant
    windows only). A template that is flat by the same rule is an error.

    Accuracy: window sums are formed from the image less its mean, so an offset such
    as ``1e6 + signal`` costs nothing. Every window's result comes with an error
    bound; where it is too loose (windows of tiny variance far from the mean, or far
    below the image's overall contrast when a transform ran), the sums are formed
    again, centred on those windows and by the direct sum, and the last few windows
    are computed one by one. Every value is within `NCC_ACCURACY` of the exact result
    for the input values. The heavy sum runs through `convolib.correlate`, so the
    planner picks a transform for large templates. Computed in float64; the result is
    float64, or float32 where ``np.result_type(image, template, np.float32)`` is
    float32 (float32, float16 and 8/16-bit integer inputs with such templates).

    Non-finite values: NaN or ±inf in the image (or in ``fill_value``) make NaN the
    outputs whose window holds one, and only those; the template must be finite.
    Complex inputs are refused.

    >>> image = np.array([5.0, 1, 2, 3, 2, 9, 9, 9])
    >>> r = match_template(image, [1.0, 2, 3])  # the last window, 9 9 9, is flat: 0
    >>> r.round(3).tolist()
    [-0.721, 1.0, 0.0, 0.792, 0.866, 0.0]
    >>> float(np.max(np.abs(match_template(image + 1e9, [1.0, 2, 3]) - r))) < 1e-8
    True
    """
    if not isinstance(mode, str) or mode not in MATCH_MODES:
        raise choice_error("mode", mode, MATCH_MODES)
    real = "bool, integer or floating (real)"
    img = _numeric("image", image, "biuf", real)
    tpl = _numeric("template", template, "biuf", real)
    if tpl.ndim != img.ndim:
        raise bad_argument(
            "template",
            tpl.shape,
            f"must have as many axes as image; got image.ndim={img.ndim}, template.ndim={tpl.ndim}",
            "add length-1 axes to the template, e.g. template[None, :]",
        )
    rule = canonical_boundary(boundary)
    fill = _real_or_nan("fill_value", fill_value)
    if mode == "valid" and any(m > s for m, s in zip(tpl.shape, img.shape, strict=True)):
        raise bad_argument(
            "template",
            tpl.shape,
            f"is larger than image{img.shape} on some axis, so mode='valid' has no window",
            "crop the template, or use mode='same'",
        )
    tpl64 = tpl.astype(np.float64)
    if not np.isfinite(tpl64).all():
        raise bad_argument(
            "template",
            None,
            "must hold finite values; it holds NaN or inf",
            "replace them (np.nan_to_num) or crop them out",
            show_value=False,
        )
    tol_img = _flat_tol(flat_tol, img.dtype)
    tol_tpl = _flat_tol(flat_tol, tpl.dtype)
    span = float(tpl64.max() - tpl64.min())
    if span <= tol_tpl * float(np.abs(tpl64).max()):
        raise bad_argument(
            "template",
            None,
            f"is flat (zero variance: its values span {span:g}), so normalised "
            "cross-correlation with it is undefined",
            "use a template with some contrast",
            show_value=False,
        )
    out_dtype = np.result_type(img.dtype, tpl.dtype, np.float32)
    out_dtype = np.float32 if out_dtype == np.float32 else np.float64

    padded = img.astype(np.float64)
    if mode == "same":
        pads = tuple((m // 2, m - 1 - m // 2) for m in tpl.shape)
        padded = pad(padded, pads, rule, fill)
    return _ncc(padded, tpl64, tol_img).astype(out_dtype, copy=False)


def _real_or_nan(arg: str, value: object) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise bad_argument(arg, value, "must be a real number", cls=ArgumentTypeError)
    return float(value)


def _flat_tol(flat_tol: object, dtype: np.dtype) -> float:
    if flat_tol is not None:
        value = _real("flat_tol", flat_tol)
        if value < 0:
            raise bad_argument("flat_tol", flat_tol, "must be >= 0")
        return value
    return _FLAT_ULPS * float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0


def _windowed(a: np.ndarray, m: tuple[int, ...], reduce: str) -> np.ndarray:
    """The max or min of ``a`` over every valid window of shape ``m``."""
    from scipy import ndimage

    filt = {"max": ndimage.maximum_filter1d, "min": ndimage.minimum_filter1d}[reduce]
    for axis, size in enumerate(m):
        if size > 1:
            # a centred window of `size` covers [i - size//2, i - size//2 + size)
            a = filt(a, size, axis=axis, mode="nearest")
            keep = [slice(None)] * a.ndim
            keep[axis] = slice(size // 2, size // 2 + a.shape[axis] - size + 1)
            a = a[tuple(keep)]
    return a


def _box_sums(a: np.ndarray, m: tuple[int, ...]) -> np.ndarray:
    """Sums of ``a`` over every valid window of shape ``m``, one axis at a time.

    The direct sum is forced: its error bound is local to each window (a transform's
    would be spread over the whole array), and these passes are cheap.
    """
    for axis, size in enumerate(m):
        if size > 1:
            ones = np.ones([size if i == axis else 1 for i in range(a.ndim)])
            a = correlate(a, ones, "valid", axes=axis, method="direct")
    return a


def _power_of_two_scale(a: np.ndarray) -> float:
    """An exact scale (a power of two) that brings ``max |a|`` into [0.5, 1)."""
    top = float(np.max(np.abs(a))) if a.size else 0.0
    return 1.0 if top == 0 else math.ldexp(1.0, -math.frexp(top)[1])


def _ncc(padded: np.ndarray, tpl: np.ndarray, tol: float) -> np.ndarray:
    """NCC of ``tpl`` with every valid window of ``padded`` (both float64)."""
    m = tpl.shape
    out_shape = tuple(s - k + 1 for s, k in zip(padded.shape, m, strict=True))

    bad = ~np.isfinite(padded)
    nonfinite = bool(bad.any())
    if nonfinite:
        if bad.all():
            return np.full(out_shape, np.nan)
        padded = np.where(bad, padded[~bad].mean(), padded)
    high, low = _windowed(padded, m, "max"), _windowed(padded, m, "min")
    spread = high - low
    flat = spread <= tol * np.maximum(np.abs(high), np.abs(low))
    holds_bad = _windowed(bad.view(np.uint8), m, "max").astype(bool) if nonfinite else flat

    # Scale by powers of two (exactly) so that squares neither overflow nor underflow.
    scale = _power_of_two_scale(padded)
    padded = padded * scale
    spread *= scale
    t = tpl - tpl.mean()
    t -= t.mean()
    t *= _power_of_two_scale(t)
    t_norm2 = float(np.sum(t * t))

    out = np.zeros(out_shape)
    todo = ~(flat | holds_bad)
    centre, method = float(padded.mean()), "auto"
    for _ in range(_MAX_PASSES):
        num, var, ok, means = _centred_pass(padded, centre, t, t_norm2, spread, method)
        done = todo & ok
        out[done] = num[done] / np.sqrt(var[done] * t_norm2)
        todo &= ~ok
        if np.count_nonzero(todo) * _REDO_SHARE <= todo.size:
            break
        # Many windows of small variance far from the centre: centre again on them,
        # and take the direct sum, whose error bound is local to each window.
        rest = means[todo]  # the middle one of them (an actual mean, not an average of two)
        centre = float(np.partition(rest, len(rest) // 2)[len(rest) // 2])
        method = "direct" if padded.ndim <= 3 else "reference"
    if todo.any():
        out[todo] = _ncc_windows(padded, t, t_norm2, np.nonzero(todo))
    out = np.clip(out, -1.0, 1.0)
    if nonfinite:
        out[holds_bad] = np.nan
    return out


def _centred_pass(
    padded: np.ndarray,
    centre: float,
    t: np.ndarray,
    t_norm2: float,
    spread: np.ndarray,
    method: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window sums of ``padded - centre``: the NCC numerator, n·variance, where both are
    accurate enough (by their error bounds), and the window means."""
    m, n = t.shape, t.size
    eps = float(np.finfo(np.float64).eps)
    d = padded - centre
    d_scale = _power_of_two_scale(d)
    d *= d_scale

    planned = plan("correlate", d, t, "valid", method=method)
    num = planned(d, t)
    s1 = _box_sums(d, m)
    s2 = _box_sums(d * d, m)
    var = s2 - s1 * s1 / n

    # First-order error bounds. Each box pass errs by at most 2·size·eps relative to
    # the sum of |terms| (convolib's direct-sum bound); |s1| <= sqrt(n·s2) turns the
    # s1 part into a multiple of s2. The numerator: the direct-sum bound, and the FFT
    # bound eps·log2(L)·|d|·|t| where a transform ran.
    var_err = 2 * (6 * sum(m) + 4) * eps * s2
    # A lower bound on n·variance: two values `spread` apart give at least spread²/2.
    var_low = np.maximum((spread * d_scale) ** 2 / 2, var - var_err)
    num_tol = NCC_ACCURACY * np.sqrt(var_low * t_norm2)
    ok = (var_err <= NCC_ACCURACY * var_low) & (8 * n * eps * np.sqrt(s2 * t_norm2) <= num_tol)
    if planned.algorithm not in _DIRECT_FAMILY:
        length = math.prod(s + k for s, k in zip(d.shape, m, strict=True))
        fft_err = eps * math.log2(length) * float(np.linalg.norm(d)) * math.sqrt(t_norm2)
        ok &= 4 * fft_err <= num_tol
    return num, var, ok, s1 / (n * d_scale) + centre


def _ncc_windows(padded: np.ndarray, t: np.ndarray, t_norm2: float, where: tuple) -> np.ndarray:
    """NCC at the windows starting at ``where``, each centred on its own mean."""
    from numpy.lib.stride_tricks import sliding_window_view

    views = sliding_window_view(padded, t.shape)
    flat_t = t.ravel()
    count = len(where[0])
    step = max(1, _REFINE_BLOCK // t.size)
    out = np.empty(count)
    for start in range(0, count, step):
        index = tuple(w[start : start + step] for w in where)
        w = views[index].reshape(len(index[0]), -1)
        w = w - w.mean(axis=1, keepdims=True)
        w -= w.mean(axis=1, keepdims=True)
        top = np.max(np.abs(w), axis=1, keepdims=True)
        _, exponent = np.frexp(np.where(top > 0, top, 1.0))
        w = np.ldexp(w, -exponent)
        den = np.sqrt(np.einsum("ij,ij->i", w, w) * t_norm2)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, (w @ flat_t) / den, 0.0)
        out[start : start + step] = np.clip(value, -1.0, 1.0)
    return out
