"""Layer 1, *what* is computed: user arguments in, one frozen and validated `Spec` out.

All validation of user input happens here. Every spec describes one canonical
problem, whatever the front-end: with the convolved axes moved last,

    y[b, i] = sum_c sum_j  P[b, c, i*stride + j*dilation] * W[b, c, j]

where ``P`` is the *signal* operand padded by ``pads`` under ``boundary`` and ``W``
is the *kernel* operand, flipped for convolution and conjugated for complex
correlation. A mode is only padding; convolution is correlation with a flipped
kernel; the batch axes of the two operands broadcast. The channel sum over ``c``
exists only where a front-end names a ``contract`` axis (a neural-network layer sums
over its input channels); otherwise there is no ``c``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache

import numpy as np

from . import numbers as num
from .boundary import canonical_boundary
from .errors import ArgumentTypeError, bad_argument, choice_error

OPS = ("convolve", "correlate")
MODES = ("full", "same", "valid")


@dataclass(frozen=True)
class Spec:
    """A validated, canonical description of one convolution or correlation."""

    op: str
    mode: str
    x_shape: tuple[int, ...]
    k_shape: tuple[int, ...]
    x_dtype: np.dtype
    k_dtype: np.dtype
    axes: tuple[int, ...]
    """The convolved axes, ascending; the others are batch axes."""
    swap: bool
    """``valid`` mode with a kernel larger than ``x``: ``k`` is the signal operand."""
    signal_flip: bool
    """Reverse (and conjugate, if complex) the signal operand along the axes."""
    kernel_flip: bool
    kernel_conj: bool
    batch: tuple[int, ...]
    n: tuple[int, ...]
    m: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    boundary: str
    fill_value: object
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    out: tuple[int, ...]
    acc_dtype: np.dtype
    out_dtype: np.dtype
    contract: int | None = None
    """The axis (of both inputs, not convolved) summed over, or None: see ``channels``."""
    channels: int = 1
    """Length of the ``contract`` axis; the canonical operands carry it just before the
    convolved axes, and the output drops it."""
    kernel_rank: int | None = None
    """An operand fact, not a shape: the kernel's separable rank (`convolib.factor`),
    attached by the API where it can pay off; None where it was not computed."""

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """Specs key the caches of every layer: hash the fields once, not per lookup."""
        return hash(tuple(getattr(self, f.name) for f in fields(self)))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_hash", None)  # string hashes differ between processes
        return state

    @property
    def ndim(self) -> int:
        """Number of convolved axes."""
        return len(self.axes)

    @cached_property
    def empty(self) -> bool:
        """An operand or the output has no elements: the result is all zeros."""
        return 0 in self.n or 0 in self.m or 0 in self.batch or 0 in self.out or not self.channels

    @cached_property
    def padded_n(self) -> tuple[int, ...]:
        """The convolved axes' lengths with the padding ``pads`` on both sides."""
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.n, self.pads, strict=True))

    @cached_property
    def zero_padding(self) -> bool:
        """Padding is implicit zeros: terms outside the signal are absent."""
        return self.boundary == "constant" and self.fill_value == 0

    @cached_property
    def moves(self) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """``np.moveaxis`` arguments that put an operand's axes in canonical order (the
        ``contract`` axis, if any, then the convolved axes, last); None if they are."""
        moved = self.axes if self.contract is None else (self.contract, *self.axes)
        last = tuple(range(len(self.x_shape) - len(moved), len(self.x_shape)))
        return None if moved == last else (moved, last)

    @cached_property
    def signal_batch(self) -> tuple[int, ...]:
        shape = self.k_shape if self.swap else self.x_shape
        return tuple(s for a, s in enumerate(shape) if a not in self.axes and a != self.contract)

    @cached_property
    def kernel_batch(self) -> tuple[int, ...]:
        shape = self.x_shape if self.swap else self.k_shape
        return tuple(s for a, s in enumerate(shape) if a not in self.axes and a != self.contract)

    @cached_property
    def out_shape(self) -> tuple[int, ...]:
        """The result's shape, in the inputs' axis order."""
        shape, batch, spatial = [], iter(self.batch), iter(self.out)
        for a in range(len(self.x_shape)):
            if a != self.contract:
                shape.append(next(spatial) if a in self.axes else next(batch))
        return tuple(shape)

    @cached_property
    def terms(self) -> int:
        """Multiply-adds of the direct sum (the work of the naive algorithm)."""
        return math.prod(self.batch) * math.prod(self.out) * math.prod(self.m) * self.channels

    @cached_property
    def out_bytes(self) -> int:
        itemsize = self.out_dtype.itemsize if self.out_dtype.kind != "O" else 32
        return math.prod(self.out_shape) * max(itemsize, self.acc_dtype.itemsize)

    def describe(self) -> str:
        """One line: what is computed."""
        value = self.fill_value
        value = value.item() if isinstance(value, np.generic) else value
        fill = f"({value!r})" if self.boundary == "constant" else ""
        rank = "" if self.kernel_rank is None else f" of rank {self.kernel_rank}"
        summed = "" if self.contract is None else f", summed over axis {self.contract}"
        return (
            f"{self.op} x{self.x_shape} {self.x_dtype} with k{self.k_shape} {self.k_dtype}{rank} "
            f"over axes {self.axes}{summed}, mode {self.mode!r}, boundary {self.boundary}{fill} "
            f"-> {self.out_shape} {self.out_dtype}"
        )


