"""The fft algorithm: one transform per operand over all convolved axes (scipy.fft).

The canonical correlation is a convolution with the reversed (and zero-spread, for
dilation) kernel. A circular convolution of length ``L`` equals the linear one at
every output that no shifted copy of the signal reaches, so per axis ``L`` is the
smallest fast length that keeps every wanted output clean (`Layout.circular`).
Implicit zero padding is the transform's own zero extension; other boundary rules
pad the signal first. Strided outputs are computed at stride 1 and subsampled.
Real data use real transforms, so ``float32`` stays ``float32``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import _heap, costs
from ..boundary import pad
from ..spec import Spec
from . import Algorithm, Cost, last_axes_reversed, register
from ._launch import each_in_threads

FFT_DTYPES = ("float32", "float64", "complex64", "complex128")


@dataclass(frozen=True)
class Layout:
    """Where the kept outputs sit in a circular convolution, per convolved axis."""

    lo: tuple[int, ...]
    """Implicit zeros before the signal (0 where the padding was materialised)."""
    used: tuple[int, ...]
    """Signal samples that reach a kept output (a prefix of the signal)."""
    extent: tuple[int, ...]
    """Length of the dilated kernel, ``dilation * (m - 1) + 1``."""
    first: tuple[int, ...]
    """Index of the first kept output in the linear convolution of signal and kernel."""
    span: tuple[int, ...]
    """Stride-1 outputs from the first kept one to the last: ``(out - 1) * stride + 1``."""

    @property
    def circular(self) -> tuple[int, ...]:
        """The shortest circular length whose kept outputs equal the linear ones.

        The linear result is non-zero on ``[0, used + extent - 1)``; a copy shifted by
        ``L`` must miss ``[first, first + span)`` on both sides, and the kernel must fit.
        """
        return tuple(
            max(u + lo, f + s, e)
            for u, lo, f, s, e in zip(
                self.used, self.lo, self.first, self.span, self.extent, strict=True
            )
        )


def layout(spec: Spec) -> Layout:
    """The `Layout` of a non-empty ``spec``."""
    extent = tuple(d * (m - 1) + 1 for m, d in zip(spec.m, spec.dilation, strict=True))
    span = tuple((o - 1) * s + 1 for o, s in zip(spec.out, spec.stride, strict=True))
    if spec.zero_padding:
        lo, n = tuple(p[0] for p in spec.pads), spec.n
    else:
        lo = (0,) * spec.ndim
        n = tuple(ni + a + b for ni, (a, b) in zip(spec.n, spec.pads, strict=True))
    used = tuple(min(ni, s + e - 1 - a) for ni, s, e, a in zip(n, span, extent, lo, strict=True))
    first = tuple(e - 1 - a for e, a in zip(extent, lo, strict=True))
    return Layout(lo, used, extent, first, span)


def fast_lengths(minimum: tuple[int, ...], dtype: np.dtype) -> tuple[int, ...]:
    """Fast transform lengths: 5-smooth, which time at or below 7- and 11-smooth ones.
    The last is even where that lets a long real line run in four steps (`four_step`).

    >>> fast_lengths((1001, 3370), np.dtype(np.float64))
    (1024, 3375)
    >>> fast_lengths((90_461,), np.dtype(np.float64))  # not 91125 = 3**6 * 5**3
    (92160,)
    """
    from scipy.fft import next_fast_len

    lengths = [next_fast_len(n, real=True) for n in minimum]
    if dtype.kind == "f" and lengths[-1] % 2:
        even = 2 * next_fast_len(-(-minimum[-1] // 2), real=True)
        if four_step(even, dtype) is not None:
            lengths[-1] = even
    return tuple(lengths)


def forward(a: np.ndarray, lengths: tuple[int, ...], axes: tuple[int, ...], workers: int):
    """The spectrum of ``a`` zero-extended to ``lengths`` along ``axes``.

    One axis at a time, last first (a real transform for real data), so that each
    pass skips the zeros of the axes not yet transformed.
    """
    import scipy.fft as sf

    n = lengths[-1]
    if four_step(n, a.dtype) is not None and axes[-1] in (-1, a.ndim - 1):
        a = (long_rfft if a.dtype.kind == "f" else long_fft)(a, n, workers)
    else:
        first = sf.rfft if a.dtype.kind == "f" else sf.fft
        a = first(a, n=n, axis=axes[-1], workers=pass_threads(a, axes[-1], n, workers))
    for axis, n in zip(axes[-2::-1], lengths[-2::-1], strict=True):
        a = sf.fft(a, n=n, axis=axis, workers=pass_threads(a, axis, n, workers), overwrite_x=True)
    return a


def inverse(
    a: np.ndarray,
    lengths: tuple[int, ...],
    axes: tuple[int, ...],
    keep: tuple[slice, ...],
    real: bool,
    workers: int,
) -> np.ndarray:
    """The kept part of the inverse transform of spectrum ``a``.

    One axis at a time, cropping each to its kept outputs before the next pass.
    """
    import scipy.fft as sf

    def crop(z: np.ndarray, axis: int, part: slice) -> np.ndarray:
        index = [slice(None)] * z.ndim
        index[axis] = part
        return z[tuple(index)]

    for axis, n, part in zip(axes[:-1], lengths[:-1], keep[:-1], strict=True):
        a = sf.ifft(a, n=n, axis=axis, workers=pass_threads(a, axis, n, workers), overwrite_x=True)
        a = crop(a, axis, part)
    n = lengths[-1]
    if four_step(n, a.real.dtype if real else a.dtype) is not None and axes[-1] in (-1, a.ndim - 1):
        return (long_irfft if real else long_ifft)(a, n, keep[-1], workers)
    last = sf.irfft if real else sf.ifft
    a = last(a, n=n, axis=axes[-1], workers=pass_threads(a, axes[-1], n, workers))
    return crop(a, axes[-1], keep[-1])


def four_step(n: int, dtype: np.dtype) -> tuple[int, int] | None:
    """The factors ``(m1, m2)`` of the complex transform inside a four-step transform
    of a line of ``n`` values (``n / 2`` for real data, `long_rfft`; ``n`` for complex,
    `long_fft`), or None where pocketfft transforms the line directly. A long line runs
    up to 2x faster as ``m1`` and ``m2`` short transforms on one thread than as one
    (which, unlike short ones, pocketfft cannot share out over threads either).

    >>> four_step(2**21, np.dtype(np.float64)), four_step(3 * 2**15, np.dtype(np.complex128))
    ((1024, 1024), (384, 256))
    """
    if n * dtype.itemsize < costs.FFT_FOUR_STEP_MIN_BYTES or dtype.kind not in "fc":
        return None
    if dtype.kind == "f" and n % 2:
        return None
    m = n // 2 if dtype.kind == "f" else n
    m2 = _factor_to_root(m)
    return (m // m2, m2) if m2 >= costs.FFT_FOUR_STEP_MIN_FACTOR else None


@lru_cache(maxsize=256)
def _factor_to_root(m: int) -> int:
    """The largest factor of ``m`` at most its square root (a search of 30 µs for 2^20,
    asked for by each pass of a call)."""
    return max(d for d in range(1, math.isqrt(m) + 1) if m % d == 0)


def turns(t: np.ndarray, period: int, sign: int) -> np.ndarray:
    """``exp(sign 2 pi i t / period)`` for integers ``t``, reduced exactly first."""
    return np.exp((sign * 2j * np.pi / period) * (t % period))


@lru_cache(maxsize=16)
def _twiddles(m1: int, m2: int, sign: int) -> tuple[np.ndarray, np.ndarray]:
    """`_fft_kernels.twiddle`'s tables for ``w = exp(sign 2 pi i / (m1 m2))``."""
    step = math.isqrt(m1 - 1) + 1
    k2 = np.arange(m2)[:, None]
    near = turns(k2 * np.arange(step), m1 * m2, sign)
    far = turns(k2 * (step * np.arange(-(-m1 // step))), m1 * m2, sign)
    return near, far


@lru_cache(maxsize=16)
def _mirror_twiddles(n: int, rows: int, row: int, sign: int):
    """Tables ``outer``, ``inner`` with ``outer[r] inner[c] = exp(sign 2 pi i (r row + c) / n)``
    (the real trick's twiddles, by row and column)."""
    return turns(row * np.arange(rows), n, sign), turns(np.arange(row), n, sign)


def _four_steps(A: np.ndarray, sign: int, workers: int) -> np.ndarray:
    """``E`` from ``A`` (`_fft_kernels`): short transforms along ``A``'s rows, the
    twiddles into ``D``, short transforms along ``D``'s rows (in place)."""
    import scipy.fft as sf

    from . import _fft_kernels as k

    count, m1, m2 = A.shape
    run = sf.fft if sign < 0 else sf.ifft
    B = run(A, axis=-1, workers=pass_threads(A, -1, m2, workers), overwrite_x=True)
    D = k.padded(count, m2, m1, A.dtype)
    k.twiddle(B, D, *_twiddles(m1, m2, sign), workers)
    del B
    return run(D, axis=-1, workers=pass_threads(D, -1, m1, workers), overwrite_x=True)


def _lines(a: np.ndarray, length: int) -> np.ndarray:
    """``a`` as contiguous lines of ``length`` values."""
    return np.ascontiguousarray(a.reshape(math.prod(a.shape[:-1]), length))


def long_rfft(x: np.ndarray, n: int, workers: int) -> np.ndarray:
    """``scipy.fft.rfft(x, n)`` along the last axis, as a four-step transform."""
    from . import _fft_kernels as k

    m1, m2 = four_step(n, x.dtype)
    lines = x.shape[:-1]
    E = _packed_four_steps(x, n, -1, workers)
    X = np.empty((math.prod(lines), m1 * m2 + 1), E.dtype)
    k.unpack_spectrum(E, X, *_mirror_twiddles(n, m1, m2, -1), workers)
    return X.reshape((*lines, X.shape[-1]))


def long_irfft(X: np.ndarray, n: int, keep: slice, workers: int) -> np.ndarray:
    """``scipy.fft.irfft(X, n)[..., keep]`` along the last axis, as a four-step
    transform (`long_rfft` run backwards)."""
    from . import _fft_kernels as k

    m1, m2 = four_step(n, X.real.dtype)
    lines = X.shape[:-1]
    A = k.padded(math.prod(lines), m1, m2, X.dtype)
    k.pack_spectrum(_lines(X, X.shape[-1]), A, *_mirror_twiddles(n, m2, m1, 1), workers)
    E = _four_steps(A, 1, workers)
    del A
    return _unpacked(E, lines, keep, n, X.real.dtype, workers)


def long_fft(x: np.ndarray, n: int, workers: int) -> np.ndarray:
    """``scipy.fft.fft(x, n)`` of complex ``x`` along the last axis, as a four-step
    transform."""
    return _long_complex(x, n, -1, slice(0, n), workers)


def long_ifft(X: np.ndarray, n: int, keep: slice, workers: int) -> np.ndarray:
    """``scipy.fft.ifft(X, n)[..., keep]`` of complex ``X`` along the last axis, as a
    four-step transform."""
    return _long_complex(X, n, 1, keep, workers)


def _long_complex(x: np.ndarray, n: int, sign: int, keep: slice, workers: int) -> np.ndarray:
    """`long_fft` (``sign`` -1) or `long_ifft` (+1)."""
    E = _packed_four_steps(x, n, sign, workers)
    return _unpacked(E, x.shape[:-1], keep, n, x.dtype, workers)


def _packed_four_steps(x: np.ndarray, n: int, sign: int, workers: int) -> np.ndarray:
    """`_four_steps` of the lines of ``x`` packed as complex values (`_fft_kernels.pack`:
    a real line's values in pairs), each line zero-extended to ``n`` values."""
    from . import _fft_kernels as k

    m1, m2 = four_step(n, x.dtype)
    A = k.padded(math.prod(x.shape[:-1]), m1, m2, complex_dtype(x.dtype))
    k.pack(_lines(x, x.shape[-1]), A, workers)
    return _four_steps(A, sign, workers)


def _unpacked(E, lines, keep: slice, n: int, dtype: np.dtype, workers: int) -> np.ndarray:
    """The kept values of the lines whose transform (or, for a real ``dtype``, whose
    values in pairs) ``E`` holds, as ``(*lines, kept)``."""
    from . import _fft_kernels as k

    first, stop, step = keep.indices(n)
    y = np.empty((math.prod(lines), max(0, stop - first)), dtype)
    k.unpack(E, y, first, workers)
    return y.reshape((*lines, y.shape[-1]))[..., ::step]


def pass_threads(a: np.ndarray, axis: int, n: int, workers: int) -> int:
    """The `workers` for a pass along ``axis`` of ``a`` (see `pass_workers`)."""
    lines = a.size // a.shape[axis] if a.shape[axis] else 0
    return workers if lines * n >= costs.FFT_PARALLEL_MIN_POINTS else 1


def transform_seconds(
    lengths: tuple[int, ...],
    extents: tuple[int, ...],
    count: int,
    dtype: np.dtype,
    workers: int,
    inverse: bool = False,
) -> float:
    """Estimated time of `forward` (or `inverse`) for ``count`` transforms.

    ``extents`` are the data lengths before the forward transform, or those kept
    after the inverse: a pass along axis ``i`` runs over the extents of the axes
    before ``i`` and the spectrum of those after it. A forward pass first copies
    its input into a zero-padded buffer where the data is shorter than the transform.
    """
    d = len(lengths)
    real = dtype.kind == "f"
    cdtype = complex_dtype(dtype)
    spectral = spectrum_shape(lengths, real)
    seconds = 0.0
    for i, n in enumerate(lengths):
        lines = count * math.prod(extents[:i]) * math.prod(spectral[i + 1 :])
        kind = dtype if (real and i == d - 1) else cdtype
        if not inverse and extents[i] < n:
            size = lines * n * kind.itemsize
            seconds += pass_seconds(size + lines * extents[i] * kind.itemsize, size)
        if i == d - 1 and four_step(n, kind) is not None:
            seconds += four_step_seconds(n, lines, kind, workers)
        elif n > 1:
            seconds += line_seconds(n, lines, kind, strided=i < d - 1, workers=workers)
    return seconds


def four_step_seconds(n: int, lines: int, dtype: np.dtype, workers: int) -> float:
    """`long_rfft`, `long_fft` (or their inverses) of ``lines`` lines: two passes of
    short contiguous transforms, and passes over memory that read the input and pack
    it, twiddle (read and write) and unpack its complex values."""
    m1, m2 = four_step(n, dtype)
    cdtype = complex_dtype(dtype)
    short = line_seconds(m2, lines * m1, cdtype, strided=False, workers=workers)
    short += line_seconds(m1, lines * m2, cdtype, strided=False, workers=workers)
    moved = lines * (n * dtype.itemsize + 5 * m1 * m2 * cdtype.itemsize)
    return short + pass_seconds(moved, lines * m1 * m2 * cdtype.itemsize)


def four_step_bytes(n: int, dtype: np.dtype, lines: int) -> int:
    """The buffers of a four-step transform (``A`` and ``D``) beyond its input and output."""
    factors = four_step(n, dtype)
    if factors is None:
        return 0
    return 2 * lines * math.prod(factors) * complex_dtype(dtype).itemsize


def line_seconds(n: int, lines: int, dtype: np.dtype, strided: bool, workers: int) -> float:
    """``lines`` 1-D transforms of length ``n`` along one axis.

    pocketfft transforms ``vlen`` lines at once in SIMD lanes and the rest one by one,
    each at ``c * log2(n)`` per point; lines along a strided axis are gathered first,
    from memory when the pass outgrows the cache. Threads share the groups of ``vlen``
    lines.
    """
    vlen = costs.FFT_SIMD_LINES[dtype.name]
    grouped, alone = divmod(lines, vlen)
    where = "cache" if lines * n * dtype.itemsize <= costs.FFT_LINE_CACHE_BYTES else "memory"
    batched = costs.FFT_NS_PER_POINT_LOG2[dtype.name]
    if strided:
        batched *= costs.FFT_STRIDED_FACTOR[where]
    single = costs.FFT_NS_PER_POINT_LOG2_SINGLE[dtype.name]
    if n * dtype.itemsize > costs.FFT_LINE_CACHE_BYTES:
        single *= costs.FFT_OUT_OF_CACHE_FACTOR
    seconds = (grouped * vlen * batched + alone * single) * 1e-9 * n * math.log2(n)
    used = pass_workers(lines, n, dtype, workers)
    if used > 1:
        seconds = seconds / (1 + costs.FFT_PARALLEL_EFFICIENCY * (used - 1))
        seconds += costs.FFT_THREAD_START_S
    return seconds + costs.FFT_PASS_OVERHEAD_S


def pass_workers(lines: int, n: int, dtype: np.dtype, workers: int) -> int:
    """Threads for one pass: one below the threshold, else as many as pocketfft can use."""
    if lines * n < costs.FFT_PARALLEL_MIN_POINTS:
        return 1
    groups = lines // costs.FFT_SIMD_LINES[dtype.name] // (4 if n < 1000 else 1)
    return max(1, min(workers, groups))


def spectrum_shape(lengths: tuple[int, ...], real: bool) -> tuple[int, ...]:
    return (*lengths[:-1], lengths[-1] // 2 + 1) if real else lengths


def pass_seconds(nbytes: float, footprint: float) -> float:
    """A memory-bound pass (copy, padding, product) moving ``nbytes`` over ``footprint`` bytes."""
    where = "cache" if footprint <= costs.FFT_CACHE_BYTES else "memory"
    return nbytes / costs.FFT_BYTES_PER_S[where]


def complex_dtype(dtype: np.dtype) -> np.dtype:
    return np.result_type(dtype, np.complex64)


def spread_kernel(kernel: np.ndarray, spec: Spec) -> np.ndarray:
    """The kernel reversed along the convolved axes, with ``dilation - 1`` zeros between taps."""
    d = spec.ndim
    reversed_ = kernel[last_axes_reversed(d)]
    if all(dl == 1 for dl in spec.dilation):
        return reversed_
    extent = tuple(dl * (m - 1) + 1 for m, dl in zip(spec.m, spec.dilation, strict=True))
    spread = np.zeros(kernel.shape[: kernel.ndim - d] + extent, kernel.dtype)
    spread[(..., *[slice(None, None, dl) for dl in spec.dilation])] = reversed_
    return spread


def padded_signal(signal: np.ndarray, spec: Spec, lay: Layout) -> np.ndarray:
    """The signal with its boundary materialised (unless zeros), cut to the used prefix."""
    if not spec.zero_padding:
        signal = pad(signal, spec.pads, spec.boundary, spec.fill_value)
    return signal[(..., *[slice(0, u) for u in lay.used])]


def kept(lay: Layout, spec: Spec) -> tuple[slice, ...]:
    """The kept (strided) outputs of the circular result, per convolved axis."""
    return tuple(
        slice(f, f + s, st) for f, s, st in zip(lay.first, lay.span, spec.stride, strict=True)
    )


def fft_supports(spec: Spec) -> str | None:
    """What the transform algorithms share: floating accumulators, some convolved axis."""
    if spec.acc_dtype.name not in FFT_DTYPES:
        return f"transforms in {', '.join(FFT_DTYPES)} only, not {spec.acc_dtype}"
    if spec.ndim == 0:
        return "no convolved axes: nothing to transform"
    return None


@register
class FFT(Algorithm):
    name = "fft"
    summary = "one transform per operand over all convolved axes (scipy.fft)"
    exact = False
    local_nonfinite = False
    accuracy = "normwise"
    channel_sum = True

    def supports(self, spec: Spec) -> str | None:
        return fft_supports(spec)

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.FFT_CALL_OVERHEAD_S, 0)
        lay = layout(spec)
        dtype = spec.acc_dtype
        real = dtype.kind == "f"
        lengths = fast_lengths(lay.circular, spec.acc_dtype)
        spectral = math.prod(spectrum_shape(lengths, real))
        csize, rsize = complex_dtype(dtype).itemsize, dtype.itemsize
        signals, kernels, batch = (
            math.prod(spec.signal_batch) * spec.channels,
            math.prod(spec.kernel_batch) * spec.channels,
            math.prod(spec.batch),
        )
        kept = tuple(-(-s // st) for s, st in zip(lay.span, spec.stride, strict=True))
        forwards = (
            transform_seconds(lengths, lay.used, signals, dtype, workers),
            transform_seconds(lengths, lay.extent, kernels, dtype, workers),
        )
        together = forwards_together(spec, lengths, workers)
        transforms = (max if together else sum)(forwards) + transform_seconds(
            lengths, kept, batch, dtype, workers, inverse=True
        )
        terms = batch * spec.channels * spectral * csize
        padded = 0
        if not spec.zero_padding:
            padded = signals * math.prod(lay.used) * rsize
        blocks = filter_blocks(spec)
        if blocks is not None:  # the kernels' spectra, and the outputs', a block at a time
            axis, block = blocks
            share = block / spec.kernel_batch[axis]
            kernels, batch = math.ceil(kernels * share), math.ceil(batch * share)
        spectra = (signals + kernels + batch) * spectral * csize
        out = batch * math.prod(spec.out) * rsize
        passes = (
            pass_seconds(2 * padded, padded)  # the boundary, materialised
            + pass_seconds(3 * terms, terms)  # product
            + pass_seconds(2 * out, out)  # kept outputs, copied out
        )
        seconds = costs.FFT_CALL_OVERHEAD_S + transforms + passes
        lines = max(signals, kernels, batch) * (2 if together else 1)
        buffers = four_step_bytes(lengths[-1], dtype, lines)
        return Cost(seconds, padded + spectra + buffers)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        if spec.empty:
            return np.zeros(spec.batch + spec.out, spec.acc_dtype)
        lay = layout(spec)
        lengths = fast_lengths(lay.circular, spec.acc_dtype)
        axes = tuple(range(-spec.ndim, 0))
        real = spec.acc_dtype.kind == "f"
        summed = spec.ndim if spec.contract is not None else None
        blocks = filter_blocks(spec)
        if blocks is None:
            if forwards_together(spec, lengths, workers):
                spectra = [padded_signal(signal, spec, lay), spread_kernel(kernel, spec)]

                def transform(i: int) -> None:
                    spectra[i] = forward(spectra[i], lengths, axes, 1)

                each_in_threads(2, transform, [0, 1])
            else:  # one after the other, the padded signal freed before the kernel's turn
                spectra = [forward(padded_signal(signal, spec, lay), lengths, axes, workers)]
                spectra.append(forward(spread_kernel(kernel, spec), lengths, axes, workers))
            product = spectrum_product(*spectra, summed)
            del spectra
            z = inverse(product, lengths, axes, kept(lay, spec), real, workers)
            return np.ascontiguousarray(z)
        spectrum = forward(padded_signal(signal, spec, lay), lengths, axes, workers)
        axis, block = blocks
        y = _heap.empty(spec.batch + spec.out, spec.acc_dtype)
        for first in range(0, spec.kernel_batch[axis], block):
            part = (slice(None),) * axis + (slice(first, first + block),)
            kernels = forward(spread_kernel(kernel[part], spec), lengths, axes, workers)
            product = spectrum_product(spectrum, kernels, summed)
            del kernels
            y[part] = inverse(product, lengths, axes, kept(lay, spec), real, workers)
        return y


def forwards_together(spec: Spec, lengths: tuple[int, ...], workers: int) -> bool:
    """Whether the signal's and the kernel's transforms run at once, one thread each:
    where each is one line along one axis, which pocketfft does not split over threads.

    >>> from convolib.spec import build_spec
    >>> long = build_spec("convolve", np.ones(2**20), np.ones(2**20))
    >>> forwards_together(long, fast_lengths(layout(long).circular, long.acc_dtype), 2)
    True
    """
    if workers < 2 or spec.ndim != 1 or spec.contract is not None:
        return False
    lines = math.prod(spec.signal_batch), math.prod(spec.kernel_batch)
    return lines == (1, 1) and lengths[0] > costs.FFT_TOGETHER_MIN_POINTS


def filter_blocks(spec: Spec) -> tuple[int, int] | None:
    """For a channel sum over a bank of kernels whose spectra would exceed
    `costs.FFT_BLOCK_BYTES` (a layer's filters): the kernels' own batch axis and how
    many of its kernels are transformed, multiplied and transformed back at a time;
    None where all are at once."""
    if spec.contract is None or spec.empty:
        return None
    own = [
        i
        for i, (s, k) in enumerate(zip(spec.signal_batch, spec.kernel_batch, strict=True))
        if k > 1 and s == 1
    ]
    if not own:
        return None
    axis = max(own, key=lambda i: spec.kernel_batch[i])
    lengths = fast_lengths(layout(spec).circular, spec.acc_dtype)
    spectral = math.prod(spectrum_shape(lengths, spec.acc_dtype.kind == "f"))
    per_kernel = spec.channels * spectral * complex_dtype(spec.acc_dtype).itemsize
    kernels = math.prod(spec.kernel_batch)
    if kernels * per_kernel <= costs.FFT_BLOCK_BYTES:
        return None
    others = kernels // spec.kernel_batch[axis]
    return axis, max(1, costs.FFT_BLOCK_BYTES // (others * per_kernel))


def spectrum_product(a: np.ndarray, b: np.ndarray, summed_before: int | None = None) -> np.ndarray:
    """``a * b`` with broadcasting, in place in ``a`` when the shapes allow; summed over
    the channel axis (the one before the last ``summed_before`` axes) if given."""
    if summed_before is not None:
        axis = a.ndim - summed_before - 1
        total = None
        for c in range(a.shape[axis]):
            term = np.take(a, c, axis) * np.take(b, c, axis)
            if total is None:
                total = term
            else:
                total += term
        return total
    if np.broadcast_shapes(a.shape, b.shape) == a.shape:
        a *= b
        return a
    return a * b
