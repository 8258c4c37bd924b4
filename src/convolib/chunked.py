"""Dask arrays: `convolve` and `correlate` of a chunked array, block by block, lazily.

The output is cut into blocks that follow the input's chunks. Each output block
needs the input window its kernel positions touch: its own region plus a halo of
``m - 1`` samples per convolved axis, placed by the spec's padding ``(lo, hi)``.
That window is gathered from as many input chunks as it overlaps (so chunks
smaller than the kernel work, and nothing is rechunked); where it leaves the array,
the boundary rule maps each position to the source sample of the *whole* array
(``wrap`` takes the far end, ``reflect`` and ``symmetric`` mirror at the array's
edges) or to ``fill_value``. One task per block then runs the in-memory
``correlate(window, kernel, "valid")``, whose planner picks the algorithm for that
block. Halo slabs are cut from their chunks by separate small tasks, so a worker
receives only the samples a block needs.

>>> import numpy as np, dask.array as da, convolib
>>> x = da.from_array(np.arange(10), chunks=3)
>>> y = convolib.convolve(x, [1, 1, 1], "same", boundary="wrap")
>>> y.chunks
((3, 3, 3, 1),)
>>> y.compute()
array([10,  3,  6,  9, 12, 15, 18, 21, 24, 17])
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import bad_argument
from .numbers import as_operand
from .spec import Spec, build_spec

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["is_dask", "lazy"]

Piece = tuple[int, int, int, int]
"""Part of a window along one axis: (input chunk or -1 for fill, start in the chunk,
length, step +1, -1 or 0 (one sample repeated))."""


def is_dask(a: object) -> bool:
    """Whether ``a`` is a Dask collection (checked without importing dask).

    >>> is_dask(np.ones(3))
    False
    """
    return type(a) is not np.ndarray and type(a).__module__.startswith("dask")


@dataclass(frozen=True)
class _Options:
    """What every block's in-memory call is given."""

    axes: tuple[int, ...]
    method: str
    out_dtype: np.dtype
    workers: int | None
    tune: bool | None
    fill: object
    fill_dtype: np.dtype


@dataclass(frozen=True)
class _Window:
    """One block's input window: a grid of pieces (C order over the per-axis pieces)."""

    lengths: tuple[tuple[int, ...], ...]
    """Lengths of the pieces along each axis."""
    slots: tuple[int, ...]
    """For each grid cell, its index in the task's list of parts, or -1 for fill."""


def lazy(
    op, x, k, mode, axes, boundary, fill_value, origin, method, out_dtype, workers, tune
) -> da.Array:
    """`convolib.convolve` or `correlate` (``op``) of a Dask array: a lazy Dask array,
    chunked like ``x``, with the values and dtype of the in-memory call.

    A Dask kernel ``k`` is computed at once (it must fit in memory); ``workers`` caps
    the threads of each block's call (default 1: Dask runs blocks in parallel). Errors
    in the arguments raise here; an exact integer result that overflows int64 raises
    when the block holding it is computed. `convolib.convolve` calls this for Dask
    inputs:

    >>> import numpy as np, dask.array as da, convolib
    >>> x = da.from_array(np.array([1, 2, 3, 4, 5]), chunks=2)
    >>> y = convolib.convolve(x, [1, 0, -1])
    >>> y.chunks, y.compute().tolist()
    (((3, 2, 2),), [1, 2, 2, 2, 2, -4, -5])
    >>> x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=(1, 2))
    >>> convolib.correlate(x, np.ones((1, 2)), "valid", boundary="edge").compute()
    array([[ 1.,  3.,  5.],
           [ 9., 11., 13.],
           [17., 19., 21.]])
    """
    import dask
    import dask.array as da

    k = as_operand("k", np.asarray(k.compute()) if is_dask(k) else k)
    if not is_dask(x):
        x = as_operand("x", x)
        x = da.from_array(x, chunks=x.shape or -1)
    elif not isinstance(x, da.Array):
        raise bad_argument(
            "x",
            type(x).__name__,
            "must be a dask.array.Array, not another Dask collection",
            "convert it with .to_dask_array() or da.asarray()",
            show_value=False,
        )
    as_operand("x", np.empty(0, x.dtype))  # the dtype check of in-memory inputs
    if any(math.isnan(c) for chunks in x.chunks for c in chunks):
        raise bad_argument(
            "x",
            x,
            "has chunks of unknown size, so the blocks' halos cannot be placed",
            "call x.compute_chunk_sizes() first",
        )
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
    if spec.empty:
        return da.zeros(spec.out_shape, dtype=spec.out_dtype)
    if spec.swap or x.ndim == 0:
        # Valid mode with the kernel larger than x on every axis (x is the smaller
        # operand, and both fit in memory), or 0-d x: one task computes it.
        from . import api

        fn = api.convolve if op == "convolve" else api.correlate
        task = dask.delayed(fn, pure=True)(
            x,
            k,
            mode,
            axes=axes,
            boundary=boundary,
            fill_value=fill_value,
            origin=origin,
            method=method,
            out_dtype=out_dtype,
            workers=workers,
            tune=tune,
        )
        return da.from_delayed(task, spec.out_shape, dtype=spec.out_dtype)
    return _blocks(spec, x, k, method, workers, tune)


