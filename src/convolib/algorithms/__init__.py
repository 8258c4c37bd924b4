"""Layer 3, *how*: the registry of algorithms.

Each algorithm lives in one module of this package and registers itself with
`register`; adding a module adds an algorithm (modules whose names start with an
underscore are helpers, not algorithms). An algorithm answers three questions about
a `Spec` and never parses user arguments or picks another algorithm:

* ``supports(spec)``: ``None`` if it can compute the spec, else the reason it cannot;
* ``cost(spec, workers)``: estimated seconds and workspace bytes (beyond input and
  output) with ``workers`` threads;
* ``run(spec, signal, kernel, workers)``: the canonical problem of `convolib.spec`.

Two class attributes tell the planner which rules outrank speed: ``exact`` (false for
transforms that round) and ``local_nonfinite`` (false where one NaN or inf spreads
to every output).

``run`` receives the operands in canonical layout (batch axes first, convolved axes
last, already flipped/conjugated, in ``spec.acc_dtype``, except a bool or integer
signal for an algorithm that sets ``narrow_signal``; the channel axis, where
``spec.contract`` names one, just before the convolved axes) and returns an array
of shape ``spec.batch + spec.out`` in ``spec.acc_dtype``.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import ClassVar

import numpy as np

from ..spec import Spec


@dataclass(frozen=True)
class Cost:
    """What running an algorithm on a spec is estimated to take."""

    seconds: float
    workspace_bytes: int


class Algorithm(ABC):
    """Base class of the algorithms; subclasses set ``name`` and ``summary``."""

    name: ClassVar[str]
    summary: ClassVar[str]
    exact: ClassVar[bool] = True
    """Computes the sum itself, so integer and object inputs stay exact (not rounded)."""
    local_nonfinite: ClassVar[bool] = True
    """NaN and inf reach only the outputs whose window holds them (not true of FFTs)."""

    def local_signal_nonfinite(self, spec: Spec) -> bool:
        """Whether NaN and inf in the signal, though not in the kernel, reach only the
        outputs whose window holds them: then only the kernel's values are checked
        before running (see ``local_nonfinite``)."""
        return self.local_nonfinite

    channel_sum: ClassVar[bool] = False
    """Sums over a channel axis (``spec.contract``); the planner offers it no other
    spec with one."""
    narrow_signal: ClassVar[bool] = False
    """``run`` takes a bool or integer signal in its own dtype where the sums are int64
    (it widens what it needs), which spares a copy of the signal in int64."""
    accuracy: ClassVar[str] = "elementwise"
    """The error bound it meets (DESIGN.md): ``"elementwise"``, within
    ``2·m·eps·(|x|*|k|)`` per element (m terms per output), or ``"normwise"``, within
    ``eps·log2(L)·‖x‖₂·‖k‖₂`` in max norm (L the transform length), as FFTs do."""

    @abstractmethod
    def supports(self, spec: Spec) -> str | None:
        """``None`` if this algorithm can compute ``spec``, else the reason it cannot."""

    @abstractmethod
    def cost(self, spec: Spec, workers: int) -> Cost:
        """Estimated time and workspace for ``spec`` with ``workers`` threads."""

    @abstractmethod
    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        """Compute the canonical problem (module docstring) on up to ``workers`` threads."""

    def bind(
        self, spec: Spec, workers: int, reverse: bool = False
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """``run`` for this spec and thread count, as a function of the operands; an
        algorithm may work out once here what depends on the spec alone. With
        ``reverse`` the function takes the kernel not yet reversed along the convolved
        axes (as ``spec.kernel_flip`` asks) and reverses it itself, which an algorithm
        may do for less than a reversed copy costs."""
        run = partial(self.run, spec, workers=workers)
        if not reverse:
            return run
        flip = last_axes_reversed(spec.ndim)
        return lambda signal, kernel: run(signal, kernel[flip])


@cache
def last_axes_reversed(d: int) -> tuple:
    """The index that reverses the last ``d`` axes of an array (a view).

    >>> np.arange(6).reshape(2, 3)[last_axes_reversed(1)].tolist()
    [[2, 1, 0], [5, 4, 3]]
    """
    return (..., *[slice(None, None, -1)] * d)


def cannot_run(algorithm: Algorithm, spec: Spec) -> str | None:
    """Why ``algorithm`` cannot compute ``spec`` (its own answer, or the channel-sum
    rule), or ``None``."""
    why = algorithm.supports(spec)
    if why is None and spec.contract is not None and not algorithm.channel_sum:
        why = "does not sum over channels"
    return why


def scans_kernel_only(algorithm: Algorithm, spec: Spec) -> bool:
    """Whether the value scan before ``algorithm`` (where it has a fallback) reads only
    the kernel: NaN and inf in the signal stay in their windows, and its error bound is
    elementwise, so the signal's dynamic range does not matter."""
    return algorithm.local_signal_nonfinite(spec) and algorithm.accuracy != "normwise"


_REGISTRY: dict[str, Algorithm] = {}
_loaded = False


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator: make ``cls`` available to the planner under ``cls.name``."""
    _REGISTRY[cls.name] = cls()
    return cls


def registry() -> dict[str, Algorithm]:
    """All algorithms by name, importing this package's modules on first use.

    >>> {"direct", "reference"} <= set(registry())
    True
    """
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return _REGISTRY
