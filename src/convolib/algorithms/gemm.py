"""The gemm algorithm: windows gathered into a matrix, then one matrix product (BLAS).

For each signal, every window of the padded signal becomes one column of a matrix
with a row per (channel, tap): ``cols[c·T + t, i] = P[c, i·stride + t·dilation]``.
The kernels, flattened the same way, form a (filters × channels·taps) matrix, and
their product is every filter's output at once. This is the usual way to compute a
neural-network layer (channels summed, many filters); a bank of kernels over the
same signals is the other case it serves.

With stride 1 the gather is a memory copy: the padded signal is read as one flat
line, each row of ``cols`` is a contiguous slice of it, and the product is computed
at "wide" positions (every position of the padded grid before the last row), of
which the valid ones are then picked out. Signals are gathered in groups that keep
the workspace under `costs.GEMM_WORKSPACE_BYTES`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import blas_threads
from .reference import windows


def batch_roles(spec: Spec) -> tuple[list[int], list[int], list[int], list[int]]:
    """The batch axes by role: shared by both operands, the signal's own (signals),
    the kernel's own (filters), and those of length 1 in both."""
    shared, signals, filters, ones = [], [], [], []
    for i, (s, k) in enumerate(zip(spec.signal_batch, spec.kernel_batch, strict=True)):
        if s > 1 and k > 1:
            shared.append(i)
        elif s > 1:
            signals.append(i)
        elif k > 1:
            filters.append(i)
        else:
            ones.append(i)
    return shared, signals, filters, ones


def sizes(spec: Spec) -> tuple[int, int, int]:
    """Products of the shared, signal and filter batch lengths."""
    shared, signals, filters, _ = batch_roles(spec)
    return tuple(math.prod(spec.batch[i] for i in axes) for axes in (shared, signals, filters))


def _padded_shape(spec: Spec) -> tuple[int, ...]:
    return tuple(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))


def _grid_strides(spec: Spec) -> list[int]:
    """Element strides of the padded grid, read as one flat line."""
    shape = _padded_shape(spec)
    return [math.prod(shape[a + 1 :]) for a in range(spec.ndim)]


def _span(counts, steps, line) -> int:
    """Flat positions from the first to the last of a strided grid of ``counts``."""
    return sum((c - 1) * s * ln for c, s, ln in zip(counts, steps, line, strict=True)) + 1


def layouts(spec: Spec) -> dict[str, tuple[int, int]]:
    """The gather layouts that apply, each as (rows, columns) of one signal's matrix.

    ``windows``: a row per (channel, tap), a column per output (a strided gather).
    ``outputs`` (stride 1): columns are the flat positions from the first output to
    the last, so each row is a contiguous slice. ``taps``: the roles turned round, a
    row per output and, per channel, the flat positions from the first tap to the
    last (the kernel spread onto them with zeros): contiguous slices again, and the
    layout of choice when the kernel is large and the output small (a weight gradient).
    """
    line = _grid_strides(spec)
    taps, outputs = math.prod(spec.m), math.prod(spec.out)
    c = spec.channels
    found = {"windows": (c * taps, outputs)}
    if all(s == 1 for s in spec.stride):
        found["outputs"] = (c * taps, _span(spec.out, spec.stride, line))
    found["taps"] = (c * _span(spec.m, spec.dilation, line), outputs)
    return found


def layout(spec: Spec) -> str:
    """The layout with the lowest estimated time (`layout_seconds`)."""
    found = layouts(spec)
    return min(found, key=lambda name: layout_seconds(spec, name, *found[name]))


def layout_seconds(spec: Spec, name: str, rows: int, columns: int) -> float:
    """One signal's gather and product in layout ``name``, on one thread."""
    filters = sizes(spec)[2]
    gather = rows * columns * spec.acc_dtype.itemsize
    speed = costs.GEMM_GATHER_BYTES_PER_S["strided" if name == "windows" else "contiguous"]
    return filters * rows * columns * costs.GEMM_MAC_S[spec.acc_dtype.name] + gather / speed