def _applied_kernel(spec: Spec, k: np.ndarray) -> np.ndarray:
    """The kernel ``w`` with ``op(x, k) == correlate(x, w)``, axes in x's order.

    ``correlate`` conjugates its kernel, so the flipped convolution kernel is
    conjugated first, to be conjugated back.
    """
    if spec.op == "correlate":
        return k
    w = k[tuple(slice(None, None, -1) if a in spec.axes else slice(None) for a in range(k.ndim))]
    if w.dtype.kind in "cO":
        w = np.conj(w)
    return np.ascontiguousarray(w)


def _fill_dtype(spec: Spec, dtype: np.dtype) -> np.dtype:
    """The dtype of fill pieces: ``x``'s if it holds the fill value exactly."""
    if spec.boundary != "constant" or dtype.kind == "O":
        return dtype
    try:
        with np.errstate(all="ignore"):
            exact = bool(np.asarray(spec.fill_value).astype(dtype) == spec.fill_value)
    except (OverflowError, ValueError, TypeError):
        exact = False
    return dtype if exact else spec.acc_dtype


def _bounds(chunks: tuple[int, ...]) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(chunks, dtype=np.int64)))


def output_chunks(chunks: tuple[int, ...], n: int, out: int) -> tuple[int, ...]:
    """Chunks of an output of length ``out`` along an axis of length ``n`` chunked
    as ``chunks``: the input's boundaries, shifted by half the growth (``full``) or
    the shrinkage (``valid``), with empty chunks dropped.

    >>> output_chunks((4, 4, 2), 10, 14), output_chunks((4, 4, 2), 10, 6)
    ((6, 4, 4), (2, 4))
    """
    shift = (out - n) // 2
    inner = np.clip(_bounds(chunks)[1:-1] + shift, 0, out)
    edges = np.concatenate(([0], inner, [out]))
    sizes = tuple(int(s) for s in np.diff(edges) if s > 0)
    return sizes or (out,)


def source_index(t: np.ndarray, n: int, boundary: str) -> np.ndarray:
    """The sample of an axis of length ``n`` that position ``t`` (any integer) reads
    under ``boundary`` (not ``constant``): ``np.pad``'s extension of the whole axis,
    periodic for long pads.

    >>> source_index(np.arange(-4, 0), 3, "reflect").tolist()
    [0, 1, 2, 1]
    """
    if boundary == "edge":
        return np.clip(t, 0, n - 1)
    if boundary == "wrap":
        return t % n
    if boundary == "reflect":
        if n == 1:
            return np.zeros_like(t)
        u = t % (2 * n - 2)
        return np.where(u < n, u, 2 * n - 2 - u)
    u = t % (2 * n)  # symmetric
    return np.where(u < n, u, 2 * n - 1 - u)


def _runs(index: np.ndarray) -> list[tuple[int, int, int]]:
    """``index`` as runs (first, length, step) of steps +1, -1 or 0."""
    runs, i, size = [], 0, len(index)
    while i < size:
        j, step = i + 1, 1
        if j < size and abs(int(index[j] - index[i])) <= 1:
            step = int(index[j] - index[i])
            while j < size and index[j] - index[j - 1] == step:
                j += 1
        runs.append((int(index[i]), j - i, step))
        i = j
    return runs


