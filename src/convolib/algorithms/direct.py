"""The direct algorithm: the sum itself, in compiled loops (``_direct_kernels``).

Output columns are innermost and contiguous so the loops vectorise; tasks (blocks of
output rows) run in parallel above a size threshold. Implicit zero padding is never
materialised: taps that fall outside the signal are skipped. Other boundary rules
pad the signal first.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from .. import costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register

MAX_AXES = 3


@cache
def batch_index(operand_batch: tuple[int, ...], batch: tuple[int, ...]) -> np.ndarray:
    """For each flattened output batch, the flattened batch of an operand that broadcasts to it."""
    index = np.arange(math.prod(operand_batch), dtype=np.int64).reshape(operand_batch)
    return np.ascontiguousarray(np.broadcast_to(index, batch).reshape(-1))


def _as_3d(a: np.ndarray, d: int) -> np.ndarray:
    spatial = a.shape[a.ndim - d :]
    return np.ascontiguousarray(a).reshape((-1,) + (1,) * (MAX_AXES - d) + spatial)


def _three(values: tuple[int, ...], fill: int) -> tuple[int, ...]:
    return (fill,) * (MAX_AXES - len(values)) + tuple(values)


@register
class Direct(Algorithm):
    name = "direct"
    summary = "compiled loops (numba), output columns innermost, parallel over row blocks"

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.name not in costs.DIRECT_TERM_S:
            compiled = ", ".join(costs.DIRECT_TERM_S)
            return f"no compiled loop for {spec.acc_dtype} (only {compiled})"
        if spec.ndim > MAX_AXES:
            return f"compiled for at most {MAX_AXES} convolved axes, not {spec.ndim}"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        workspace = 0
        if not spec.zero_padding:
            padded = math.prod(n + lo + hi for n, (lo, hi) in zip(spec.n, spec.pads, strict=True))
            workspace = math.prod(spec.signal_batch) * padded * spec.acc_dtype.itemsize
        return Cost(costs.direct_seconds(spec, workers), workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        from . import _direct_kernels

        d = spec.ndim
        if spec.zero_padding:
            lo = tuple(p[0] for p in spec.pads)
        else:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
            lo = (0,) * d
        out = np.zeros((math.prod(spec.batch), *_three(spec.out, 1)), spec.acc_dtype)
        _direct_kernels.run(
            _as_3d(signal, d),
            _as_3d(kernel, d),
            batch_index(spec.signal_batch, spec.batch),
            batch_index(spec.kernel_batch, spec.batch),
            _three(lo, 0),
            _three(spec.stride, 1),
            _three(spec.dilation, 1),
            out,
            workers=workers if spec.terms >= costs.PARALLEL_MIN_TERMS else 1,
        )
        return out.reshape(spec.batch + spec.out)
