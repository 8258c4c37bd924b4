"""Boundary rules and origin against scipy.ndimage, scipy.signal.convolve2d and np.pad.

Translation of convolib's (NumPy's) boundary names to scipy.ndimage modes, as the docs
claim: constant -> 'constant' (cval = fill_value), edge -> 'nearest', reflect ->
'mirror', symmetric -> 'reflect', wrap -> 'wrap'; PyTorch's zeros / replicate /
circular are synonyms of constant / edge / wrap.
"""

import itertools

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as ss

import convolib
from helpers import assert_close, random_array

OPS = ("convolve", "correlate")
NDIMAGE_MODE = {
    "constant": "constant",
    "edge": "nearest",
    "reflect": "mirror",
    "symmetric": "reflect",
    "wrap": "wrap",
}
SYNONYMS = {"zeros": "constant", "replicate": "edge", "circular": "wrap"}
BOUNDARIES = (*NDIMAGE_MODE, *SYNONYMS)

CASES = [
    # (x shape, k shape): odd and even kernels, kernels longer than the input
    ((9,), (3,)),
    ((8,), (4,)),
    ((3,), (7,)),
    ((2,), (6,)),
    ((1,), (4,)),
    ((6, 5), (3, 2)),
    ((4, 3), (5, 6)),
    ((5, 6), (4, 4)),
    ((4, 3, 5), (3, 2, 2)),
    ((2, 3, 2), (3, 4, 5)),
]


def canonical(boundary):
    return SYNONYMS.get(boundary, boundary)


