"""Running a plan: operands into canonical form, the algorithm, the result back out.

This is the only code between the layers: it moves the convolved axes last, swaps,
flips and conjugates the operands as the spec says, widens integer sums that might
overflow int64 to Python ints, runs the chosen algorithm, and restores the axis
order and dtype.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .algorithms import registry
from .numbers import cast_output, exact_int64, int64_sums_fit
from .planner import Plan
from .spec import Spec


def _canonical(a: np.ndarray, spec: Spec, flip: bool, conj: bool) -> np.ndarray:
    d = spec.ndim
    last = tuple(range(a.ndim - d, a.ndim))
    if spec.axes != last:
        a = np.moveaxis(a, spec.axes, last)
    if flip:
        a = a[(..., *([slice(None, None, -1)] * d))]
    if conj and a.dtype.kind in "cO":
        a = np.conj(a)
    return a


def prepare(spec: Spec, x: np.ndarray, k: np.ndarray) -> tuple[Spec, np.ndarray, np.ndarray]:
    """The (signal, kernel) pair of the canonical problem, and the spec to run it under.

    That spec is ``spec`` itself, except when an int64 sum might overflow: then it
    computes with Python ints (object dtype), which only the reference supports.
    """
    signal, kernel = (k, x) if spec.swap else (x, k)
    signal = _canonical(signal, spec, spec.signal_flip, spec.signal_flip)
    kernel = _canonical(kernel, spec, spec.kernel_flip, spec.kernel_conj)
    if spec.acc_dtype.kind == "i" and not int64_sums_fit(
        signal, kernel, spec.ndim, spec.fill_value
    ):
        spec = replace(spec, acc_dtype=np.dtype(object))
    return (
        spec,
        signal.astype(spec.acc_dtype, copy=False),
        kernel.astype(spec.acc_dtype, copy=False),
    )


def execute(plan: Plan, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Run ``plan`` on operands that match its spec."""
    spec = plan.spec
    if spec.empty:
        return np.zeros(spec.out_shape, spec.out_dtype)
    run_spec, signal, kernel = prepare(spec, x, k)
    widened = run_spec is not spec
    algorithm = plan.algorithm
    if widened:
        algorithm = "reference"
    elif plan.nonfinite_fallback and not (np.isfinite(signal).all() and np.isfinite(kernel).all()):
        algorithm = plan.nonfinite_fallback
    y = registry()[algorithm].run(run_spec, signal, kernel, plan.workers)
    first = len(spec.batch)
    if first:
        y = np.moveaxis(y, tuple(range(first, first + spec.ndim)), spec.axes)
    y = np.asarray(y)
    if widened and spec.out_dtype == np.int64:
        y = exact_int64(y)
    return cast_output(y, spec.out_dtype)
