"""The separable algorithm: one 1-D pass per kernel axis, the last two fused.

A kernel that is a sum of ``r`` outer products, ``k = Σ_t f_t0 ⊗ ... ⊗ f_t(d-1)``,
correlates as ``r`` chains of 1-D correlations, one per axis: ``r·Σ m_a``
multiply-adds per output instead of ``Π m_a`` (a 15×15 Gaussian: 30 instead of 225).
Whether a kernel separates is a fact about its values: the API attaches
``spec.kernel_rank`` (`convolib.factor`) where it can pay off, and this algorithm
supports a spec only with that fact: rank 1 in any number of axes, rank ``r`` for
two-axis float kernels while ``r·(m0 + m1) < m0·m1``, and integer kernels only as
exact outer products of integer vectors.

``run`` recomputes the factors from the kernel it receives (canonical layout:
flipped for convolution). Non-zero-padding boundaries pad the signal first, then
every pass is a valid 1-D correlation. Stride and dilation apply per axis, in the
pass along that axis. The passes along the last two axes run fused
(``_separable_kernels``): each input row is correlated along the last axis once, into
a ring buffer of one window of rows that the pass along the other axis reads from
cache, so that intermediate never goes through memory; implicit zero padding is
zeros there. A pass along any other axis runs on the direct loops, which skip taps
outside the signal, viewing the array as (rows, axis, columns) so the loops run over
contiguous columns ("axpy") and in parallel over rows. Passes run in order of how
much they shrink the array, so work after a shrinking pass is done on fewer elements.
Length-1 kernel axes with stride 1 need no pass.

Why the attributes hold:

* ``exact``: integer kernels run only as exact integer rank-1 factors; every term
  and partial sum is bounded by ``B = max|x| · Π_a Σ|f_a| = max|x| · Σ|k|``, the
  bound the direct sum's int64 check proves to fit (each ``Σ|f_a| >= 1``). Where only
  the fused passes run they sum in float32 if ``B <= 2**24`` (uint8 and bool signals,
  read as they are: no int64 copy) or in float64 if ``B <= 2**53``, which hold every
  integer up to those bounds, so no product or sum rounds
  (`convolib.numbers.exact_in_float`); otherwise in int64. Object inputs are not
  supported.
* ``accuracy = "elementwise"``: with ``F = Σ_t ⊗_a f_ta`` the factors and ``R = k - F``,
  each pass is a dot product accumulated in the sum's dtype (fused multiply-adds,
  one rounding per tap), so to first order, with ``u = eps/2`` and the ``r`` terms
  adding into one output, the computed ``ŷ`` satisfies
  ``|ŷ - x★F| <= r·Σm·u · (|x| ★ Σ_t ⊗_a |f_ta|)``. Then
  ``|ŷ - x★k| <= |x| ★ (|R| + r·Σm·eps·Σ_t ⊗_a |f_ta|)``, and `convolib.factor` keeps
  only factors for which that kernel is at most ``2·M·eps·|k| + s`` tap by tap
  (``M = Π m``, ``s`` the smallest subnormal), so ``|ŷ - x★k| <= 2·M·eps·(|x|★|k|)``
  up to an underflow term ``s·Σ|x|`` over the window: DESIGN.md's bound.
* ``local_nonfinite``: output ``i`` of a pass reads only the inputs in its window
  along that axis, so after all passes it reads only ``x`` inside its ``d``-D
  window (the zeros that stand for the outside of the signal add exact zeros); NaN
  or inf there makes it non-finite (``0·inf`` and ``inf - inf`` are NaN, so nothing
  cancels them), as in the direct sum, though a lone ``inf`` may come
  out as NaN where the direct sum gives ``±inf``. Kernels holding NaN or inf get no
  rank, so they never run here. (An intermediate can overflow only for inputs within
  a factor ``Σm`` of the dtype's largest value.)

>>> import numpy as np, convolib
>>> g = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16
>>> x = np.ones((6, 6), np.float32)
>>> convolib.convolve(x, np.outer(g, g), "same", method="separable")[2, 2]
np.float32(1.0)
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import _heap, calibration, costs, factor, threads
from ..boundary import pad
from ..numbers import exact_in_float, max_abs
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import each_in_threads


def _lengths(spec: Spec) -> tuple[int, ...]:
    """The signal's lengths the passes start from (padded unless zero padding)."""
    if spec.zero_padding:
        return spec.n
    return spec.padded_n


