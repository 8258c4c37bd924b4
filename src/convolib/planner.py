"""Layer 2, *which* algorithm: a pure function from a `Spec` to a printable `Plan`.

Every registered algorithm is a candidate. Those that cannot compute the spec, or
whose output and workspace would not fit in the memory budget, drop out; ``auto``
takes the one with the lowest estimated time; ``method="name"`` forces one. Plans
are cached by spec, so a repeated call pays for planning once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import numpy as np

from . import calibration, costs, threads
from .algorithms import Algorithm, cannot_run, registry, scans_kernel_only
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    MemoryBudgetError,
    bad_argument,
    choice_error,
)
from .spec import Spec

_CHECK_MEMORY_ABOVE = 64 * 2**20
"""Smaller needs are taken to fit without asking the operating system."""


@dataclass(frozen=True)
class Candidate:
    """One algorithm's estimate for a spec, or why it cannot run it."""

    name: str
    seconds: float
    workspace_bytes: int
    why_not: str | None
    over_budget: bool = False


@dataclass(frozen=True)
class Plan:
    """The chosen algorithm for a spec, with its estimates and the alternatives.

    Call it with arrays of the planned shapes and dtypes to run it again:

    >>> import numpy as np, convolib
    >>> p = convolib.plan("convolve", np.ones(4), np.ones(2))
    >>> p(np.arange(4.0), np.ones(2)).tolist()
    [0.0, 1.0, 3.0, 5.0, 3.0]
    """

    spec: Spec
    algorithm: str
    fallback: str | None
    """Runs instead of ``algorithm`` when the values call for the sum itself: an input
    holds NaN or inf, which a transform spreads to every output (and a matrix product
    over materialised zero padding to the border), or non-negative inputs span a range
    too wide for a normwise error bound (float32 sums run in float64 first where that is
    wide enough: `convolib.execute`)."""
    workers: int
    seconds: float
    memory_bytes: int
    reason: str
    candidates: tuple[Candidate, ...]
    memory_budget: int | None = None
    """The budget the candidates were held to, or None where their needs were too small
    to ask the operating system what memory is free."""

    @cached_property
    def _run(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """The plan as a function of operands that match its spec (`convolib.execute`),
        with what depends on the spec alone worked out once."""
        from .execute import bind

        return bind(self)

    def __call__(self, x: object, k: object) -> np.ndarray:
        from .numbers import as_operand

        x, k = as_operand("x", x), as_operand("k", k)
        s = self.spec
        if (x.shape, x.dtype, k.shape, k.dtype) != (s.x_shape, s.x_dtype, s.k_shape, s.k_dtype):
            raise bad_argument(
                "x, k",
                f"{x.shape} {x.dtype}, {k.shape} {k.dtype}",
                f"must match the plan's x{s.x_shape} {s.x_dtype}, k{s.k_shape} {s.k_dtype}",
                "make a new plan for other shapes or dtypes",
            )
        if s.kernel_rank is not None:
            from .factor import spec_kernel_rank

            rank = spec_kernel_rank(s, k)
            if rank != s.kernel_rank:
                found = "holds NaN or inf" if rank is None else f"has rank {rank}"
                raise bad_argument(
                    "k",
                    None,
                    f"{found}, but the plan was made for a kernel of rank {s.kernel_rank} "
                    f"and chose {self.algorithm!r} for it",
                    "make a new plan for this kernel, or call convolve/correlate",
                    show_value=False,
                )
        return self._run(x, k)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_run", None)  # a closure: made again where it is used
        return state

    def __str__(self) -> str:
        lines = [
            f"plan: {self.spec.describe()}",
            f"algorithm: {self.algorithm} ({registry()[self.algorithm].summary}), "
            f"{self.workers} thread{'s' if self.workers > 1 else ''}",
            f"why: {self.reason}",
            *(
                [
                    f"fallback: {self.fallback}, if an input holds NaN or inf"
                    + (
                        f", or non-negative inputs span a range too wide for "
                        f"{self.algorithm}'s accuracy"
                        + (" even in float64" if self.spec.acc_dtype == np.float32 else "")
                        if registry()[self.algorithm].accuracy == "normwise"
                        else ""
                    )
                ]
                if self.fallback
                else []
            ),
            f"estimate: {format_seconds(self.seconds)}, memory {format_bytes(self.memory_bytes)} "
            f"(output {format_bytes(self.spec.out_bytes)})",
            "",
            f"  {'candidate':<12}{'time':>10}{'workspace':>12}  note",
        ]
        for c in self.candidates:
            note = "chosen" if c.name == self.algorithm else (c.why_not or "")
            time = format_seconds(c.seconds)
            lines.append(
                f"  {c.name:<12}{time:>10}{format_bytes(c.workspace_bytes):>12}  {note}".rstrip()
            )
        return "\n".join(lines)


def format_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def format_bytes(n: int) -> str:
    """``n`` bytes in the largest binary unit of which it holds at least one, to three
    significant digits (whole units from 1000 on).

    >>> format_bytes(1_044_480), format_bytes(3 * 2**30 // 2), format_bytes(12)
    ('1020 KiB', '1.5 GiB', '12 B')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 1000 else f"{value:.3g} {unit}"
    return f"{n} B"


def methods() -> tuple[str, ...]:
    """The names ``method=`` accepts.

    >>> "reference" in methods()
    True
    """
    return ("auto", *sorted(registry()))


_tune_default = False


def set_tune(tune: bool) -> bool:
    """Make ``tune=None`` mean ``tune`` from now on; returns the previous setting.

    >>> set_tune(set_tune(True))
    True
    """
    global _tune_default
    previous, _tune_default = _tune_default, bool(tune)
    forget_plans()
    return previous


runs_by_call: dict[tuple, Callable[..., np.ndarray]] = {}
"""Bound plans (`Plan._run`) by the signature of the call that made them
(`convolib.api`; `convolib.nn.conv` keeps its layers' runners), so that a repeated
call skips validation and planning: only plans that no operand value and no memory
check went into."""

_BY_CALL_LIMIT = 1024


def remember(call: tuple, plan: Plan, run: Callable | None = None) -> None:
    """Keep ``plan``, bound (or ``run``, a function that runs it), for ``call`` if it
    depends on nothing but the call's signature."""
    if plan.memory_budget is None:
        if len(runs_by_call) >= _BY_CALL_LIMIT:
            runs_by_call.clear()
        runs_by_call[call] = plan._run if run is None else run


def forget_plans() -> None:
    """Drop every cached plan: the settings or cost factors they were made under changed."""
    _choose.cache_clear()
    _tuned.cache_clear()
    runs_by_call.clear()


def make_plan(
    spec: Spec, method: object = "auto", workers: object = None, tune: object = None
) -> Plan:
    """Choose the algorithm for ``spec`` (``method="auto"``) or check a forced one.

    With ``tune`` (default: the `set_tune` setting) ``auto`` times its best few
    candidates once per spec and keeps the fastest, like cuDNN's benchmark mode.
    """
    if not isinstance(method, str) or (method != "auto" and method not in registry()):
        raise choice_error("method", method, methods())
    if tune is None:
        tune = _tune_default
    if not isinstance(tune, bool):
        raise bad_argument("tune", tune, "must be True, False or None", cls=ArgumentTypeError)
    plan = _choose(spec, method, threads.resolve(workers))
    return _tuned(plan) if tune and method == "auto" else plan


TUNE_CANDIDATES = 3
"""How many of the best-estimated candidates ``tune`` times."""


@lru_cache(maxsize=256)
def _tuned(plan: Plan) -> Plan:
    spec = plan.spec
    contenders = [c for c in plan.candidates if c.why_not is None][:TUNE_CANDIDATES]
    if len(contenders) < 2 or spec.acc_dtype.kind == "O":
        return plan
    rng = np.random.default_rng(0)
    x, k = (
        (rng.integers(-3, 4, shape) if dtype.kind in "biu" else rng.standard_normal(shape)).astype(
            dtype
        )
        for shape, dtype in ((spec.x_shape, spec.x_dtype), (spec.k_shape, spec.k_dtype))
    )
    measured = {}
    for c in contenders:
        forced = replace(plan, algorithm=c.name, fallback=None)
        forced._run(x, k)  # compile and warm up
        times = []
        for _ in range(3):
            start = time.perf_counter()
            forced._run(x, k)
            times.append(time.perf_counter() - start)
        measured[c.name] = min(times)
    ranked = sorted(measured, key=measured.__getitem__)
    best, second = ranked[0], ranked[1]
    return replace(
        plan,
        algorithm=best,
        seconds=measured[best],
        fallback=_fallback(registry(), best, [c for c in plan.candidates if c.why_not is None]),
        reason=f"measured fastest of {len(measured)} candidates ({format_seconds(measured[best])}"
        f" vs {second} {format_seconds(measured[second])})",
    )


def _fallback(algorithms: dict, chosen: str, usable: list[Candidate]) -> str | None:
    """The best algorithm that computes the sum itself, if ``chosen`` is a transform."""
    if _sums(algorithms[chosen]):
        return None
    return next((c.name for c in usable if _sums(algorithms[c.name])), None)


def _sums(algorithm: Algorithm) -> bool:
    """Whether ``algorithm`` computes the sum itself: right whatever the values."""
    return algorithm.local_nonfinite and algorithm.accuracy == "elementwise"


def _scan_seconds(algorithm: Algorithm, spec: Spec, workers: int) -> float:
    """The value scan ``auto`` runs before ``algorithm`` where it has a fallback: both
    operands, or only the kernel (`scans_kernel_only`)."""
    sizes = (spec.x_shape, spec.k_shape)
    shapes = (sizes[not spec.swap],) if scans_kernel_only(algorithm, spec) else sizes
    return costs.scan_seconds(sum(map(math.prod, shapes)) * spec.acc_dtype.itemsize, workers)


@lru_cache(maxsize=1024)
def _choose(spec: Spec, method: str, workers: int) -> Plan:
    algorithms = registry()
    why_nots = {name: cannot_run(a, spec) for name, a in algorithms.items()}
    sums_apply = not spec.empty and any(
        _sums(algorithms[name]) and why is None for name, why in why_nots.items()
    )
    candidates = []
    for name, algorithm in sorted(algorithms.items()):
        why_not = why_nots[name]
        if why_not is None and spec.acc_dtype.kind in "iO" and not algorithm.exact:
            why_not = "rounds, and integer or object inputs get exact results"
        cost = algorithm.cost(spec, workers) if why_not is None else None
        seconds = cost.seconds * calibration.factor(name) if cost else math.inf
        if cost and method == "auto" and not _sums(algorithm) and sums_apply:
            seconds += _scan_seconds(algorithm, spec, workers)
        candidates.append(Candidate(name, seconds, cost.workspace_bytes if cost else 0, why_not))
    budget = None
    if max(spec.out_bytes + c.workspace_bytes for c in candidates) > _CHECK_MEMORY_ABOVE:
        budget = int(costs.available_memory() * costs.MEMORY_FRACTION)
        candidates = [
            c
            if c.why_not or spec.out_bytes + c.workspace_bytes <= budget
            else Candidate(
                c.name,
                c.seconds,
                c.workspace_bytes,
                f"needs {format_bytes(spec.out_bytes + c.workspace_bytes)}, "
                f"over the memory budget of {format_bytes(budget)}",
                over_budget=True,
            )
            for c in candidates
        ]
    candidates.sort(key=lambda c: (c.why_not is not None, c.seconds))
    usable = [c for c in candidates if c.why_not is None]
    if method != "auto":
        chosen = next(c for c in candidates if c.name == method)
        if chosen.why_not:
            raise bad_argument(
                "method",
                method,
                f"cannot compute this: {chosen.why_not}",
                "use method='auto' to let the planner choose",
                cls=MemoryBudgetError if chosen.over_budget else ArgumentError,
            )
        reason = f"forced by method={method!r}"
    elif not usable:
        raise MemoryBudgetError(
            f"{spec.describe()}: the output alone needs {format_bytes(spec.out_bytes)} and no "
            f"algorithm fits the memory budget of {format_bytes(budget or 0)} "
            f"({costs.MEMORY_FRACTION:.0%} of available memory). Use mode='same' or 'valid', "
            f"smaller inputs, or compute the result in pieces."
        )
    else:
        chosen = usable[0]
        if len(usable) == 1:
            reason = "the only algorithm that can compute this"
        else:
            runner_up = usable[1]
            reason = (
                f"lowest estimated time of {len(usable)} candidates "
                f"({format_seconds(chosen.seconds)} vs {runner_up.name} "
                f"{format_seconds(runner_up.seconds)})"
            )
    return Plan(
        spec=spec,
        algorithm=chosen.name,
        fallback=_fallback(algorithms, chosen.name, usable) if method == "auto" else None,
        workers=workers,
        seconds=chosen.seconds,
        memory_bytes=spec.out_bytes + chosen.workspace_bytes,
        reason=reason,
        candidates=tuple(candidates),
        memory_budget=budget,
    )
