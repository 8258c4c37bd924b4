"""The reference algorithm: the oracle every other algorithm is tested against.

It pads the signal, takes a sliding-window view, and adds up one kernel tap at a
time with NumPy (or Python arithmetic for object arrays): obviously correct, exact
for integers, and any dtype, dimension, stride and dilation.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register


def windows(padded: np.ndarray, spec: Spec) -> np.ndarray:
    """View of ``padded`` with shape ``batch + out + m``: every term of the sum."""
    d = spec.ndim
    extents = tuple(dl * (m - 1) + 1 for m, dl in zip(spec.m, spec.dilation, strict=True))
    view = sliding_window_view(padded, extents, axis=tuple(range(padded.ndim - d, padded.ndim)))
    outs = tuple(slice(0, o * s, s) for o, s in zip(spec.out, spec.stride, strict=True))
    taps = tuple(slice(None, None, dl) for dl in spec.dilation)
    return view[(..., *outs, *taps)]


@register
class Reference(Algorithm):
    name = "reference"
    summary = "sliding-window view, summed tap by tap with NumPy; the oracle"
    channel_sum = True

    def supports(self, spec: Spec) -> str | None:
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        padded = math.prod(spec.signal_batch) * spec.channels * math.prod(spec.padded_n)
        seconds = costs.reference_seconds(
            spec.terms, math.prod(spec.m) * spec.channels, spec.acc_dtype
        )
        return Cost(seconds, padded * (spec.acc_dtype.itemsize + 1) + spec.out_bytes)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        d = spec.ndim
        if d == 0:
            return np.asarray(signal * kernel)  # an array, also for 0-d operands
        view = windows(pad(signal, spec.pads, spec.boundary, spec.fill_value), spec)
        inside = None
        if spec.zero_padding:  # terms in the padding are absent, not 0 * w (0 * inf is NaN)
            inside = windows(pad(np.ones(spec.n, bool), spec.pads, "constant", False), spec)
        summed = spec.contract is not None
        kernel_batch = kernel.shape[:-d]
        total = np.zeros(spec.batch + (spec.channels,) * summed + spec.out, spec.acc_dtype)
        with np.errstate(invalid="ignore"):
            for tap in np.ndindex(*spec.m):
                w = kernel[(..., *tap)].reshape(kernel_batch + (1,) * d)
                term = view[(..., *tap)] * w
                if inside is not None:
                    term = np.where(inside[(..., *tap)], term, 0)
                total += term
        return total.sum(axis=-d - 1) if summed else total
