"""Named kernels (convolib.kernels) against scipy.ndimage and derivations written here.

Every kernel is meant for ``correlate(x, k, "same")``; scipy.ndimage filters run the
same correlation, so each oracle is the ndimage filter with the matching boundary
(ndimage ``reflect`` is NumPy ``symmetric``, ``mirror`` is ``reflect``, ``nearest`` is
``edge``, ``grid-wrap`` is ``wrap``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

import convolib
from convolib import kernels
from helpers import error_message as error

MODES = [
    ("reflect", "symmetric"),
    ("mirror", "reflect"),
    ("nearest", "edge"),
    ("grid-wrap", "wrap"),
    ("constant", "constant"),
]

SHAPES = {1: (23,), 2: (13, 17), 3: (7, 8, 9)}


def image(ndim: int, seed: int = 0, integer: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if integer:
        return rng.integers(-50, 50, SHAPES[ndim]).astype(np.int64)
    return rng.standard_normal(SHAPES[ndim])


def apply(x, k, boundary="symmetric"):
    return convolib.correlate(x, k, "same", boundary=boundary)


def rotate_half(k: np.ndarray) -> np.ndarray:
    return k[(slice(None, None, -1),) * k.ndim]


# ------------------------------------------------------------------------------- gaussian


@pytest.mark.parametrize(("mode", "boundary"), MODES)
@pytest.mark.parametrize(
    ("ndim", "sigma", "truncate"),
    [
        (1, 1.0, 4.0),
        (1, 2.5, 2.0),
        (2, 1.0, 4.0),
        (2, 0.7, 3.0),
        (2, (0.5, 2.0), 4.0),
        (2, (0.0, 1.5), 4.0),
        (3, 1.2, 2.5),
        (3, (1.0, 0.6, 1.4), 3.0),
    ],
)
def test_gaussian_matches_ndimage_gaussian_filter(mode, boundary, ndim, sigma, truncate):
    x = image(ndim)
    k = kernels.gaussian(sigma, truncate=truncate, ndim=ndim)
    expected = ndi.gaussian_filter(x, sigma, truncate=truncate, mode=mode)
    np.testing.assert_allclose(apply(x, k, boundary), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("sigma", "size"), [(1.0, 5), (2.0, 3), (0.8, (3, 9))])
def test_gaussian_size_is_ndimage_radius(sigma, size):
    x = image(2)
    k = kernels.gaussian(sigma, size=size)
    sizes = size if isinstance(size, tuple) else (size, size)
    assert k.shape == sizes
    radius = tuple((s - 1) // 2 for s in sizes)
    expected = ndi.gaussian_filter(x, sigma, radius=radius, mode="reflect")
    np.testing.assert_allclose(apply(x, k), expected, rtol=1e-12, atol=1e-12)


def test_gaussian_values_from_the_formula():
    sigma = 1.5
    r = int(4 * sigma + 0.5)
    t = np.arange(-r, r + 1)
    g = np.exp(-(t**2) / (2 * sigma**2))
    expected = np.outer(g, g) / g.sum() ** 2
    np.testing.assert_allclose(kernels.gaussian(sigma), expected, rtol=1e-14)


@pytest.mark.parametrize("sigma", [0.5, 1.0, (1.0, 3.0), (2.0, 0.0)])
def test_gaussian_sums_to_one_and_is_symmetric(sigma):
    k = kernels.gaussian(sigma)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-14)
    np.testing.assert_allclose(k, k[::-1, :], rtol=1e-15)
    np.testing.assert_allclose(k, k[:, ::-1], rtol=1e-15)
    assert k.argmax() == k.size // 2


# ----------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize(("mode", "boundary"), MODES)
@pytest.mark.parametrize(("ndim", "axis"), [(1, 0), (2, 0), (2, 1), (2, -1), (3, 0), (3, 2)])
@pytest.mark.parametrize(
    ("ours", "theirs"), [(kernels.sobel, ndi.sobel), (kernels.prewitt, ndi.prewitt)]
)
def test_sobel_prewitt_match_ndimage_exactly_on_integers(ours, theirs, ndim, axis, mode, boundary):
    x = image(ndim, integer=True)
    got = apply(x, ours(axis, ndim=ndim), boundary)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, theirs(x, axis=axis, mode=mode))


def test_scharr_is_the_documented_3x3():
    # Scharr's operator: derivative [-1, 0, 1] across, smoothing [3, 10, 3] along
    d_columns = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    np.testing.assert_array_equal(kernels.scharr(axis=1), d_columns)
    np.testing.assert_array_equal(kernels.scharr(axis=0), d_columns.T)


@pytest.mark.parametrize(
    ("func", "smoothing_sum"), [(kernels.sobel, 4), (kernels.scharr, 16), (kernels.prewitt, 3)]
)
@pytest.mark.parametrize(("ndim", "axis"), [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)])
def test_derivative_of_a_linear_ramp(func, smoothing_sum, ndim, axis):
    # y = sum_j w[j] x[i + j]; for x = sum_a c_a i_a the derivative factor [-1, 0, 1]
    # contributes 2 c_axis, and each smoothing factor multiplies by its sum, while the
    # terms c_a i_a of the other axes cancel (the derivative factor sums to 0).
    slopes = [3, -2, 5][:ndim]
    grids = np.indices((6, 7, 8)[:ndim])
    x = sum(c * g for c, g in zip(slopes, grids, strict=True)) + 11
    got = convolib.correlate(x, func(axis, ndim=ndim), "valid")
    gain = 2 * smoothing_sum ** (ndim - 1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.full(got.shape, gain * slopes[axis]))
    unit = convolib.correlate(x.astype(float), func(axis, ndim=ndim, normalize=True), "valid")
    np.testing.assert_allclose(unit, slopes[axis], rtol=1e-14)


@pytest.mark.parametrize("func", [kernels.sobel, kernels.scharr, kernels.prewitt])
@pytest.mark.parametrize(("ndim", "axis"), [(2, 0), (2, 1), (3, 1)])
def test_derivative_symmetries(func, ndim, axis):
    k = func(axis, ndim=ndim)
    assert k.sum() == 0
    flip_axis = tuple(slice(None, None, -1) if a == axis else slice(None) for a in range(ndim))
    np.testing.assert_array_equal(k[flip_axis], -k)  # odd along the axis
    for other in set(range(ndim)) - {axis}:
        flip = tuple(slice(None, None, -1) if a == other else slice(None) for a in range(ndim))
        np.testing.assert_array_equal(k[flip], k)  # even across it
    # convolve flips the kernel: the negative response
    x = image(ndim, integer=True)
    np.testing.assert_array_equal(
        convolib.convolve(x, k, "same"), -convolib.correlate(x, k, "same")
    )


# ------------------------------------------------------------------------------- laplacian


@pytest.mark.parametrize(("mode", "boundary"), MODES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_laplacian_axis_neighbours_is_ndimage_laplace(ndim, mode, boundary):
    x = image(ndim, integer=True)
    k = kernels.laplacian(ndim=ndim)
    assert k.sum() == 0
    assert k[(1,) * ndim] == -2 * ndim
    np.testing.assert_array_equal(apply(x, k, boundary), ndi.laplace(x, mode=mode))


@pytest.mark.parametrize("ndim", [2, 3])
def test_laplacian_full_block_is_block_sum_minus_all_samples(ndim):
    # every neighbour of the 3**d block once, minus (3**d - 1) times the centre
    # = (sum over the block) - 3**d * centre
    x = image(ndim, integer=True)
    block_sum = ndi.correlate(x, np.ones((3,) * ndim, np.int64), mode="constant")
    expected = block_sum - 3**ndim * x
    k = kernels.laplacian(3**ndim - 1, ndim=ndim)
    np.testing.assert_array_equal(apply(x, k, "constant"), expected)


def test_laplacian_literal_2d_forms():
    np.testing.assert_array_equal(kernels.laplacian(4), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(kernels.laplacian(8), [[1, 1, 1], [1, -8, 1], [1, 1, 1]])


# ------------------------------------------------------------------------------ sharpening


def test_sharpen_centre_5_and_centre_9():
    np.testing.assert_array_equal(kernels.sharpen(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(kernels.sharpen(8), [[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]])
    assert kernels.sharpen().dtype == np.int64


@pytest.mark.parametrize("amount", [1, 2, 0.5])
def test_sharpen_is_identity_minus_laplace(amount):
    x = image(2, integer=True)
    k = kernels.sharpen(amount=amount)
    assert k.sum() == 1
    expected = x - amount * ndi.laplace(x, mode="reflect")
    np.testing.assert_allclose(apply(x, k), expected, rtol=1e-14)


@pytest.mark.parametrize(("amount", "sigma"), [(1.0, 1.0), (0.5, 2.0), (2.0, (1.0, 0.5))])
def test_unsharp_mask_formula(amount, sigma):
    x = image(2)
    k = kernels.unsharp_mask(amount, sigma)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-13)
    blurred = ndi.gaussian_filter(x, sigma, mode="reflect")
    expected = x + amount * (x - blurred)
    np.testing.assert_allclose(apply(x, k), expected, rtol=1e-12, atol=1e-12)


def test_emboss_is_identity_plus_diagonal_slope():
    k = kernels.emboss()
    assert k.sum() == 1
    assert np.array_equal(k - kernels.delta(3), -rotate_half(k - kernels.delta(3)))
    # (k - delta) weights times offsets: sum w * dr = sum w * dc = 6 (written out:
    # (-2)(-1) + (-1)(-1) + (1)(1) + (2)(1) for each axis), so on x = a r + b c + e the
    # output is x + 6 a + 6 b: brighter where values grow down and to the right.
    a, b = 3, -1
    r, c = np.indices((5, 6))
    x = a * r + b * c + 7
    got = convolib.correlate(x, k, "valid")
    np.testing.assert_array_equal(got, x[1:-1, 1:-1] + 6 * a + 6 * b)


# ------------------------------------------------------------------------------- LoG, DoG


@pytest.mark.parametrize(("mode", "boundary"), MODES)
@pytest.mark.parametrize(
    ("ndim", "sigma", "truncate"),
    [(1, 1.5, 4.0), (2, 1.0, 4.0), (2, (0.8, 1.6), 3.0), (3, 1.0, 2.5)],
)
def test_log_raw_matches_ndimage_gaussian_laplace(ndim, sigma, truncate, mode, boundary):
    x = image(ndim)
    k = kernels.log(sigma, truncate=truncate, ndim=ndim, zero_sum=False)
    expected = ndi.gaussian_laplace(x, sigma, mode=mode, truncate=truncate)
    np.testing.assert_allclose(apply(x, k, boundary), expected, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.6, 1.0, 2.0, (1.0, 2.0)])
def test_log_zero_sum(sigma):
    k = kernels.log(sigma)
    raw = kernels.log(sigma, zero_sum=False)
    assert abs(k.sum()) < 1e-14 * np.abs(k).sum()
    assert k[k.shape[0] // 2, k.shape[1] // 2] < 0
    np.testing.assert_allclose(k, rotate_half(k), rtol=1e-14, atol=1e-17)
    # the correction is the residual sum spread like the Gaussian itself
    g = kernels.gaussian(sigma)
    np.testing.assert_allclose(raw - k, raw.sum() * g, rtol=1e-10, atol=1e-17)
    # a constant image gives 0 away from the borders
    flat = convolib.correlate(np.full((25, 25), 3.0), k, "valid")
    np.testing.assert_allclose(flat, 0.0, atol=1e-13)


def test_log_is_the_second_derivative_of_a_gaussian():
    # 1-D: d2/dx2 exp(-x^2 / 2 s^2) = (x^2 / s^4 - 1 / s^2) exp(-x^2 / 2 s^2)
    s = 1.3
    r = int(4 * s + 0.5)
    t = np.arange(-r, r + 1)
    phi = np.exp(-(t**2) / (2 * s**2))
    expected = (t**2 / s**4 - 1 / s**2) * phi / phi.sum()
    np.testing.assert_allclose(kernels.log(s, ndim=1, zero_sum=False), expected, rtol=1e-13)


@pytest.mark.parametrize(("sigma1", "sigma2"), [(1.0, 1.6), (1.0, 2.0), ((0.8, 1.2), (1.5, 2.0))])
@pytest.mark.parametrize("truncate", [3.0, 4.0])
def test_dog_is_difference_of_gaussian_filters(sigma1, sigma2, truncate):
    x = image(2)
    k = kernels.dog(sigma1, sigma2, truncate=truncate)
    assert abs(k.sum()) < 1e-15
    wide = np.broadcast_to(sigma2, (2,))
    radius = tuple(int(truncate * s + 0.5) for s in wide)
    expected = ndi.gaussian_filter(x, sigma1, radius=radius) - ndi.gaussian_filter(
        x, sigma2, radius=radius
    )
    np.testing.assert_allclose(apply(x, k), expected, rtol=1e-12, atol=1e-12)


def test_dog_default_ratio():
    np.testing.assert_allclose(kernels.dog(1.5), kernels.dog(1.5, 1.6 * 1.5), rtol=0)
    k = kernels.dog(1.0)
    assert k.shape == (13, 13)  # half-width int(4 * 1.6 + 0.5) = 6
    assert k[6, 6] > 0


# --------------------------------------------------------------------------- delta, shift


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 3])
def test_delta_is_identity(ndim, size):
    x = image(ndim, integer=True)
    k = kernels.delta(size, ndim=ndim)
    assert k.sum() == 1
    for op in (convolib.convolve, convolib.correlate):
        np.testing.assert_array_equal(op(x, k, "same"), x)
    full = convolib.convolve(x, k)
    h = size // 2
    np.testing.assert_array_equal(full, np.pad(x, h))


@pytest.mark.parametrize("offset", [1, -2, (1, 2), (0, -1), (-2, 3), (1, -1, 2)])
def test_shift_moves_by_offset_under_correlate(offset):
    offsets = offset if isinstance(offset, tuple) else (offset,)
    ndim = len(offsets)
    x = image(ndim, integer=True)
    k = kernels.shift(offset)
    axes = tuple(range(ndim))
    rolled = np.roll(x, offsets, axis=axes)
    np.testing.assert_array_equal(convolib.correlate(x, k, "same", boundary="wrap"), rolled)
    np.testing.assert_array_equal(
        convolib.convolve(x, k, "same", boundary="wrap"),
        np.roll(x, tuple(-o for o in offsets), axis=axes),
    )
    # zero fill: y[i] = x[i - o] where that index exists, else 0
    expected = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        source = tuple(i - o for i, o in zip(index, offsets, strict=True))
        if all(0 <= s < n for s, n in zip(source, x.shape, strict=True)):
            expected[index] = x[source]
    np.testing.assert_array_equal(convolib.correlate(x, k, "same"), expected)


# ------------------------------------------------------------------------- box, motion blur


@pytest.mark.parametrize(("mode", "boundary"), MODES)
@pytest.mark.parametrize("size", [3, 5, (3, 7), (1, 5)])
def test_box_is_uniform_filter(size, mode, boundary):
    x = image(2)
    k = kernels.box(size)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-14)
    expected = ndi.uniform_filter(x, size, mode=mode)
    np.testing.assert_allclose(apply(x, k, boundary), expected, rtol=1e-12, atol=1e-12)


def test_box_moving_sum_and_mean_alias():
    k = kernels.box((3, 5, 1), normalize=False)
    assert k.dtype == np.int64
    np.testing.assert_array_equal(k, np.ones((3, 5, 1)))
    assert kernels.parse("mean:size=3").tolist() == kernels.box(3).tolist()


@pytest.mark.parametrize("length", [1, 3, 9, 15])
def test_motion_blur_angle_0_is_a_horizontal_box_line(length):
    k = kernels.motion_blur(length, 0)
    np.testing.assert_allclose(k, np.full((1, length), 1 / length), rtol=1e-14)
    np.testing.assert_allclose(kernels.motion_blur(length, 180), k, rtol=1e-14)
    np.testing.assert_allclose(kernels.motion_blur(length, 90), k.T, rtol=1e-14)
    x = image(2)
    expected = ndi.uniform_filter1d(x, length, axis=1, mode="reflect")
    np.testing.assert_allclose(apply(x, k), expected, rtol=1e-12, atol=1e-12)


def test_motion_blur_even_length_halves_the_end_pixels():
    # the segment [-2, 2] covers pixels -1, 0, 1 fully and half of pixels -2 and 2
    np.testing.assert_allclose(kernels.motion_blur(4, 0), [[0.5, 1, 1, 1, 0.5]] / np.float64(4))


@pytest.mark.parametrize("length", [3, 5.5, 9])
def test_motion_blur_diagonals(length):
    up = kernels.motion_blur(length, 45)  # bottom-left to top-right on screen
    n = up.shape[0]
    assert up.shape == (n, n)
    rows, cols = np.nonzero(up)
    assert np.all(rows + cols == n - 1)  # anti-diagonal of the array
    down = kernels.motion_blur(length, 135)
    rows, cols = np.nonzero(down)
    assert np.all(rows == cols)
    np.testing.assert_allclose(down, up[:, ::-1], rtol=1e-12)


@given(
    length=st.floats(0.5, 30.0),
    angle=st.floats(-360.0, 360.0),
)
def test_motion_blur_properties(length, angle):
    k = kernels.motion_blur(length, angle)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-12)
    assert np.all(k >= 0)
    assert k.shape[0] % 2 == 1
    assert k.shape[1] % 2 == 1
    np.testing.assert_allclose(k, rotate_half(k), atol=1e-12)  # a line through the centre
    # mirror images: -angle flips rows; 90 - angle swaps the axes (x <-> y)
    np.testing.assert_allclose(kernels.motion_blur(length, -angle), k[::-1, :], atol=1e-12)
    np.testing.assert_allclose(kernels.motion_blur(length, 90 - angle), k.T, atol=1e-12)
    np.testing.assert_allclose(kernels.motion_blur(length, angle + 180), k, atol=1e-12)


# ----------------------------------------------------------------------------------- gabor


def test_gabor_axis_aligned_formula():
    # theta = 0: u = column offset c, v = -row offset r:
    # exp(-(c^2 + gamma^2 r^2) / (2 sigma^2)) cos(2 pi c / lambda + phase)
    sigma, lam, gamma, phase = 2.0, 5.0, 0.5, 30.0
    k = kernels.gabor(sigma, 0.0, lam, phase, gamma, size=(9, 7))
    r = np.arange(-4, 5)[:, None]
    c = np.arange(-3, 4)[None, :]
    envelope = np.exp(-(c**2 + gamma**2 * r**2) / (2 * sigma**2))
    expected = envelope * np.cos(2 * np.pi * c / lam + math.radians(phase))
    np.testing.assert_allclose(k, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("phase", [0.0, 45.0, 90.0])
def test_gabor_rotations(phase):
    base = kernels.gabor(1.5, 0.0, 4.0, phase, 0.7, size=11)
    # a quarter turn counter-clockwise: u = -row, v = -column
    quarter = kernels.gabor(1.5, 90.0, 4.0, phase, 0.7, size=11)
    np.testing.assert_allclose(quarter, base.T[::-1, :], atol=1e-14)
    half = kernels.gabor(1.5, 180.0, 4.0, phase, 0.7, size=11)
    np.testing.assert_allclose(half, rotate_half(base), atol=1e-14)


def test_gabor_parity_and_default_extent():
    even = kernels.gabor(2.0, 30.0, 6.0)
    np.testing.assert_allclose(even, rotate_half(even), atol=1e-15)
    odd = kernels.gabor(2.0, 30.0, 6.0, phase=90.0)
    np.testing.assert_allclose(odd, -rotate_half(odd), atol=1e-15)
    # theta 0, gamma 0.5, truncate 3: half-widths 3 sigma across the rows... the
    # envelope's ellipse reaches 3 sigma along u (columns) and 3 sigma / gamma along v
    assert kernels.gabor(2.0, 0.0, 4.0).shape == (2 * 12 + 1, 2 * 6 + 1)
    assert kernels.gabor(2.0, 90.0, 4.0).shape == (2 * 6 + 1, 2 * 12 + 1)


def test_gabor_matches_opencv_when_installed():
    cv2 = pytest.importorskip("cv2")
    for theta, psi, gamma in [(0.0, 0.0, 0.5), (30.0, 90.0, 1.0), (100.0, 33.0, 0.7)]:
        ours = kernels.gabor(2.0, -theta, 5.0, -psi, gamma, size=(15, 13))
        theirs = cv2.getGaborKernel(
            (13, 15), 2.0, math.radians(theta), 5.0, gamma, math.radians(psi), ktype=cv2.CV_64F
        )
        np.testing.assert_allclose(ours, theirs, atol=1e-14)


# ---------------------------------------------------------------------------------- sums


@pytest.mark.parametrize(
    ("kernel", "total"),
    [
        (kernels.box(5), 1),
        (kernels.gaussian(1.3), 1),
        (kernels.motion_blur(7, 30), 1),
        (kernels.sharpen(), 1),
        (kernels.sharpen(8), 1),
        (kernels.unsharp_mask(1.5, 2.0), 1),
        (kernels.emboss(), 1),
        (kernels.delta(5), 1),
        (kernels.shift((2, -3)), 1),
        (kernels.sobel(0), 0),
        (kernels.scharr(1), 0),
        (kernels.prewitt(0, ndim=3), 0),
        (kernels.laplacian(8), 0),
        (kernels.log(2.0), 0),
        (kernels.dog(1.0, 3.0), 0),
    ],
)
def test_sums(kernel, total):
    assert math.isclose(kernel.sum(), total, abs_tol=1e-14)


# --------------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("gaussian:sigma=2", kernels.gaussian(2)),
        ("gaussian:sigma=1x2.5", kernels.gaussian((1, 2.5))),
        ("gaussian: sigma = 1.5 , truncate = 3", kernels.gaussian(1.5, truncate=3)),
        ("sobel:axis=1", kernels.sobel(1)),
        ("Sobel : axis=0,ndim=3", kernels.sobel(0, ndim=3)),
        ("box:size=5", kernels.box(5)),
        ("box:size=3x5,normalize=false", kernels.box((3, 5), normalize=False)),
        ("motion_blur:length=9,angle=30", kernels.motion_blur(9, 30)),
        ("sharpen", kernels.sharpen()),
        ("sharpen:neighbours=8", kernels.sharpen(8)),
        ("laplacian:neighbours=8", kernels.laplacian(8)),
        ("log:sigma=2,zero_sum=False", kernels.log(2, zero_sum=False)),
        ("dog:sigma1=1,sigma2=3", kernels.dog(1, 3)),
        ("shift:offset=-1x2", kernels.shift((-1, 2))),
        ("gabor:sigma=3,theta=45,wavelength=8", kernels.gabor(3, 45, 8)),
        ("unsharp_mask:amount=0.5,sigma=2", kernels.unsharp_mask(0.5, 2)),
        ("emboss", kernels.emboss()),
        ("delta:size=3,ndim=1", kernels.delta(3, ndim=1)),
        ("scharr:axis=-1,normalize=true", kernels.scharr(-1, normalize=True)),
    ],
)
def test_parse_round_trips(spec, expected):
    got = kernels.parse(spec)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_names_cover_every_kernel_and_parse_with_defaults():
    public = set(kernels.__all__) - {"parse", "names"}
    listed = kernels.names()
    assert listed == sorted(listed)
    assert public | {"mean"} == set(listed)
    needs = {"gabor", "shift"}
    for name in set(listed) - needs:
        assert kernels.parse(name).ndim >= 1
    for name in needs:
        with pytest.raises(convolib.ArgumentError, match="needs"):
            kernels.parse(name)


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("gausian:sigma=2", ["kernel='gausian'", "'gaussian'", "Did you mean 'gaussian'?"]),
        ("sobell", ["Did you mean 'sobel'?"]),
        ("gaussian:sigm=2", ["gaussian parameter='sigm'", "'sigma'", "Did you mean 'sigma'?"]),
        ("gaussian:sigma=abc", ["gaussian:sigma='abc'", "must be a number", "5x3"]),
        ("gaussian:sigma=nan", ["gaussian:sigma='nan'"]),
        ("gaussian:sigma", ["not of the form name=value", "gaussian:sigma="]),
        ("gaussian:sigma=1,sigma=2", ["'sigma' twice"]),
        ("emboss:size=3", ["'emboss' takes no parameters"]),
        ("gabor:sigma=2", ["'gabor' needs theta, wavelength", "gabor:theta=...,wavelength=..."]),
        ("gaussian:sigma=-1", ["sigma=-1:", "must be >= 0"]),
        ("box:size=4", ["size=4", "must be odd", "Use 3 or 5"]),
        ("sobel:axis=2", ["axis=2", "[-2, 1]"]),
    ],
)
def test_parse_errors(spec, fragments):
    msg = error(convolib.ArgumentError, kernels.parse, spec)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


def test_parse_rejects_non_strings():
    msg = error(convolib.ArgumentTypeError, kernels.parse, 3)
    assert "spec=3" in msg


# ------------------------------------------------------------------------ argument errors


@pytest.mark.parametrize(
    ("call", "cls", "fragments"),
    [
        (lambda: kernels.gaussian(-1.0), ValueError, ["sigma=-1.0", ">= 0"]),
        (lambda: kernels.gaussian((1.0, -2.0)), ValueError, ["sigma[1]=-2.0"]),
        (lambda: kernels.gaussian(float("inf")), ValueError, ["sigma=inf", "finite"]),
        (lambda: kernels.gaussian("2"), TypeError, ["sigma='2'", "real number"]),
        (
            lambda: kernels.gaussian(1.0, size=5, truncate=3.0),
            ValueError,
            ["size, truncate", "Pass one of them"],
        ),
        (lambda: kernels.gaussian((1.0, 2.0), ndim=3), ValueError, ["2 entries", "ndim=3"]),
        (lambda: kernels.gaussian((1.0, 2.0), size=(3, 3, 3)), ValueError, ["one entry per axis"]),
        (lambda: kernels.gaussian(1e6), ValueError, ["taps", str(kernels.MAX_TAPS)]),
        (lambda: kernels.log(0.0), ValueError, ["sigma=0.0", "> 0"]),
        (lambda: kernels.box(0), ValueError, ["size=0", "at least 1"]),
        (lambda: kernels.box(2.0), TypeError, ["size=2.0", "integer"]),
        (lambda: kernels.box(True), TypeError, ["size=True", "integer"]),
        (lambda: kernels.sobel(0, ndim=0), ValueError, ["ndim=0", "at least 1"]),
        (lambda: kernels.sobel(-3), ValueError, ["axis=-3", "[-2, 1]"]),
        (lambda: kernels.laplacian(6), ValueError, ["neighbours=6", "must be 4", "or 8"]),
        (lambda: kernels.laplacian(8, ndim=3), ValueError, ["must be 6", "or 26"]),
        (lambda: kernels.motion_blur(0), ValueError, ["length=0:", "> 0"]),
        (lambda: kernels.motion_blur(5000), ValueError, ["length=5000.0", "at most 1000"]),
        (lambda: kernels.gabor(1.0, 0.0, 0.0), ValueError, ["wavelength=0.0", "> 0"]),
        (lambda: kernels.gabor(1.0, 0.0, 4.0, gamma=-1), ValueError, ["gamma=-1:"]),
        (lambda: kernels.shift(()), ValueError, ["offset=()", "at least one"]),
        (lambda: kernels.shift(1.5), TypeError, ["offset=1.5", "integer"]),
        (lambda: kernels.delta(2), ValueError, ["size=2", "odd"]),
        (lambda: kernels.sharpen(amount="a"), TypeError, ["amount='a'"]),
        (lambda: kernels.gabor(1.0, 0.0, 4.0, size=(3, 3, 3)), ValueError, ["3 entries for 2"]),
        (lambda: kernels.sobel(0, normalize="no"), TypeError, ["normalize='no'", "True or"]),
        (lambda: kernels.log(1.0, zero_sum=1), TypeError, ["zero_sum=1"]),
    ],
)
def test_argument_errors(call, cls, fragments):
    msg = error(cls, call)
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)
