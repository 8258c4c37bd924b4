"""convolib.nn against PyTorch (forward, transposed, autograd gradients), identities,
and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convolib import ArgumentError, ArgumentTypeError, nn
from convolib.planner import forget_plans

torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)
MODES = {"zeros": "zeros", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
METHODS = ("auto", "gemm", "direct_sum", "winograd", "fft", "interleaved", "reference")


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


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_bias", [True, False])
def test_a_repeated_layer_call_runs_the_remembered_layer_on_its_own_operands(
    flip, batched, with_bias
):
    """The second call of a signature skips validation and planning (`runs_by_call`),
    and must still compute on its own operands: checked against the same layer in the
    reference algorithm, a call of another signature."""
    from convolib.planner import runs_by_call

    shape = (2, 3, 7, 6) if batched else (3, 7, 6)
    options = {"stride": 2, "padding": 1, "flip": flip}
    for _ in range(2):
        x, w = RNG.standard_normal(shape), RNG.standard_normal((4, 3, 3, 2))
        b = RNG.standard_normal(4) if with_bias else None
        got = nn.conv(x, w, b, **options)
        np.testing.assert_allclose(got, nn.conv(x, w, b, method="reference", **options))
    assert any(key[0] == "conv" and key[1] == (shape, x.dtype) for key in runs_by_call)


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


@pytest.fixture
def small_chunks(monkeypatch):
    """gemm, direct_sum and winograd cut into many small chunks (direct_sum's taps
    into passes of four), run on two threads however small."""
    from convolib import costs
    from convolib.algorithms import direct_sum, gemm, winograd

    cached = (gemm._chunks, gemm._work, gemm.layouts, gemm._taps_block, winograd._work)
    cached += (direct_sum._layout,)
    monkeypatch.setattr(costs, "DIRECT_SUM_CHUNK_BYTES", 64)
    monkeypatch.setattr(costs, "DIRECT_SUM_TAP_BLOCK", 4)
    monkeypatch.setattr(costs, "DIRECT_SUM_PARALLEL_MIN_S", 0.0)
    monkeypatch.setattr(costs, "GEMM_CHUNK_BYTES", 64)
    monkeypatch.setattr(costs, "GEMM_MIN_COLUMNS", 1)
    monkeypatch.setattr(costs, "WINOGRAD_CHUNK_BYTES", 64)
    monkeypatch.setattr(costs, "WINOGRAD_MIN_TILES", 1)
    monkeypatch.setattr(costs, "LAYER_PARALLEL_MIN_S", 0.0)
    for f in cached:
        f.cache_clear()
    forget_plans()
    yield
    for f in cached:
        f.cache_clear()
    forget_plans()


def _layer_and_grads(layer, dtype=np.float64):
    """A layer's operands and torch's output, input gradient and weight gradient."""
    n, c, k, size, ks, stride, padding, dilation, groups = layer
    x = RNG.standard_normal((n, c, *size)).astype(dtype)
    w = RNG.standard_normal((k, c // groups, *ks)).astype(dtype)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    y = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(size)](xt, wt, **options)
    g = RNG.standard_normal(tuple(y.shape)).astype(dtype)
    y.backward(torch.from_numpy(g))
    return x, w, g, options, (y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy())


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("kind", ["windows", "taps"])
@pytest.mark.parametrize("chunks", ["default", "small"])
def test_every_gemm_layout_matches_torch(layer, kind, chunks, monkeypatch, request):
    """Each way the gemm algorithm gathers windows, forward and weight gradient, in
    its default chunks and in chunks of one output row (or position) on two threads."""
    from convolib.algorithms import gemm

    if chunks == "small":
        request.getfixturevalue("small_chunks")
    x, w, g, options, (y, _, dw) = _layer_and_grads(layer)
    if w.shape[1] == 1:
        return  # one channel per group: a matrix-vector product, not gemm's
    monkeypatch.setattr(gemm, "layout", lambda spec: kind)
    np.testing.assert_allclose(nn.conv(x, w, method="gemm", **options), y)
    got = nn.conv_grad_weight(x, w.shape, g, method="gemm", **options)
    np.testing.assert_allclose(got, dw)


# a filter block padded (13 filters), a stride of 3 with dilation, and 180 taps: a
# pass of `costs.DIRECT_SUM_TAP_BLOCK` taps and part of one (in small chunks, 45 passes);
# then rows a whole number of float64 vectors long, summed by rows: 48 outputs (in
# small chunks, two segments a row), 24 (a tile and a vector) with a block of one
# filter, and a volume's rows of 16
DIRECT_SUM_LAYERS = [
    *LAYERS,
    (2, 5, 13, (10, 9), (3, 3), 2, 1, 1, 1),
    (1, 3, 9, (23,), (7,), 3, 3, 2, 1),
    (2, 20, 11, (9, 8), (3, 3), 1, 1, 1, 1),
    (1, 3, 16, (6, 48), (3, 3), 1, 1, 1, 1),
    (2, 3, 9, (12, 47), (5, 5), 2, (1, 2), 1, 1),
    (1, 2, 8, (4, 5, 16), (3, 3, 3), 1, 1, 1, 1),
]


@pytest.mark.parametrize("layer", DIRECT_SUM_LAYERS)
@pytest.mark.parametrize("chunks", ["default", "small"])
def test_direct_sum_matches_torch(layer, chunks, request):
    """direct_sum's forward pass and weight gradient, in its default jobs and in jobs
    of a few outputs (ending mid-row) on two threads."""
    if chunks == "small":
        request.getfixturevalue("small_chunks")
    x, w, g, options, (y, _, dw) = _layer_and_grads(layer)
    for fn, args, expected in ((nn.conv, (x, w), y), (nn.conv_grad_weight, (x, w.shape, g), dw)):
        try:
            got = fn(*args, method="direct_sum", **options)
        except ArgumentError as err:  # one kernel and no channel sum
            assert "one kernel and no channel sum" in str(err)
            continue
        np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("chunks", ["default", "small"])
def test_direct_sum_sums_float32_rows_of_whole_vectors_straight_into_the_output(chunks, request):
    """A first layer's shape (n3's, smaller): rows of 32 float32 outputs, which
    direct_sum sums by rows and stores without a buffer."""
    from convolib.algorithms import direct_sum

    if chunks == "small":
        request.getfixturevalue("small_chunks")
    x = RNG.standard_normal((2, 3, 20, 64)).astype(np.float32)
    w = RNG.standard_normal((16, 3, 7, 7)).astype(np.float32)
    options = {"stride": 2, "padding": 3}
    spec = nn.plan(x, w, method="direct_sum", **options).spec
    assert direct_sum._layout(spec).geo[direct_sum._loops().BY_ROWS]
    got = nn.conv(x, w, method="direct_sum", **options)
    np.testing.assert_allclose(got, torch_conv(x, w, **options), **tol(np.float32))


@pytest.mark.parametrize(
    "n, lo, stride",
    [
        ((1, 1, 9), (0, 0, 3), (1, 1, 2)),
        ((1, 7, 10), (0, 2, 3), (1, 2, 3)),
        ((4, 5, 6), (1, 0, 2), (2, 3, 1)),
        ((1, 3, 41), (0, 1, 5), (1, 1, 2)),  # rows long enough for whole vectors
        ((1, 2, 2), (0, 4, 4), (1, 3, 3)),  # placed past a stride's length
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_sum_splits_signals_into_phases(n, lo, stride, dtype):
    """Both of direct_sum's phase splits write every value (``X`` starts as NaN): each
    signal placed at ``lo`` on a grid of zeros, then the grid's ``[i·s + r]`` at
    ``[r, i]`` along each axis, as NumPy's reshape lays it out; zeros after them."""
    from convolib.algorithms import direct_sum

    loops, count, slack = direct_sum._loops(), 3, 5
    x = np.arange(1, count * np.prod(n) + 1, dtype=dtype).reshape(count, *n) * 0.5
    phases = tuple(-(-(a + b + 1) // s) for a, b, s in zip(lo, n, stride, strict=True))
    grid = np.zeros((count, *(p * s for p, s in zip(phases, stride, strict=True))), dtype)
    grid[(slice(None), *(slice(a, a + b) for a, b in zip(lo, n, strict=True)))] = x
    split = grid.reshape(count, *(v for p, s in zip(phases, stride, strict=True) for v in (p, s)))
    expected = np.r_[split.transpose(0, 2, 4, 6, 1, 3, 5).ravel(), np.zeros(slack, dtype)]
    geometry = (np.array(n), np.array(lo), np.array(stride), np.array(phases))
    for splitter in (loops.split_phases, loops.split_phases_parallel):
        X = np.full(expected.size, np.nan, dtype)
        splitter(x.ravel(), count, *geometry, X)
        np.testing.assert_array_equal(X, expected)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("method", ["gemm", "direct_sum", "winograd"])
def test_layers_give_the_same_result_on_any_number_of_threads(layer, method, small_chunks):
    """Chunks are cut the same way whatever the thread count: the same bits."""
    x, w, g, options, _ = _layer_and_grads(layer, np.float32)
    for fn, args in ((nn.conv, (x, w)), (nn.conv_grad_weight, (x, w.shape, g))):
        try:
            one = fn(*args, method=method, workers=1, **options)
        except ArgumentError:
            continue
        assert np.array_equal(fn(*args, method=method, workers=2, **options), one)


WINOGRAD_LAYERS = [
    # (N, C, K, spatial, padding, groups, padding_mode): edges, pads wider than the
    # kernel, grouped channels, tiles that pass the image's edges
    (2, 3, 5, (9, 8), 1, 1, "zeros"),
    (1, 4, 4, (11, 7), 0, 1, "zeros"),
    (3, 4, 6, (10, 10), (2, 3), 2, "zeros"),
    (2, 3, 2, (13, 9), 1, 1, "reflect"),
    (1, 2, 3, (5, 17), (0, 2), 1, "circular"),
    (1, 3, 8, (5, 6), 1, 1, "zeros"),  # more filters than tiles: filters in blocks
    (2, 4, 12, (4, 4), 1, 2, "reflect"),
]


@pytest.mark.parametrize("layer", WINOGRAD_LAYERS)
@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("chunks", ["default", "small"])
def test_winograd_layers_and_weight_gradients_match_torch(
    layer, tile, chunks, monkeypatch, request
):
    """Both of winograd's forms: the layer (tiles of the output) and its weight gradient
    (tiles of the output gradient), in default and in one-row chunks on two threads."""
    from convolib.algorithms import winograd

    if chunks == "small":
        request.getfixturevalue("small_chunks")
    monkeypatch.setitem(winograd.TILE_FOR, "float64", tile)
    winograd._work.cache_clear()
    n, c, k, size, padding, groups, mode = layer
    x = RNG.standard_normal((n, c, *size))
    w = RNG.standard_normal((k, c // groups, 3, 3))
    options = {"padding": padding, "groups": groups, "padding_mode": mode}
    expected = torch_conv(x, w, **options)
    if tile == 4 and layer in WINOGRAD_LAYERS[-2:]:  # the filters-in-blocks schedule runs
        assert winograd.filter_block(nn.plan(x, w, **options).spec, tile) is not None
    np.testing.assert_allclose(nn.conv(x, w, method="winograd", **options), expected, atol=1e-12)
    g = RNG.standard_normal(expected.shape)
    got = nn.conv_grad_weight(x, w.shape, g, method="winograd", **options)
    reference = nn.conv_grad_weight(x, w.shape, g, method="reference", **options)
    np.testing.assert_allclose(got, reference, atol=1e-12)
    winograd._work.cache_clear()


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
    # the weight gradient (the transposed form): sums of N · 23 · 18 terms
    g = RNG.uniform(-1, 1, exact.shape).astype(dtype)
    exact = nn.conv_grad_weight(
        x.astype(np.float64), w.shape, g.astype(np.float64), padding=1, padding_mode=padding_mode
    )
    got = nn.conv_grad_weight(
        x, w.shape, g, padding=1, padding_mode=padding_mode, method="winograd"
    )
    bound = factor * eps * g[:, 0].size * np.abs(x).max() * np.abs(g).max()
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
    ("x_shape", "w_shape", "options", "algorithm", "dtype"),
    [
        ((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}, "winograd", np.float32),  # n1
        ((8, 128, 28, 28), (128, 128, 3, 3), {"padding": 1}, "winograd", np.float32),  # n2
        # few channels into few filters: gemm's products are narrow, direct_sum reads each
        # value once for eight filters (n3 is a near tie between the two, so not here)
        ((8, 3, 64, 64), (16, 3, 5, 5), {"padding": 2}, "direct_sum", np.float32),
        ((2, 32, 16, 16, 16), (32, 32, 3, 3, 3), {"padding": 1}, "direct_sum", np.float32),
        ((8, 256, 14, 14), (256, 256, 3, 3), {"padding": 1}, "winograd", np.float32),  # n4
        # n5: rows of 28 outputs, 7 taps each, are short for direct's vectors
        (
            (8, 384, 28, 28),
            (384, 1, 7, 7),
            {"padding": 3, "groups": 384},
            "interleaved",
            np.float32,
        ),
        ((8, 64, 56, 56), (256, 64, 1, 1), {}, "gemm", np.float32),  # n6
        ((4, 16, 65536), (16, 16, 1025), {"padding": 512}, "fft", np.float32),  # n7
        ((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}, "winograd", np.float64),  # n9
        # a 7x7 image with many channels: winograd's four tiles need 4x the weights
        # transformed; direct_sum's sums stay in registers (gemm runs about as fast)
        ((1, 512, 7, 7), (512, 512, 3, 3), {"padding": 1}, "direct_sum", np.float32),
        ((1, 1, 16, 16), (1, 1, 3, 3), {"padding": 1}, "direct", np.float32),  # no sum
    ],
)
def test_planner_golden_choices_for_layers(x_shape, w_shape, options, algorithm, dtype):
    x = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), x_shape, [0] * len(x_shape))
    assert nn.plan(x, np.zeros(w_shape, dtype), **options).algorithm == algorithm


def test_weight_gradients_of_3x3_layers_take_winograd():
    """The weight gradient of n1 (a 3×3 output from a 56×56 kernel) is planned as
    winograd's transposed form, the input gradient as a 3×3 layer."""
    from convolib.planner import make_plan

    x, g = (np.zeros((8, 64, 56, 56), np.float32) for _ in range(2))
    w = np.zeros((64, 64, 3, 3), np.float32)
    planned = []

    def spy(signal, kernel, layer, *, method, workers, **geometry):
        planned.append(make_plan(nn._spec(signal, kernel, layer, **geometry), method, workers))
        return real(signal, kernel, layer, method=method, workers=workers, **geometry)

    real, nn._sum = nn._sum, spy
    try:
        nn.conv_grad_weight(x, w.shape, g, padding=1)
        nn.conv_grad_input(x.shape, w, g, padding=1)
    finally:
        nn._sum = real
    assert [p.algorithm for p in planned] == ["winograd", "winograd"]
    assert planned[0].spec.out == (3, 3) and planned[0].spec.m == (56, 56)


@pytest.mark.parametrize("layer", LAYERS)
def test_fft_takes_filters_in_blocks(layer, monkeypatch):
    """A channel sum whose kernels' spectra would be too large transforms its filters a
    few at a time (here two, the last block shorter where their number is odd)."""
    from convolib import costs
    from convolib.algorithms import fft

    x, w, g, options, (y, _, dw) = _layer_and_grads(layer)
    spec = nn.plan(x, w, method="fft", **options).spec
    if spec.contract is None:
        return
    lengths = fft.fast_lengths(fft.layout(spec).circular, spec.acc_dtype)
    per_filter = spec.channels * np.prod(fft.spectrum_shape(lengths, True)) * 16
    groups, filters = options["groups"], w.shape[0] // options["groups"]
    block = 2 if filters > 2 else 1
    monkeypatch.setattr(costs, "FFT_BLOCK_BYTES", int(per_filter * groups * (block + 0.5)))
    assert fft.filter_blocks(spec)[1] == block
    np.testing.assert_allclose(nn.conv(x, w, method="fft", **options), y, atol=1e-10)
    got = nn.conv_grad_weight(x, w.shape, g, method="fft", **options)
    np.testing.assert_allclose(got, dw, atol=1e-10)


def test_direct_sum_checks_only_the_kernel_for_non_finite_values():
    """NaN and inf in the signal reach only the outputs whose windows hold them, with a
    stride (the signal split into phases), filters that do not fill a block (zero
    weights times inf) and rows summed along one line (overhang positions read the next
    row): ``auto`` keeps direct_sum's result and scans only the kernel."""
    from convolib.algorithms import registry
    from convolib.execute import _spread

    x = RNG.standard_normal((2, 3, 11, 9))
    x[0, 1, 4, 0], x[1, 2, 0, 8], x[1, 0, 10, 5] = np.nan, np.inf, -np.inf
    w = RNG.standard_normal((5, 3, 3, 3))
    for options in (dict(padding=1), dict(stride=2, padding=(2, 1)), dict(dilation=(2, 1))):
        got = nn.conv(x, w, method="direct_sum", **options)
        expected = nn.conv(x, w, method="reference", **options)
        assert np.array_equal(np.isnan(got), np.isnan(expected)), options
        assert np.array_equal(np.isinf(got), np.isinf(expected)), options
        finite = np.isfinite(expected)
        assert 0 < finite.sum() < finite.size
        np.testing.assert_allclose(got[finite], expected[finite], atol=1e-12)
        spec = nn.plan(x, w, method="direct_sum", **options).spec
        assert registry()["direct_sum"].local_signal_nonfinite(spec)
    assert _spread(x, w, normwise=False, kernel_only=True) == (0.0, False)


def test_gemm_checks_only_the_kernel_for_non_finite_values():
    """A window's column holds its own signal values only: NaN and inf in the signal
    stay in their windows (as in the direct sum), so ``auto`` keeps gemm's result; an
    infinite kernel tap on materialised zero padding would give NaN, so the kernel is
    checked and the sum runs instead."""
    from convolib.algorithms import gemm, registry
    from convolib.execute import _spread

    x = RNG.standard_normal((2, 3, 9, 8))
    x[0, 1, 4, 4], x[1, 2, 0, 7] = np.nan, np.inf
    w = RNG.standard_normal((4, 3, 3, 3))
    got = nn.conv(x, w, padding=1, method="gemm")
    expected = nn.conv(x, w, padding=1, method="reference")
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite])
    spec = nn.plan(x, w, padding=1, method="gemm").spec
    assert registry()["gemm"].local_signal_nonfinite(spec) == (gemm.layout(spec) == "windows")
    k = np.ones((3, 3))
    assert _spread(x, k, normwise=False, kernel_only=True) == (0.0, False)
    assert _spread(x, k, normwise=False) == (np.inf, False)
    assert _spread(k, np.array([np.inf]), normwise=False, kernel_only=True)[0] == np.inf
