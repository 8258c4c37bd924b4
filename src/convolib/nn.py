"""Neural-network convolution in `torch.nn.functional`'s conventions, and its gradients.

Layout: input ``(N, C, *spatial)`` (or unbatched ``(C, *spatial)``), weight
``(K, C / groups, *kernel)``, output ``(N, K, *out)``, with 1, 2 or 3 spatial axes
(from ``weight.ndim``). Like PyTorch, `conv` slides the weight as it is
(cross-correlation, no conjugation of complex weights); ``flip=True`` computes a
true convolution. Each layer, and each gradient, becomes one convolution `Spec`
(channels summed over a contracted axis) and runs through the same planner as
`convolib.convolve`, so every algorithm serves the forward and backward passes.

>>> import numpy as np
>>> x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
>>> conv(x, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))[0, 0].tolist()
[[37.0, 47.0], [67.0, 77.0]]
>>> output_shape((8, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3)
(8, 64, 112, 112)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import chunked
from .algorithms import last_axes_reversed
from .boundary import canonical_boundary
from .errors import ArgumentTypeError, bad_argument
from .numbers import as_operand
from .planner import Plan, make_plan, remember, runs_by_call
from .spec import Spec, build_spec, scalar_options

__all__ = [
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_grad_bias",
    "conv_grad_input",
    "conv_grad_weight",
    "conv_transpose",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "output_shape",
    "parameter_count",
    "plan",
]


@dataclass(frozen=True)
class Layer:
    """A validated layer geometry: what every front-end function here shares."""

    dims: int
    batch: int
    channels: int
    filters: int
    groups: int
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]

    @property
    def out(self) -> tuple[int, ...]:
        """Spatial output size: ``(n + lo + hi - dilation·(k-1) - 1) // stride + 1``."""
        return tuple(
            (n + lo + hi - dl * (k - 1) - 1) // s + 1
            for n, (lo, hi), k, s, dl in zip(
                self.size, self.pads, self.kernel, self.stride, self.dilation, strict=True
            )
        )


def _ints(arg: str, value: object, dims: int, minimum: int) -> tuple[int, ...]:
    items = [value] * dims if isinstance(value, numbers.Integral) else value
    if isinstance(items, str) or not hasattr(items, "__len__"):
        raise bad_argument(
            arg,
            value,
            f"must be an int or {dims} ints (one per spatial axis)",
            cls=ArgumentTypeError,
        )
    items = list(items)  # type: ignore[arg-type]
    if len(items) == 1 and dims > 1:
        items *= dims
    if len(items) != dims or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items
    ):
        raise bad_argument(
            arg,
            value,
            f"must be an int or {dims} ints (one per spatial axis)",
            cls=ArgumentTypeError,
        )
    if any(v < minimum for v in items):
        raise bad_argument(arg, value, f"must be at least {minimum}")
    return tuple(int(v) for v in items)