def _order(spec: Spec) -> list[int]:
    """The axes that need a pass, most shrinking first (length-1 axes of stride 1 need none)."""
    lengths = _lengths(spec)
    axes = [a for a in range(spec.ndim) if spec.m[a] > 1 or spec.stride[a] > 1]
    return sorted(axes, key=lambda a: spec.out[a] / lengths[a])


def _split(axes: list[int], d: int) -> tuple[list[int], bool]:
    """The passes to run one by one, and whether the last two axes run fused."""
    fused = d - 2 in axes and d - 1 in axes
    return [a for a in axes if not fused or a < d - 2], fused


def _estimate(spec: Spec, rank: int, workers: int) -> tuple[float, int]:
    """Seconds and workspace bytes of ``rank`` chains of 1-D passes.

    The passes along single axes run on the direct loops: their multiply-adds, and
    their input read and output written through memory. The fused passes along the
    last two axes cost `_fused_work`; a call, a fixed cost. The signal padded by a
    boundary rule other than zeros is left out, as in the direct sum's estimate: both
    pay it alike.
    """
    item = spec.acc_dtype.itemsize
    batch = math.prod(spec.signal_batch)
    shape = list(_lengths(spec))
    single, fused = _split(_order(spec), spec.ndim)
    slabs = _in_slabs(spec, single, fused)
    seconds, peak, previous = 0.0, 0, 0
    for a in single:
        read = batch * math.prod(shape) * item
        shape[a] = spec.out[a]
        size = batch * math.prod(shape)
        terms = size * spec.m[a]
        work = terms * costs.DIRECT_TERM_S[spec.acc_dtype.name]
        if slabs:  # the intermediate stays in cache (`_slabs`), a slab per thread
            work += read * costs.SEPARABLE_PASS_BYTE_S
            slab = costs.SEPARABLE_SLAB_BYTES // item + math.prod(shape[a + 1 :])
            peak = min(size, workers * slab)
        else:
            work += (read + size * item) * costs.SEPARABLE_PASS_BYTE_S
            if a != single[-1] or fused:  # an intermediate array
                peak, previous = max(peak, previous + size), size
        seconds += costs.CALL_OVERHEAD_S["direct"]
        seconds += work / (workers if terms >= costs.PARALLEL_MIN_TERMS else 1)
    if fused:
        work = _fused_work(spec)[1]
        if workers > 1 and work >= costs.SEPARABLE_PARALLEL_MIN_S:
            work = work / workers + costs.SEPARABLE_THREADS_S
        seconds += work
    workspace = peak * item
    if not spec.zero_padding:
        workspace += batch * math.prod(_lengths(spec)) * _signal_itemsize(spec)
    if spec.acc_dtype.kind == "i" and spec.x_dtype.itemsize < 8 and not _reads_bytes(spec.x_dtype):
        workspace += batch * math.prod(spec.n) * 8  # the signal widened to int64
    return costs.SEPARABLE_CALL_S + rank * seconds, workspace


