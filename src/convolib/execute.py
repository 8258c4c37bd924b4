"""Running a plan: operands into canonical form, the algorithm, the result back out.

This is the only code between the layers: it moves the convolved axes last, swaps,
flips and conjugates the operands as the spec says, checks that an exact integer
result fits, runs the chosen algorithm, and restores the axis order and dtype.
"""

from __future__ import annotations

import numpy as np

from .algorithms import registry
from .numbers import cast_output, check_exact_range
from .planner import Plan
from .spec import Spec


def _canonical(a: np.ndarray, spec: Spec, flip: bool, conj: bool) -> np.ndarray:
    d = spec.ndim
    last = tuple(range(a.ndim - d, a.ndim))
    if spec.axes != last:
        a = np.moveaxis(a, spec.axes, last)
    if flip:
        a = a[(..., *([slice(None, None, -1)] * d))]
    if conj and a.dtype.kind == "c":
        a = np.conj(a)
    return a


def canonical_operands(spec: Spec, x: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (signal, kernel) pair of the canonical problem, in ``spec.acc_dtype``."""
    signal, kernel = (k, x) if spec.swap else (x, k)
    signal = _canonical(signal, spec, spec.signal_flip, spec.signal_flip)
    kernel = _canonical(kernel, spec, spec.kernel_flip, spec.kernel_conj)
    if spec.acc_dtype.kind == "i":
        check_exact_range(signal, kernel, spec.ndim, spec.fill_value)
    return signal.astype(spec.acc_dtype, copy=False), kernel.astype(spec.acc_dtype, copy=False)


def execute(plan: Plan, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Run ``plan`` on operands that match its spec."""
    spec = plan.spec
    if 0 in spec.out_shape:
        return np.zeros(spec.out_shape, spec.out_dtype)
    signal, kernel = canonical_operands(spec, x, k)
    y = registry()[plan.algorithm].run(spec, signal, kernel)
    first = len(spec.batch)
    if first:
        y = np.moveaxis(y, tuple(range(first, first + spec.ndim)), spec.axes)
    return cast_output(np.asarray(y), spec.out_dtype)
