"""A PyTorch bridge: convolib's layer and its gradients inside ``torch.autograd``.

`conv` behaves like ``torch.nn.functional.conv{1,2,3}d`` (plus ``padding_mode`` and
``flip``) on CPU tensors, computing the forward pass with `convolib.nn.conv` and the
backward pass with `convolib.nn.conv_grad_input` / `conv_grad_weight`; `Conv` is the
matching ``nn.Module``. Requires ``torch`` (``pip install torch==2.13.0``).

>>> import torch
>>> layer = Conv(3, 8, 3, padding=1)
>>> layer(torch.ones(2, 3, 16, 16)).shape
torch.Size([2, 8, 16, 16])
"""

from __future__ import annotations

import math

import torch

from . import nn
from .errors import bad_argument

__all__ = ["Conv", "conv"]


class _ConvFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, options):
        ctx.save_for_backward(x, w)
        ctx.options = options
        bias = None if b is None else b.detach().numpy()
        y = nn.conv(x.detach().numpy(), w.detach().numpy(), bias, **options)
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g = grad.detach().contiguous().numpy()
        unbatched = x.dim() == w.dim() - 1
        xs, gs = (x[None], g[None]) if unbatched else (x, g)
        options = ctx.options
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = nn.conv_grad_input(tuple(xs.shape), w.detach().numpy(), gs, **options)
            gx = torch.from_numpy(gx[0] if unbatched else gx)
        if ctx.needs_input_grad[1]:
            gw = nn.conv_grad_weight(xs.detach().numpy(), tuple(w.shape), gs, **options)
            gw = torch.from_numpy(gw)
        if ctx.needs_input_grad[2]:
            gb = torch.from_numpy(nn.conv_grad_bias(gs))
        return gx, gw, gb, None


def conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, **options):
    """`convolib.nn.conv` on CPU tensors, differentiable by ``torch.autograd``.

    >>> import torch
    >>> x = torch.ones(1, 1, 4, dtype=torch.float64, requires_grad=True)
    >>> conv(x, torch.ones(1, 1, 2, dtype=torch.float64)).sum().backward()
    >>> x.grad.tolist()
    [[[1.0, 2.0, 2.0, 1.0]]]
    """
    for name, t in (("x", x), ("weight", weight), ("bias", bias)):
        if t is not None and t.device.type != "cpu":
            raise bad_argument(name, t.device, "must be a CPU tensor", "move it with .cpu() first")
    return _ConvFunction.apply(x, weight, bias, options)


class Conv(torch.nn.Module):
    """A convolution layer (``torch.nn.Conv{1,2,3}d``'s parameters and initialisation)
    computed by convolib; ``dims`` is the number of spatial axes."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: object = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dims: int = 2,
        flip: bool = False,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        size = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
        shape = (out_channels, in_channels // groups, *size)
        self.weight = torch.nn.Parameter(torch.empty(shape, dtype=dtype))
        self.bias = torch.nn.Parameter(torch.empty(out_channels, dtype=dtype)) if bias else None
        self.options = {
            "stride": stride,
            "padding": padding,
            "dilation": dilation,
            "groups": groups,
            "padding_mode": padding_mode,
            "flip": flip,
        }
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(math.prod(shape[1:]))
            torch.nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv(x, self.weight, self.bias, **self.options)

    def extra_repr(self) -> str:
        return f"weight={tuple(self.weight.shape)}, " + ", ".join(
            f"{k}={v!r}" for k, v in self.options.items()
        )
