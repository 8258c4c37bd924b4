"""Running a plan: operands into canonical form, the algorithm, the result back out.

This is the only code between the layers: it moves the convolved axes last, swaps,
flips and conjugates the operands as the spec says, widens integer sums that might
overflow int64 to Python ints, runs the chosen algorithm, and restores the axis
order and dtype.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

from .algorithms import registry
from .numbers import cast_output, exact_int64, int64_sums_fit
from .planner import Plan
from .spec import Spec


def _canonical(a: np.ndarray, spec: Spec, flip: bool, conj: bool) -> np.ndarray:
    if spec.moves is not None:
        a = np.moveaxis(a, *spec.moves)
    if flip:
        a = a[_reversed(spec.ndim)]
    if conj and a.dtype.kind in "cO":
        a = np.conj(a)
    return a


@cache
def _reversed(d: int) -> tuple:
    """The index that reverses the last ``d`` axes."""
    return (..., *([slice(None, None, -1)] * d))


def prepare(
    spec: Spec, x: np.ndarray, k: np.ndarray, narrow: bool = False
) -> tuple[Spec, np.ndarray, np.ndarray]:
    """The (signal, kernel) pair of the canonical problem, and the spec to run it under.

    That spec is ``spec`` itself, except when an int64 sum might overflow: then it
    computes with Python ints (object dtype), which only the reference supports.
    ``narrow`` leaves a bool or integer signal of int64 sums in its own dtype
    (`Algorithm.narrow_signal`).
    """
    signal, kernel = (k, x) if spec.swap else (x, k)
    signal = _canonical(signal, spec, spec.signal_flip, spec.signal_flip)
    kernel = _canonical(kernel, spec, spec.kernel_flip, spec.kernel_conj)
    acc = spec.acc_dtype
    if acc.kind == "i" and not int64_sums_fit(
        signal, kernel, spec.ndim + (spec.contract is not None), spec.fill_value
    ):
        spec = replace(spec, acc_dtype=np.dtype(object))
        acc = spec.acc_dtype
    if signal.dtype != acc and not (narrow and acc.kind == "i"):
        signal = signal.astype(acc)
    if kernel.dtype != acc:
        kernel = kernel.astype(acc)
    return spec, signal, kernel


def _values_need_the_sum(
    signal: np.ndarray, kernel: np.ndarray, normwise: bool, kernel_only: bool = False
) -> tuple[bool, bool]:
    """Whether the planned algorithm's result would be wrong for these values, and
    whether both operands are non-negative (real).

    A transform spreads NaN and inf to every output (a matrix product over
    materialised zero padding spreads an infinite kernel tap to the border outputs:
    ``kernel_only`` says that only the kernel's values can do harm).
    An algorithm whose error is bounded in norm, relative to the largest outputs,
    fails where non-negative inputs span more than ``1/sqrt(eps)`` (a probability
    vector from 1 down to 1e-12, say): the small outputs would drown in that error,
    while the sum keeps each one accurate.
    """
    real = signal.dtype.kind != "c"
    bounds = []
    for a in (kernel,) if kernel_only and not normwise else (signal, kernel):
        parts = (a,) if real else (a.real, a.imag)
        # min and max are NaN where a NaN is, and ±inf bounds an infinity: two
        # vectorised passes, no temporary arrays.
        lows, highs = [p.min(initial=0) for p in parts], [p.max(initial=0) for p in parts]
        if not np.isfinite(lows + highs).all():
            return True, False
        bounds.append((lows[0], highs[0]))
    if not normwise or not real or any(low < 0 for low, _ in bounds):
        return False, False
    limit = 1 / np.sqrt(np.finfo(signal.dtype).eps)
    for a, (_, top) in zip((signal, kernel), bounds, strict=True):
        if top > 0 and top / a.min(where=a > 0, initial=top) > limit:
            return True, True
    return False, True


def execute(plan: Plan, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Run ``plan`` on operands that match its spec."""
    spec = plan.spec
    if spec.empty:
        return np.zeros(spec.out_shape, spec.out_dtype)
    algorithms = registry()
    narrow = algorithms[plan.algorithm].narrow_signal and not plan.fallback
    run_spec, signal, kernel = prepare(spec, x, k, narrow)
    widened = run_spec is not spec
    algorithm, nonnegative = plan.algorithm, False
    if widened:
        algorithm = "reference"
    elif plan.fallback:
        chosen = algorithms[plan.algorithm]
        needs_sum, nonnegative = _values_need_the_sum(
            signal,
            kernel,
            chosen.accuracy == "normwise",
            kernel_only=chosen.local_signal_nonfinite(run_spec),
        )
        if needs_sum:
            algorithm = plan.fallback
    y = algorithms[algorithm].run(run_spec, signal, kernel, plan.workers)
    if nonnegative and algorithm == plan.algorithm:
        np.maximum(y, 0, out=y)  # a sum of non-negative terms is never negative
    first = len(spec.batch)
    if first:
        c = spec.contract
        places = tuple(a - (c is not None and c < a) for a in spec.axes)  # c is dropped
        y = np.moveaxis(y, tuple(range(first, first + spec.ndim)), places)
    y = np.asarray(y)
    if widened and spec.out_dtype == np.int64:
        y = exact_int64(y)
    return cast_output(y, spec.out_dtype)
