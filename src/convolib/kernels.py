"""Named kernels: smoothing, derivatives, sharpening, line blur, Gabor, and the rest.

Every kernel here is meant for `convolib.correlate` (the kernel slides as it is, as in
``scipy.ndimage.correlate``, OpenCV's ``filter2D`` and deep-learning "convolution"),
with ``mode="same"``: each has an odd length on every axis, and its centre tap sits
on the output sample. Most are symmetric under a half turn (``k[::-1, ::-1] == k``),
so `convolib.convolve` gives the same result; the exceptions say so: derivatives
(`sobel`, `scharr`, `prewitt`) change sign under `convolve`, `emboss` lights from
the opposite side, `shift` moves the other way, and an odd-phase `gabor` changes sign.

Orientation: axis 0 is rows (down the screen), the last axis columns (to the right).
Angles (`motion_blur`, `gabor`) are in degrees, counter-clockwise on the screen from
the column axis: 0 points right, 90 up (towards row 0).

Normalisation: blurs (`box`, `gaussian`, `motion_blur`) sum to 1, so a constant
image stays constant; `sharpen`, `unsharp_mask`, `emboss` and `delta` sum to 1 too;
derivatives, `laplacian`, `log` and `dog` sum to 0. Integer kernels (`sobel`,
`laplacian`, `sharpen`, ...) are int64, so integer images give exact results.

`parse` reads a kernel from a string such as ``"gaussian:sigma=2"`` (for command
lines); `names` lists the names it knows.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
from collections.abc import Callable
from functools import reduce

import numpy as np

from .errors import ArgumentTypeError, bad_argument, choice_error

__all__ = [
    "box",
    "delta",
    "dog",
    "emboss",
    "gabor",
    "gaussian",
    "laplacian",
    "log",
    "motion_blur",
    "names",
    "parse",
    "prewitt",
    "scharr",
    "sharpen",
    "shift",
    "sobel",
    "unsharp_mask",
]

MAX_TAPS = 2**24
"""The most taps (elements) a kernel may have: 128 MiB of float64."""

_REGISTRY: dict[str, Callable[..., np.ndarray]] = {}


def _named(*aliases: str) -> Callable:
    """Register a kernel function under its own name (and ``aliases``) for `parse`."""

    def register(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        for name in (func.__name__, *aliases):
            _REGISTRY[name] = func
        return func

    return register


# --- argument checks --------------------------------------------------------------------------


def _integer(arg: str, value: object, low: int | None = None) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise bad_argument(arg, value, "must be an integer", cls=ArgumentTypeError)
    if low is not None and value < low:
        raise bad_argument(arg, value, f"must be at least {low}")
    return int(value)


def _real(arg: str, value: object, low: float | None = None, *, strict: bool = False) -> float:
    """A finite real number, at least ``low`` (above it with ``strict``)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise bad_argument(arg, value, "must be a real number", cls=ArgumentTypeError)
    number = float(value)
    if not math.isfinite(number):
        raise bad_argument(arg, value, "must be finite")
    if low is not None and (number <= low if strict else number < low):
        raise bad_argument(arg, value, f"must be {'>' if strict else '>='} {low:g}")
    return number


def _ndim(ndim: object, default: int = 2, **per_axis: object) -> int:
    """The number of axes: ``ndim`` if given, else the length of a per-axis argument."""
    lengths = {name: len(v) for name, v in per_axis.items() if isinstance(v, tuple | list)}
    if ndim is None:
        if len(set(lengths.values())) > 1:
            raise bad_argument(
                ", ".join(lengths),
                tuple(lengths.values()),
                "per-axis values must have one entry per axis, the same number each",
                show_value=False,
            )
        return next(iter(lengths.values()), default)
    d = _integer("ndim", ndim, 1)
    for name, length in lengths.items():
        if length != d:
            raise bad_argument(
                name,
                per_axis[name],
                f"has {length} entries, but ndim={d}",
                f"give one value per axis, or a single value for all {d} axes",
            )
    return d


def _per_axis(arg: str, value: object, ndim: int, check: Callable[[str, object], object]) -> list:
    """``value`` (one for all axes, or a tuple/list with one per axis), each checked."""
    if isinstance(value, tuple | list):
        if len(value) != ndim:
            raise bad_argument(
                arg, value, f"has {len(value)} entries for {ndim} axes", "give one per axis"
            )
        return [check(f"{arg}[{i}]", v) for i, v in enumerate(value)]
    return [check(arg, value)] * ndim


