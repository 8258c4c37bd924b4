"""convolib.nn against PyTorch (forward, transposed, autograd gradients), identities,
and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convolib import ArgumentError, ArgumentTypeError, nn

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)
MODES = {"zeros": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
METHODS = ("auto", "gemm", "winograd", "fft", "reference")


def tol(dtype) -> dict:
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}


def torch_conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    d = w.ndim - 2
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    bt = None if b is None else torch.from_numpy(b)
    if padding_mode != "zeros":
        pads = [padding] * d if isinstance(padding, int) else list(padding)
        xt = F.pad(xt, [p for q in reversed(pads) for p in (q, q)], mode=padding_mode)
        padding = 0
    return fn(xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups).numpy()


LAYERS = [
    # (N, C, K, spatial, kernel, stride, padding, dilation, groups)
    (2, 4, 6, (9,), (3,), 1, 1, 1, 1),
    (1, 3, 2, (17,), (5,), 2, 2, 1, 1),
    (2, 4, 4, (12,), (3,), 1, 0, 3, 2),
    (2, 4, 6, (9, 8), (3, 3), 1, 1, 1, 1),
    (2, 6, 6, (9, 10), (3, 3), 2, 1, 1, 3),
    (1, 3, 5, (11, 7), (3, 2), (2, 1), (0, 1), (2, 1), 1),
    (3, 4, 4, (8, 8), (3, 3), 1, 1, 1, 4),  # depthwise
    (2, 4, 8, (7, 7), (1, 1), 1, 0, 1, 1),  # 1x1
    (1, 2, 3, (5, 6, 7), (3, 3, 3), 1, 1, 1, 1),
    (2, 2, 2, (6, 5, 7), (2, 3, 2), (1, 2, 1), (1, 0, 1), 1, 2),
]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", METHODS)
def test_conv_matches_torch(layer, dtype, method):
    n, c, k, size, ks, stride, padding, dilation, groups = layer
    x = RNG.standard_normal((n, c, *size)).astype(dtype)
    w = RNG.standard_normal((k, c // groups, *ks)).astype(dtype)
    b = RNG.standard_normal(k).astype(dtype)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    expected = torch_conv(x, w, b, **options)
    try:
        got = nn.conv(x, w, b, method=method, **options)
    except ArgumentError as err:
        assert method != "auto" and "cannot compute this" in str(err)
        return
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **tol(dtype))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_modes_match_torch(mode, dims):
    x = RNG.standard_normal((2, 3, *[7] * dims))
    w = RNG.standard_normal((4, 3, *[3] * dims))
    got = nn.conv(x, w, padding=2, padding_mode=mode)
    np.testing.assert_allclose(got, torch_conv(x, w, padding=2, padding_mode=mode), **tol(x.dtype))


def test_numpy_padding_names_are_accepted():
    x, w = RNG.standard_normal((1, 2, 9)), RNG.standard_normal((3, 2, 3))
    np.testing.assert_array_equal(
        nn.conv(x, w, padding=1, padding_mode="edge"),
        nn.conv(x, w, padding=1, padding_mode="replicate"),
    )


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("kernel", [2, 3, 4])
@pytest.mark.parametrize("dilation", [1, 2])
def test_padding_same_and_valid_match_torch(dims, kernel, dilation):
    x = RNG.standard_normal((2, 2, *[9] * dims))
    w = RNG.standard_normal((3, 2, *[kernel] * dims))
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
    for padding in ("same", "valid"):
        expected = fn(torch.from_numpy(x), torch.from_numpy(w), padding=padding, dilation=dilation)
        got = nn.conv(x, w, padding=padding, dilation=dilation)
        np.testing.assert_allclose(got, expected.numpy(), **tol(x.dtype))


def test_per_axis_padding_pairs():
    x, w = RNG.standard_normal((1, 2, 8, 9)), RNG.standard_normal((3, 2, 3, 3))
    got = nn.conv(x, w, padding=((2, 0), (1, 3)))
    padded = np.pad(x, ((0, 0), (0, 0), (2, 0), (1, 3)))
    np.testing.assert_allclose(got, torch_conv(padded, w), **tol(x.dtype))


def test_flip_is_a_true_convolution():
    x, w = RNG.standard_normal((2, 3, 8, 9)), RNG.standard_normal((4, 3, 3, 2))
    got = nn.conv(x, w, padding=1, flip=True)
    np.testing.assert_allclose(got, torch_conv(x, w[..., ::-1, ::-1].copy(), padding=1))


def test_unbatched_input_and_named_forms():
    x, w = RNG.standard_normal((3, 10)), RNG.standard_normal((2, 3, 4))
    got = nn.conv1d(x, w, padding=1)
    np.testing.assert_allclose(got, F.conv1d(torch.from_numpy(x), torch.from_numpy(w), padding=1))
    with pytest.raises(ArgumentError, match="conv2d needs a weight with 4 axes"):
        nn.conv2d(x, w)


def test_complex_weights_are_not_conjugated():
    x = RNG.standard_normal((1, 2, 8)) + 1j * RNG.standard_normal((1, 2, 8))
    w = RNG.standard_normal((3, 2, 3)) + 1j * RNG.standard_normal((3, 2, 3))
    expected = F.conv1d(torch.from_numpy(x), torch.from_numpy(w))
    np.testing.assert_allclose(nn.conv(x, w), expected.numpy(), rtol=1e-10, atol=1e-10)


def test_integer_layers_are_exact():
    x = RNG.integers(-1000, 1000, (2, 3, 9, 9))
    w = RNG.integers(-1000, 1000, (4, 3, 3, 3))
    got = nn.conv(x, w, padding=1)
    expected = torch_conv(x.astype(np.float64), w.astype(np.float64), padding=1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected.astype(np.int64))


def test_empty_batch_and_zero_channels():
    w = RNG.standard_normal((4, 3, 3, 3))
    assert nn.conv(np.zeros((0, 3, 5, 5)), w, padding=1).shape == (0, 4, 5, 5)
    got = nn.conv(np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), np.ones(4))
    np.testing.assert_array_equal(got, np.ones((2, 4, 3, 3)))


def test_non_contiguous_inputs():
    x = RNG.standard_normal((2, 9, 3, 10)).transpose(0, 2, 1, 3)[..., ::-1]
    w = np.asfortranarray(RNG.standard_normal((4, 3, 3, 3)))
    np.testing.assert_allclose(
        nn.conv(x, w, padding=1), torch_conv(np.ascontiguousarray(x), w.copy(), padding=1)
    )


# ---- transposed convolution ----

TRANSPOSED = [
    # (N, C, K, spatial, kernel, stride, padding, output_padding, dilation, groups)
    (2, 4, 3, (7,), (3,), 2, 1, 1, 1, 1),
    (1, 2, 4, (5,), (4,), 3, 0, 2, 1, 2),
    (2, 4, 6, (5, 6), (3, 3), 2, 1, 1, 1, 2),
    (1, 3, 2, (4, 5), (2, 3), (1, 2), (0, 1), (0, 1), (2, 1), 1),
    (1, 2, 2, (3, 4, 3), (3, 2, 3), 2, 1, 0, 1, 1),
]


@pytest.mark.parametrize("layer", TRANSPOSED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose_matches_torch(layer, dtype):
    n, c, k, size, ks, stride, padding, extra, dilation, groups = layer
    x = RNG.standard_normal((n, c, *size)).astype(dtype)
    w = RNG.standard_normal((c, k // groups, *ks)).astype(dtype)
    b = RNG.standard_normal(k).astype(dtype)
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[len(size)]
    options = {"stride": stride, "padding": padding, "output_padding": extra}
    options |= {"dilation": dilation, "groups": groups}
    expected = fn(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **options)
    got = nn.conv_transpose(x, w, b, **options)
    np.testing.assert_allclose(got, expected.numpy(), **tol(dtype))
    shape = nn.output_shape(x.shape, w.shape, transposed=True, **options)
    assert shape == got.shape


# ---- gradients ----


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular"])
def test_gradients_match_torch_autograd(layer, mode):
    n, c, k, size, ks, stride, padding, dilation, groups = layer
    if mode != "zeros" and padding == 0:
        return
    x = RNG.standard_normal((n, c, *size))
    w = RNG.standard_normal((k, c // groups, *ks))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    d = len(size)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    source = xt
    if mode != "zeros":
        pads = [padding] * d if isinstance(padding, int) else list(padding)
        source = F.pad(xt, [p for q in reversed(pads) for p in (q, q)], mode=mode)
    torch_options = options | {"padding": 0 if mode != "zeros" else padding}
    y = fn(source, wt, bt, **torch_options)
    g = RNG.standard_normal(tuple(y.shape))
    y.backward(torch.from_numpy(g))
    options |= {"padding_mode": mode}
    np.testing.assert_allclose(nn.conv_grad_input(x.shape, w, g, **options), xt.grad.numpy())
    np.testing.assert_allclose(nn.conv_grad_weight(x, w.shape, g, **options), wt.grad.numpy())
    np.testing.assert_allclose(nn.conv_grad_bias(g), bt.grad.numpy())


@given(
    st.integers(1, 2),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(4, 9),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 2),
    st.booleans(),
)
def test_adjointness(n, c, k, size, kernel, stride, padding, dilation, flip):
    """<conv(x, w), g> == <x, grad_input(g, w)> == <w, grad_weight(x, g)>."""
    if size + 2 * padding < dilation * (kernel - 1) + 1:
        return
    x = RNG.standard_normal((n, c, size, size + 1))
    w = RNG.standard_normal((k, c, kernel, kernel))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "flip": flip}
    y = nn.conv(x, w, **options)
    g = RNG.standard_normal(y.shape)
    inner = np.vdot(y, g)
    np.testing.assert_allclose(np.vdot(x, nn.conv_grad_input(x.shape, w, g, **options)), inner)
    np.testing.assert_allclose(np.vdot(w, nn.conv_grad_weight(x, w.shape, g, **options)), inner)


def test_finite_differences_float64():
    x = RNG.standard_normal((1, 2, 6, 5))
    w = RNG.standard_normal((3, 2, 3, 3))
    options = {"stride": 2, "padding": 1, "padding_mode": "reflect"}
    g = RNG.standard_normal(nn.conv(x, w, **options).shape)
    gx = nn.conv_grad_input(x.shape, w, g, **options)
    gw = nn.conv_grad_weight(x, w.shape, g, **options)
    h = 1e-6
    for index in itertools.islice(np.ndindex(x.shape), 0, None, 7):
        e = np.zeros_like(x)
        e[index] = h
        numeric = np.vdot(nn.conv(x + e, w, **options) - nn.conv(x - e, w, **options), g) / (2 * h)
        assert abs(numeric - gx[index]) < 1e-6
    for index in itertools.islice(np.ndindex(w.shape), 0, None, 5):
        e = np.zeros_like(w)
        e[index] = h
        numeric = np.vdot(nn.conv(x, w + e, **options) - nn.conv(x, w - e, **options), g) / (2 * h)
        assert abs(numeric - gw[index]) < 1e-6


# ---- shapes, parameters, errors ----


def test_output_shape_and_parameter_count_follow_the_formula():
    # W_out = (W_in + 2p - w) / s + 1, parameters (w·h·D_in + 1)·k, written out here.
    assert nn.output_shape((1, 3, 227, 227), (96, 3, 11, 11), stride=4) == (1, 96, 55, 55)
    assert nn.parameter_count((96, 3, 11, 11)) == (11 * 11 * 3 + 1) * 96
    assert nn.parameter_count((96, 3, 11, 11), bias=False) == 11 * 11 * 3 * 96
    x, w = np.zeros((2, 6, 13, 9)), np.zeros((4, 3, 3, 2))
    options = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}
    assert nn.output_shape(x.shape, w.shape, **options) == nn.conv(x, w, **options).shape


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stride": 0}, "stride=0: must be at least 1"),
        ({"dilation": -1}, "dilation=-1: must be at least 1"),
        ({"groups": 0}, "groups=0: must be at least 1"),
        ({"groups": 4}, "must divide the input channels"),
        ({"padding": "same", "stride": 2}, "'same' is only defined for stride 1"),
        ({"padding": "sme"}, "must be 'same', 'valid'"),
        ({"padding": -1}, "must be at least 0"),
        ({"padding_mode": "mirror"}, "another library's name"),
    ],
)
def test_errors_name_the_argument(kwargs, match):
    x, w = np.zeros((1, 6, 8, 8)), np.zeros((4, 6, 3, 3))
    with pytest.raises((ArgumentError, ArgumentTypeError), match=match):
        nn.conv(x, w, **kwargs)


def test_shape_and_dtype_errors():
    with pytest.raises(ArgumentError, match="expects 6 input channels"):
        nn.conv(np.zeros((1, 5, 8, 8)), np.zeros((4, 6, 3, 3)))
    with pytest.raises(ArgumentError, match="dilated kernel spans 5 samples"):
        nn.conv(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), dilation=2)
    with pytest.raises(ArgumentError, match="must share one dtype"):
        nn.conv(np.zeros((1, 1, 4), np.float32), np.zeros((1, 1, 3)))
    with pytest.raises(ArgumentError, match=r"bias\.shape"):
        nn.conv(np.zeros((1, 1, 4)), np.zeros((2, 1, 3)), np.zeros(3))
    with pytest.raises(ArgumentError, match="output_padding"):
        nn.conv_transpose(np.zeros((1, 1, 4)), np.zeros((1, 1, 3)), stride=2, output_padding=2)
    with pytest.raises(ArgumentError, match=r"grad_output\.shape"):
        nn.conv_grad_input((1, 1, 5), np.zeros((1, 1, 3)), np.zeros((1, 1, 4)))
    with pytest.raises(ArgumentError, match=r"weight\.shape"):
        nn.conv(np.zeros((1, 1, 4, 4, 4, 4)), np.zeros((1, 1, 1, 1, 1, 1)))


# ---- the PyTorch bridge ----


def test_bridge_gradcheck():
    from convolib.torch import conv

    x = torch.randn(2, 4, 7, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    options = {"stride": (2, 1), "padding": 1, "groups": 2, "padding_mode": "reflect"}
    assert torch.autograd.gradcheck(lambda *a: conv(*a, **options), (x, w, b))


def test_bridge_module_matches_torch_layer():
    from convolib.torch import Conv

    torch.manual_seed(0)
    ours = Conv(3, 5, 3, padding=1, dims=1, dtype=torch.float64)
    theirs = torch.nn.Conv1d(3, 5, 3, padding=1, dtype=torch.float64)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 11, dtype=torch.float64)
    (a := ours(x)).sum().backward()
    (b := theirs(x)).sum().backward()
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
    torch.testing.assert_close(ours.bias.grad, theirs.bias.grad)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("kind", ["windows", "outputs", "taps"])
def test_every_gemm_layout_matches_torch(layer, kind, monkeypatch):
    """Each way the gemm algorithm gathers windows, forward and weight gradient."""
    from convolib.algorithms import gemm

    n, c, k, size, ks, stride, padding, dilation, groups = layer
    x = RNG.standard_normal((n, c, *size))
    w = RNG.standard_normal((k, c // groups, *ks))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    expected = torch_conv(x, w, **options)
    g = RNG.standard_normal(expected.shape)
    spec = nn.plan(x, w, method="reference", **options).spec
    if kind not in gemm.layouts(spec) or c // groups == 1:
        return
    monkeypatch.setattr(
        gemm, "layout", lambda spec: kind if kind in gemm.layouts(spec) else "windows"
    )
    np.testing.assert_allclose(nn.conv(x, w, method="gemm", **options), expected)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w).requires_grad_()
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(size)]
    fn(xt, wt, **options).backward(torch.from_numpy(g))
    got = nn.conv_grad_weight(x, w.shape, g, method="gemm", **options)
    np.testing.assert_allclose(got, wt.grad.numpy())


@pytest.mark.parametrize("channels", [1, 3, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
@pytest.mark.parametrize("tile", [2, 4])
def test_winograd_within_its_documented_bound(channels, dtype, padding_mode, tile, monkeypatch):
    from convolib.algorithms import winograd
    from convolib.algorithms.winograd import ERROR_FACTOR, TILE_FOR

    monkeypatch.setitem(winograd.TILE_FOR, np.dtype(dtype).name, tile)

    x = RNG.uniform(-1, 1, (2, channels, 23, 18)).astype(dtype)
    w = RNG.uniform(-1, 1, (5, channels, 3, 3)).astype(dtype)
    exact = torch_conv(
        x.astype(np.float64), w.astype(np.float64), padding=1, padding_mode=padding_mode
    )
    got = nn.conv(x, w, padding=1, padding_mode=padding_mode, method="winograd")
    eps = np.finfo(dtype).eps
    factor = ERROR_FACTOR[TILE_FOR[np.dtype(dtype).name]]
    bound = factor * eps * channels * 9 * np.abs(x).max() * np.abs(w).max()
    assert np.abs(got - exact).max() <= bound


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_dask_input_gives_the_in_memory_result(chunks):
    da = pytest.importorskip("dask.array")
    x = RNG.standard_normal((5, 4, 9, 8))
    w, b = RNG.standard_normal((6, 2, 3, 3)), RNG.standard_normal(6)
    options = {"stride": 2, "padding": 1, "groups": 2, "padding_mode": "reflect"}
    lazy = nn.conv(da.from_array(x, chunks=(chunks, 2, 4, 4)), w, b, **options)
    assert (
        isinstance(lazy, da.Array) and lazy.chunks[0] == da.from_array(x, chunks=chunks).chunks[0]
    )
    np.testing.assert_allclose(lazy.compute(), nn.conv(x, w, b, **options))
    unbatched = nn.conv(da.from_array(x[0], chunks=2), w, b, **options)
    np.testing.assert_allclose(unbatched.compute(), nn.conv(x[0], w, b, **options))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "options", "algorithm"),
    [
        ((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}, "winograd"),  # n1
        ((1, 3, 224, 224), (64, 3, 7, 7), {"stride": 2, "padding": 3}, "gemm"),  # n3
        ((8, 384, 28, 28), (384, 1, 7, 7), {"padding": 3, "groups": 384}, "direct"),  # n5
        ((8, 64, 56, 56), (256, 64, 1, 1), {}, "gemm"),  # n6
        ((4, 16, 65536), (16, 16, 1025), {"padding": 512}, "fft"),  # n7
        ((1, 1, 16, 16), (1, 1, 3, 3), {"padding": 1}, "direct"),  # one channel: no sum
    ],
)
def test_planner_golden_choices_for_layers(x_shape, w_shape, options, algorithm):
    x = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), x_shape, [0] * len(x_shape))
    assert nn.plan(x, np.zeros(w_shape, np.float32), **options).algorithm == algorithm