def _axes(axes: object, ndim: int) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(ndim))
    items = [axes] if isinstance(axes, numbers.Integral) else axes
    try:
        items = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise bad_argument(
            "axes", axes, "must be None, an int or a sequence of ints", cls=ArgumentTypeError
        ) from None
    result = []
    for a in items:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise bad_argument("axes", axes, f"must hold ints; found {a!r}", cls=ArgumentTypeError)
        if not -ndim <= a < ndim:
            raise bad_argument(
                "axes",
                axes,
                f"axis {a} is out of range for {ndim}-D inputs",
                f"use axes in [{-ndim}, {ndim - 1}]" if ndim else "0-d inputs have no axes",
            )
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise bad_argument("axes", axes, "names an axis more than once")
    return tuple(result)


def _per_axis(arg: str, value: object, n: int, minimum: int | None) -> tuple[int, ...]:
    """An int, or one int per convolved axis, each at least ``minimum``."""
    items = [value] * n if isinstance(value, numbers.Integral) else value
    try:
        items = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise bad_argument(
            arg,
            value,
            "must be an int or a sequence of ints, one per convolved axis",
            cls=ArgumentTypeError,
        ) from None
    if len(items) != n:
        raise bad_argument(arg, value, f"needs one value per convolved axis ({n})")
    for v in items:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise bad_argument(arg, value, f"must hold ints; found {v!r}", cls=ArgumentTypeError)
        if minimum is not None and v < minimum:
            raise bad_argument(arg, value, f"must be at least {minimum}")
    return tuple(int(v) for v in items)


def _fill(value: object, acc: np.dtype, boundary: str, raw_boundary: object) -> object:
    if np.ndim(value) != 0 or not isinstance(np.asarray(value).item(), numbers.Number):
        raise bad_argument("fill_value", value, "must be a single number", cls=ArgumentTypeError)
    value = np.asarray(value).item() if not isinstance(value, numbers.Number) else value
    if value != 0 and boundary != "constant":
        raise bad_argument(
            "fill_value",
            value,
            f"only applies to boundary='constant', not {raw_boundary!r}",
            "drop fill_value, or use boundary='constant'",
        )
    if value != 0 and raw_boundary == "zeros":
        raise bad_argument(
            "fill_value",
            value,
            "contradicts boundary='zeros'",
            "use boundary='constant' with a fill_value",
        )
    if acc.kind == "O":
        return value
    if isinstance(value, complex) and acc.kind != "c":
        if value.imag != 0:
            raise bad_argument(
                "fill_value",
                value,
                f"is complex but the inputs are real ({acc})",
                "pass a real fill_value, or complex inputs",
            )
        value = value.real
    if acc.kind == "i":
        try:
            whole = int(value)  # type: ignore[call-overload]
        except (ValueError, OverflowError):
            whole = None
        if whole is None or whole != value:
            raise bad_argument(
                "fill_value",
                value,
                "must be an integer for integer inputs (results are exact)",
                "pass an integer fill_value, or float inputs",
            )
        return whole
    return acc.type(value).item()


