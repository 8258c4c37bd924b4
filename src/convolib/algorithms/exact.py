"""The exact transform: a number-theoretic transform over several primes, then CRT.

Integer convolution is computed modulo primes ``p = c * 2**k + 1`` (``2**29 < p <
2**30``), where a transform of length ``2**k`` exists, in compiled loops
(``_ntt_kernels``); the Chinese remainder theorem recombines the residues. With
primes whose product ``P`` exceeds ``2 * bound``, where ``bound = max|signal| *
max over kernels of sum|kernel|`` bounds every output, the result is the unique
residue in ``(-P/2, P/2)``: exact, at FFT-like speed. The number of primes is chosen
in `run` from that bound on the actual values (the spec sees only dtypes), so small
values use fewer primes.

The N-D problem becomes a 1-D one by Kronecker substitution: the padded signal is
flattened, the kernel is laid out at the signal's row pitch (and dilation), and the
outputs are read back at their flattened positions (stride keeps every s-th output
of the stride-1 result). Long signals are cut into blocks (overlap-save), with the
kernel's transform computed once per prime.

Object arrays: Python ints of any size are exact (values beyond int64 travel as
32-bit limbs); ``Fraction`` values are scaled to integers by the common denominator
and divided back exactly. Other objects (floats, ``Decimal``, complex) have no exact
integer form; for them `run` computes the plain sum term by term, in the objects' own
arithmetic, exactly as the reference algorithm does (see `NTT.run`).
"""

from __future__ import annotations

import math
import numbers
import threading
from collections import OrderedDict
from fractions import Fraction
from functools import cache
from itertools import repeat

import numpy as np

from .. import _heap, costs
from ..boundary import pad
from ..numbers import INT64_MAX, exact_int64
from ..spec import Spec
from . import Algorithm, Cost, register
from .direct import batch_index

PRIME_RANGE = (2**29, 2**30)
"""Every prime lies here: at least 29 bits each, and lazy values below ``4p < 2**32``."""

MIN_TWO_ADICITY = 16
"""Primes are drawn from ``p = c * 2**k + 1`` with ``k`` at least this; the first list
tried has ``k >= 20`` (about 50 primes, results to ~1400 bits)."""


