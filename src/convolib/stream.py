"""Streaming convolution: a stateful FIR `Filter` (files stream through `convolib.files`).

A `Filter` convolves a signal that arrives in chunks with a fixed kernel ``k`` (taps
along ``axis``; every other axis is a channel). Each `Filter.process` call returns,
at once, every output sample that its chunk makes final: ``len(chunk)`` samples,
``y[t] = sum_j k[j] x[t - j]`` with zeros before the start of the stream, so the
outputs joined together are ``convolib.convolve(x, k)[:len(x)]``. In ``mode="full"``,
`Filter.flush` then gives the kernel's tail (``len(k) - 1`` samples), completing
``convolib.convolve(x, k, "full")``.

Each call is overlap-save by hand: the last ``len(k) - 1`` input samples (the
history) are kept, and the history and the chunk together are convolved in
``"valid"`` mode by `convolib.convolve`, whose planner picks the direct sum or a
transform for that call's size. Chunks longer than `Filter.block` samples are cut
into blocks, so the workspace stays bounded; the block length comes from the cost
model (see `Filter.block`).

Numbers follow `convolib.convolve`: integer and bool streams give exact int64
results, bit for bit equal to a one-shot convolution (a result outside int64 raises
`convolib.ExactOverflowError`); float and complex results are within the documented
error bounds of the algorithm that computed each call. The first chunk fixes the
stream's input dtype and its channel shape; later chunks must have the same
channel shape and a dtype that casts to the stream's without loss (NumPy's "safe"
casting), as `np.concatenate` would promote them. Object arrays (Python ints,
``Fraction``) are not streamed: convolve them whole.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import costs
from .api import convolve, plan
from .errors import ArgumentError, ArgumentTypeError, bad_argument, choice_error
from .numbers import as_operand, default_out_dtype
from .planner import methods

__all__ = ["Filter"]

MODES = ("full", "causal")

STATE_FORMAT = "convolib.stream.Filter"
STATE_VERSION = 1

BLOCK_BYTES = costs.OS_GROUP_BYTES
"""Memory one block's computation may use (input copy, output and the algorithm's
workspace, as the planner estimates them): the same budget overlap_save gives one
group of frames."""

MIN_BLOCK = costs.OS_MIN_BLOCK
MAX_BLOCK = 1 << 24
"""The block lengths considered are powers of two in [MIN_BLOCK, MAX_BLOCK]."""


def _integer(arg: str, value: object, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise bad_argument(arg, value, "must be an int", cls=ArgumentTypeError)
    if value < minimum:
        raise bad_argument(arg, value, f"must be at least {minimum}")
    return int(value)


def _along(axis: int, index: slice | int) -> tuple[Any, ...]:
    """An index that applies ``index`` along ``axis`` and takes everything elsewhere."""
    return (slice(None),) * axis + (index,)


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=")


def _kernel(k: object) -> np.ndarray:
    k = as_operand("k", k)
    if k.dtype.kind == "O":
        raise bad_argument(
            "k.dtype",
            k.dtype,
            "object arrays (Python ints, Fractions) are not streamed",
            "pass a numeric kernel, or convolve the whole signal with convolib.convolve",
            cls=ArgumentTypeError,
        )
    if k.ndim == 0:
        raise bad_argument(
            "k",
            k,
            "must hold the taps along its last axis (1-D, or with leading channel axes), "
            "not a scalar",
            "pass np.atleast_1d(k)",
        )
    if k.size == 0:
        raise bad_argument("k.shape", k.shape, "has no taps: a kernel needs at least one")
    return np.array(k, dtype=_native(k.dtype))  # a private copy


class Filter:
    """A stateful FIR filter: convolve a stream, chunk by chunk, with zero added latency.

    ``k`` holds the taps along its last axis; leading axes, if any, broadcast against
    the chunks' channel axes (NumPy rules, aligned on the right), so one `Filter`
    can apply a different kernel to each channel. ``axis`` is the time axis of the
    chunks. ``mode="causal"``: the outputs of `process` are the whole result;
    ``mode="full"``: `flush` adds the tail. ``method`` is passed to
    `convolib.convolve` for every call (a forced method must be able to compute
    every call, so ``"auto"`` is the usual choice). ``block`` caps the samples
    computed per call (default: from the cost model, see `block`). The first chunk
    fixes the stream's dtype and channel shape; later chunks keep the channel shape
    and must cast to that dtype without loss (see the module notes).

    >>> import numpy as np
    >>> f = Filter([1, 2, 3])
    >>> f.process([1, 0])
    array([1, 2])
    >>> f.process([0, 0, 1])
    array([3, 0, 1])
    >>> f.flush()
    array([2, 3])
    >>> np.convolve([1, 0, 0, 0, 1], [1, 2, 3])
    array([1, 2, 3, 0, 1, 2, 3])

    Two channels along the last axis, one kernel each:

    >>> g = Filter([[1, 1], [1, -1]], axis=0, mode="causal")
    >>> g.process(np.array([[1, 10], [2, 20], [3, 30]]))
    array([[ 1, 10],
           [ 3, 10],
           [ 5, 10]])

    A `Filter` holds one stream's state; use one per stream, and not from several
    threads at once.
    """

    def __init__(
        self,
        k: object,
        axis: int = -1,
        *,
        mode: str = "full",
        method: str = "auto",
        block: int | None = None,
    ) -> None:
        self._k = _kernel(k)
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise bad_argument("axis", axis, "must be an int", cls=ArgumentTypeError)
        self._axis = int(axis)
        if mode not in MODES:
            raise choice_error("mode", mode, MODES)
        self._mode = mode
        if not isinstance(method, str) or method not in methods():
            raise choice_error("method", method, methods())
        self._method = method
        self._block = None if block is None else _integer("block", block, 1)
        self._history: np.ndarray | None = None
        self._samples = 0
        self._flushed = False

    # --- read-only description -------------------------------------------------------

    @property
    def kernel(self) -> np.ndarray:
        """The taps (a read-only view; leading axes are channel axes)."""
        view = self._k.view()
        view.flags.writeable = False
        return view

    @property
    def axis(self) -> int:
        return self._axis

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def method(self) -> str:
        return self._method

    @property
    def block(self) -> int | None:
        """Samples of a chunk computed per call of `convolib.convolve`.

        Unless given, it is chosen when the first chunk fixes the dtype and channel
        shape: the power of two with the lowest estimated time per sample (the
        planner's estimate for that call, `convolib.plan`) among those whose memory
        stays within `BLOCK_BYTES`. None before the first chunk.
        """
        if self._block is None and self._history is not None:
            self._block = self._choose_block()
        return self._block

    # --- streaming -------------------------------------------------------------------

    def process(self, chunk: object) -> np.ndarray:
        """Feed ``chunk``; return its ``len(chunk)`` output samples (along `axis`).

        >>> f = Filter([0.5, 0.5], mode="causal")
        >>> f.process([2.0, 4.0, 6.0])
        array([1., 3., 5.])
        >>> f.process([])
        array([], dtype=float64)
        """
        if self._flushed:
            raise bad_argument(
                "chunk",
                None,
                "this Filter was flushed: its stream has ended",
                "make a new Filter (or restore a saved state) for another stream",
                show_value=False,
            )
        return self._run(self._accept(chunk))

    def flush(self) -> np.ndarray:
        """End the stream; return the samples that only its end makes final.

        In ``mode="full"`` that is the kernel's tail, ``len(k) - 1`` samples (none if
        the stream held no samples, as ``convolve`` of an empty signal is empty); in
        ``mode="causal"``, nothing. `process` cannot be called afterwards.

        >>> f = Filter([1, 1, 1])
        >>> f.process([5])
        array([5])
        >>> f.flush()
        array([5, 5])
        """
        if self._flushed:
            raise bad_argument(
                "flush",
                None,
                "was already called: the stream has ended",
                "make a new Filter for another stream",
                show_value=False,
            )
        if self._history is None:
            raise bad_argument(
                "flush",
                None,
                "needs the stream's dtype and channel shape, which its first chunk fixes, "
                "and no chunk was processed",
                "call process() first (a chunk of length 0 is enough)",
                show_value=False,
            )
        tail = 0 if self._mode == "causal" or self._samples == 0 else self._taps - 1
        shape = list(self._history.shape)
        shape[self._a] = tail
        out = self._run(np.zeros(shape, self._dtype))
        self._flushed = True
        return out

    # --- state -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The filter's whole state as plain arrays, ints and strs (``np.savez`` stores it).

        >>> import io
        >>> f = Filter([1, 2, 3])
        >>> f.process([1, 2])
        array([1, 4])
        >>> file = io.BytesIO()
        >>> np.savez(file, **f.state())
        >>> _ = file.seek(0)
        >>> g = Filter.restore(np.load(file))
        >>> g.process([3]), f.process([3])
        (array([10]), array([10]))
        """
        started = self._history is not None
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "kernel": self._k.copy(),
            "axis": self._axis,
            "mode": self._mode,
            "method": self._method,
            "block": self._block or 0,
            "started": int(started),
            "history": self._history.copy() if started else np.zeros(0),
            "samples": self._samples,
            "flushed": int(self._flushed),
        }

    @classmethod
    def restore(cls, state: Mapping[str, Any]) -> Filter:
        """A `Filter` that continues where the one that gave ``state`` stopped.

        ``state`` is a dict from `state`, or what ``np.load`` reads back from the
        ``.npz`` file it was saved to. On the same machine and convolib version the
        outputs are bit for bit those of the original filter.
        """
        if not isinstance(state, Mapping):
            raise bad_argument(
                "state",
                state,
                "must be a mapping from Filter.state() (or np.load of its .npz file)",
                cls=ArgumentTypeError,
            )

        def entry(key: str) -> Any:
            if key not in state:
                raise bad_argument(
                    "state",
                    sorted(state),
                    f"has no {key!r} entry",
                    "pass what Filter.state() returned, or np.load of the file it was saved to",
                )
            return state[key]

        def item(key: str, kind: type) -> Any:
            value = entry(key)
            value = np.asarray(value).item() if np.ndim(value) == 0 else value
            if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return int(value)
            if kind is str and isinstance(value, str):
                return value
            raise bad_argument(
                f"state[{key!r}]", value, "must be an int" if kind is int else "must be a str"
            )

        found = (item("format", str), item("version", int))
        if found != (STATE_FORMAT, STATE_VERSION):
            raise bad_argument(
                "state",
                f"{found[0]} version {found[1]}",
                f"is not a {STATE_FORMAT} state of version {STATE_VERSION}",
            )
        f = cls(
            entry("kernel"),
            item("axis", int),
            mode=item("mode", str),
            method=item("method", str),
            block=item("block", int) or None,
        )
        f._samples = item("samples", int)
        f._flushed = bool(item("flushed", int))
        if item("started", int):
            history = np.asarray(entry("history"))
            if history.dtype.kind not in "biufc":
                raise bad_argument(
                    "state['history'].dtype",
                    history.dtype,
                    "must be bool, integer, floating or complex",
                    cls=ArgumentTypeError,
                )
            f._setup(_native(history.dtype), history.shape)
            if history.shape[f._a] != f._taps - 1:
                raise bad_argument(
                    "state['history'].shape",
                    history.shape,
                    f"must hold len(k) - 1 = {f._taps - 1} samples along axis {f._axis}",
                )
            f._history = np.array(history, dtype=f._dtype)
        return f

    # --- internals -------------------------------------------------------------------

    @property
    def _taps(self) -> int:
        return self._k.shape[-1]

    def _setup(self, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        """Fix the stream's dtype and channel shape (from its first chunk)."""
        ndim = len(shape)
        if ndim == 0:
            raise bad_argument(
                "chunk",
                None,
                "is a scalar, with no time axis",
                "pass a 1-D or N-D array",
                show_value=False,
            )
        if not -ndim <= self._axis < ndim:
            raise bad_argument(
                "axis",
                self._axis,
                f"is out of range for chunks of {ndim} dimension{'s' * (ndim > 1)}",
                f"use an axis in [{-ndim}, {ndim - 1}]",
            )
        a = self._axis % ndim
        channels = shape[:a] + shape[a + 1 :]
        own = self._k.shape[:-1]
        try:
            if len(own) > len(channels):
                raise ValueError
            out_channels = np.broadcast_shapes(channels, own)
        except ValueError:
            raise bad_argument(
                "k.shape",
                self._k.shape,
                f"its channel axes {own} must broadcast against the chunks' channel axes "
                f"{channels} (the chunk shape {shape} without axis {self._axis})",
                "give k one leading axis per channel axis, of length 1 or the channel count",
            ) from None
        kernel = self._k.reshape((1,) * (len(channels) - len(own)) + self._k.shape)
        self._kfull = np.moveaxis(kernel, -1, a)
        self._a, self._dtype, self._channels = a, dtype, channels
        self._out_channels = out_channels
        self._out_dtype = default_out_dtype(dtype, self._k.dtype)
        self._history = np.zeros((*shape[:a], self._taps - 1, *shape[a + 1 :]), dtype)

    def _accept(self, chunk: object) -> np.ndarray:
        """``chunk`` checked against the stream and cast to its dtype."""
        x = as_operand("chunk", chunk)
        if x.dtype.kind == "O":
            raise bad_argument(
                "chunk.dtype",
                x.dtype,
                "object arrays (Python ints, Fractions) are not streamed",
                "pass numeric arrays, or convolve the whole signal with convolib.convolve",
                cls=ArgumentTypeError,
            )
        if self._history is None:
            self._setup(_native(x.dtype), x.shape)
            return x.astype(self._dtype, copy=False)
        a = self._a
        if x.ndim != self._history.ndim or x.shape[:a] + x.shape[a + 1 :] != self._channels:
            expected = list(self._history.shape)
            expected[a] = "n"  # type: ignore[call-overload]
            raise bad_argument(
                "chunk.shape",
                x.shape,
                f"must be ({', '.join(map(str, expected))}) with any n along axis "
                f"{self._axis}: the first chunk fixed the other axes",
                "keep the channel axes the same in every chunk, or start a new Filter",
            )
        if x.dtype != self._dtype and not np.can_cast(x.dtype, self._dtype, "safe"):
            raise bad_argument(
                "chunk.dtype",
                x.dtype,
                f"cannot be cast without loss to the stream's dtype {self._dtype}, which "
                f"its first chunk fixed",
                f"pass chunk.astype({self._dtype.name!r}) if that loss is intended, or "
                f"start the stream with the wider dtype",
                cls=ArgumentTypeError,
            )
        return x.astype(self._dtype, copy=False)

    def _window(self, x: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Samples ``[lo, hi)`` of the history followed by ``x`` (``lo`` counts from
        the start of ``x``, so the history is ``[-(len(k) - 1), 0)``)."""
        a = self._a
        if lo >= 0:
            return x[_along(a, slice(lo, hi))]
        history = self._history
        assert history is not None
        start = history.shape[a] + lo
        return np.concatenate(
            (history[_along(a, slice(start, None))], x[_along(a, slice(0, hi))]), axis=a
        )

    def _run(self, x: np.ndarray) -> np.ndarray:
        """The outputs for ``x`` after the history; the history moves on only if all
        of them were computed."""
        a, h, n = self._a, self._taps - 1, x.shape[self._a]
        out = np.empty((*self._out_channels[:a], n, *self._out_channels[a:]), self._out_dtype)
        step = self.block or 1
        for start in range(0, n, step):
            stop = min(n, start + step)
            y = convolve(
                self._window(x, start - h, stop), self._kfull, "valid", axes=a, method=self._method
            )
            out[_along(a, slice(start, stop))] = y
        self._history = self._window(x, n - h, n).copy()
        self._samples += n
        return out

    def _choose_block(self) -> int:
        h, a = self._taps - 1, self._a
        zero = np.zeros((), self._dtype)
        itemsize = self._dtype.itemsize * max(1, math.prod(self._channels))
        best: tuple[float, int] | None = None
        length = max(MIN_BLOCK, 1 << h.bit_length())
        while length <= MAX_BLOCK:
            shape = (*self._channels[:a], h + length, *self._channels[a:])
            try:
                p = plan(
                    "convolve",
                    np.broadcast_to(zero, shape),
                    self._kfull,
                    "valid",
                    axes=a,
                    method=self._method,
                )
            except ArgumentError:  # a forced method that cannot compute this length
                length *= 2
                continue
            memory = p.memory_bytes + (h + length) * itemsize
            if memory > BLOCK_BYTES and best is not None:
                break
            rate = p.seconds / length
            if best is None or rate < best[0]:
                best = (rate, length)
            length *= 2
        return best[1] if best else max(MIN_BLOCK, 1 << h.bit_length())
