"""The overlap_save algorithm: FFT convolution in blocks along one convolved axis.

Along the axis where the signal is longest relative to the kernel, the padded signal
is cut into overlapping frames of ``B`` samples that start ``V = B - e + 1`` apart
(``e`` the dilated kernel's extent): the last ``V`` outputs of each frame's circular
convolution are exact, and together they tile the result. Frames are taken as a
strided view (a zero-filled copy only where they reach into implicit padding), a
group of them is transformed at once (scipy.fft vectorises over the frames),
multiplied by the kernel's spectrum, transformed back, and their valid parts written
out; groups are sized so that the workspace stays under `costs.OS_GROUP_BYTES`. With
several threads and enough work, the groups are shared out over Python threads, each
running whole groups (transforms, product, copy-out) on one thread; otherwise scipy.fft
threads each transform. Either way every frame is computed the same, so the result
does not depend on the thread count. Other convolved axes get a full-length transform
inside each frame, as in the fft algorithm. The cost model picks ``B``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _heap, costs
from ..spec import Spec
from . import Algorithm, Cost, register
from ._launch import each_in_threads
from .fft import (
    Layout,
    complex_dtype,
    fast_lengths,
    fft_supports,
    forward,
    inverse,
    kept,
    layout,
    padded_signal,
    pass_seconds,
    spectrum_product,
    spectrum_shape,
    spread_kernel,
    transform_seconds,
)


@dataclass(frozen=True)
class Blocking:
    """How the blocked axis is cut, and what it is estimated to cost."""

    axis: int
    """The blocked axis, among the convolved axes."""
    block: int
    """Transform length ``B`` along it."""
    lengths: tuple[int, ...]
    """Transform lengths of one frame, per convolved axis (``block`` at ``axis``)."""
    valid: int
    """Exact outputs per frame, ``B - e + 1``."""
    frames: int
    group: int
    """Frames transformed together."""
    serial: float
    """Estimated seconds of the groups' work on one thread."""
    seconds: float
    workspace: int


def blockable_axes(lay: Layout) -> list[int]:
    """Axes along which the needed signal is much longer than the kernel's extent."""
    return [
        i
        for i, (c, e) in enumerate(zip(lay.circular, lay.extent, strict=True))
        if c >= costs.OS_MIN_RATIO * e
    ]