def _is_prime(n: int) -> bool:
    """Deterministic Miller-Rabin for ``n < 3.2e9`` (bases 2, 3, 5, 7)."""
    if n < 2 or n % 2 == 0:
        return n == 2
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7):
        if a % n == 0:
            continue
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _primitive_root(p: int) -> int:
    """The smallest generator of the multiplicative group mod the prime ``p``."""
    factors, m, q = set(), p - 1, 2
    while q * q <= m:
        while m % q == 0:
            factors.add(q)
            m //= q
        q += 1
    if m > 1:
        factors.add(m)
    return next(g for g in range(2, p) if all(pow(g, (p - 1) // f, p) != 1 for f in factors))


@cache
def primes(two_adicity: int) -> tuple[tuple[int, int], ...]:
    """``(p, primitive root)`` for the primes in `PRIME_RANGE` with ``2**two_adicity | p - 1``,
    largest first.

    >>> primes(23)[0]
    (998244353, 3)
    """
    lo, hi = PRIME_RANGE
    step = 1 << two_adicity
    found = [p for p in range(hi - hi % step + 1, lo, -step) if p < hi and _is_prime(p)]
    return tuple((p, _primitive_root(p)) for p in found)


def choose_primes(bound: int, log_len: int) -> tuple[tuple[int, int], ...] | None:
    """The fewest primes (for transforms of ``2**log_len``) whose product exceeds ``2 * bound``.

    ``None`` if there are not enough such primes.

    >>> len(choose_primes(2**40, 13)), len(choose_primes(2**62, 13))
    (2, 3)
    """
    for adicity in dict.fromkeys((max(log_len, 20), max(log_len, MIN_TWO_ADICITY))):
        product, chosen = 1, []
        for entry in primes(adicity):
            if product > 2 * bound:
                break
            chosen.append(entry)
            product *= entry[0]
        if product > 2 * bound:
            return tuple(chosen)
    return None


@cache
def largest_transform(count: int) -> int:
    """``log2`` of the longest transform for which ``count`` primes exist."""
    return next(k for k in range(29, MIN_TWO_ADICITY - 1, -1) if len(primes(k)) >= count)


_TABLE_BYTES = 64 * 2**20
"""Twiddle tables kept in memory, most recently used first."""
_tables: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
_tables_lock = threading.Lock()


def tables(p: int, g: int, log_len: int) -> np.ndarray:
    """Twiddle tables of length ``2**log_len`` modulo ``p`` (cached, see `_ntt_kernels`)."""
    key = (p, log_len)
    with _tables_lock:
        if key in _tables:
            _tables.move_to_end(key)
            return _tables[key]
    from . import _ntt_kernels

    root = pow(g, (p - 1) >> log_len, p)
    made = _ntt_kernels.make_tables(p, root, pow(root, p - 2, p), log_len)
    with _tables_lock:
        _tables[key] = made
        while sum(t.nbytes for t in _tables.values()) > _TABLE_BYTES and len(_tables) > 1:
            _tables.popitem(last=False)
    return made


def _shoup(w: int, p: int) -> tuple[int, int]:
    return w, (w << 32) // p


# --- geometry: the N-D problem as one 1-D correlation ----------------------------------------


class Geometry:
    """The Kronecker layout of a spec: flattened lengths, positions and the block size."""

    def __init__(self, spec: Spec) -> None:
        d = spec.ndim
        self.padded = spec.padded_n
        pitch = [math.prod(self.padded[a + 1 :]) for a in range(d)]
        self.pitch = tuple(pitch)
        self.length = math.prod(self.padded)
        """Samples of one flattened padded signal."""
        self.extent = 1 + sum(
            dl * (m - 1) * p for m, dl, p in zip(spec.m, spec.dilation, pitch, strict=True)
        )
        """Flattened span of the kernel (the ``M`` of overlap-save)."""
        self.needed = 1 + sum(
            (o - 1) * s * p for o, s, p in zip(spec.out, spec.stride, pitch, strict=True)
        )
        """Stride-1 flattened outputs computed; the wanted ones are read back from them."""
        self.identity = d == 1 and spec.stride[0] == 1
        self.batches = math.prod(spec.batch)
        self.kernel_batches = math.prod(spec.kernel_batch)

    def positions(self, spec: Spec) -> np.ndarray:
        """Flattened offset of each kernel tap, in C order."""
        offsets = np.zeros((), np.int64)
        for m, dl, p in zip(spec.m, spec.dilation, self.pitch, strict=True):
            offsets = offsets[..., None] + np.arange(m, dtype=np.int64) * (dl * p)
        return offsets.reshape(-1)

    def outputs(self, spec: Spec) -> np.ndarray:
        """Flattened position of each output (empty: the identity)."""
        if self.identity:
            return np.zeros(0, np.int64)
        offsets = np.zeros((), np.int64)
        for o, s, p in zip(spec.out, spec.stride, self.pitch, strict=True):
            offsets = offsets[..., None] + np.arange(o, dtype=np.int64) * (s * p)
        return offsets.reshape(-1)

    def block(self, log_max: int) -> tuple[int, int] | None:
        """``(log2 L, step)``: the transform length with the least work, or None if too long.

        Work is (transforms) x (L x (log2 L + `costs.NTT_BLOCK_OVERHEAD`) +
        `costs.NTT_TRANSFORM_FIXED`), one forward and one inverse per block and batch, one
        forward per kernel.
        """
        lo = max(1, (self.extent - 1).bit_length())
        hi = min(max(lo, (self.needed + self.extent - 2).bit_length()), log_max)
        best = None
        for log_len in range(lo, hi + 1):
            n = 1 << log_len
            step = n - self.extent + 1
            blocks = -(-self.needed // step)
            work = (2 * blocks * self.batches + self.kernel_batches) * n
            work = work * (log_len + costs.NTT_BLOCK_OVERHEAD) + costs.NTT_TRANSFORM_FIXED * (
                2 * blocks * self.batches + self.kernel_batches
            )
            if best is None or work < best[0]:
                best = (work, log_len, step)
        return None if best is None else best[1:]


# --- integer operands -------------------------------------------------------------------------


class Operand:
    """Integers ready for reduction: int64 values, or 32-bit limbs and signs (any size)."""

    def __init__(self, values: np.ndarray | list[int], shape: tuple[int, int]) -> None:
        """``values``: int64 of ``shape``, or Python ints (flattened) of that shape."""
        self.shape = shape
        if isinstance(values, np.ndarray):
            self.int64: np.ndarray | None = np.ascontiguousarray(values)
            top = max(int(values.max()), -int(values.min())) if values.size else 0
            self.max_abs = top
            return
        low, high = min(values, default=0), max(values, default=0)
        self.max_abs = max(high, -low)
        if self.max_abs <= INT64_MAX:
            self.int64 = np.array(values, np.int64).reshape(shape)
            return
        self.int64 = None
        self.values = [values[i : i + shape[1]] for i in range(0, len(values), shape[1])]
        size = 4 * -(-self.max_abs.bit_length() // 32)
        magnitudes = map(abs, values) if low < 0 else values
        raw = b"".join(map(int.to_bytes, magnitudes, repeat(size), repeat("little")))
        self.limbs = np.frombuffer(raw, "<u4").reshape(*shape, size // 4)
        self.negative = np.zeros(shape, bool)
        if low < 0:
            self.negative.flat = list(map((0).__gt__, values))

    def abs_sums(self) -> int:
        """The largest sum of ``|value|`` over a row (the last axis), exactly."""
        if self.int64 is not None and self.max_abs * self.shape[1] <= INT64_MAX:
            return int(np.abs(self.int64).sum(axis=1).max(initial=0))
        rows = self.values if self.int64 is None else self.int64.tolist()
        return max((sum(map(abs, row)) for row in rows), default=0)

    def residues(self, chosen: tuple[tuple[int, int], ...], length: int, offset: int) -> np.ndarray:
        """``(primes, rows, length)`` uint32: each row mod each prime, placed at ``offset``."""
        from . import _ntt_kernels

        out = np.empty((len(chosen), self.shape[0], length), np.uint32)
        if self.int64 is not None:
            consts = np.array(
                [(p, *_shoup((1 << 32) % p, p), (1 << 32) // p) for p, _ in chosen], np.uint64
            )
            _ntt_kernels.residues_int64(self.int64, out, offset, consts)
        else:
            nl = self.limbs.shape[2]
            consts = np.zeros((len(chosen), 2 + 2 * nl), np.uint64)
            for i, (p, _) in enumerate(chosen):
                consts[i, 0] = p
                for k in range(nl):
                    consts[i, 2 + 2 * k : 4 + 2 * k] = _shoup(pow(2, 32 * k, p), p)
            _ntt_kernels.residues_limbs(self.limbs, self.negative, out, offset, consts)
        return out


def python_ints(a: np.ndarray) -> tuple[list[int], int] | None:
    """The values of object array ``a`` (flattened) as Python ints over one denominator,
    or None if it holds anything but integers, bools and rationals.

    >>> python_ints(np.array([Fraction(1, 2), 3, Fraction(-1, 3)], object))
    ([3, 18, -2], 6)
    """
    flat = a.reshape(-1).tolist()
    types = set(map(type, flat))
    if types <= {int}:
        return flat, 1
    if all(issubclass(t, numbers.Integral | np.bool_) for t in types):
        return list(map(int, flat)), 1
    if not all(issubclass(t, numbers.Rational | np.bool_) for t in types):
        return None
    values = [v if isinstance(v, numbers.Rational) else int(v) for v in flat]
    common = math.lcm(*(int(v.denominator) for v in values))
    return [int(v.numerator) * (common // int(v.denominator)) for v in values], common


# --- the algorithm ----------------------------------------------------------------------------


def _estimated_primes(spec: Spec) -> int:
    """Primes an int64 spec needs by its dtypes (execute keeps every int64 result in range);
    `costs.NTT_OBJECT_PRIMES` for object specs, whose magnitudes only `run` sees."""
    if spec.acc_dtype.kind == "O":
        return costs.NTT_OBJECT_PRIMES
    bits = 0
    for dtype in (spec.x_dtype, spec.k_dtype):
        bits += 1 if dtype.kind == "b" else 8 * dtype.itemsize - (dtype.kind == "i")
    bits = min(bits + math.prod(spec.m).bit_length(), 63)
    return len(choose_primes(2**bits, 20) or ()) or 3


@register
class NTT(Algorithm):
    name = "ntt"
    summary = "number-theoretic transforms mod several primes, recombined by CRT (exact)"
    exact = True
    local_nonfinite = True
    accuracy = "elementwise"

    def supports(self, spec: Spec) -> str | None:
        if spec.acc_dtype.kind not in "iO":
            return f"integers only (int64 or object accumulator), not {spec.acc_dtype}"
        if spec.ndim == 0:
            return "no convolved axes: nothing to transform"
        log_max = largest_transform(3)
        if Geometry(spec).block(log_max) is None:
            return (
                f"the kernel spans {Geometry(spec).extent} flattened samples, longer than "
                f"the longest transform with enough primes (2**{log_max})"
            )
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        geo = Geometry(spec)
        log_len, step = geo.block(largest_transform(3)) or (30, 1)
        n = 1 << log_len
        blocks = -(-geo.needed // step)
        r = _estimated_primes(spec)
        transforms = 2 * blocks * geo.batches + geo.kernel_batches
        tasks = r * blocks * geo.batches
        parallel = min(workers, tasks) if transforms * n >= costs.NTT_PARALLEL_MIN else 1
        signals = math.prod(spec.signal_batch) * geo.length
        outputs = geo.batches * math.prod(spec.out)
        seconds = (
            r
            * transforms
            * (n * (log_len + costs.NTT_BLOCK_OVERHEAD) + costs.NTT_TRANSFORM_FIXED)
            * costs.NTT_S_PER_BUTTERFLY
        ) / parallel + r * (signals * costs.NTT_S_PER_RESIDUE + outputs * costs.NTT_S_PER_CRT)
        seconds += costs.CALL_OVERHEAD_S_NTT
        if spec.acc_dtype.kind == "O":
            elements = math.prod(spec.signal_batch) * math.prod(spec.n)
            elements += math.prod(spec.kernel_batch) * math.prod(spec.m) + outputs
            seconds += elements * costs.NTT_S_PER_OBJECT + costs.NTT_OBJECT_CALL_S
        workspace = 4 * r * (math.prod(spec.signal_batch) * geo.length + geo.batches * geo.needed)
        workspace += 4 * r * geo.kernel_batches * n + 16 * n * r
        if spec.acc_dtype.kind == "O" or not spec.zero_padding:
            workspace += 8 * math.prod(spec.signal_batch) * geo.length
        return Cost(seconds, workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        """Compute the canonical problem exactly.

        Object arrays holding anything but ints and Fractions (floats, Decimals,
        complex numbers) cannot be transformed exactly; for them this computes the plain
        sum, term by term, with the reference algorithm's code, so the result is the
        reference's whatever the planner chose. The spec cannot say which objects an
        array holds, so `supports` cannot decline such arrays in advance.
        """
        d = spec.ndim
        if spec.empty:
            return np.zeros(spec.batch + spec.out, spec.acc_dtype)
        geo = Geometry(spec)
        original = signal
        one_d_zero = d == 1 and spec.zero_padding
        if not one_d_zero:
            signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
        offset = spec.pads[0][0] if one_d_zero else 0
        rows = signal.reshape(-1, math.prod(signal.shape[signal.ndim - d :]))
        taps = kernel.reshape(-1, math.prod(spec.m))
        denominator = 1
        if spec.acc_dtype.kind == "O":
            xs, ks = python_ints(rows), python_ints(taps)
            if xs is None or ks is None:
                return self._python_sum(spec, original, kernel, workers)
            x, k = Operand(xs[0], rows.shape), Operand(ks[0], taps.shape)
            denominator = xs[1] * ks[1]
        else:
            x = Operand(np.ascontiguousarray(rows, np.int64), rows.shape)
            k = Operand(np.ascontiguousarray(taps, np.int64), taps.shape)
        bound = x.max_abs * k.abs_sums()
        shape = spec.batch + spec.out
        if bound == 0:
            return np.zeros(shape, spec.acc_dtype)
        plan = self._primes_and_block(geo, bound)
        if plan is None:
            return self._python_sum(spec, original, kernel, workers)
        chosen, log_len, step = plan
        y = self._convolve(spec, geo, x, k, chosen, log_len, step, offset, workers)
        y = self._recombine(spec, geo, y, chosen, bound, workers)
        if spec.acc_dtype.kind == "O":
            if y.dtype != object:
                y = y.astype(object)
            if denominator != 1:
                y = np.frompyfunc(lambda v: Fraction(v, denominator), 1, 1)(y)
        elif y.dtype == object:
            y = exact_int64(y)
        return y.reshape(shape)

    @staticmethod
    def _primes_and_block(geo: Geometry, bound: int):
        """Primes for ``bound`` and a transform length they allow, or None."""
        for log_max in (29, 24, 20, MIN_TWO_ADICITY):
            block = geo.block(log_max)
            if block is None:
                return None
            log_len, step = block
            chosen = choose_primes(bound, log_len)
            if chosen is not None:
                return chosen, log_len, step
        return None

    @staticmethod
    def _python_sum(spec: Spec, signal, kernel, workers) -> np.ndarray:
        from .reference import Reference

        return Reference().run(spec, signal, kernel, workers)

    @staticmethod
    def _convolve(spec, geo, x, k, chosen, log_len, step, offset, workers) -> np.ndarray:
        """Residues ``(primes, batches, needed)`` of the stride-1 flattened correlation."""
        from . import _ntt_kernels

        n = 1 << log_len
        tws = np.stack([tables(p, g, log_len) for p, g in chosen])
        sres = x.residues(chosen, geo.length, offset)
        kres = k.residues(chosen, k.shape[1], 0)
        scale = np.array(
            [(p, *_shoup((1 << 32) * pow(n, p - 2, p) % p, p)) for p, _ in chosen], np.uint64
        )
        khat = np.empty((len(chosen), k.shape[0], n), np.uint32)
        _ntt_kernels.kernel_spectra(kres, geo.positions(spec), tws, scale, khat)
        consts = np.array(
            [(p, 0, 0, (-pow(p, -1, 1 << 32)) % (1 << 32)) for p, _ in chosen], np.uint64
        )
        bx = batch_index(spec.signal_batch, spec.batch)
        bk = batch_index(spec.kernel_batch, spec.batch)
        y = np.empty((len(chosen), geo.batches, geo.needed), np.uint32)
        blocks = -(-geo.needed // step)
        big = (2 * blocks * geo.batches) * n >= costs.NTT_PARALLEL_MIN
        _ntt_kernels.convolve_blocks(
            sres, khat, tws, consts, bx, bk, step, y, workers if big else 1
        )
        return y

    @staticmethod
    def _recombine(spec, geo, y, chosen, bound, workers) -> np.ndarray:
        """Signed results ``(batches, outputs)``: int64 if they fit, else Python ints."""
        from . import _ntt_kernels

        ps = [p for p, _ in chosen]
        product = math.prod(ps)
        half = (product - 1) // 2
        garner = np.zeros((len(ps), 4 + 2 * len(ps)), np.uint64)
        for i, p in enumerate(ps):
            garner[i, :2] = (p, half % p)
            for j in range(i):
                garner[i, 4 + 2 * j : 6 + 2 * j] = _shoup(pow(ps[j], -1, p), p)
        index = geo.outputs(spec)
        outputs = math.prod(spec.out)
        if bound <= INT64_MAX:
            weights = np.array([math.prod(ps[:i]) % 2**64 for i in range(len(ps))], np.uint64)
            out = _heap.empty((geo.batches, outputs), np.int64)
            _ntt_kernels.crt_int64(y, index, garner, weights, np.uint64(half % 2**64), out, workers)
            return out
        nl = -(-product.bit_length() // 32)
        limbs = np.empty((geo.batches, outputs, nl), np.uint32)
        _ntt_kernels.crt_limbs(y, index, garner, limbs)
        # "S" items drop trailing zero bytes, the high zeros of an unsigned little-endian value.
        chunks = np.frombuffer(limbs.astype("<u4", copy=False).tobytes(), f"S{4 * nl}").tolist()
        values = [v - half for v in map(int.from_bytes, chunks, repeat("little"))]
        out = np.empty(len(values), object)
        out[:] = values
        return out.reshape(geo.batches, outputs)
