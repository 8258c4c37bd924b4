"""Running a plan: operands into canonical form, the algorithm, the result back out.

This is the only code between the layers: it moves the convolved axes last, swaps,
flips and conjugates the operands as the spec says, widens integer sums that might
overflow int64 to Python ints, runs the chosen algorithm, and restores the axis
order and dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from . import costs
from ._heap import keep_freed_blocks
from .algorithms import Algorithm, last_axes_reversed, registry, scans_kernel_only
from .algorithms._launch import each_in_threads
from .numbers import cast_output, exact_int64, int64_sums_fit
from .planner import Plan
from .spec import Spec


def prepare(
    spec: Spec, x: np.ndarray, k: np.ndarray, narrow: bool = False
) -> tuple[Spec, np.ndarray, np.ndarray]:
    """The (signal, kernel) pair of the canonical problem, and the spec to run it under.

    That spec is ``spec`` itself, except when an int64 sum might overflow: then it
    computes with Python ints (object dtype), which only the reference supports.
    ``narrow`` leaves a bool or integer signal of int64 sums in its own dtype
    (`Algorithm.narrow_signal`).
    """
    return preparer(spec, narrow)(x, k)


def preparer(
    spec: Spec, narrow: bool = False
) -> Callable[[np.ndarray, np.ndarray], tuple[Spec, np.ndarray, np.ndarray]]:
    """`prepare` for one spec, with what the spec alone decides looked up once."""
    swap, acc = spec.swap, spec.acc_dtype
    exact = acc.kind == "i"
    summed_axes = spec.ndim + (spec.contract is not None)
    # exact sums: cast after the overflow test, which needs the operands' own dtypes
    signal_way, kernel_way = _ways(spec, flip_kernel=True, cast=not exact)
    if exact:
        keep_signal = narrow

        def prepare_exactly(x: np.ndarray, k: np.ndarray) -> tuple[Spec, np.ndarray, np.ndarray]:
            signal, kernel = (k, x) if swap else (x, k)
            signal, kernel = signal_way(signal), kernel_way(kernel)
            if not int64_sums_fit(signal, kernel, summed_axes, spec.fill_value):
                wide = np.dtype(object)
                return replace(spec, acc_dtype=wide), signal.astype(wide), kernel.astype(wide)
            if signal.dtype != acc and not keep_signal:
                signal = signal.astype(acc)
            if kernel.dtype != acc:
                kernel = kernel.astype(acc)
            return spec, signal, kernel

        return prepare_exactly

    def prepare_operands(x: np.ndarray, k: np.ndarray) -> tuple[Spec, np.ndarray, np.ndarray]:
        signal, kernel = (k, x) if swap else (x, k)
        return spec, signal_way(signal), kernel_way(kernel)

    return prepare_operands


def _ways(
    spec: Spec, flip_kernel: bool, cast: bool = True
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """Each operand's `_canonical` way (signal, kernel), cast to the sums' dtype if
    ``cast``; the kernel left unflipped unless ``flip_kernel``."""
    signal_dtype, kernel_dtype = spec.x_dtype, spec.k_dtype
    if spec.swap:
        signal_dtype, kernel_dtype = kernel_dtype, signal_dtype
    acc = spec.acc_dtype if cast else None
    flip = flip_kernel and spec.kernel_flip
    return (
        _canonical(spec, signal_dtype, spec.signal_flip, spec.signal_flip, acc),
        _canonical(spec, kernel_dtype, flip, spec.kernel_conj, acc),
    )


def _as_given(a: np.ndarray) -> np.ndarray:
    return a


def _canonical(
    spec: Spec, dtype: np.dtype, flip: bool, conj: bool, cast: np.dtype | None
) -> Callable[[np.ndarray], np.ndarray]:
    """One operand's way into the canonical problem: convolved axes last, flipped,
    conjugated and cast to ``cast`` (if not None) as the spec and its ``dtype`` say,
    with only the steps that apply."""
    moves, reverse = spec.moves, last_axes_reversed(spec.ndim)
    conj = conj and dtype.kind in "cO"
    cast = None if cast is None or cast == dtype else cast
    if moves is None and not conj and cast is None:  # the usual case: a view at most
        return (lambda a: a[reverse]) if flip else _as_given

    def canonical(a: np.ndarray) -> np.ndarray:
        if moves is not None:
            a = np.moveaxis(a, *moves)
        if flip:
            a = a[reverse]
        if conj:
            a = np.conj(a)
        return a if cast is None else a.astype(cast)

    return canonical


def _spread(
    signal: np.ndarray,
    kernel: np.ndarray,
    normwise: bool,
    kernel_only: bool = False,
    workers: int = 1,
) -> tuple[float, bool]:
    """How far the values reach, as far as the planned algorithm's result is concerned,
    and whether both operands are non-negative (real).

    Infinite where an input holds NaN or inf, which a transform spreads to every output
    (a matrix product over materialised zero padding spreads an infinite kernel tap to
    the border outputs: ``kernel_only`` says that only the kernel's values can do harm,
    `scans_kernel_only`). For an algorithm whose error is bounded in norm, relative to
    the largest outputs, and non-negative inputs: the largest ratio of an operand's
    largest value to its smallest positive one (a probability vector from 1 down to
    1e-12: 1e12), which `_range_limit` bounds for each precision. Otherwise 0. Large
    operands are scanned in parts on up to ``workers`` threads.
    """
    real = signal.dtype.kind != "c"
    bounds = []
    for a in map(_ascending, (kernel,) if kernel_only else (signal, kernel)):
        # min and max are NaN where a NaN is, and ±inf bounds an infinity: vectorised
        # passes, no temporary arrays.
        parts = (a,) if real else (a.real, a.imag)
        extremes = [_in_parts(p, _extremes, workers) for p in parts]  # [[(low, high)...]]
        if not np.isfinite(extremes).all():
            return np.inf, False
        first = extremes[0]
        bounds.append((min(low for low, _ in first), max(high for _, high in first)))
    if not normwise or not real or any(low < 0 for low, _ in bounds):
        return 0.0, False
    spread = 0.0
    for a, (_, top) in zip((signal, kernel), bounds, strict=True):
        if top == 0:
            continue
        smallest = min(_in_parts(a, lambda p, top=top: p.min(where=p > 0, initial=top), workers))
        spread = max(spread, float(top / smallest))
    return spread, True


def _range_limit(dtype: np.dtype) -> float:
    """The widest spread of non-negative values (`_spread`) that a transform summing in
    ``dtype`` keeps accurate: ``1/sqrt(eps)``, so that the smallest outputs keep about
    half their digits (2896 for float32, 6.7e7 for float64); no limit for exact sums."""
    if dtype.kind not in "fc":
        return np.inf
    return float(1 / np.sqrt(np.finfo(dtype).eps))


def _ascending(a: np.ndarray) -> np.ndarray:
    """``a`` with the axes it steps through backwards reversed: a view of the same
    values in another order, which NumPy reduces several times faster (a flipped
    kernel is reversed along its convolved axes).

    >>> _ascending(np.arange(3)[::-1]).tolist()
    [0, 1, 2]
    """
    if all(step >= 0 for step in a.strides):
        return a
    return a[tuple(slice(None, None, -1) if step < 0 else slice(None) for step in a.strides)]


def _extremes(a: np.ndarray) -> tuple:
    return a.min(initial=0), a.max(initial=0)


def _in_parts(a: np.ndarray, reduce: Callable[[np.ndarray], object], workers: int) -> list:
    """``reduce`` of ``a`` in one piece, or, where ``a`` is large, of up to ``workers``
    parts of it along its first axis on as many threads (NumPy's reductions release
    the GIL)."""
    parts = 1
    if workers > 1 and a.ndim and a.nbytes >= costs.SCAN_PARALLEL_BYTES:
        parts = min(workers, a.shape[0])
    if parts <= 1:
        return [reduce(a)]
    cuts = [a.shape[0] * i // parts for i in range(parts + 1)]
    results: list = [None] * parts

    def task(i: int) -> None:
        results[i] = reduce(a[cuts[i] : cuts[i + 1]])

    each_in_threads(parts, task, range(parts))
    return results


def bind(plan: Plan) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``plan`` as a function of operands that match its spec (`Plan._run`)."""
    spec = plan.spec
    if spec.empty:
        return lambda x, k: np.zeros(spec.out_shape, spec.out_dtype)
    keep_freed_blocks()
    algorithms = registry()
    chosen = algorithms[plan.algorithm]
    acc, first = spec.acc_dtype, len(spec.batch)
    c = spec.contract
    places = tuple(a - (c is not None and c < a) for a in spec.axes)  # c is dropped
    last = tuple(range(first, first + spec.ndim))
    moves = (last, places) if first and places != last else None
    if not (plan.fallback or moves or acc.kind == "i" or spec.out_dtype != acc):
        return _bare(spec, chosen, plan.workers)  # nothing to check or convert around it

    run = chosen.bind(spec, plan.workers)
    prepare_operands = preparer(spec, chosen.narrow_signal and not plan.fallback)
    normwise = chosen.accuracy == "normwise"
    kernel_only = scans_kernel_only(chosen, spec)
    double = _InFloat64(plan)
    limit, wider_limit = _range_limit(acc), _range_limit(np.dtype(np.float64))

    def run_plan(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        run_spec, signal, kernel = prepare_operands(x, k)
        widened, nonnegative = run_spec is not spec, False
        if widened:
            y = algorithms["reference"].run(run_spec, signal, kernel, plan.workers)
        else:
            spread = 0.0
            if plan.fallback:
                spread, nonnegative = _spread(signal, kernel, normwise, kernel_only, plan.workers)
            if spread <= limit:
                y = run(signal, kernel)
            elif spread <= wider_limit and double.fits(signal, kernel):
                y = double(signal, kernel)
            else:  # the sum itself: NaN and inf stay in their windows, small sums accurate
                y = algorithms[plan.fallback].run(spec, signal, kernel, plan.workers)
                nonnegative = False  # nothing rounded below zero
            if nonnegative:
                np.maximum(y, 0, out=y)  # a sum of non-negative terms is never negative
        if moves:
            y = np.moveaxis(y, *moves)
        y = np.asarray(y)
        if widened and spec.out_dtype == np.int64:
            y = exact_int64(y)
        return cast_output(y, spec.out_dtype)

    return run_plan


class _InFloat64:
    """The plan's algorithm run in float64 and rounded back: for float32 sums whose
    non-negative inputs spread too wide for float32's transform (`_range_limit`) but
    not for float64's, at about twice the transform's cost rather than the sum's."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.spec = replace(plan.spec, acc_dtype=np.dtype(np.float64))
        self.run: Callable | None = None

    def fits(self, signal: np.ndarray, kernel: np.ndarray) -> bool:
        """Whether its workspace, float64 operands and output stay in the plan's memory
        budget (None: the plan's needs were too small to ask for one)."""
        if self.plan.memory_budget is None:
            return True
        chosen = registry()[self.plan.algorithm]
        outputs = math.prod(self.plan.spec.out_shape)
        # float64 operands and result, beside the output the planner counts (out_bytes)
        copies = 8 * (signal.size + kernel.size + outputs) + self.plan.spec.out_bytes
        need = chosen.cost(self.spec, self.plan.workers).workspace_bytes + copies
        return need <= self.plan.memory_budget

    def __call__(self, signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        if self.run is None:
            self.run = registry()[self.plan.algorithm].bind(self.spec, self.plan.workers)
        wide = self.run(signal.astype(np.float64), kernel.astype(np.float64))
        return wide.astype(self.plan.spec.acc_dtype)


def _bare(
    spec: Spec, chosen: Algorithm, workers: int
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The algorithm's runner behind the operands' ways into canonical form, for float
    and complex sums with nothing to check or convert; the runner itself where those
    ways have nothing to do. The runner reverses the kernel (`Algorithm.bind`)."""
    run = chosen.bind(spec, workers, reverse=spec.kernel_flip)
    signal_way, kernel_way = _ways(spec, flip_kernel=False)
    if not spec.swap and signal_way is _as_given and kernel_way is _as_given:
        return run
    swap = spec.swap

    def run_bare(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        signal, kernel = (k, x) if swap else (x, k)
        return run(signal_way(signal), kernel_way(kernel))

    return run_bare