def _split(first: int, length: int, step: int, bounds: np.ndarray) -> list[Piece]:
    """A run over the whole axis as pieces of single chunks."""
    pieces = []
    while length > 0:
        chunk = int(np.searchsorted(bounds, first, side="right")) - 1
        start = first - int(bounds[chunk])
        if step == 1:
            size = min(length, int(bounds[chunk + 1]) - first)
        elif step == -1:
            size = min(length, start + 1)
        else:
            size = length
        pieces.append((chunk, start, size, step))
        first, length = first + step * size, length - size
    return pieces


def window_pieces(begin: int, end: int, n: int, bounds: np.ndarray, boundary: str) -> list[Piece]:
    """Pieces of the positions ``[begin, end)`` of an axis of length ``n`` chunked at
    ``bounds``, positions outside ``[0, n)`` extended by ``boundary``.

    >>> window_pieces(-2, 3, 4, np.array([0, 2, 4]), "reflect")
    [(1, 0, 1, -1), (0, 1, 1, -1), (0, 0, 2, 1), (1, 0, 1, 1)]
    """
    pieces: list[Piece] = []
    for lo, hi in ((begin, min(end, 0)), (max(begin, 0), min(end, n)), (max(begin, n), end)):
        if lo >= hi:
            continue
        if lo >= 0 and hi <= n:
            pieces += _split(lo, hi - lo, 1, bounds)
        elif boundary == "constant":
            pieces.append((-1, 0, hi - lo, 0))
        else:
            for first, length, step in _runs(source_index(np.arange(lo, hi), n, boundary)):
                pieces += _split(first, length, step, bounds)
    return pieces


def _cut(chunk: np.ndarray, pieces: tuple[Piece, ...]) -> np.ndarray:
    """The part of ``chunk`` that ``pieces`` (one per axis) describe."""
    index, repeats = [], []
    for axis, (_, start, length, step) in enumerate(pieces):
        if step == 1:
            index.append(slice(start, start + length))
        elif step == -1:
            index.append(slice(start, start - length if start >= length else None, -1))
        else:
            index.append(slice(start, start + 1))
            if length > 1:
                repeats.append((axis, length))
    part = chunk[tuple(index)]
    for axis, length in repeats:
        part = np.repeat(part, length, axis=axis)
    return part


def _nested(leaves: list[np.ndarray], counts: tuple[int, ...]) -> list[Any]:
    if len(counts) == 1:
        return leaves
    size = math.prod(counts[1:])
    return [_nested(leaves[i * size : (i + 1) * size], counts[1:]) for i in range(counts[0])]


def _assemble(parts: list[np.ndarray], window: _Window, options: _Options) -> np.ndarray:
    if len(window.slots) == 1 and window.slots[0] >= 0:
        return parts[window.slots[0]]
    counts = tuple(len(lengths) for lengths in window.lengths)
    leaves = []
    for slot, cell in zip(window.slots, np.ndindex(*counts), strict=True):
        if slot >= 0:
            leaves.append(parts[slot])
        else:
            shape = tuple(lengths[i] for lengths, i in zip(window.lengths, cell, strict=True))
            leaves.append(np.full(shape, options.fill, options.fill_dtype))
    return np.block(_nested(leaves, counts))


def _block(
    parts: list[np.ndarray], window: _Window, options: _Options, kernel: np.ndarray
) -> np.ndarray:
    """One output block: its window assembled, then the in-memory valid correlation."""
    from .api import correlate as correlate_in_memory

    return correlate_in_memory(
        _assemble(parts, window, options),
        kernel,
        "valid",
        axes=options.axes,
        method=options.method,
        out_dtype=options.out_dtype,
        workers=options.workers,
        tune=options.tune,
    )