def _group(spec: Spec) -> int:
    """Signals gathered at once."""
    rows, columns = layouts(spec)[layout(spec)]
    per_signal = rows * columns * spec.acc_dtype.itemsize
    return max(1, costs.GEMM_WORKSPACE_BYTES // max(per_signal, 1))


@register
class Gemm(Algorithm):
    name = "gemm"
    summary = "windows gathered into a matrix, one matrix product per group (BLAS)"
    channel_sum = True
    local_nonfinite = False  # zero padding is materialised: 0 * inf in a kernel is NaN

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind not in "fc":
            return f"BLAS multiplies floating-point numbers, not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to gather"
        _, _, filters = sizes(spec)
        if spec.contract is None and filters == 1:
            return "one kernel and no channel sum: a matrix-vector product (direct is faster)"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        shared, signals, filters = sizes(spec)
        kind = layout(spec)
        rows, columns = layouts(spec)[kind]
        itemsize = spec.acc_dtype.itemsize
        group = min(signals, _group(spec))
        workspace = rows * columns * group * itemsize + filters * columns * group * itemsize
        padded = shared * signals * spec.channels * math.prod(_padded_shape(spec)) * itemsize
        seconds = (
            costs.GEMM_CALL_OVERHEAD_S
            + shared * signals * layout_seconds(spec, kind, rows, columns) / workers
            + (2 * padded + spec.out_bytes) / costs.GEMM_GATHER_BYTES_PER_S["contiguous"]
        )
        return Cost(seconds, workspace + padded)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        return by_groups(spec, signal, kernel, workers, _group(spec), lambda w: w, _product)


def by_groups(spec, signal, kernel, workers, group, prepare, product) -> np.ndarray:
    """Run a channel-summing algorithm: signals padded and laid out (shared, signals,
    channels, *grid), kernels (shared, filters, channels·taps) and passed once through
    ``prepare``, then ``product(spec, padded_group, prepared)`` for each ``group`` of
    signals, which returns (group, filters, *out)."""
    d, b = spec.ndim, len(spec.batch)
    shared, signals, filters, ones = batch_roles(spec)
    order = shared + signals + filters + ones
    n_shared, n_signals, n_filters = sizes(spec)
    tail = tuple(range(b, signal.ndim))
    padded = pad(signal, spec.pads, spec.boundary, spec.fill_value)
    padded = padded.transpose(*order, *tail).reshape(
        (n_shared, n_signals, spec.channels, *padded.shape[-d:])
    )
    weights = kernel.transpose(*order, *tail).reshape(n_shared, n_filters, -1)
    y = np.empty((n_shared, n_signals, n_filters, *spec.out), spec.acc_dtype)
    with blas_threads(workers):
        for s in range(n_shared):
            prepared = prepare(weights[s])
            for first in range(0, n_signals, group):
                part = slice(first, first + group)
                y[s, part] = product(spec, padded[s, part], prepared)
    y = y.reshape(tuple(spec.batch[i] for i in order) + spec.out)
    return y.transpose(*np.argsort(order), *range(b, b + d))


def _product(spec: Spec, padded: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights @ cols`` for a group of padded signals: shape (group, filters, *out).

    The group's matrices sit side by side, so one product serves the whole group.
    """
    group, d, c = padded.shape[0], spec.ndim, spec.channels
    filters = weights.shape[0]
    kind = layout(spec)
    if kind == "windows":
        view = windows(padded, spec)  # (group, channels, *out, *m)
        order = (1, *range(2 + d, 2 + 2 * d), 0, *range(2, 2 + d))
        cols = view.transpose(order).reshape(weights.shape[1], -1)
        y = (weights @ cols).reshape(filters, group, *spec.out)
        return y.swapaxes(0, 1)
    padded = np.ascontiguousarray(padded)
    item, line = padded.itemsize, _grid_strides(spec)
    steps = tuple(s * ln * item for s, ln in zip(spec.stride, line, strict=True))
    spread = tuple(dl * ln * item for dl, ln in zip(spec.dilation, line, strict=True))
    if kind == "outputs":
        width = _span(spec.out, spec.stride, line)
        view = as_strided(
            padded,
            (c, *spec.m, group, width),
            (padded.strides[1], *spread, padded.strides[0], item),
            writeable=False,
        )
        wide = weights @ view.reshape(weights.shape[1], group * width)
        y = as_strided(
            wide,
            (filters, group, *spec.out),
            (wide.strides[0], width * item, *steps),
            writeable=False,
        )
        return y.swapaxes(0, 1)
    width = _span(spec.m, spec.dilation, line)
    view = as_strided(
        padded,
        (group, *spec.out, c, width),
        (padded.strides[0], *steps, padded.strides[1], item),
        writeable=False,
    )
    cols = view.reshape(group * math.prod(spec.out), c * width)
    taps = np.zeros((filters, c, width), weights.dtype)
    offsets = [
        sum(t * dl * ln for t, dl, ln in zip(tap, spec.dilation, line, strict=True))
        for tap in np.ndindex(*spec.m)
    ]
    taps[:, :, offsets] = weights.reshape(filters, c, -1)
    y = (taps.reshape(filters, -1) @ cols.T).reshape(filters, group, *spec.out)
    return y.swapaxes(0, 1)