def estimate(spec: Spec, lay: Layout, axis: int, block: int, workers: int) -> Blocking:
    """The cost of blocks of ``block`` samples along ``axis``."""
    dtype = spec.acc_dtype
    real = dtype.kind == "f"
    lengths = fast_lengths(lay.circular, spec.acc_dtype)
    lengths = (*lengths[:axis], block, *lengths[axis + 1 :])
    valid = block - lay.extent[axis] + 1
    frames = -(-lay.span[axis] // valid)
    rsize, csize = dtype.itemsize, complex_dtype(dtype).itemsize
    signals, kernels, batch = (
        math.prod(spec.signal_batch),
        math.prod(spec.kernel_batch),
        math.prod(spec.batch),
    )
    spectral = math.prod(spectrum_shape(lengths, real))
    outs = [-(-s // st) for s, st in zip(lay.span, spec.stride, strict=True)]
    outs[axis] = valid
    used = (*lay.used[:axis], block, *lay.used[axis + 1 :])
    per_frame = (
        (signals + batch) * spectral * csize  # spectrum and product
        + batch * spectral * csize  # the first inverse pass
        + 2 * batch * math.prod(outs) * rsize  # the valid outputs, merged
    )
    group = max(1, min(frames, costs.OS_GROUP_BYTES // per_frame))
    groups = -(-frames // group)
    product = batch * spectral * csize
    out = batch * math.prod(spec.out) * rsize

    def grouped(inner: int) -> float:
        """Every group's transforms, product and copy-out, with ``inner`` FFT threads."""
        forward = transform_seconds(lengths, used, signals * group, dtype, inner)
        back = transform_seconds(lengths, tuple(outs), batch * group, dtype, inner, inverse=True)
        transforms = frames / group * (forward + back)
        return (
            groups * costs.OS_GROUP_OVERHEAD_S
            + transforms
            + pass_seconds(3 * frames * product, group * product)  # products of the spectra
            + pass_seconds(2 * out, out)  # valid outputs, copied out
        )

    serial = grouped(1)
    threads = group_threads(groups, serial, workers)
    if threads > 1:
        body = serial / (1 + costs.FFT_PARALLEL_EFFICIENCY * (threads - 1)) + costs.OS_THREAD_S
    else:
        body = grouped(workers)
    padded = 0
    if not spec.zero_padding:
        padded = signals * math.prod(lay.used) * rsize
    seconds = (
        costs.FFT_CALL_OVERHEAD_S
        + transform_seconds(lengths, lay.extent, kernels, dtype, workers)
        + pass_seconds(2 * padded, padded)  # the boundary, materialised
        + body
    )
    workspace = padded + threads * group * per_frame + kernels * spectral * csize
    return Blocking(axis, block, lengths, valid, frames, group, serial, seconds, workspace)


def group_threads(groups: int, serial: float, workers: int) -> int:
    """Python threads that share the groups out (each runs its transforms on one thread),
    given their estimated time on one thread; 1 leaves the threads to scipy.fft."""
    return min(workers, groups) if serial >= costs.OS_THREADS_MIN_S else 1


@lru_cache(maxsize=256)
def choose_blocking(spec: Spec) -> Blocking:
    """The axis and block length with the lowest estimated cost (fast lengths from ``2e``
    up to `costs.OS_MAX_BLOCK_EXTENTS` ``e``).

    Chosen for one thread, so that every thread count computes the same frames and
    gets the same result.
    """
    from scipy.fft import next_fast_len

    lay = layout(spec)
    options = []
    for axis in blockable_axes(lay):
        extent, longest = lay.extent[axis], lay.circular[axis]
        longest = min(longest, max(costs.OS_MAX_BLOCK_EXTENTS * extent, costs.OS_MIN_BLOCK))
        blocks = {next_fast_len(longest, real=True)}
        target = max(2 * extent, costs.OS_MIN_BLOCK)
        while target < longest:
            blocks.add(next_fast_len(target, real=True))
            target = int(target * 1.25) + 1
        options += [estimate(spec, lay, axis, b, 1) for b in blocks]
    return min(options, key=lambda b: (b.seconds, -b.axis))


@register
class OverlapSave(Algorithm):
    name = "overlap_save"
    summary = "FFT in blocks along the longest axis, frames batched (scipy.fft)"
    exact = False
    local_nonfinite = False
    accuracy = "normwise"

    def supports(self, spec: Spec) -> str | None:
        why = fft_supports(spec)
        if why is not None or spec.empty:
            return why
        if not blockable_axes(layout(spec)):
            return (
                f"the kernel is not much shorter than the signal on any axis (less than "
                f"{costs.OS_MIN_RATIO}x): blocks would be one whole transform (use fft)"
            )
        return None

    def cost(self, spec: Spec, workers: int) -> Cost:
        if spec.empty:
            return Cost(costs.FFT_CALL_OVERHEAD_S, 0)
        best = choose_blocking(spec)
        mine = estimate(spec, layout(spec), best.axis, best.block, workers)
        return Cost(mine.seconds, mine.workspace)

    def run(self, spec: Spec, signal: np.ndarray, kernel: np.ndarray, workers: int) -> np.ndarray:
        out = _heap.empty(spec.batch + spec.out, spec.acc_dtype)
        if spec.empty:
            out[...] = 0
            return out
        lay = layout(spec)
        plan = choose_blocking(spec)
        d, a = spec.ndim, plan.axis
        real = spec.acc_dtype.kind == "f"
        # Frame arrays hold the batch axes, then the convolved axes with the blocked
        # one split in two: (frame, sample in frame).
        frame_axis = len(spec.batch) + a
        axes = tuple(frame_axis - a + i + (i >= a) for i in range(d))
        keep = list(kept(lay, spec))
        keep[a] = slice(lay.extent[a] - 1, None)

        x = padded_signal(signal, spec, lay)
        w = np.expand_dims(spread_kernel(kernel, spec), frame_axis)
        kernel_spectrum = forward(w, plan.lengths, axes, workers)
        stride = spec.stride[a]
        starts = range(0, plan.frames, plan.group)
        threads = group_threads(len(starts), plan.serial, workers)
        inner = 1 if threads > 1 else workers

        def group(start: int) -> None:
            count = min(plan.group, plan.frames - start)
            frames = self._frames(x, lay, plan, start, count)
            spectrum = spectrum_product(forward(frames, plan.lengths, axes, inner), kernel_spectrum)
            z = inverse(spectrum, plan.lengths, axes, tuple(keep), real, inner)
            del spectrum
            # The stride-1 outputs [first, first + count * valid) of the blocked axis.
            first = start * plan.valid
            lo = -(-first // stride)
            hi = min(spec.out[a], -(-(first + count * plan.valid) // stride))
            into = [slice(None)] * d
            into[a] = slice(lo, hi)
            target = out[(..., *into)]
            if stride == 1 and hi - lo == count * plan.valid:
                # Splitting one axis of a view is a view: the frames land in place.
                split = (*target.shape[:frame_axis], count, plan.valid)
                target.reshape(split + target.shape[frame_axis + 1 :])[...] = z
                return
            z = z.reshape((*z.shape[:frame_axis], -1, *z.shape[frame_axis + 2 :]))
            picked = [slice(None)] * d
            picked[a] = slice(lo * stride - first, (hi - 1) * stride - first + 1, stride)
            target[...] = z[(..., *picked)]

        each_in_threads(threads, group, starts)
        return out

    @staticmethod
    def _frames(x: np.ndarray, lay: Layout, plan: Blocking, start: int, count: int) -> np.ndarray:
        """Frames ``start ... start + count - 1`` of the padded signal, as a strided view.

        Frame ``f`` holds padded samples ``[f * V, f * V + B)`` along the blocked axis;
        where that reaches into implicit zeros (before or after the signal) the group
        is copied into a zero-filled buffer first.
        """
        a, axis = plan.axis, x.ndim - len(lay.used) + plan.axis
        length = (count - 1) * plan.valid + plan.block
        begin = start * plan.valid - lay.lo[a]
        n = x.shape[axis]
        if begin >= 0 and begin + length <= n:
            chunk = x[(*[slice(None)] * axis, slice(begin, begin + length))]
        else:
            shape = list(x.shape)
            shape[axis] = length
            chunk = np.zeros(shape, x.dtype)
            lo, hi = max(begin, 0), min(begin + length, n)
            if hi > lo:
                index = (*[slice(None)] * axis, slice(lo - begin, hi - begin))
                chunk[index] = x[(*[slice(None)] * axis, slice(lo, hi))]
        step = chunk.strides[axis]
        shape = (*chunk.shape[:axis], count, plan.block, *chunk.shape[axis + 1 :])
        strides = (*chunk.strides[:axis], step * plan.valid, step, *chunk.strides[axis + 1 :])
        return as_strided(chunk, shape, strides, writeable=False)