@lru_cache(maxsize=1024)
def _fused_work(spec: Spec) -> tuple[int, float]:
    """Output rows per task of the fused passes, and their seconds on one thread.

    Tasks are strips of whole column blocks, enough for `costs.SEPARABLE_TASKS_PER_CPU`
    per core, each strip at least 8 windows tall (it recomputes up to a window of
    row-pass rows at its top). The layout does not depend on the thread count, so
    neither do the results. The work: multiply-adds, each element of a row-pass row,
    the output written (into memory already mapped: `_heap.empty`), the input and
    output through memory where they do not fit in cache, and for an int64 signal the
    passes over its values that bound the sums (`_operands`).
    """
    a, b = spec.ndim - 2, spec.ndim - 1
    planes = math.prod(spec.signal_batch) * math.prod(spec.out[:a])
    blocks = planes * -(-spec.out[b] // costs.SEPARABLE_BLOCK)
    strips = -(-costs.SEPARABLE_TASKS_PER_CPU * threads.cpu_count() // blocks)
    extent, stride = spec.dilation[a] * (spec.m[a] - 1) + 1, spec.stride[a]
    rows = max(-(-spec.out[a] // strips), -(-8 * extent // stride), 16)
    strips = -(-spec.out[a] // rows)
    lines = planes * (spec.out[a] * stride + strips * max(0, extent - stride))
    row_pass, outputs = lines * spec.out[b], planes * spec.out[a] * spec.out[b]
    terms = row_pass * spec.m[b] + outputs * spec.m[a]
    out_bytes = outputs * spec.acc_dtype.itemsize
    in_bytes = planes * math.prod(_lengths(spec)[a:]) * _signal_itemsize(spec)
    work = terms * costs.SEPARABLE_TERM_S[_sums(spec).name]
    work += row_pass * costs.SEPARABLE_ROW_S + out_bytes * costs.SEPARABLE_BYTE_S
    if in_bytes + out_bytes > costs.DIRECT_CACHE_BYTES:
        work += (in_bytes + out_bytes) * costs.SEPARABLE_MEMORY_BYTE_S
    if spec.acc_dtype.kind == "i" and not _reads_bytes(spec.x_dtype):
        work += math.prod(spec.signal_batch) * math.prod(spec.n) * 8 * costs.SEPARABLE_SCAN_BYTE_S
    return rows, work


def _signal_itemsize(spec: Spec) -> int:
    """Bytes per sample of the signal as the passes read it."""
    return (
        1 if spec.acc_dtype.kind == "i" and _reads_bytes(spec.x_dtype) else spec.acc_dtype.itemsize
    )


def _sums(spec: Spec) -> np.dtype:
    """The dtype the fused passes are expected to sum in (`_operands`): an integer
    spec's, where they are the only passes, in float32 for uint8 and bool signals,
    else in float64 (values and kernels of the usual sizes)."""
    if spec.acc_dtype.kind != "i" or _split(_order(spec), spec.ndim)[0]:
        return spec.acc_dtype
    return np.dtype(np.float32 if _reads_bytes(spec.x_dtype) else np.float64)


def _reads_bytes(dtype: np.dtype) -> bool:
    """Whether the fused passes read a signal of ``dtype`` as it is, a byte per sample."""
    return dtype in (np.uint8, np.bool_)


def rank_pays_off(spec: Spec, workers: int | None) -> bool:
    """Whether computing ``spec``'s kernel rank could change ``auto``'s choice.

    True where rank-1 passes plus the factorisation would beat the direct sum on
    ``workers`` threads (as in `convolib.convolve`). Small problems are answered
    before anything else, so they pay nothing for it.

    >>> from convolib.spec import build_spec
    >>> tiny = build_spec("correlate", np.ones((64, 64)), np.ones((3, 3)), "same")
    >>> rank_pays_off(tiny, 2)
    False
    """
    if spec.terms < costs.SEPARABLE_RANK_MIN_TERMS:
        return False
    return _pays_off(spec, threads.resolve(workers))


@lru_cache(maxsize=256)
def _pays_off(spec: Spec, workers: int) -> bool:
    if factor.rank_applies(spec) is not None:
        return False
    fixed, per_tap = costs.SEPARABLE_RANK_S
    separable = _estimate(spec, 1, workers)[0] + fixed + per_tap * math.prod(spec.m)
    return separable < costs.direct_seconds(spec, workers)


@lru_cache(maxsize=64)
def _index(rows: int, broadcast: bool) -> np.ndarray:
    return np.zeros(rows, np.int64) if broadcast else np.arange(rows, dtype=np.int64)


def _pass(
    src: np.ndarray,
    weights: np.ndarray,
    axis: int,
    lo: int,
    stride: int,
    dilation: int,
    length: int,
    dst: np.ndarray | None,
    accumulate: bool,
    workers: int,
) -> np.ndarray:
    """Correlate ``src`` (batch, spatial...) with ``weights`` along spatial ``axis``.

    The result has ``length`` along ``axis``; it is written into ``dst`` if given
    (added to what it holds if ``accumulate``).
    """
    from . import _direct_kernels

    batch, shape = src.shape[0], src.shape[1:]
    out_shape = (batch, *shape[:axis], length, *shape[axis + 1 :])
    m = weights.shape[0]
    if axis == len(shape) - 1:  # the last axis: columns along it
        rows = batch * math.prod(shape[:-1])
        n, k, o = (shape[axis],), (m,), (length,)
        lo3, st3, dl3 = (lo,), (stride,), (dilation,)
    else:  # rows before, the axis, contiguous columns after
        rows, columns = batch * math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
        n, k, o = (shape[axis], columns), (m, 1), (length, columns)
        lo3, st3, dl3 = (lo, 0), (stride, 1), (dilation, 1)
    Y = _heap.empty(out_shape, src.dtype) if dst is None else dst
    terms = Y.size * m
    geo = _direct_kernels.geometry(
        n, k, o, _index(rows, False), _index(rows, True), lo3, st3, dl3, Y.itemsize
    )
    _direct_kernels.run(
        np.ascontiguousarray(src).ravel(),
        weights.ravel(),
        geo,
        Y.ravel(),
        workers if terms >= costs.PARALLEL_MIN_TERMS else 1,
        accumulate,
    )
    return Y


def _fused(
    spec: Spec,
    src: np.ndarray,
    term: factor.Term,
    lo: tuple[int, ...],
    sums: np.dtype,
    out: np.ndarray,
    accumulate: bool,
    workers: int,
) -> None:
    """Write (or add) the passes along the last two axes into ``out``, fused, summing
    in ``sums`` (``_separable_kernels``)."""
    from . import _separable_kernels

    a, b = spec.ndim - 2, spec.ndim - 1
    o0, o1 = out.shape[-2], out.shape[-1]
    rows, work = _fused_work(spec)
    geo = _separable_kernels.geometry(
        (src.shape[-2], src.shape[-1]),
        (o0, o1),
        (lo[a], lo[b]),
        (spec.stride[a], spec.stride[b]),
        (spec.dilation[a], spec.dilation[b]),
        (spec.m[a], spec.m[b]),
        rows,
        out.size // (o0 * o1),
    )
    _separable_kernels.correlate2(
        np.ascontiguousarray(src).ravel(),
        _weights(term[a], sums),
        _weights(term[b], sums),
        geo,
        out.ravel(),
        workers if work >= costs.SEPARABLE_PARALLEL_MIN_S else 1,
        accumulate,
    )


def _in_slabs(spec: Spec, single: list[int], fused: bool) -> bool:
    """Whether one pass along the axis before the last two, then the fused passes, run
    a slab of planes at a time (`_slabs`): a volume's chain, whose whole intermediate
    would go through memory (and be faulted in) between them."""
    return fused and single == [spec.ndim - 3]


def _slabs(
    spec: Spec,
    src: np.ndarray,
    term: factor.Term,
    lo: tuple[int, ...],
    sums: np.dtype,
    out: np.ndarray,
    accumulate: bool,
    workers: int,
) -> None:
    """The pass along axis ``a = ndim - 3``, then the fused passes, for slabs of output
    planes along ``a`` of at most about `costs.SEPARABLE_SLAB_BYTES`, so that a slab's
    intermediate stays in cache between them, and enough of them to share evenly. A
    slab reads the signal planes its window reaches (a window's worth more than it has
    planes). Slabs go to up to ``workers`` Python threads, each running both passes on
    its own: numba's threads, spinning after a pass, would slow the fused passes'
    threads down. The slabs change no result: each output gets the same terms in the
    same order wherever a slab starts."""
    a = spec.ndim - 3
    n, o, s, d = src.shape[1 + a], spec.out[a], spec.stride[a], spec.dilation[a]
    extent = d * (spec.m[a] - 1) + 1
    plane = src.shape[2 + a :]
    sources = src.reshape((-1, n, *plane))
    step = max(1, costs.SEPARABLE_SLAB_BYTES // (math.prod(plane) * spec.acc_dtype.itemsize))
    share = -(-o * sources.shape[0] // (costs.SEPARABLE_TASKS_PER_CPU * workers))
    step = min(step, share)  # slabs enough for the threads to share them evenly
    step = -(-o // -(-o // step))  # slabs of nearly equal size
    targets = out.reshape((-1, o, *out.shape[2 + a :]))
    weights = np.ascontiguousarray(term[a], spec.acc_dtype)
    jobs = [(b, first) for b in range(sources.shape[0]) for first in range(0, o, step)]
    inner = 1 if len(jobs) >= workers else workers  # threads within a slab's passes

    def slab(job: tuple[int, int]) -> None:
        b, first = job
        last = min(o, first + step)
        start = max(0, first * s - lo[a])  # the first signal plane the slab reads
        stop = min(n, (last - 1) * s - lo[a] + extent)
        between = np.empty((1, last - first, *plane), spec.acc_dtype)
        if stop <= start:  # windows on padding alone: no terms
            between[...] = 0
        else:
            part, shift = sources[b, start:stop][np.newaxis], lo[a] + start - first * s
            _pass(part, weights, 0, shift, s, d, last - first, between, False, inner)
        _fused(spec, between, term, lo, sums, targets[b, first:last], accumulate, inner)

    each_in_threads(1 if inner > 1 else workers, slab, jobs)


def _weights(f: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``f`` in ``dtype`` with room for the loops to read 8 entries on (zeros)."""
    w = np.zeros(f.shape[0] + 8, dtype)
    w[: f.shape[0]] = f
    return w


def _operands(
    spec: Spec, signal: np.ndarray, term: factor.Term, fused_only: bool
) -> tuple[np.ndarray, np.dtype]:
    """The signal as the passes read it, and the dtype they sum in.

    Floats sum in their own dtype. Integer sums stay exact: where only the fused
    passes run and every term and partial sum is provably small enough
    (`numbers.exact_in_float`), they run in float32 on a uint8 (or bool) signal read
    as it is, or in float64; otherwise in int64.
    """
    if spec.acc_dtype.kind != "i":
        return signal, spec.acc_dtype
    weight = math.prod(int(np.abs(f).sum()) for f in term)  # Σ|k| of an outer product
    fill = 0 if spec.zero_padding or spec.boundary != "constant" else int(spec.fill_value)
    small = 0 <= fill <= 255 and exact_in_float(255 * weight, np.float32)
    if fused_only and _reads_bytes(signal.dtype) and small:
        return signal.view(np.uint8), np.dtype(np.float32)
    signal = signal.astype(np.int64, copy=False)
    if fused_only and exact_in_float(max(max_abs(signal), abs(fill)) * weight, np.float64):
        return signal, np.dtype(np.float64)
    return signal, spec.acc_dtype


_NO_RANK = (
    "no kernel rank in the spec (the API computes it for finite float and integer "
    "kernels where separating could pay off; method='separable' asks for it)"
)


@register
class Separable(Algorithm):
    name = "separable"
    summary = "one 1-D pass per axis for low-rank kernels; the last two axes fused"
    exact = True
    local_nonfinite = True
    narrow_signal = True
    accuracy = "elementwise"

    def supports(self, spec: Spec) -> str | None:
        r = spec.kernel_rank
        live = [m for m in spec.m if m > 1]
        rules = (
            (r is None, _NO_RANK),
            (r == 0, "the kernel is all zeros: nothing to separate"),
            (
                spec.acc_dtype.kind == "i" and r != 1,
                f"the integer kernel is not an exact outer product of integer vectors "
                f"(rank {r}), and integer results must stay exact",
            ),
            (
                len(live) > 2 and r != 1,
                f"kernels of three or more axes are separated at rank 1 only, not {r}",
            ),
            (
                (r or 0) * sum(live) >= math.prod(live),
                f"rank {r}: {r}·({' + '.join(map(str, live))}) taps per output are no fewer "
                f"than the direct sum's {math.prod(live)}",
            ),
        )
        return factor.rank_applies(spec) or next((why for broken, why in rules if broken), None)

    def cost(self, spec: Spec, workers: int) -> Cost:
        seconds, workspace = _estimate(spec, spec.kernel_rank or 1, workers)
        # Compiled loops like the direct sum's, whose calibration factor stands for theirs
        # (calibration times no separable problem: its specs carry no kernel rank).
        return Cost(seconds * calibration.factor("direct"), workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        d = spec.ndim
        terms = factor.cached_factors(kernel.reshape(spec.m), spec.acc_dtype)
        order = _order(spec)
        passes = [
            _split(order + [a for a in range(d) if a not in order and term[a][0] != 1], d)
            for term in terms
        ]
        signal, sums = _operands(spec, signal, terms[0], all(not s and f for s, f in passes))
        if spec.zero_padding:
            lo = tuple(p[0] for p in spec.pads)
        else:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
            lo = (0,) * d
        batch = math.prod(spec.signal_batch)
        src = np.ascontiguousarray(signal).reshape((batch, *signal.shape[signal.ndim - d :]))
        out = _heap.empty((batch, *spec.out), spec.acc_dtype)
        for t, (term, (single, fused)) in enumerate(zip(terms, passes, strict=True)):
            if _in_slabs(spec, single, fused):
                _slabs(spec, src, term, lo, sums, out, t > 0, workers)
                continue
            current = src
            for a in single:
                last = a == single[-1] and not fused
                current = _pass(
                    current,
                    np.ascontiguousarray(term[a], spec.acc_dtype),
                    a,
                    lo[a],
                    spec.stride[a],
                    spec.dilation[a],
                    spec.out[a],
                    out if last else None,
                    last and t > 0,
                    workers,
                )
            if fused:
                _fused(spec, current, term, lo, sums, out, t > 0, workers)
            elif not single:  # every factor is [1]: the identity
                out[...] = current if t == 0 else out + current
        return out.reshape(spec.batch + spec.out)
