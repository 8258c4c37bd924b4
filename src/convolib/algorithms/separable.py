"""The separable algorithm: one 1-D pass per kernel axis, on the direct loops.

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
every pass is a valid 1-D correlation; implicit zero padding is handled per pass by
the direct loops, which skip taps outside the signal (absent terms, as in the direct
sum). Stride and dilation apply per axis, in the pass along that axis. Each pass
views the array as (rows, axis, columns) so the loops run over contiguous columns
("axpy" order) and in parallel over rows; the last axis is its own column axis.
Passes run in order of how much they shrink the array, so work after a shrinking
pass is done on fewer elements. Length-1 kernel axes with stride 1 need no pass.

Why the attributes hold:

* ``exact``: integer kernels run only as exact integer rank-1 factors in int64,
  which add nothing that rounds; every partial sum is bounded by
  ``max|x| · Π_a Σ|f_a| = max|x| · Σ|k|``, the same bound the direct sum's int64
  check proves (each ``Σ|f_a| >= 1``). Object inputs are not supported.
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
  window; NaN or inf there makes it non-finite (``0·inf`` and ``inf - inf`` are
  NaN, so nothing cancels them), as in the direct sum, though a lone ``inf`` may come
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

from .. import calibration, costs, factor, threads
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register


def _lengths(spec: Spec) -> tuple[int, ...]:
    """The signal's lengths the passes start from (padded unless zero padding)."""
    if spec.zero_padding:
        return spec.n
    return tuple(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))


def _order(spec: Spec) -> list[int]:
    """The axes that need a pass, most shrinking first (length-1 axes of stride 1 need none)."""
    lengths = _lengths(spec)
    axes = [a for a in range(spec.ndim) if spec.m[a] > 1 or spec.stride[a] > 1]
    return sorted(axes, key=lambda a: spec.out[a] / lengths[a])


def _split(axes: list[int], d: int) -> tuple[list[int], bool]:
    """The passes to run one by one, and whether the last two axes run fused."""
    fused = d - 2 in axes and d - 1 in axes
    return [a for a in axes if not fused or a < d - 2], fused


RING_BYTES = 256 * 1024
"""Size a fused task's ring buffer aims at (one window of row-pass rows, in L2)."""