def _flag(arg: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise bad_argument(arg, value, "must be True or False", cls=ArgumentTypeError)
    return bool(value)


def _odd_size(arg: str, value: object) -> int:
    size = _integer(arg, value, 1)
    if size % 2 == 0:
        raise bad_argument(
            arg,
            value,
            "must be odd, so that the kernel has a centre tap",
            f"use {size - 1} or {size + 1}",
        )
    return size


def _radii(sigmas: list[float], size: object, truncate: object, ndim: int) -> list[int]:
    """Half-widths: from ``size`` (odd), else ``int(truncate * sigma + 0.5)`` as scipy.ndimage."""
    if size is not None and truncate is not None:
        raise bad_argument(
            "size, truncate",
            (size, truncate),
            "both set the kernel's extent",
            "pass one of them",
            show_value=False,
        )
    if size is not None:
        return [(s - 1) // 2 for s in _per_axis("size", size, ndim, _odd_size)]
    t = 4.0 if truncate is None else _real("truncate", truncate, 0.0, strict=True)
    return [int(t * s + 0.5) for s in sigmas]


def _check_taps(shape: tuple[int, ...], hint: str) -> None:
    taps = math.prod(shape)
    if taps > MAX_TAPS:
        raise bad_argument(
            "kernel shape",
            shape,
            f"would have {taps} taps, more than the limit of {MAX_TAPS}",
            hint,
        )


def _outer(factors: list[np.ndarray]) -> np.ndarray:
    """The N-D kernel whose value is the product of one 1-D factor per axis."""
    return reduce(np.multiply.outer, factors)


def _axis(axis: object, ndim: int) -> int:
    a = _integer("axis", axis)
    if not -ndim <= a < ndim:
        raise bad_argument("axis", axis, f"must be in [{-ndim}, {ndim - 1}] for ndim={ndim}")
    return a % ndim


# --- blurs ------------------------------------------------------------------------------------


@_named("mean")
def box(size: int | tuple[int, ...] = 3, *, ndim: int | None = None, normalize: bool = True):
    """The box (mean) filter: equal weights over ``size`` samples per axis, summing to 1.

    ``size`` is one odd length for every axis or one per axis; ``ndim`` defaults to
    the number of sizes given, else 2. ``normalize=False`` gives int64 ones (a
    moving sum). Also registered as ``"mean"``.

    >>> box(3, ndim=1)
    array([0.33333333, 0.33333333, 0.33333333])
    >>> box((1, 3), normalize=False)
    array([[1, 1, 1]])
    """
    d = _ndim(ndim, size=size)
    shape = tuple(_per_axis("size", size, d, _odd_size))
    _check_taps(shape, "use a smaller size")
    if not _flag("normalize", normalize):
        return np.ones(shape, np.int64)
    return np.full(shape, 1.0 / math.prod(shape))


def _gaussian_1d(sigma: float, radius: int) -> np.ndarray:
    """``exp(-x**2 / (2 sigma**2))`` at ``x = -radius..radius``, normalised to sum 1."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    if sigma == 0:
        return (x == 0).astype(np.float64)
    phi = np.exp(-0.5 * (x / sigma) ** 2)
    return phi / phi.sum()


def _gaussian_parts(sigma, size, truncate, ndim, positive=False):
    d = _ndim(ndim, sigma=sigma, size=size)
    low_check = (lambda a, v: _real(a, v, 0.0, strict=True)) if positive else _sigma
    sigmas = _per_axis("sigma", sigma, d, low_check)
    radii = _radii(sigmas, size, truncate, d)
    _check_taps(tuple(2 * r + 1 for r in radii), "use a smaller sigma, size or truncate")
    return sigmas, radii


def _sigma(arg: str, value: object) -> float:
    return _real(arg, value, 0.0)


@_named()
def gaussian(
    sigma: float | tuple[float, ...] = 1.0,
    *,
    size: int | tuple[int, ...] | None = None,
    truncate: float | None = None,
    ndim: int | None = None,
) -> np.ndarray:
    """The sampled Gaussian ``exp(-x**2 / (2 sigma**2))`` per axis, normalised to sum 1.

    ``sigma`` is one standard deviation for every axis or one per axis (0 leaves an
    axis alone). The half-width is ``int(truncate * sigma + 0.5)`` with ``truncate=4``
    by default, exactly as ``scipy.ndimage.gaussian_filter``, so
    ``correlate(x, gaussian(s), "same", boundary="symmetric")`` is
    ``gaussian_filter(x, s)``; or give an odd ``size`` instead. The N-D kernel is the
    product of 1-D kernels, each normalised on its own.

    >>> gaussian(1.0, truncate=1.0, ndim=1).round(4)
    array([0.2741, 0.4519, 0.2741])
    >>> gaussian((0.0, 1.0), size=(1, 5)).shape
    (1, 5)
    """
    sigmas, radii = _gaussian_parts(sigma, size, truncate, ndim)
    return _outer([_gaussian_1d(s, r) for s, r in zip(sigmas, radii, strict=True)])


@_named()
def motion_blur(length: float = 9, angle: float = 0.0) -> np.ndarray:
    """A straight-line blur: the segment of ``length`` through the centre at ``angle``.

    Each tap is the length of the segment inside that pixel's unit square, divided by
    ``length``, so the kernel sums to 1 and lines at any angle are antialiased.
    ``angle`` is in degrees, counter-clockwise on the screen from the column axis:
    0 is a horizontal line (a ``1 x length`` box for odd lengths), 90 a vertical one,
    45 runs from bottom-left to top-right. The line is symmetric under a half turn,
    so `convolve` gives the same result as `correlate`.

    >>> motion_blur(3, 0)
    array([[0.33333333, 0.33333333, 0.33333333]])
    >>> motion_blur(2, 90).T
    array([[0.25, 0.5 , 0.25]])
    """
    length = _real("length", length, 0.0, strict=True)
    angle = _real("angle", angle)
    if length > 1000:
        raise bad_argument("length", length, "must be at most 1000 (pixels)")
    turn = math.radians(angle % 360.0)
    ux, uy = math.cos(turn), math.sin(turn)
    ux, uy = (0.0 if abs(u) < 1e-15 else u for u in (ux, uy))
    r = math.ceil(length / 2) + 1
    offsets = np.arange(-r, r + 1, dtype=np.float64)
    # segment p(t) = (t - 1/2) * length * (ux, uy), t in [0, 1]; x right, y up (= -row)
    lo, hi = np.zeros((2 * r + 1, 2 * r + 1)), np.ones((2 * r + 1, 2 * r + 1))
    for direction, centres in ((ux, offsets[None, :]), (uy, -offsets[:, None])):
        if direction == 0:
            outside = np.abs(centres) >= 0.5  # the line runs along the middle of the row
            hi = np.where(outside, 0.0, hi)
            continue
        a = (centres - 0.5) / (direction * length) + 0.5
        b = (centres + 0.5) / (direction * length) + 0.5
        lo = np.maximum(lo, np.minimum(a, b))
        hi = np.minimum(hi, np.maximum(a, b))
    weights = np.clip(hi - lo, 0.0, None)
    weights[weights < 1e-9] = 0.0
    rows = np.flatnonzero(weights.any(axis=1))
    cols = np.flatnonzero(weights.any(axis=0))
    keep_r = max(abs(rows[0] - r), abs(rows[-1] - r))
    keep_c = max(abs(cols[0] - r), abs(cols[-1] - r))
    weights = weights[r - keep_r : r + keep_r + 1, r - keep_c : r + keep_c + 1]
    return weights / weights.sum()


# --- derivatives ------------------------------------------------------------------------------


def _derivative(smooth: list[int], axis: object, ndim: object, normalize: bool) -> np.ndarray:
    """Central difference ``[-1, 0, 1]`` along ``axis``, ``smooth`` along the others."""
    d = _integer("ndim", ndim, 1)
    a = _axis(axis, d)
    factors = [np.array([-1, 0, 1] if i == a else smooth, np.int64) for i in range(d)]
    kernel = _outer(factors)
    if _flag("normalize", normalize):
        return kernel / (2 * sum(smooth) ** (d - 1))
    return kernel


@_named()
def sobel(axis: int = -1, *, ndim: int = 2, normalize: bool = False) -> np.ndarray:
    """Sobel derivative along ``axis``: ``[-1, 0, 1]`` there, ``[1, 2, 1]`` on the other axes.

    For `correlate`: the response is positive where values increase along ``axis``
    (as ``scipy.ndimage.sobel``); `convolve` gives the negative. The int64 kernel
    turns a ramp of slope ``s`` into ``2 * 4**(ndim - 1) * s`` (8 s in 2-D);
    ``normalize=True`` divides by that factor, giving the slope itself. Sums to 0.

    >>> sobel(axis=1)
    array([[-1,  0,  1],
           [-2,  0,  2],
           [-1,  0,  1]])
    """
    return _derivative([1, 2, 1], axis, ndim, normalize)


@_named()
def scharr(axis: int = -1, *, ndim: int = 2, normalize: bool = False) -> np.ndarray:
    """Scharr derivative along ``axis``: ``[-1, 0, 1]`` there, ``[3, 10, 3]`` on the others.

    Better rotational symmetry than `sobel`. Same convention: for `correlate`,
    positive where values increase along ``axis``; a ramp of slope ``s`` gives
    ``2 * 16**(ndim - 1) * s``, or ``s`` with ``normalize=True``. Sums to 0.

    >>> scharr(axis=0)
    array([[ -3, -10,  -3],
           [  0,   0,   0],
           [  3,  10,   3]])
    """
    return _derivative([3, 10, 3], axis, ndim, normalize)


@_named()
def prewitt(axis: int = -1, *, ndim: int = 2, normalize: bool = False) -> np.ndarray:
    """Prewitt derivative along ``axis``: ``[-1, 0, 1]`` there, ``[1, 1, 1]`` on the others.

    Same convention as `sobel` (and ``scipy.ndimage.prewitt``): for `correlate`,
    positive where values increase along ``axis``; a ramp of slope ``s`` gives
    ``2 * 3**(ndim - 1) * s``, or ``s`` with ``normalize=True``. Sums to 0.

    >>> prewitt(axis=-1, ndim=1)
    array([-1,  0,  1])
    """
    return _derivative([1, 1, 1], axis, ndim, normalize)


@_named()
def laplacian(neighbours: int | None = None, *, ndim: int = 2) -> np.ndarray:
    """The discrete Laplacian: each neighbour weighs 1, the centre minus their count.

    ``neighbours`` is ``2 * ndim`` (the default: 4 in 2-D, the sum of ``[1, -2, 1]``
    along each axis, as ``scipy.ndimage.laplace``) or ``3**ndim - 1`` (8 in 2-D: every
    sample of the 3x3 block). Negative at a bright spot; int64; sums to 0.

    >>> laplacian()
    array([[ 0,  1,  0],
           [ 1, -4,  1],
           [ 0,  1,  0]])
    >>> laplacian(8)
    array([[ 1,  1,  1],
           [ 1, -8,  1],
           [ 1,  1,  1]])
    """
    d = _integer("ndim", ndim, 1)
    faces, full = 2 * d, 3**d - 1
    count = faces if neighbours is None else _integer("neighbours", neighbours)
    if count not in (faces, full):
        raise bad_argument(
            "neighbours",
            neighbours,
            f"must be {faces} (along the axes) or {full} (the whole 3**ndim block) for ndim={d}",
        )
    centre = (1,) * d
    if count == full:
        kernel = np.ones((3,) * d, np.int64)
    else:
        kernel = np.zeros((3,) * d, np.int64)
        for a in range(d):
            for step in (0, 2):
                kernel[(*centre[:a], step, *centre[a + 1 :])] = 1
    kernel[centre] = -count
    return kernel


@_named()
def log(
    sigma: float | tuple[float, ...] = 1.0,
    *,
    size: int | tuple[int, ...] | None = None,
    truncate: float | None = None,
    ndim: int | None = None,
    zero_sum: bool = True,
) -> np.ndarray:
    """Laplacian of Gaussian: the sum over axes of the Gaussian's second derivative.

    ``G(x) * sum_i (x_i**2 / sigma_i**4 - 1 / sigma_i**2)``, with ``G`` the normalised
    `gaussian` kernel of the same ``sigma``, ``size`` and ``truncate``; negative at the
    centre (the "Mexican hat" is ``-log(...)``). The truncated samples do not sum to
    exactly 0; ``zero_sum=True`` (default) subtracts their sum times ``G``, so a
    constant image gives 0 and the tails still vanish. With ``zero_sum=False`` it
    matches ``scipy.ndimage.gaussian_laplace`` with the same ``truncate``.

    >>> k = log(1.4)
    >>> k.shape, bool(abs(k.sum()) < 1e-15), bool(k[6, 6] < 0)
    ((13, 13), True, True)
    """
    sigmas, radii = _gaussian_parts(sigma, size, truncate, ndim, positive=True)
    factors = [_gaussian_1d(s, r) for s, r in zip(sigmas, radii, strict=True)]
    g = _outer(factors)
    curvature = reduce(
        np.add.outer,
        [np.arange(-r, r + 1) ** 2 / s**4 - 1 / s**2 for s, r in zip(sigmas, radii, strict=True)],
    )
    kernel = g * curvature
    if _flag("zero_sum", zero_sum):
        kernel -= kernel.sum() * g
    return kernel


@_named()
def dog(
    sigma1: float | tuple[float, ...] = 1.0,
    sigma2: float | tuple[float, ...] | None = None,
    *,
    size: int | tuple[int, ...] | None = None,
    truncate: float | None = None,
    ndim: int | None = None,
) -> np.ndarray:
    """Difference of Gaussians: ``gaussian(sigma1) - gaussian(sigma2)`` on one grid.

    ``sigma2`` defaults to ``1.6 * sigma1`` (close to a scaled `log`). Both are
    sampled on the grid of the wider one (half-width ``int(truncate * max sigma +
    0.5)``, or an odd ``size``) and each is normalised to sum 1 there, so the kernel
    sums to 0: positive in the centre when ``sigma1 < sigma2``.

    >>> k = dog(1.0, 2.0, ndim=1)
    >>> k.shape, bool(abs(k.sum()) < 1e-15), bool(k[8] > 0)
    ((17,), True, True)
    """
    d = _ndim(ndim, sigma1=sigma1, sigma2=sigma2, size=size)
    s1 = _per_axis("sigma1", sigma1, d, _sigma)
    s2 = [1.6 * s for s in s1] if sigma2 is None else _per_axis("sigma2", sigma2, d, _sigma)
    radii = _radii([max(a, b) for a, b in zip(s1, s2, strict=True)], size, truncate, d)
    _check_taps(tuple(2 * r + 1 for r in radii), "use a smaller sigma, size or truncate")
    narrow = _outer([_gaussian_1d(s, r) for s, r in zip(s1, radii, strict=True)])
    wide = _outer([_gaussian_1d(s, r) for s, r in zip(s2, radii, strict=True)])
    return narrow - wide


# --- sharpening and effects -------------------------------------------------------------------


@_named()
def delta(size: int | tuple[int, ...] = 1, *, ndim: int | None = None) -> np.ndarray:
    """The identity: 1 at the centre, 0 elsewhere (int64), in an odd ``size`` per axis.

    ``correlate(x, delta(), "same")`` and ``convolve(x, delta(), "same")`` return
    ``x``; in ``full`` mode the output is ``x`` padded by the half-widths.

    >>> delta(3, ndim=1)
    array([0, 1, 0])
    """
    d = _ndim(ndim, size=size)
    shape = tuple(_per_axis("size", size, d, _odd_size))
    _check_taps(shape, "use a smaller size")
    kernel = np.zeros(shape, np.int64)
    kernel[tuple(s // 2 for s in shape)] = 1
    return kernel


@_named()
def shift(offset: int | tuple[int, ...]) -> np.ndarray:
    """A kernel that moves content by ``offset`` samples per axis under `correlate`.

    ``correlate(x, shift(o), "same")[i] == x[i - o]`` (a positive offset moves
    content down/right, and zeros, or the ``boundary`` rule, fill in); with
    ``boundary="wrap"`` it is ``np.roll(x, o)``. `convolve` moves by ``-o``.
    The int64 kernel has length ``2 * |o| + 1`` on each axis, one 1 at the centre
    minus ``o``.

    >>> shift(1)
    array([1, 0, 0])
    >>> shift((0, -1))
    array([[0, 0, 1]])
    """
    if isinstance(offset, tuple | list):
        offsets = [_integer(f"offset[{i}]", o) for i, o in enumerate(offset)]
        if not offsets:
            raise bad_argument("offset", offset, "must have at least one entry")
    else:
        offsets = [_integer("offset", offset)]
    shape = tuple(2 * abs(o) + 1 for o in offsets)
    _check_taps(shape, "use a smaller offset, or np.roll for large shifts")
    kernel = np.zeros(shape, np.int64)
    kernel[tuple(abs(o) - o for o in offsets)] = 1
    return kernel


@_named()
def sharpen(neighbours: int | None = None, *, amount: float = 1, ndim: int = 2) -> np.ndarray:
    """Sharpening: ``delta() - amount * laplacian(neighbours)``, summing to 1.

    With ``amount=1``, 4 neighbours give ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``
    (centre 5, the default) and 8 give the centre-9 kernel with -1 all around.
    Integer ``amount`` gives int64, otherwise float64.

    >>> sharpen()
    array([[ 0, -1,  0],
           [-1,  5, -1],
           [ 0, -1,  0]])
    >>> sharpen(8)
    array([[-1, -1, -1],
           [-1,  9, -1],
           [-1, -1, -1]])
    """
    lap = laplacian(neighbours, ndim=ndim)
    if isinstance(amount, numbers.Integral) and not isinstance(amount, bool):
        weight: float = int(amount)
    else:
        weight = _real("amount", amount)
    kernel = -weight * lap
    kernel[(1,) * lap.ndim] += 1
    return kernel


@_named()
def unsharp_mask(
    amount: float = 1.0,
    sigma: float | tuple[float, ...] = 1.0,
    *,
    size: int | tuple[int, ...] | None = None,
    truncate: float | None = None,
    ndim: int | None = None,
) -> np.ndarray:
    """Unsharp masking in one kernel: ``x + amount * (x - gaussian blur of x)``.

    The kernel is ``(1 + amount) * delta - amount * gaussian(sigma, ...)``, summing to
    1; ``sigma``, ``size``, ``truncate`` and ``ndim`` are `gaussian`'s.

    >>> unsharp_mask(1.0, 1.0, truncate=1.0, ndim=1).round(4)
    array([-0.2741,  1.5481, -0.2741])
    """
    weight = _real("amount", amount)
    kernel = -weight * gaussian(sigma, size=size, truncate=truncate, ndim=ndim)
    kernel[tuple(s // 2 for s in kernel.shape)] += 1 + weight
    return kernel


@_named()
def emboss() -> np.ndarray:
    """The 3x3 emboss ``[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]`` (int64, sums to 1).

    For `correlate`: the input plus a diagonal derivative, brighter where values
    increase towards the bottom right (light from the top left); `convolve` lights
    from the bottom right.

    >>> int(emboss().sum())
    1
    """
    return np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.int64)


@_named()
def gabor(
    sigma: float,
    theta: float,
    wavelength: float,
    phase: float = 0.0,
    gamma: float = 0.5,
    *,
    size: int | tuple[int, int] | None = None,
    truncate: float | None = None,
) -> np.ndarray:
    """A 2-D Gabor kernel (real part): a Gaussian envelope times a cosine carrier.

    ``exp(-(u**2 + gamma**2 v**2) / (2 sigma**2)) * cos(2 pi u / wavelength + phase)``
    where ``u`` runs along the direction ``theta`` and ``v`` across it. ``theta`` and
    ``phase`` are in degrees (OpenCV and scikit-image take radians); ``theta`` is
    counter-clockwise on the screen from the column axis, so ``theta=0`` gives
    vertical stripes. Not normalised: the envelope peaks at 1. The half-widths cover
    ``truncate`` (default 3) standard deviations of the envelope's ellipse, or give an
    odd ``size``. Phase 0 is even (same under `convolve`); phase 90 is odd. OpenCV's
    ``getGaborKernel(ksize, sigma, theta, lambd, gamma, psi)`` (angles clockwise) is
    ``gabor(sigma, -degrees(theta), lambd, -degrees(psi), gamma, size=(h, w))`` for
    ``ksize=(w, h)``.

    >>> k = gabor(sigma=2.0, theta=0.0, wavelength=4.0)
    >>> k.shape, float(k[12, 6])
    ((25, 13), 1.0)
    """
    s = _real("sigma", sigma, 0.0, strict=True)
    turn = math.radians(_real("theta", theta))
    lam = _real("wavelength", wavelength, 0.0, strict=True)
    psi = math.radians(_real("phase", phase))
    g = _real("gamma", gamma, 0.0, strict=True)
    c, n = math.cos(turn), math.sin(turn)
    if size is None:
        t = 3.0 if truncate is None else _real("truncate", truncate, 0.0, strict=True)
        along, across = t * s, t * s / g
        half_x = math.hypot(along * c, across * n)
        half_y = math.hypot(along * n, across * c)
        radii = [int(half_y + 0.5), int(half_x + 0.5)]
    elif truncate is not None:
        radii = _radii([s, s], size, truncate, 2)  # raises: both given
    else:
        radii = _radii([s, s], size, None, 2)
    _check_taps(tuple(2 * r + 1 for r in radii), "use a smaller sigma, size or truncate")
    y = -np.arange(-radii[0], radii[0] + 1, dtype=np.float64)[:, None]  # up the screen
    x = np.arange(-radii[1], radii[1] + 1, dtype=np.float64)[None, :]
    u = x * c + y * n
    v = -x * n + y * c
    return np.exp(-(u**2 + (g * v) ** 2) / (2 * s**2)) * np.cos(2 * np.pi * u / lam + psi)


# --- parsing ----------------------------------------------------------------------------------


def names() -> list[str]:
    """The kernel names `parse` accepts, sorted.

    >>> names()[:3]
    ['box', 'delta', 'dog']
    """
    return sorted(_REGISTRY)


_NUMBER = re.compile(r"[+-]?\d+")


def _value(text: str) -> object:
    """A parameter value: an int, a float, true/false, or numbers joined by ``x``."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    parts = lowered.split("x")
    values: list[float | int] = []
    for part in (p.strip() for p in parts):
        if _NUMBER.fullmatch(part):
            values.append(int(part))
            continue
        number = float(part)  # ValueError for anything else
        if not math.isfinite(number):
            raise ValueError(part)
        values.append(number)
    return values[0] if len(values) == 1 else tuple(values)


def parse(spec: str) -> np.ndarray:
    """A kernel from a string: ``"name"`` or ``"name:param=value,param=value"``.

    Values are numbers, ``true``/``false``, or one number per axis joined by ``x``
    (``size=5x3``); names are those of `names`, parameters those of the function of
    that name (``sigma``, ``axis``, ...).

    >>> parse("sobel:axis=0")
    array([[-1, -2, -1],
           [ 0,  0,  0],
           [ 1,  2,  1]])
    >>> parse("box:size=1x3")
    array([[0.33333333, 0.33333333, 0.33333333]])
    >>> parse("gausian:sigma=2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    convolib.errors.ArgumentError: kernel='gausian': must be one of ... Did you mean 'gaussian'?
    """
    if not isinstance(spec, str):
        raise bad_argument(
            "spec",
            spec,
            "must be a string such as 'gaussian:sigma=2'",
            cls=ArgumentTypeError,
        )
    name, _, params = spec.partition(":")
    name = name.strip().lower()
    if name not in _REGISTRY:
        raise choice_error("kernel", name, names())
    func = _REGISTRY[name]
    signature = inspect.signature(func)
    allowed = list(signature.parameters)
    kwargs: dict[str, object] = {}
    for item in params.split(",") if params.strip() else []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise bad_argument(
                "spec",
                spec,
                f"parameter {item.strip()!r} is not of the form name=value",
                f"write e.g. '{name}:{allowed[0]}=...'"
                if allowed
                else f"{name!r} takes no parameters",
            )
        if key not in allowed:
            if not allowed:
                raise bad_argument(
                    f"{name} parameter", key, f"{name!r} takes no parameters", f"write {name!r}"
                )
            raise choice_error(f"{name} parameter", key, allowed)
        if key in kwargs:
            raise bad_argument("spec", spec, f"gives {key!r} twice", "give each parameter once")
        try:
            kwargs[key] = _value(text)
        except ValueError:
            raise bad_argument(
                f"{name}:{key}",
                text.strip(),
                "must be a number, true/false, or one number per axis joined by 'x' (5x3)",
            ) from None
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty and p.name not in kwargs
    ]
    if missing:
        example = ",".join(f"{p}=..." for p in missing)
        raise bad_argument(
            "spec",
            spec,
            f"{name!r} needs {', '.join(missing)}",
            f"write e.g. '{name}:{example}'",
        )
    return func(**kwargs)