def _pads(padding: object, kernel: tuple[int, ...], stride, dilation) -> tuple:
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise bad_argument(
                "padding", padding, "must be 'same', 'valid', an int, or ints per axis"
            )
        if any(s != 1 for s in stride):
            raise bad_argument(
                "padding",
                padding,
                f"'same' is only defined for stride 1 (got stride={stride})",
                "give the padding as numbers, or use stride=1",
            )
        totals = [dl * (k - 1) for k, dl in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if (
        not isinstance(padding, numbers.Integral)
        and hasattr(padding, "__len__")
        and len(padding) == dims  # type: ignore[arg-type]
        and all(not isinstance(p, numbers.Integral) for p in padding)  # type: ignore[union-attr]
    ):
        pairs = [_ints("padding", p, 2, 0) for p in padding]  # type: ignore[union-attr]
        return tuple(pairs)
    return tuple((p, p) for p in _ints("padding", padding, dims, 0))


def _operands(x: object, w: object, bias: object) -> tuple[np.ndarray, np.ndarray, object, bool]:
    """Input (batched), weight, bias as arrays of one dtype; and whether x was unbatched."""
    x, w = as_operand("input", x), as_operand("weight", w)
    if not 3 <= w.ndim <= 5:
        raise bad_argument(
            "weight.shape",
            w.shape,
            "must be (out_channels, in_channels / groups, *kernel) with 1, 2 or 3 kernel axes",
        )
    dims = w.ndim - 2
    if x.ndim not in (dims + 1, dims + 2):
        raise bad_argument(
            "input.shape",
            x.shape,
            f"must be (N, C, *spatial) or (C, *spatial) with {dims} spatial axes, "
            f"to match a weight of shape {w.shape}",
        )
    unbatched = x.ndim == dims + 1
    if unbatched:
        x = x[None]
    if bias is not None:
        bias = as_operand("bias", bias)
    dtypes = {a.dtype for a in (x, w, bias) if a is not None}
    if len(dtypes) > 1:
        raise bad_argument(
            "input, weight, bias",
            sorted(str(t) for t in dtypes),
            "must share one dtype (as in PyTorch)",
            "convert them with .astype(...) to one dtype",
        )
    return x, w, bias, unbatched


def _layer(
    x_shape, w_shape, stride, padding, dilation, groups, *, channels_from: str = "input"
) -> Layer:
    dims = len(w_shape) - 2
    stride = _ints("stride", stride, dims, 1)
    dilation = _ints("dilation", dilation, dims, 1)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise bad_argument("groups", groups, "must be an int", cls=ArgumentTypeError)
    if groups < 1:
        raise bad_argument("groups", groups, "must be at least 1")
    kernel = tuple(w_shape[2:])
    filters, per_group = w_shape[0], w_shape[1]
    channels = x_shape[1]
    if channels % groups or filters % groups:
        raise bad_argument(
            "groups",
            groups,
            f"must divide the {channels_from} channels ({channels}) and the output "
            f"channels ({filters})",
        )
    if per_group * groups != channels:
        raise bad_argument(
            "weight.shape",
            w_shape,
            f"expects {per_group * groups} {channels_from} channels "
            f"({per_group} per group × {groups} groups) but the {channels_from} has "
            f"{channels} (shape {tuple(x_shape)})",
        )
    pads = _pads(padding, kernel, stride, dilation)
    layer = Layer(
        dims,
        x_shape[0],
        channels,
        filters,
        groups,
        tuple(x_shape[2:]),
        kernel,
        stride,
        pads,
        dilation,
    )
    for n, (lo, hi), k, dl in zip(layer.size, pads, kernel, dilation, strict=True):
        if n + lo + hi < dl * (k - 1) + 1:
            raise bad_argument(
                "weight.shape",
                w_shape,
                f"the dilated kernel spans {dl * (k - 1) + 1} samples but the padded "
                f"{channels_from} has only {n + lo + hi} (size {n}, padding {(lo, hi)})",
                "use more padding, a smaller kernel or dilation",
            )
    return layer


def _spec(signal, kernel, layer: Layer, *, stride, dilation, pads, boundary) -> Spec:
    """The spec of ``y[b, i] = sum_c sum_j signal[b, c, i·stride + j·dilation]
    kernel[b, c, j]`` for operands laid out (batch…, c, *spatial)."""
    d = layer.dims
    return build_spec(
        "convolve",  # of the reversed kernel: a correlation that never conjugates (PyTorch)
        signal,
        kernel[last_axes_reversed(d)],
        "valid",
        axes=tuple(range(signal.ndim - d, signal.ndim)),
        boundary=boundary,
        pads=pads,
        contract=signal.ndim - d - 1,
        stride=stride,
        dilation=dilation,
    )


def _sum(signal, kernel, layer: Layer, *, method, workers, **geometry) -> np.ndarray:
    spec = _spec(signal, kernel, layer, **geometry)
    reversed_ = kernel[last_axes_reversed(layer.dims)]
    return make_plan(spec, method, workers)._run(signal, reversed_)


def _forward(x, w, stride, padding, dilation, groups, padding_mode, flip):
    """The layer's geometry, its operands in the spec's layout, and the spec options."""
    layer = _layer(x.shape, w.shape, stride, padding, dilation, groups)
    g, d = layer.groups, layer.dims
    signal = x.reshape(layer.batch, g, 1, layer.channels // g, *layer.size)
    kernel = w.reshape(1, g, layer.filters // g, w.shape[1], *layer.kernel)
    if flip:
        kernel = kernel[last_axes_reversed(d)]
    geometry = {
        "stride": layer.stride,
        "dilation": layer.dilation,
        "pads": layer.pads,
        "boundary": canonical_boundary(padding_mode),
    }
    return layer, signal, kernel, geometry


def plan(
    input: object,
    weight: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
    method: str = "auto",
    workers: int | None = None,
) -> Plan:
    """What `conv` would run for these operands, and why (a printable `convolib.Plan`).

    >>> import numpy as np
    >>> plan(np.ones((8, 64, 56, 56), np.float32), np.ones((64, 64, 3, 3), np.float32),
    ...      padding=1).algorithm in ("gemm", "winograd")
    True
    """
    x, w, _, _ = _operands(input, weight, None)
    layer, signal, kernel, geometry = _forward(
        x, w, stride, padding, dilation, groups, padding_mode, flip
    )
    return make_plan(_spec(signal, kernel, layer, **geometry), method, workers)


def conv(
    input: object,
    weight: object,
    bias: object = None,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
    method: str = "auto",
    workers: int | None = None,
) -> np.ndarray:
    """A convolution layer, as ``torch.nn.functional.conv{1,2,3}d`` computes it.

    ``padding`` is an int, one int per axis, one ``(lo, hi)`` pair per axis,
    ``"same"`` or ``"valid"``; ``padding_mode`` is ``zeros``, ``reflect``,
    ``replicate`` or ``circular`` (or their NumPy names); ``flip=True`` flips the
    kernel (a true convolution). ``method`` and ``workers`` are `convolib.convolve`'s.

    >>> import numpy as np
    >>> conv(np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), padding=1).shape
    (2, 4, 5, 5)

    A Dask array ``input`` gives a lazy Dask array, computed block by block along the
    batch axis (whose chunks are kept); channels and spatial axes are one chunk each.
    """
    options = (stride, padding, dilation, groups, padding_mode, flip, method, workers)
    call = _call(input, weight, bias, options)
    try:
        known = runs_by_call.get(call) if call is not None else None
    except TypeError:  # an unhashable option
        call = known = None
    if known is not None:
        return known(input, weight, bias)
    if chunked.is_dask(input):
        named = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        named |= {"padding_mode": padding_mode, "flip": flip, "method": method}
        return _lazy(input, weight, bias, named, workers)
    x, w, bias, unbatched = _operands(input, weight, bias)
    plan, run = _layer_runner(x, w, options, unbatched)
    if call is not None and scalar_options(tuple(map(type, options))):
        remember(call, plan, run)
    return run(x, w, bias)


def _call(input: object, weight: object, bias: object, options: tuple) -> tuple | None:
    """The key of a `conv` call in `runs_by_call`: its operands' shapes and dtypes and
    its options with their types; None where a call's values need validating each
    time (objects, or no arrays)."""
    arrays = (input, weight) if bias is None else (input, weight, bias)
    if any(type(a) is not np.ndarray or a.dtype.kind == "O" for a in arrays):
        return None
    return ("conv", *((a.shape, a.dtype) for a in arrays), options, tuple(map(type, options)))


def _layer_runner(
    x: np.ndarray, w: np.ndarray, options: tuple, unbatched: bool
) -> tuple[Plan, Callable]:
    """`conv`'s plan for operands of these shapes and dtypes (``x`` batched), validated,
    and the layer as a function of input (batched or not, as ``unbatched`` says),
    weight and bias arrays of them."""
    stride, padding, dilation, groups, padding_mode, flip, method, workers = options
    layer, signal, kernel, geometry = _forward(
        x, w, stride, padding, dilation, groups, padding_mode, flip
    )
    plan = make_plan(_spec(signal, kernel, layer, **geometry), method, workers)
    signal_shape, kernel_shape = signal.shape, kernel.shape
    turned = () if flip else last_axes_reversed(layer.dims)  # the spec convolves
    out_shape = (layer.batch, layer.filters, *layer.out)

    def run(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        kernel = w.reshape(kernel_shape)[turned]
        y = plan._run(x.reshape(signal_shape), kernel).reshape(out_shape)
        return _finish(y, bias, layer.filters, unbatched)

    return plan, run


def _lazy(x, weight, bias, options: dict, workers):
    """`conv` of a Dask array: one in-memory layer per batch chunk (one thread each by
    default, as Dask runs blocks in parallel)."""
    dims = np.ndim(weight) - 2
    if x.ndim == dims + 1:  # unbatched: one block
        return _lazy(x[None], weight, bias, options, workers)[0]
    x = x.rechunk({a: -1 for a in range(1, x.ndim)})
    shape = output_shape(
        x.shape,
        np.shape(weight),
        **{k: options[k] for k in ("stride", "padding", "dilation", "groups")},
    )
    probe = conv(np.zeros((0, *x.shape[1:]), x.dtype), weight, bias, **options)
    return x.map_blocks(
        lambda block: conv(block, weight, bias, workers=workers or 1, **options),
        dtype=probe.dtype,
        chunks=(x.chunks[0], *[(n,) for n in shape[1:]]),
        meta=probe,
    )


def _finish(y: np.ndarray, bias, filters: int, unbatched: bool) -> np.ndarray:
    if bias is not None:
        if bias.shape != (filters,):
            raise bad_argument(
                "bias.shape", bias.shape, f"must be ({filters},), one per output channel"
            )
        y += bias.reshape(filters, *[1] * (y.ndim - 2))
    return y[0] if unbatched else y


def conv_grad_input(
    input_shape: object,
    weight: object,
    grad_output: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
    method: str = "auto",
    workers: int | None = None,
) -> np.ndarray:
    """The gradient of `conv`'s output with respect to its input (``torch.nn.grad``'s
    ``conv2d_input`` argument order): ``grad_output`` sent back through the layer.

    >>> import numpy as np
    >>> conv_grad_input((1, 1, 3), np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0]]]))
    array([[[1., 3., 2.]]])
    """
    w, g_out = as_operand("weight", weight), as_operand("grad_output", grad_output)
    shape = _shape("input_shape", input_shape, w.ndim)
    layer = _layer(shape, w.shape, stride, padding, dilation, groups)
    _check_grad_output(g_out, layer, w.dtype)
    boundary = canonical_boundary(padding_mode)
    dx = _transposed(g_out, w, layer, flip, method, workers)
    if boundary != "constant":
        dx = _fold_padding(dx, layer.pads, boundary)
    else:
        dx = dx[
            (..., *[slice(lo, lo + n) for (lo, _), n in zip(layer.pads, layer.size, strict=True)])
        ]
    return np.ascontiguousarray(dx)


def _transposed(g_out, w, layer: Layer, flip: bool, method, workers) -> np.ndarray:
    """The gradient with respect to the *padded* input: every output sample sent back
    along the taps that read it (zeros stuffed between outputs for stride > 1)."""
    d, g = layer.dims, layer.groups
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(layer.size, layer.pads, strict=True))
    if any(s > 1 for s in layer.stride):
        stuffed = np.zeros(
            g_out.shape[:2]
            + tuple((o - 1) * s + 1 for o, s in zip(layer.out, layer.stride, strict=True)),
            g_out.dtype,
        )
        stuffed[(..., *[slice(None, None, s) for s in layer.stride])] = g_out
        g_out = stuffed
    # dx_padded[q] = sum_j g[q - j·dl] w[j]: a correlation of g (edges padded so every q
    # sees all taps) with the reversed kernel; q beyond the last output reads zeros.
    pads = tuple(
        (dl * (k - 1), n - m)
        for dl, k, n, m in zip(layer.dilation, layer.kernel, padded, g_out.shape[2:], strict=True)
    )
    cg, kg = layer.channels // g, layer.filters // g
    signal = g_out.reshape(layer.batch, g, 1, kg, *g_out.shape[2:])
    kernel = w.reshape(g, kg, cg, *layer.kernel).swapaxes(1, 2)[None]
    if not flip:
        kernel = kernel[last_axes_reversed(d)]
    dx = _sum(
        signal,
        kernel,
        layer,
        stride=1,
        dilation=layer.dilation,
        pads=pads,
        boundary="constant",
        method=method,
        workers=workers,
    )
    return dx.reshape(layer.batch, layer.channels, *padded)


def _fold_padding(dx: np.ndarray, pads, boundary: str) -> np.ndarray:
    """The adjoint of padding by ``boundary``: each padded sample's gradient added to
    the input sample it copies."""
    d = len(pads)
    for axis, (lo, hi) in zip(range(dx.ndim - d, dx.ndim), pads, strict=True):
        n = dx.shape[axis] - lo - hi
        source = np.pad(np.arange(n), (lo, hi), mode=boundary)
        moved = np.moveaxis(dx, axis, 0)
        folded = np.zeros((n, *moved.shape[1:]), dx.dtype)
        np.add.at(folded, source, moved)
        dx = np.moveaxis(folded, 0, axis)
    return dx


def conv_grad_weight(
    input: object,
    weight_shape: object,
    grad_output: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    flip: bool = False,
    method: str = "auto",
    workers: int | None = None,
) -> np.ndarray:
    """The gradient of `conv`'s output with respect to its weight (``torch.nn.grad``'s
    ``conv2d_weight`` argument order): input windows summed against ``grad_output``.

    >>> import numpy as np
    >>> conv_grad_weight(np.array([[[1.0, 2.0, 3.0]]]), (1, 1, 2), np.array([[[1.0, 1.0]]]))
    array([[[3., 5.]]])
    """
    x, g_out = as_operand("input", input), as_operand("grad_output", grad_output)
    shape = _shape("weight_shape", weight_shape, x.ndim)
    layer = _layer(x.shape, shape, stride, padding, dilation, groups)
    _check_grad_output(g_out, layer, x.dtype)
    g, d = layer.groups, layer.dims
    cg, kg = layer.channels // g, layer.filters // g
    # dw[k, c, j] = sum_n sum_i P[n, c, i·stride + j·dilation] g[n, k, i]: the output
    # samples are the kernel (spread by the stride), the taps the outputs (stepped by
    # the dilation), and the batch is summed.
    signal = np.moveaxis(x.reshape(layer.batch, g, 1, cg, *layer.size), 0, 3)
    kernel = np.moveaxis(g_out.reshape(layer.batch, g, kg, 1, *layer.out), 0, 3)
    dw = _sum(
        signal,
        kernel,
        layer,
        stride=layer.dilation,
        dilation=layer.stride,
        pads=layer.pads,
        boundary=canonical_boundary(padding_mode),
        method=method,
        workers=workers,
    )
    dw = dw[(..., *[slice(0, k) for k in layer.kernel])].reshape(shape)
    if flip:
        dw = dw[last_axes_reversed(d)]
    return np.ascontiguousarray(dw)


def conv_grad_bias(grad_output: object) -> np.ndarray:
    """The gradient with respect to the bias: ``grad_output`` summed over all but axis 1.

    >>> import numpy as np
    >>> conv_grad_bias(np.ones((2, 3, 4))).tolist()
    [8.0, 8.0, 8.0]
    """
    g_out = as_operand("grad_output", grad_output)
    if g_out.ndim < 3:
        raise bad_argument("grad_output.shape", g_out.shape, "must be (N, K, *spatial)")
    return g_out.sum(axis=(0, *range(2, g_out.ndim)))


def _shape(arg: str, value: object, ndim: int | None = None) -> tuple[int, ...]:
    """A shape of ``ndim`` entries (3 to 5 where None: batch, channels, 1-3 spatial)."""
    length = len(value) if isinstance(value, tuple | list) else -1  # type: ignore[arg-type]
    if length != ndim if ndim is not None else not 3 <= length <= 5:
        rule = f"{ndim} entries" if ndim is not None else "3 to 5 entries (N, C, *spatial)"
        raise bad_argument(arg, value, f"must be a tuple of {rule}", cls=ArgumentTypeError)
    return _ints(arg, value, length, 0)


def _check_grad_output(g_out: np.ndarray, layer: Layer, dtype: np.dtype) -> None:
    expected = (layer.batch, layer.filters, *layer.out)
    if g_out.shape != expected:
        raise bad_argument(
            "grad_output.shape", g_out.shape, f"must be the layer's output shape {expected}"
        )
    if g_out.dtype != dtype:
        raise bad_argument(
            "grad_output.dtype", g_out.dtype, f"must match the other operand's {dtype}"
        )


def conv_transpose(
    input: object,
    weight: object,
    bias: object = None,
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    method: str = "auto",
    workers: int | None = None,
) -> np.ndarray:
    """A transposed convolution layer, as ``torch.nn.functional.conv_transpose{1,2,3}d``:
    the gradient of `conv` with respect to its input, with weight ``(C, K / groups,
    *kernel)`` and output size ``(n - 1)·stride - 2·padding + dilation·(k - 1) +
    output_padding + 1``.

    >>> import numpy as np
    >>> conv_transpose(np.ones((1, 1, 2)), np.ones((1, 1, 3)), stride=2)
    array([[[1., 1., 2., 1., 1.]]])
    """
    x, w, bias, unbatched = _operands(input, weight, bias)
    dims = w.ndim - 2
    stride_ = _ints("stride", stride, dims, 1)
    dilation_ = _ints("dilation", dilation, dims, 1)
    pad = _ints("padding", padding, dims, 0)
    extra = _ints("output_padding", output_padding, dims, 0)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise bad_argument("groups", groups, "must be a positive int")
    for e, s, dl in zip(extra, stride_, dilation_, strict=True):
        if e >= max(s, dl):
            raise bad_argument(
                "output_padding",
                output_padding,
                f"must be smaller than the stride or the dilation ({stride_}, {dilation_})",
            )
    size = tuple(
        (n - 1) * s - 2 * p + dl * (k - 1) + e + 1
        for n, s, p, dl, k, e in zip(
            x.shape[2:], stride_, pad, dilation_, w.shape[2:], extra, strict=True
        )
    )
    if any(n < 1 for n in size):
        raise bad_argument("padding", padding, f"leaves an empty output (size {size})")
    filters = w.shape[1] * groups
    if x.shape[1] != w.shape[0]:
        raise bad_argument(
            "weight.shape",
            w.shape,
            f"expects {w.shape[0]} input channels but the input has {x.shape[1]}",
        )
    # The transposed layer is the forward layer's input gradient, with the forward
    # layer mapping ``filters`` channels to the input's channels.
    forward = (w.shape[0], w.shape[1], *w.shape[2:])
    layer = _layer(
        (x.shape[0], filters, *size),
        forward,
        stride_,
        pad,
        dilation_,
        groups,
        channels_from="output",
    )
    if layer.out != x.shape[2:]:
        raise bad_argument("output_padding", output_padding, "does not match the input size")
    dx = _transposed(x, w, layer, False, method, workers)
    y = dx[(..., *[slice(lo, lo + n) for (lo, _), n in zip(layer.pads, size, strict=True)])]
    return _finish(np.ascontiguousarray(y), bias, filters, unbatched)


def output_shape(
    input_shape: object,
    weight_shape: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    transposed: bool = False,
    output_padding: object = 0,
) -> tuple[int, ...]:
    """The output shape of `conv` (or `conv_transpose`) without computing it: per axis
    ``(n + 2p - dilation·(k - 1) - 1) // stride + 1`` (the seeds' ``(W - w + 2p)/s + 1``
    with dilation 1), or ``(n - 1)·stride - 2p + dilation·(k - 1) + output_padding + 1``.

    >>> output_shape((1, 3, 32, 32), (16, 3, 5, 5), padding=2)
    (1, 16, 32, 32)
    >>> output_shape((1, 16, 16, 16), (16, 8, 4, 4), stride=2, padding=1, transposed=True)
    (1, 8, 32, 32)
    """
    x_shape = _shape("input_shape", input_shape)
    w_shape = _shape("weight_shape", weight_shape, len(x_shape))
    if transposed:
        dims = len(w_shape) - 2
        s, p = _ints("stride", stride, dims, 1), _ints("padding", padding, dims, 0)
        dl, e = (
            _ints("dilation", dilation, dims, 1),
            _ints("output_padding", output_padding, dims, 0),
        )
        size = tuple(
            (n - 1) * si - 2 * pi + di * (k - 1) + ei + 1
            for n, si, pi, di, k, ei in zip(x_shape[2:], s, p, dl, w_shape[2:], e, strict=True)
        )
        return (x_shape[0], w_shape[1] * groups, *size)
    layer = _layer(x_shape, w_shape, stride, padding, dilation, groups)
    return (layer.batch, layer.filters, *layer.out)


def parameter_count(weight_shape: object, bias: bool = True) -> int:
    """Learned numbers in a layer: the weight's entries, plus one bias per output
    channel (the seeds' ``(w·h·D_in + 1)·k`` for a 2-D layer without groups).

    >>> parameter_count((64, 3, 7, 7))
    9472
    """
    shape = _shape("weight_shape", weight_shape)
    return math.prod(shape) + (shape[0] if bias else 0)


def _named(dims: int, fn):
    def layer(*args, **kwargs):
        w = args[1] if len(args) > 1 else kwargs.get("weight")
        if np.ndim(w) != dims + 2:
            raise bad_argument(
                "weight", np.shape(w), f"{fn.__name__}{dims}d needs a weight with {dims + 2} axes"
            )
        return fn(*args, **kwargs)

    layer.__name__ = f"{fn.__name__}{dims}d"
    layer.__doc__ = f"`{fn.__name__}` with {dims} spatial axes (weight of {dims + 2} axes)."
    return layer


conv1d, conv2d, conv3d = (_named(d, conv) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    _named(d, conv_transpose) for d in (1, 2, 3)
)