def origin_range(m):
    """The origins ndimage (and convolib) accept for a kernel of length ``m``."""
    return range(-(m // 2), (m - 1) // 2 + 1)


def origins_to_try(k_shape, rng):
    """Every origin in 1-D; the extremes, zero and a random tuple in N-D."""
    if len(k_shape) == 1:
        return [(o,) for o in origin_range(k_shape[0])]
    ranges = [origin_range(m) for m in k_shape]
    picks = {
        tuple(r[0] for r in ranges),
        tuple(r[-1] for r in ranges),
        (0,) * len(k_shape),
        tuple(int(rng.choice(r)) for r in ranges),
    }
    return sorted(picks)


def convolve_origin(ndimage_origin, k_shape):
    """convolib.convolve's origin equal to ndimage.convolve's: O = -o' - (m even)."""
    return tuple(-o - (1 - m % 2) for o, m in zip(ndimage_origin, k_shape, strict=True))


def ndimage_oracle(op, x, k, boundary, fill, origin):
    """scipy.ndimage's same-size filter with the translated mode (in float64/complex128)."""
    wide = np.complex128 if np.iscomplexobj(x) or np.iscomplexobj(k) else np.float64
    xx, kk = x.astype(wide), k.astype(wide)
    mode = NDIMAGE_MODE[canonical(boundary)]
    if op == "correlate":  # ndimage conjugates complex weights, as scipy.signal does
        return ndi.correlate(xx, kk, mode=mode, cval=fill, origin=list(origin))
    return ndi.convolve(xx, kk, mode=mode, cval=fill, origin=list(origin))


def padded_oracle(op, x, k, pads, boundary, fill=0):
    """Pad by np.pad, then scipy.signal's valid sum: the definition of a boundary rule.

    Same mode (correlate, and convolve via its flipped kernel) pads lo = m//2 + origin
    before and m - 1 - lo after; full mode pads m - 1 on both sides.
    """
    rule = canonical(boundary)
    if rule == "constant":
        padded = np.pad(x, pads, mode="constant", constant_values=fill)
    else:
        padded = np.pad(x, pads, mode=rule)
    wide = np.result_type(padded, k, np.float64)
    f = ss.convolve if op == "convolve" else ss.correlate
    return f(padded.astype(wide), k.astype(wide), "valid", method="direct")


@pytest.mark.parametrize(("sx", "sk"), CASES)
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("op", OPS)
def test_same_mode_matches_ndimage_with_origin(op, boundary, sx, sk):
    """mode='same' with every origin against scipy.ndimage.correlate / convolve."""
    rng = np.random.default_rng([OPS.index(op), BOUNDARIES.index(boundary), CASES.index((sx, sk))])
    x, k = random_array(rng, sx, np.float64), random_array(rng, sk, np.float64)
    for o in origins_to_try(sk, rng):
        expected = ndimage_oracle(op, x, k, boundary, 0.0, o)
        lib_origin = o if op == "correlate" else convolve_origin(o, sk)
        got = getattr(convolib, op)(x, k, "same", boundary=boundary, origin=lib_origin)
        assert got.shape == x.shape
        assert_close(got, expected, np.float64, terms=k.size, scale=np.abs(x).max() * k.size)
        # and the np.pad derivation: lo = m//2 + origin before, m - 1 - lo after (for
        # convolve too: correlating padded x with the flipped k is the valid convolution)
        pads = [(m // 2 + v, m - 1 - m // 2 - v) for m, v in zip(sk, lib_origin, strict=True)]
        expected = padded_oracle(op, x, k, pads, boundary)
        assert_close(got, expected, np.float64, terms=k.size, scale=np.abs(x).max() * k.size)


@pytest.mark.parametrize("dtype", ["int16", "uint8", "bool", "float32", "complex128"])
@pytest.mark.parametrize("boundary", tuple(NDIMAGE_MODE))
@pytest.mark.parametrize("op", OPS)
def test_same_mode_dtypes_match_ndimage(op, boundary, dtype):
    """Integer (exact), float32 and complex inputs with every rule, 1-D to 3-D."""
    rng = np.random.default_rng([OPS.index(op), len(boundary), len(dtype)])
    for sx, sk in CASES[::2]:
        x, k = random_array(rng, sx, dtype), random_array(rng, sk, dtype)
        o = tuple(int(rng.choice(origin_range(m))) for m in sk)
        lib_origin = o if op == "correlate" else convolve_origin(o, sk)
        got = getattr(convolib, op)(x, k, "same", boundary=boundary, origin=lib_origin)
        expected = ndimage_oracle(op, x, k, boundary, 0, o)
        if np.dtype(dtype).kind in "biu":  # small integers: float64 sums are exact
            assert got.dtype == np.int64
            expected = np.rint(expected).astype(np.int64)
        else:
            assert got.dtype == np.dtype(dtype)
        scale = np.abs(x).max() * np.abs(k).sum()
        assert_close(got, expected, got.dtype, terms=k.size, scale=scale)


@pytest.mark.parametrize("fill", [2.5, -3, 1e3])
@pytest.mark.parametrize(("sx", "sk"), CASES)
@pytest.mark.parametrize("op", OPS)
def test_constant_fill_value_is_ndimage_cval(op, sx, sk, fill):
    """boundary='constant' with fill_value != 0 equals ndimage's mode='constant', cval."""
    rng = np.random.default_rng([OPS.index(op), CASES.index((sx, sk)), abs(int(fill))])
    x, k = random_array(rng, sx, np.float64), random_array(rng, sk, np.float64)
    for o in origins_to_try(sk, rng)[:3]:
        expected = ndimage_oracle(op, x, k, "constant", fill, o)
        lib_origin = o if op == "correlate" else convolve_origin(o, sk)
        got = getattr(convolib, op)(x, k, "same", fill_value=fill, origin=lib_origin)
        scale = max(np.abs(x).max(), abs(fill)) * np.abs(k).sum()
        assert_close(got, expected, np.float64, terms=k.size, scale=scale)


@pytest.mark.parametrize("dtype", ["int32", "complex128"])
@pytest.mark.parametrize("op", OPS)
def test_fill_value_in_full_mode_and_other_dtypes(op, dtype):
    """A non-zero fill in full mode: np.pad(constant_values=fill), then the valid sum."""
    rng = np.random.default_rng([OPS.index(op), len(dtype)])
    fill = 7 if dtype == "int32" else 1.5 - 2j
    for sx, sk in CASES:
        x, k = random_array(rng, sx, dtype), random_array(rng, sk, dtype)
        got = getattr(convolib, op)(x, k, "full", fill_value=fill)
        expected = padded_oracle(op, x, k, [(m - 1, m - 1) for m in sk], "constant", fill)
        if dtype == "int32":
            assert got.dtype == np.int64
            expected = np.rint(expected.real).astype(np.int64)
        assert_close(got, expected, got.dtype, terms=k.size, scale=8 * 5 * k.size)


@pytest.mark.parametrize(("sx", "sk"), CASES)
@pytest.mark.parametrize("boundary", tuple(NDIMAGE_MODE))
@pytest.mark.parametrize("op", OPS)
def test_full_mode_is_padding_by_m_minus_1(op, boundary, sx, sk):
    """Full mode under any rule: np.pad by m-1 on both sides, then the valid sum."""
    rng = np.random.default_rng([OPS.index(op), len(boundary), CASES.index((sx, sk))])
    x, k = random_array(rng, sx, np.complex128), random_array(rng, sk, np.complex128)
    got = getattr(convolib, op)(x, k, "full", boundary=boundary)
    assert got.shape == tuple(n + m - 1 for n, m in zip(sx, sk, strict=True))
    expected = padded_oracle(op, x, k, [(m - 1, m - 1) for m in sk], boundary)
    assert_close(got, expected, np.complex128, terms=k.size, scale=np.abs(x).max() * k.size)


SIGNAL_2D = {"symmetric": "symm", "wrap": "wrap", "circular": "wrap", "constant": "fill"}


@pytest.mark.parametrize(
    ("sx", "sk"), [((6, 5), (3, 3)), ((5, 7), (4, 2)), ((3, 2), (5, 6)), ((1, 3), (4, 3))]
)
@pytest.mark.parametrize("boundary", tuple(SIGNAL_2D))
@pytest.mark.parametrize("op", OPS)
def test_full_mode_matches_convolve2d(op, boundary, sx, sk):
    """Full mode against scipy.signal.convolve2d / correlate2d(boundary='symm'/'wrap'/'fill')."""
    rng = np.random.default_rng([OPS.index(op), len(boundary), sx[0], sk[1]])
    x, k = random_array(rng, sx, np.complex128), random_array(rng, sk, np.complex128)
    fill = 0.75 if boundary == "constant" else 0
    f2d = ss.convolve2d if op == "convolve" else ss.correlate2d
    expected = f2d(x, k, "full", boundary=SIGNAL_2D[boundary], fillvalue=fill)
    got = getattr(convolib, op)(x, k, "full", boundary=boundary, fill_value=fill)
    assert_close(got, expected, np.complex128, terms=k.size, scale=8 * k.size)
    x, k = x.real.astype(np.float32), k.real.astype(np.float32)  # and a real pair
    expected = f2d(x.astype(np.float64), k.astype(np.float64), "full", SIGNAL_2D[boundary], fill)
    got = getattr(convolib, op)(x, k, "full", boundary=boundary, fill_value=fill)
    assert got.dtype == np.float32
    assert_close(got, expected, np.float32, terms=k.size, scale=8 * k.size)


@pytest.mark.parametrize("synonym", tuple(SYNONYMS))
def test_torch_synonyms_equal_numpy_names(synonym):
    """zeros/replicate/circular give exactly the results of constant/edge/wrap."""
    rng = np.random.default_rng(len(synonym))
    x, k = random_array(rng, (5, 6), np.float64), random_array(rng, (3, 4), np.float64)
    for op, mode in itertools.product(OPS, ("full", "same")):
        f = getattr(convolib, op)
        a = f(x, k, mode, boundary=synonym)
        b = f(x, k, mode, boundary=SYNONYMS[synonym])
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("boundary", tuple(NDIMAGE_MODE))
def test_valid_mode_ignores_the_boundary(boundary):
    """Valid mode pads nothing, so every rule gives scipy's valid result."""
    rng = np.random.default_rng(len(boundary))
    x, k = random_array(rng, (6, 7), np.int64), random_array(rng, (3, 2), np.int64)
    for op in OPS:
        f, g = getattr(convolib, op), getattr(ss, op)
        np.testing.assert_array_equal(f(x, k, "valid", boundary=boundary), g(x, k, "valid"))
        np.testing.assert_array_equal(f(k, x, "valid", boundary=boundary), g(k, x, "valid"))


def test_rule_pictures_from_the_docs():
    """The five pictures for ``a b c d`` (a=1..d=4), read off with a one-tap kernel."""
    x = np.array([1, 2, 3, 4])
    pictures = {
        "constant": [0, 0, 0, 1, 2, 3, 4, 0, 0, 0],
        "edge": [1, 1, 1, 1, 2, 3, 4, 4, 4, 4],
        "reflect": [4, 3, 2, 1, 2, 3, 4, 3, 2, 1],
        "symmetric": [3, 2, 1, 1, 2, 3, 4, 4, 3, 2],
        "wrap": [2, 3, 4, 1, 2, 3, 4, 1, 2, 3],
    }
    for rule, picture in pictures.items():
        # full mode with a length-7 kernel pads 6 on each side; a single 1 at tap j
        # of a correlation reads padded[i + j], so tap 3 shows padded[3 : 3 + 10].
        k = np.zeros(7, np.int64)
        k[3] = 1
        assert convolib.correlate(x, k, "full", boundary=rule).tolist() == picture, rule


def test_boundary_errors_name_the_fix():
    """Foreign names are refused with the NumPy name; fill_value needs 'constant'."""
    x, k = np.ones(5), np.ones(3)
    for foreign, ours in [("nearest", "edge"), ("mirror", "reflect"), ("symm", "symmetric")]:
        with pytest.raises(convolib.ArgumentError, match=f"boundary={ours!r}"):
            convolib.convolve(x, k, "same", boundary=foreign)
    with pytest.raises(convolib.ArgumentError, match="fill_value"):
        convolib.convolve(x, k, "same", boundary="edge", fill_value=1)
    with pytest.raises(convolib.ArgumentError, match="fill_value"):
        convolib.convolve(x, k, "same", boundary="zeros", fill_value=1)
    with pytest.raises(convolib.ArgumentError, match="origin"):
        convolib.convolve(x, k, "same", origin=2)
    with pytest.raises(convolib.ArgumentError, match="origin"):
        convolib.convolve(x, k, "full", origin=1)