def build_spec(
    op: str,
    x: np.ndarray,
    k: np.ndarray,
    mode: object = "full",
    *,
    axes: object = None,
    boundary: object = "constant",
    fill_value: object = 0,
    origin: object = 0,
    out_dtype: object = None,
    stride: object = 1,
    dilation: object = 1,
    pads: object = None,
    contract: int | None = None,
) -> Spec:
    """Validate the arguments of ``op(x, k, ...)`` and describe the problem.

    Front-ends other than `convolve` may give ``pads``, explicit per-axis ``(lo, hi)``
    padding in place of a mode's (with ``mode="valid"``), and ``contract``, an axis
    summed over (neural-network channels).

    Specs depend only on shapes, dtypes and options, so repeated calls with the same
    signature are answered from a cache.

    >>> s = build_spec("convolve", np.ones(5), np.ones(3), "same")
    >>> s.pads, s.out_shape
    (((1, 1),), (5,))
    """
    options = (
        mode,
        axes,
        boundary,
        fill_value,
        origin,
        out_dtype,
        stride,
        dilation,
        pads,
        contract,
    )
    key = options_key(options)
    if key is None:  # an unhashable option: validate without the cache
        return _build_spec(op, x.shape, x.dtype, k.shape, k.dtype, *options)
    return _cached_spec(op, x.shape, x.dtype, k.shape, k.dtype, key)


def options_key(options: tuple) -> tuple | None:
    """A hashable cache key for call options that tells ``0``, ``0.0``, ``False`` and
    ``[0]`` apart, or None where an option is unhashable.

    >>> options_key(("same", 0)) != options_key(("same", 0.0)), options_key(({},))
    (True, None)
    """
    types = tuple(map(type, options))
    if scalar_options(types):  # the usual call: the options and their types are the key
        return (options, types)
    try:
        key = _typed(options)
        hash(key)
    except TypeError:
        return None
    return key


_SCALARS = frozenset({str, int, float, bool, type(None), type})


def scalar_options(types: tuple[type, ...]) -> bool:
    """Whether options of these types key a cache as they are, with their types: no
    tuple or list, whose items' types the key would not tell apart."""
    return _SCALARS.issuperset(types)


def _typed(value: object) -> tuple:
    """A hashable cache key that tells ``0``, ``0.0``, ``False`` and ``[0]`` apart."""
    if isinstance(value, tuple | list):
        return (type(value), tuple(_typed(v) for v in value))
    return (type(value), value)


def _untyped(key: tuple) -> object:
    kind, value = key
    return kind(_untyped(v) for v in value) if kind in (tuple, list) else value


@lru_cache(maxsize=1024)
def _cached_spec(op, x_shape, x_dtype, k_shape, k_dtype, key) -> Spec:
    options = _untyped(key) if key[0] is tuple else key[0]  # a `_typed` key, or (options, types)
    return _build_spec(op, x_shape, x_dtype, k_shape, k_dtype, *options)