def strip_rows(extent: int, stride: int) -> int:
    """Output rows per fused task: each task recomputes up to ``extent`` row-pass rows
    at its top, so strips several windows tall keep that overhead near an eighth."""
    return max(16, -(-8 * extent // stride))


def _estimate(spec: Spec, rank: int, workers: int) -> tuple[float, int]:
    """Seconds and workspace bytes of ``rank`` chains of 1-D passes.

    Each pass costs its multiply-adds at the direct loops' rate; a chain takes at
    least the time of moving its arrays through memory: the signal read, the output
    written, and each intermediate zeroed, written and read (the fused passes along
    the last two axes keep theirs in cache).
    """
    rate = costs.SEPARABLE_TERMS_PER_S[spec.acc_dtype.name]
    item = spec.acc_dtype.itemsize
    batch = math.prod(spec.signal_batch)
    shape = list(_lengths(spec))
    single, fused = _split(_order(spec), spec.ndim)
    terms, seconds, peak, previous = 0, 0.0, 0, 0
    traffic = batch * math.prod(shape) + batch * math.prod(spec.out)
    for a in single:
        shape[a] = spec.out[a]
        size = batch * math.prod(shape)
        terms += size * spec.m[a]
        seconds += costs.CALL_OVERHEAD_S["direct"]
        if a != single[-1] or fused:  # an intermediate array
            traffic += 3 * size
            peak, previous = max(peak, previous + size), size
    if fused:
        a, b = spec.ndim - 2, spec.ndim - 1
        rows = batch * math.prod(shape[:a])
        extent = spec.dilation[a] * (spec.m[a] - 1) + 1
        strips = -(-spec.out[a] // strip_rows(extent, spec.stride[a]))
        computed = min(shape[a], spec.out[a] * spec.stride[a] + strips * extent)
        terms += rows * (computed * spec.out[b] * spec.m[b] + spec.out[a] * spec.out[b] * spec.m[a])
        seconds += costs.CALL_OVERHEAD_S["direct"]
    used = workers if terms >= costs.PARALLEL_MIN_TERMS else 1
    seconds += max(terms / rate, traffic * item / costs.SEPARABLE_BYTES_PER_S) / used
    workspace = peak * item
    if not spec.zero_padding:
        workspace += batch * math.prod(_lengths(spec)) * item
    return rank * seconds, workspace


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
    workers: int,
) -> np.ndarray:
    """Correlate ``src`` (batch, spatial...) with ``weights`` along spatial ``axis``.

    The result has ``length`` along ``axis``; it is added into ``dst`` if given.
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
    Y = np.empty(out_shape, src.dtype) if dst is None else dst
    terms = Y.size * m
    _direct_kernels.run(
        np.ascontiguousarray(src).ravel(),
        weights.ravel(),
        _index(rows, False),
        _index(rows, True),
        _direct_kernels.geometry(n, k, o, rows, lo3, st3, dl3, Y.itemsize),
        Y.ravel(),
        workers=workers if terms >= costs.PARALLEL_MIN_TERMS else 1,
        padded=False,
        accumulate=dst is not None,
    )
    return Y


def _fused(
    spec: Spec,
    src: np.ndarray,
    term: factor.Term,
    lo: tuple[int, ...],
    out: np.ndarray,
    workers: int,
) -> None:
    """Add the passes along the last two axes into ``out``, fused (``_separable_kernels``)."""
    from . import _separable_kernels

    a, b = spec.ndim - 2, spec.ndim - 1
    Y = out.reshape(-1, out.shape[-2], out.shape[-1])
    extent = spec.dilation[a] * (spec.m[a] - 1) + 1
    terms = Y.size * (spec.m[a] + spec.m[b])
    _separable_kernels.correlate2(
        src.reshape(-1, src.shape[-2], src.shape[-1]),
        np.ascontiguousarray(term[a], spec.acc_dtype),
        np.ascontiguousarray(term[b], spec.acc_dtype),
        (lo[a], lo[b]),
        (spec.stride[a], spec.stride[b]),
        (spec.dilation[a], spec.dilation[b]),
        Y,
        strip_rows(extent, spec.stride[a]),
        max(64, min(Y.shape[2], RING_BYTES // (extent * Y.itemsize))),
        workers if terms >= costs.PARALLEL_MIN_TERMS else 1,
    )


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
        # The passes are the direct loops: the direct sum's calibration applies to them.
        return Cost(seconds * calibration.factor("direct"), workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        d = spec.ndim
        terms = factor.factors(kernel.reshape(spec.m), spec.acc_dtype)
        if spec.zero_padding:
            lo = tuple(p[0] for p in spec.pads)
        else:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
            lo = (0,) * d
        batch = math.prod(spec.signal_batch)
        src = np.ascontiguousarray(signal).reshape((batch, *signal.shape[signal.ndim - d :]))
        out = np.zeros((batch, *spec.out), spec.acc_dtype)
        order = _order(spec)
        for term in terms:
            axes = order + [a for a in range(d) if a not in order and term[a][0] != 1]
            single, fused = _split(axes, d)
            current = src
            for a in single:
                current = _pass(
                    current,
                    np.ascontiguousarray(term[a], spec.acc_dtype),
                    a,
                    lo[a],
                    spec.stride[a],
                    spec.dilation[a],
                    spec.out[a],
                    out if a == single[-1] and not fused else None,
                    workers,
                )
            if fused:
                _fused(spec, current, term, lo, out, workers)
            elif not single:  # every factor is [1]: the identity
                out += src
        return out.reshape(spec.batch + spec.out)
