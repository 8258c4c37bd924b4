"""The limbs algorithm: exact sums of Python integers of any size as int64 sums of limbs.

Each integer is cut into ``w``-bit limbs (two's complement, the top limb signed),
``v = sum_j X_j 2**(w j)``. The correlation is linear, so the result is
``sum_s Z_s 2**(w s)`` with ``Z_s = sum_{j + l = s} X_j ⋆ K_l``: plain correlations of
int64 planes, which compiled loops add up exactly (``_limb_kernels``), followed by one
carry pass per output. The limb widths come from the actual values (`choose_layout`)
so that no partial sum can exceed `SUM_LIMIT`; an operand whose values fit stays whole
(one plane), so a big signal and a small kernel, as in a chain of dice, costs one
int64 correlation per limb of the signal.

Values travel in and out through one ``bytes`` buffer (``int.to_bytes`` and
``int.from_bytes`` per value, NumPy on the buffer): a few hundred nanoseconds per
value, against a Python multiplication per term for the plain sum.

The N-D problem is flattened as the ntt algorithm flattens it (`exact.Geometry`).
``Fraction`` values are scaled to integers by their common denominator and divided
back exactly; other objects (floats, ``Decimal``, complex) have no exact integer form
and get the reference's term-by-term sum (see `Limbs.run`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat

import numpy as np

from .. import costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, register
from .direct import batch_index
from .exact import Geometry, python_ints
from .reference import Reference

SUM_LIMIT = 2**62
"""No ``|Z_s|`` may exceed this: the carry pass adds carries below ``2**(63 - w)``."""

WIDTHS = (32, 16, 8)
"""Limb widths tried, widest first; 0 stands for a whole (int64) operand."""


@dataclass(frozen=True)
class Values:
    """What the layout needs to know of an operand's integers."""

    bits: int
    """Bits of every value: unsigned if none is negative, else two's complement."""
    negative: bool
    largest: int
    """The largest magnitude."""

    @classmethod
    def of(cls, values: list[int]) -> Values:
        low, high = min(values, default=0), max(values, default=0)
        if low < 0:
            return cls(max(high.bit_length(), (-low - 1).bit_length()) + 1, True, max(high, -low))
        return cls(high.bit_length(), False, high)

    @property
    def whole(self) -> bool:
        """Every value fits in int64."""
        return self.bits <= (64 if self.negative else 63)

    def limbs(self, width: int) -> int:
        """Limbs per value at ``width`` bits (0: whole, one)."""
        return max(1, -(-self.bits // width)) if width else 1


@dataclass(frozen=True)
class Layout:
    """Limb widths of the signal and the kernel (0: whole), and the carry's digit width."""

    x_width: int
    k_width: int
    x_limbs: int
    k_limbs: int

    @property
    def products(self) -> int:
        return self.x_limbs * self.k_limbs

    @property
    def width(self) -> int:
        return self.x_width or self.k_width or 32

    @property
    def out_limbs(self) -> int:
        """``uint32`` limbs per output: the digits, and the carry left above them."""
        digits = self.x_limbs + self.k_limbs - 1 + 64 // self.width - 1
        return -(-digits * self.width // 32)


def choose_layout(x: Values, k: Values, k_sum: int, taps: int) -> Layout:
    """The layout with the fewest plane products whose sums stay within `SUM_LIMIT`.

    ``k_sum`` is the largest sum of ``|k|`` over one kernel. 8-bit limbs on both sides
    always fit: their sums stay within ``2**16 * taps * k_limbs``, and ``taps * k_limbs``
    is one kernel's size in bytes, far below ``2**46``.
    """
    best = Layout(8, 8, x.limbs(8), k.limbs(8))
    for xw in (0, *WIDTHS):
        for kw in (0, *WIDTHS):
            if (xw and kw and xw != kw) or (not xw and not x.whole) or (not kw and not k.whole):
                continue
            layout = Layout(xw, kw, x.limbs(xw), k.limbs(kw))
            x_bound = 2**xw if xw else x.largest
            k_bound = taps * 2**kw if kw else k_sum
            if min(layout.x_limbs, layout.k_limbs) * x_bound * k_bound > SUM_LIMIT:
                continue
            if layout.products < best.products or (
                layout.products == best.products and layout.width > best.width
            ):
                best = layout
    return best


def to_planes(values: list[int], info: Values, width: int) -> np.ndarray:
    """``(limbs, len(values))`` int64: limb ``j`` of every value in row ``j``."""
    if not width:
        return np.array(values, np.int64).reshape(1, -1)
    count = info.limbs(width)
    size = count * width // 8
    if info.negative:
        raw = b"".join([v.to_bytes(size, "little", signed=True) for v in values])
    else:
        raw = b"".join(map(int.to_bytes, values, repeat(size), repeat("little")))
    limbs = np.frombuffer(raw, f"<u{width // 8}").reshape(len(values), count)
    planes = np.ascontiguousarray(limbs.T, np.int64)
    if info.negative:
        planes[-1] = limbs[:, -1].view(f"<i{width // 8}")
    return planes


def from_limbs(limbs: np.ndarray) -> np.ndarray:
    """Python ints from two's-complement little-endian ``uint32`` limbs on the last axis."""
    size = limbs.shape[-1]
    shape = limbs.shape[:-1]
    limbs = limbs.astype("<u4", copy=False)
    if size == 2:
        return limbs.view("<i8").reshape(shape).astype(object)
    # "S" items drop trailing zero bytes, the high zeros of an unsigned little-endian value.
    chunks = np.frombuffer(limbs.tobytes(), f"S{4 * size}").tolist()
    values = list(map(int.from_bytes, chunks, repeat("little")))
    for i in np.flatnonzero(limbs[..., -1] >> 31).tolist():
        values[i] -= 1 << (32 * size)
    out = np.empty(len(values), object)
    out[:] = values
    return out.reshape(shape)


@register
class Limbs(Algorithm):
    name = "limbs"
    summary = "Python ints cut into limbs, int64 sums of limb planes, one carry pass (exact)"

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind != "O":
            return f"object arrays (Python ints, Fractions) only, not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to sum"
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        geo = Geometry(spec)
        signals = math.prod(spec.signal_batch) * (
            math.prod(spec.n) if spec.zero_padding else geo.length
        )
        kernels = math.prod(spec.kernel_batch) * math.prod(spec.m)
        outputs = geo.batches * math.prod(spec.out)
        planes = costs.LIMBS_OBJECT_PLANES
        parallel = workers if planes * spec.terms >= costs.LIMBS_PARALLEL_MIN else 1
        seconds = (
            costs.LIMBS_CALL_OVERHEAD_S
            + (signals + kernels) * costs.LIMBS_S_PER_VALUE_IN
            + outputs * costs.LIMBS_S_PER_VALUE_OUT
            + planes * spec.terms * costs.LIMBS_S_PER_TERM / parallel
        )
        workspace = 8 * planes * (math.prod(spec.signal_batch) * geo.length + kernels)
        workspace += (4 * planes + 8) * 2 * outputs
        return Cost(seconds, workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        """Compute the canonical problem exactly.

        For object arrays holding anything but integers and rationals this computes the
        plain sum with the reference's code, as `NTT.run` does and for the same reason.
        """
        from . import _limb_kernels

        shape = spec.batch + spec.out
        if spec.empty:
            return np.zeros(shape, object)
        original = signal
        if not spec.zero_padding:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
        xs, ks = python_ints(signal), python_ints(kernel)
        if xs is None or ks is None:
            return Reference().run(spec, original, kernel, workers)
        (xv, dx), (kv, dk) = xs, ks
        taps = math.prod(spec.m)
        x_info, k_info = Values.of(xv), Values.of(kv)
        k_sum = max(sum(map(abs, kv[i : i + taps])) for i in range(0, len(kv), taps))
        layout = choose_layout(x_info, k_info, k_sum, taps)
        geo = Geometry(spec)
        xp = to_planes(xv, x_info, layout.x_width)
        xp = xp.reshape(layout.x_limbs, *signal.shape)
        if spec.zero_padding:
            xp = pad(xp, spec.pads, "constant", 0)
        xp = xp.reshape(layout.x_limbs, -1, geo.length)
        kp = to_planes(kv, k_info, layout.k_width).reshape(layout.k_limbs, -1, taps)
        limbs = np.empty((geo.batches, math.prod(spec.out), layout.out_limbs), np.uint32)
        _limb_kernels.correlate_planes(
            xp,
            kp,
            geo.positions(spec),
            geo.outputs(spec),
            batch_index(spec.signal_batch, spec.batch),
            batch_index(spec.kernel_batch, spec.batch),
            layout.width,
            limbs,
            workers if layout.products * spec.terms >= costs.LIMBS_PARALLEL_MIN else 1,
        )
        y = from_limbs(limbs).reshape(shape)
        if dx * dk != 1:
            y = np.frompyfunc(lambda v: Fraction(v, dx * dk), 1, 1)(y)
        return y