def _blocks(spec: Spec, x: da.Array, k: np.ndarray, method, workers, tune) -> da.Array:
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    from .api import plan

    w = _applied_kernel(spec, k)
    options = _Options(
        axes=spec.axes,
        method=method,
        out_dtype=spec.out_dtype,
        workers=1 if workers is None else workers,
        tune=tune,
        fill=spec.fill_value,
        fill_dtype=_fill_dtype(spec, x.dtype),
    )
    pads = dict(zip(spec.axes, spec.pads, strict=True))
    sizes = dict(zip(spec.axes, spec.m, strict=True))
    out_shape = spec.out_shape

    # Per axis: the output chunks, and for each output chunk its window's pieces and
    # the kernel's slice (batch axes where the kernel has the full length).
    out_chunks, axis_pieces, kernel_parts = [], [], []
    for a, (n, chunks) in enumerate(zip(x.shape, x.chunks, strict=True)):
        bounds = _bounds(chunks)
        if a in pads:
            lo, m = pads[a][0], sizes[a]
            own = output_chunks(chunks, n, out_shape[a])
            edges = _bounds(own)
            axis_pieces.append(
                [
                    window_pieces(int(b) - lo, int(e) - lo + m - 1, n, bounds, spec.boundary)
                    for b, e in itertools.pairwise(edges)
                ]
            )
            kernel_parts.append([slice(None)] * len(own))
        elif n == out_shape[a]:
            own = chunks
            axis_pieces.append([[(j, 0, c, 1)] for j, c in enumerate(chunks)])
            whole = k.shape[a] == 1
            kernel_parts.append(
                [
                    slice(None) if whole else slice(int(b), int(e))
                    for b, e in itertools.pairwise(bounds)
                ]
            )
        else:  # x has length 1 here and the kernel the full length: broadcast
            own = (out_shape[a],)
            axis_pieces.append([[(0, 0, 1, 1)]])
            kernel_parts.append([slice(None)])
        out_chunks.append(tuple(own))

    # Plan the largest block now: a bad method or option raises here, not at compute.
    window_lengths = [[sum(p[2] for p in pieces) for pieces in axis] for axis in axis_pieces]
    largest = [int(np.argmax(lengths)) for lengths in window_lengths]
    plan(
        "correlate",
        np.broadcast_to(
            np.zeros((), x.dtype), [ls[i] for ls, i in zip(window_lengths, largest, strict=True)]
        ),
        w[tuple(kernel_parts[a][i] for a, i in enumerate(largest))],
        "valid",
        axes=spec.axes,
        method=method,
        out_dtype=spec.out_dtype,
        workers=options.workers,
        tune=tune,
    )

    token = tokenize(x.name, w, repr(spec), repr(options))
    name = f"convolib-{spec.op}-{token}"
    cut_name, kernel_name = f"{name}-halo", f"{name}-kernel"
    dsk: dict[Any, Any] = {}
    cuts: dict[tuple, Any] = {}
    for block in itertools.product(*(range(len(c)) for c in out_chunks)):
        grids = [axis_pieces[a][i] for a, i in enumerate(block)]
        parts, slots = [], []
        for cell in itertools.product(*grids):
            source = tuple(p[0] for p in cell)
            if -1 in source:
                slots.append(-1)
                continue
            whole = all(
                p[1] == 0 and p[3] == 1 and p[2] == x.chunks[a][p[0]] for a, p in enumerate(cell)
            )
            if whole:
                key = (x.name, *source)
            else:
                key = cuts.get(cell)
                if key is None:
                    key = cuts[cell] = (cut_name, len(cuts))
                    dsk[key] = (_cut, (x.name, *source), cell)
            slots.append(len(parts))
            parts.append(key)
        window = _Window(tuple(tuple(p[2] for p in g) for g in grids), tuple(slots))
        kernel_index = tuple(kernel_parts[a][i] for a, i in enumerate(block))
        kernel_key = (kernel_name, *(0 if s == slice(None) else s.start for s in kernel_index))
        if kernel_key not in dsk:
            dsk[kernel_key] = np.ascontiguousarray(w[kernel_index])
        dsk[(name, *block)] = (_block, parts, window, options, kernel_key)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    meta = np.empty((0,) * x.ndim, spec.out_dtype)
    return da.Array(graph, name, tuple(out_chunks), meta=meta)