def _build_spec(
    op,
    x_shape,
    x_dtype,
    k_shape,
    k_dtype,
    mode,
    axes,
    boundary,
    fill_value,
    origin,
    out_dtype,
    stride,
    dilation,
    explicit_pads=None,
    contract=None,
) -> Spec:
    if op not in OPS:
        raise choice_error("op", op, OPS)
    if not isinstance(mode, str) or mode not in MODES:
        raise choice_error("mode", mode, MODES)
    if len(x_shape) != len(k_shape):
        raise bad_argument(
            "k",
            k_shape,
            f"must have as many dimensions as x; got x.ndim={len(x_shape)}, k.ndim={len(k_shape)}",
            "add length-1 axes (e.g. k[None, :]) to line the axes up",
        )
    ax = _axes(axes, len(x_shape))
    origins = _per_axis("origin", 0 if origin is None else origin, len(ax), minimum=None)
    origin_of = dict(zip(ax, origins, strict=True))
    order = tuple(sorted(ax))
    strides = _per_axis("stride", stride, len(order), minimum=1)
    dilations = _per_axis("dilation", dilation, len(order), minimum=1)

    channels = 1
    if contract is not None:
        channels = x_shape[contract]
        if contract in order or k_shape[contract] != channels:
            raise bad_argument(
                "contract",
                contract,
                f"must be an axis that is not convolved, of the same length in x{x_shape} "
                f"and k{k_shape}",
            )
        if channels == 1:
            contract = None  # a sum of one term: an ordinary batch axis of length 1
    batch = []
    for a in range(len(x_shape)):
        if a in order or a == contract:
            continue
        xs, ks = x_shape[a], k_shape[a]
        if xs != ks and 1 not in (xs, ks):
            raise bad_argument(
                "k",
                k_shape,
                f"axis {a} is not convolved, so its length must match x's or be 1 "
                f"(x.shape={x_shape})",
                f"add axis {a} to axes, or make the lengths broadcast",
            )
        batch.append(0 if 0 in (xs, ks) else max(xs, ks))

    nx = tuple(x_shape[a] for a in order)
    nk = tuple(k_shape[a] for a in order)
    empty = 0 in nx or 0 in nk
    swap = False
    if explicit_pads is not None:
        if mode != "valid":
            raise bad_argument("pads", explicit_pads, "applies with mode='valid' only")
        explicit_pads = tuple(tuple(p) for p in explicit_pads)
    elif mode == "valid" and not empty and not all(a >= b for a, b in zip(nx, nk, strict=True)):
        if not all(b >= a for a, b in zip(nx, nk, strict=True)):
            raise bad_argument(
                "mode",
                mode,
                f"needs one input at least as large as the other on every convolved axis; "
                f"got x {nx} and k {nk} along axes {order}",
                "use mode='full' or 'same', or crop one input",
            )
        swap = True
    if any(origin_of[a] for a in order) and mode != "same":
        raise bad_argument(
            "origin",
            origin,
            f"only applies to mode='same', not {mode!r}",
            "drop origin, or use mode='same'",
        )

    name = canonical_boundary(boundary)
    acc = num.compute_dtype(x_dtype, k_dtype)
    fill = _fill(fill_value, acc, name, boundary)
    out_dtype = (
        num.default_out_dtype(x_dtype, k_dtype)
        if out_dtype is None
        else num.check_out_dtype(out_dtype, acc)
    )

    n, m = (nk, nx) if swap else (nx, nk)
    pads, out = [], []
    for a, ni, mi, s, d in zip(order, n, m, strides, dilations, strict=True):
        if empty:  # an empty sum: scipy's shapes where it has them, no padding
            pads.append((0, 0))
            if 0 in (ni, mi):
                out.append(ni if mode == "same" else 0)
            else:
                out.append({"full": ni + mi - 1, "same": ni, "valid": abs(ni - mi) + 1}[mode])
            continue
        extent = d * (mi - 1) + 1
        if explicit_pads is not None:
            lo, hi = explicit_pads[len(pads)]
            if ni + lo + hi < extent:
                raise bad_argument(
                    "k",
                    k_shape,
                    f"along axis {a} the kernel spans {extent} samples (dilation included) "
                    f"but the padded input has only {ni + lo + hi}",
                    "use a smaller kernel or dilation, or more padding",
                )
        elif mode == "full":
            lo = hi = extent - 1
        elif mode == "same":
            lo = extent // 2 + origin_of[a]
            if not 0 <= lo <= extent - 1:
                raise bad_argument(
                    "origin",
                    origin,
                    f"moves the window off the kernel: for a kernel of {mi} along axis {a}, "
                    f"origin must be in [{-(extent // 2)}, {(extent - 1) // 2}]",
                )
            hi = extent - 1 - lo
        else:
            lo = hi = 0
        pads.append((lo, hi))
        span = ni + lo + hi - extent
        out.append(span // s + 1 if span >= 0 else 0)

    correlate = op == "correlate"
    return Spec(
        op=op,
        mode=mode,
        x_shape=tuple(x_shape),
        k_shape=tuple(k_shape),
        x_dtype=x_dtype,
        k_dtype=k_dtype,
        axes=order,
        swap=swap,
        signal_flip=swap and correlate,
        kernel_flip=swap or not correlate,
        kernel_conj=correlate and not swap,
        batch=tuple(batch),
        n=n,
        m=m,
        pads=tuple(pads),
        boundary=name,
        fill_value=fill,
        stride=strides,
        dilation=dilations,
        out=tuple(out),
        acc_dtype=acc,
        out_dtype=out_dtype,
        contract=contract,
        channels=channels,
    )
