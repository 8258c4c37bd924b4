"""The NumPy/SciPy-style front-end: `convolve`, `correlate` and `plan`."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from . import chunked, factor
from .algorithms.separable import rank_pays_off
from .errors import ArgumentTypeError, bad_argument
from .numbers import as_operand
from .planner import Plan, make_plan, remember, runs_by_call
from .spec import Spec, build_spec, scalar_options


def _planned(op, x, k, mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune):
    """The plan, the operands as arrays, and whether the plan depends on their values
    (the kernel's rank) rather than on the call's signature alone."""
    x, k = as_operand("x", x), as_operand("k", k)
    spec = build_spec(
        op,
        x,
        k,
        mode,
        axes=axes,
        boundary=boundary,
        fill_value=fill_value,
        origin=origin,
        out_dtype=out_dtype,
    )
    by_values = _wants_kernel_rank(spec, method, workers)
    if by_values:
        rank = factor.spec_kernel_rank(spec, k)
        if rank is not None:
            spec = _ranked(spec, rank)
    return make_plan(spec, method, workers, tune), x, k, by_values


def _compute(op, x, k, mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune):
    """``op`` in memory, or lazily for Dask arrays (`convolib.chunked`).

    A call whose signature (types, shapes, dtypes, options) was planned before, with
    a plan that no operand value went into, runs that plan without validating again.
    The options that may be numbers are keyed with their types, as ``0``, ``0.0`` and
    ``False`` are equal keys; the others are strings, types or None, which no value of
    another type equals. Only calls whose options are all `scalar_options` are
    remembered, so a call with a tuple or list among them finds none.
    """
    options = (mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune)
    call = None
    if type(x) is np.ndarray is type(k):
        numbers = (type(axes), type(fill_value), type(origin), type(workers), type(tune))
        call = (op, x.shape, x.dtype, k.shape, k.dtype, options, numbers)
        try:
            known = runs_by_call.get(call)
        except TypeError:  # an unhashable option
            call = known = None
        if known is not None:
            return known(x, k)
    elif chunked.is_dask(x) or chunked.is_dask(k):
        return chunked.lazy(op, x, k, *options)
    planned, x, k, by_values = _planned(op, x, k, *options)
    if (
        call is not None
        and scalar_options(tuple(map(type, options)))
        and not by_values
        and "O" not in (x.dtype.kind, k.dtype.kind)  # object arrays need their values validated
    ):
        remember(call, planned)
    return planned._run(x, k)


def _wants_kernel_rank(spec: Spec, method: object, workers: object) -> bool:
    """Whether the planner could use the kernel's rank (`convolib.factor`).

    ``auto`` asks for it only where rank-1 passes would beat the direct sum, so small
    problems never pay for it; ``method="separable"`` wherever it applies.
    """
    if method == "auto":
        return rank_pays_off(spec, workers)
    return method == "separable" and factor.rank_applies(spec) is None


@lru_cache(maxsize=1024)
def _ranked(spec: Spec, rank: int) -> Spec:
    return replace(spec, kernel_rank=rank)


def plan(
    op: str,
    x: object,
    k: object,
    mode: str = "full",
    *,
    axes: object = None,
    boundary: str = "constant",
    fill_value: object = 0,
    origin: object = 0,
    method: str = "auto",
    out_dtype: object = None,
    workers: int | None = None,
    tune: bool | None = None,
) -> Plan:
    """Plan ``convolve`` or ``correlate`` without running it; ``print()`` shows why.

    >>> import numpy as np
    >>> plan("correlate", np.ones((64, 64), np.float32), np.ones((3, 3), np.float32)).algorithm
    'direct'
    """
    if chunked.is_dask(x) or chunked.is_dask(k):
        raise bad_argument(
            "x, k",
            type(x if chunked.is_dask(x) else k).__name__,
            "plan() describes one in-memory call and would compute a Dask array",
            "plan with NumPy arrays of one block's shape (each block runs such a call)",
            cls=ArgumentTypeError,
        )
    planned, _, _, _ = _planned(
        op, x, k, mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune
    )
    return planned


def convolve(
    x: object,
    k: object,
    mode: str = "full",
    *,
    axes: object = None,
    boundary: str = "constant",
    fill_value: object = 0,
    origin: object = 0,
    method: str = "auto",
    out_dtype: object = None,
    workers: int | None = None,
    tune: bool | None = None,
) -> np.ndarray:
    """Convolve ``x`` with ``k``: ``y[i] = sum_j x[i - j] k[j]`` (the kernel flipped).

    ``mode`` is ``"full"``, ``"same"`` or ``"valid"`` with ``scipy.signal``'s shapes
    and centring; ``axes`` picks the convolved axes (the others broadcast as batch
    axes); ``boundary`` is a ``np.pad`` rule (``constant`` with ``fill_value``,
    ``edge``, ``reflect``, ``symmetric``, ``wrap``; PyTorch's ``zeros``,
    ``replicate``, ``circular`` too); ``origin`` shifts the window in ``same`` mode;
    ``method`` forces an algorithm (see `convolib.methods`); ``out_dtype`` narrows
    the result (integers saturate); ``workers`` caps the threads (default: the
    `convolib.set_workers` setting, else every core); ``tune=True`` times the best
    candidate algorithms once per signature and keeps the fastest (default: the
    `convolib.set_tune` setting). Integer inputs give exact int64 results.

    >>> convolve([1, 2, 3], [0, 1, 0.5]).tolist()
    [0.0, 1.0, 2.5, 4.0, 1.5]
    """
    return _compute(
        "convolve", x, k, mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune
    )


def correlate(
    x: object,
    k: object,
    mode: str = "full",
    *,
    axes: object = None,
    boundary: str = "constant",
    fill_value: object = 0,
    origin: object = 0,
    method: str = "auto",
    out_dtype: object = None,
    workers: int | None = None,
    tune: bool | None = None,
) -> np.ndarray:
    """Cross-correlate ``x`` with ``k``: ``y[i] = sum_j x[i + j] conj(k[j])``.

    Takes the same arguments as `convolve`; the kernel is not flipped, and complex
    kernels are conjugated as in ``numpy.correlate`` and ``scipy.signal.correlate``.

    >>> correlate([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], "valid").tolist()
    [[37, 47], [67, 77]]
    """
    return _compute(
        "correlate",
        x,
        k,
        mode,
        axes,
        boundary,
        fill_value,
        origin,
        method,
        out_dtype,
        workers,
        tune,
    )
