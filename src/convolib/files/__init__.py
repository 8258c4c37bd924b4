"""Filter files: images, WAV audio, NPY and CSV arrays, safely and in bounded memory.

`filter_file` reads ``src``, filters it with a kernel and writes ``dst``:

* **Images** (PNG, JPEG, TIFF, BMP; grey or colour, 8 or 16 bits): each colour channel
  is filtered over rows and columns with a 2-D kernel; an alpha channel is kept as it
  is. The result is rounded and saturated to the image's sample type (or
  ``out_dtype``).
* **WAV** (PCM 8, 16, 24, 32 bits or float 32, 64 bits; any number of channels):
  filtered along time, each channel separately (a kernel of shape ``(taps,)``, or
  ``(channels, taps)`` for one per channel). PCM results are rounded and saturated
  to the input's sample width; the output has the input's format and rate.
* **NPY** and **CSV** arrays: an N-D kernel filters every axis; a 1-D kernel filters
  along ``axis`` (default the last). NPY files are memory-mapped, and a result is
  `convolib.convolve`'s dtype (exact int64 for integers) unless ``out_dtype`` says.

With zero padding (``boundary="constant"``, fill 0), WAV files and 1-D filtering of
NPY files are streamed through `convolib.stream.Filter`: memory stays bounded by a
few chunks, whatever the file size. Everything else is computed in memory, after an
estimate of the memory it needs is checked against ``max_memory``.

Outputs go to a temporary file beside ``dst``, renamed over it only when complete; an
input is never overwritten, and an existing ``dst`` only with ``overwrite=True``.
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import kernels
from ..api import convolve, correlate, plan
from ..boundary import canonical_boundary
from ..errors import ArgumentTypeError, bad_argument, check_progress, choice_error
from ..numbers import as_operand, cast_output, check_out_dtype, default_out_dtype
from ..planner import Plan, format_bytes
from ..stream import Filter
from . import _arrays, _images, _wav
from ._arrays import looks_like_literal, parse_literal, read_array
from ._safety import (
    atomic_output,
    check_memory,
    check_output,
    existing_file,
    memory_budget,
    text_path,
)

__all__ = ["Filtered", "filter_file", "read_array", "read_kernel", "write_array"]

MODES = ("same", "full", "valid", "causal")
OPS = ("correlate", "convolve")
CHUNK = 1 << 18
"""Samples read per step when streaming (per channel)."""
_OPERATIONS = {"correlate": correlate, "convolve": convolve}
_WAV_DTYPES = {"uint8": 8, "int16": 16, "int32": 32, "float32": 32, "float64": 64}


@dataclass(frozen=True)
class Filtered:
    """What `filter_file` did."""

    kind: str
    """``"image"``, ``"wav"``, ``"npy"`` or ``"csv"``."""
    source: str
    """What the input holds, in words."""
    shape: tuple[int, ...]
    dtype: np.dtype
    """Of the written result."""
    how: str
    """The algorithm, or how the stream was cut."""
    plan: Plan | None
    """The plan of the in-memory computation (None when streamed)."""


def read_kernel(text: str) -> np.ndarray:
    """A kernel from a command-line word: a NPY or CSV file, an array literal, or a
    named kernel (`convolib.kernels.parse`).

    >>> read_kernel("[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]").sum()
    np.int64(1)
    >>> read_kernel("box:size=3").shape
    (3, 3)
    """
    if not isinstance(text, str):
        raise bad_argument("kernel", text, "must be a string", cls=ArgumentTypeError)
    if looks_like_literal(text):
        return parse_literal("kernel", text)
    if os.path.isfile(text):
        return read_array("kernel", text)
    return kernels.parse(text)


def write_array(
    dst: str | os.PathLike[str],
    a: object,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> None:
    """Write an array to a ``.npy`` or ``.csv`` file, atomically; never over one of
    ``inputs``, and over another existing file only with ``overwrite=True``.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_array(pathlib.Path(folder, "y.csv"), [[1, 2], [3, 4]])
    ...     print(pathlib.Path(folder, "y.csv").read_text(), end="")
    1,2
    3,4
    """
    path = text_path("dst", dst)
    _array_suffix(path)
    array = as_operand("a", a)
    sources = [os.fspath(p) for p in inputs if os.path.exists(p)]
    with atomic_output("dst", path, inputs=sources, overwrite=overwrite) as temp:
        _arrays.write_array(temp, path, array)


def filter_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    kernel: object,
    *,
    op: str = "correlate",
    mode: str = "same",
    boundary: str | None = None,
    fill_value: object = 0,
    axis: int | None = None,
    method: str = "auto",
    out_dtype: object = None,
    overwrite: bool = False,
    lenient: bool = False,
    max_memory: int | str | None = None,
    max_pixels: int = _images.MAX_PIXELS,
    chunk: int = CHUNK,
    progress: Callable[[int, int], object] | None = None,
) -> Filtered:
    """Filter the file ``src`` with ``kernel`` into ``dst`` (see the module notes).

    ``op`` is ``"correlate"`` (the kernel as it is, as OpenCV's ``filter2D`` and the
    named kernels of `convolib.kernels` expect) or ``"convolve"`` (flipped);
    ``mode`` is ``"same"`` (the input's shape), ``"full"``, ``"valid"`` or
    ``"causal"`` (the first ``n`` samples of ``full``: each output depends only on
    the inputs up to it, for ``convolve``); ``boundary`` defaults to ``"reflect"``
    for images and ``"constant"`` otherwise. ``lenient`` reads the whole frames of a
    truncated WAV file instead of refusing it. ``max_memory`` (bytes, or a size such
    as ``"2G"``) caps the memory of an in-memory computation (default: the planner's
    budget); ``max_pixels`` caps an image's size before it is decoded. ``chunk`` is
    the samples read per step when streaming; ``progress(done, total)`` is called
    as samples are written.

    >>> import os, tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     src, dst = os.path.join(folder, "x.npy"), os.path.join(folder, "y.npy")
    ...     np.save(src, np.arange(6))
    ...     done = filter_file(src, dst, [1, 1], op="convolve", mode="full", chunk=4)
    ...     print(np.load(dst), done.how)
    [0 1 3 5 7 9 5] streamed in chunks of 4 samples
    """
    src_path = existing_file("src", src)
    dst_path = text_path("dst", dst)
    check_output("dst", dst_path, [src_path], overwrite)
    job = _Job.make(
        op, mode, boundary, fill_value, axis, method, out_dtype, overwrite, lenient,
        memory_budget(max_memory), max_pixels, chunk, progress,
    )  # fmt: skip
    k = as_operand("kernel", kernel)
    if k.size == 0 or k.ndim == 0 or k.dtype.kind not in "biufc":
        raise bad_argument(
            "kernel", k, "must be a non-empty array of numbers with at least one axis"
        )
    kind = _kind(src_path)
    if kind == "image":
        return _image(src_path, dst_path, k, job)
    if kind == "wav":
        return _wav_file(src_path, dst_path, k, job)
    return _array_file(kind, src_path, dst_path, k, job)


@dataclass(frozen=True)
class _Job:
    """`filter_file`'s options, checked."""

    op: str
    mode: str
    boundary: str | None
    fill_value: object
    axis: int | None
    method: str
    out_dtype: object
    overwrite: bool
    lenient: bool
    budget: int
    max_pixels: int
    chunk: int
    progress: Callable[[int, int], object] | None

    @classmethod
    def make(cls, op, mode, boundary, fill_value, axis, method, out_dtype, *rest) -> _Job:
        if op not in OPS:
            raise choice_error("op", op, OPS)
        if mode not in MODES:
            raise choice_error("mode", mode, MODES)
        job = cls(op, mode, boundary, fill_value, axis, method, out_dtype, *rest)
        for name in ("max_pixels", "chunk"):
            value = getattr(job, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise bad_argument(name, value, "must be a positive int")
        check_progress(job.progress)
        return job

    def call(self, axes: tuple[int, ...], k_shape: tuple[int, ...]) -> dict[str, Any]:
        """Keyword arguments of `convolve`/`correlate` for convolving ``axes``."""
        causal = self.mode == "causal"
        return {
            "mode": "same" if causal else self.mode,
            "axes": axes,
            "boundary": self.boundary,
            "fill_value": self.fill_value,
            "origin": tuple((k_shape[a] - 1) // 2 for a in axes) if causal else 0,
            "method": self.method,
        }

    def with_boundary(self, default: str) -> _Job:
        return self if self.boundary is not None else replace(self, boundary=default)

    def streams(self) -> bool:
        """Whether the boundary is zero padding, which a stream assumes."""
        return canonical_boundary(self.boundary) == "constant" and self.fill_value == 0

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


def _kind(path: str) -> str:
    if _arrays.is_npy(path):
        return "npy"
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if _images.image_format(path) is not None:
        return "image"
    if path.lower().endswith(".csv"):
        return "csv"
    raise bad_argument(
        "src",
        path,
        "is not a file convolib filters: PNG, JPEG, TIFF, BMP, WAV, NPY or .csv",
        "convert it to one of these",
    )


def _array_suffix(path: str) -> None:
    if not path.lower().endswith((".npy", ".csv")):
        raise bad_argument("dst", path, "must end in .npy or .csv for an array result")


def _in_memory(
    job: _Job,
    src: str,
    x_shape: tuple[int, ...],
    x_dtype: np.dtype,
    k: np.ndarray,
    axes: tuple[int, ...],
    out_dtype: object,
) -> tuple[Plan, dict[str, Any]]:
    """The plan and call arguments of an in-memory filter, after checking its memory."""
    call = job.call(axes, k.shape)
    proxy = np.broadcast_to(np.zeros((), x_dtype), x_shape)
    p = plan(job.op, proxy, k, out_dtype=out_dtype, **call)
    out_bytes = p.spec.out_bytes if p.spec.out_dtype == p.spec.acc_dtype else 0
    need = proxy.size * x_dtype.itemsize + p.memory_bytes + out_bytes
    check_memory(
        need,
        job.budget,
        f"filtering {src}",
        "raise --max-memory (max_memory=) if the machine has the memory, or filter a "
        "smaller piece (Dask arrays filter pieces in bounded memory)",
    )
    return p, {**call, "out_dtype": out_dtype}


def _apply(job: _Job, x: np.ndarray, k: np.ndarray, call: dict[str, Any]) -> np.ndarray:
    return _OPERATIONS[job.op](x, k, **call)


def _dtype(out_dtype: object) -> np.dtype:
    """``out_dtype`` as a dtype, or the library's error for it."""
    return check_out_dtype(out_dtype, np.dtype(np.float64))


def _disk_check(dst: str, nbytes: int) -> None:
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(dst))).free
    if nbytes > free:
        raise bad_argument(
            "dst",
            dst,
            f"needs {format_bytes(nbytes)} and its disk has {format_bytes(free)} free",
            "choose a folder on a disk with more room",
        )


# --- images ---------------------------------------------------------------------------


def _image(src: str, dst: str, k: np.ndarray, job: _Job) -> Filtered:
    if job.axis is not None:
        raise bad_argument(
            "axis", job.axis, "does not apply to images (rows and columns are filtered)"
        )
    if k.ndim != 2:
        raise bad_argument(
            "kernel.shape",
            k.shape,
            "must be 2-D (rows, columns) for an image",
            "write a row filter as [[1, 2, 1]] and a column filter as [[1], [2], [1]]",
        )
    job = job.with_boundary("reflect")
    with _images.ImageFile(src, job.max_pixels) as image:
        info = image.info
        target = info.dtype if job.out_dtype is None else _dtype(job.out_dtype)
        colour = info.channels - info.alpha
        shape = image.shape[:2] + ((colour,) if image.shape[2:] else ())
        kk = k.reshape(k.shape + (1,) * (len(shape) - 2))
        p, call = _in_memory(job, src, shape, info.dtype, kk, (0, 1), target)
        out_shape = p.spec.out_shape[:2] + image.shape[2:]
        if info.alpha and out_shape != image.shape:
            raise bad_argument(
                "mode",
                job.mode,
                "changes the image's size, and its alpha channel is kept as it is",
                "use mode 'same' (or 'causal'), or remove the alpha channel first",
            )
        fmt = _images.check_writable("dst", dst, target, info.channels)
        with atomic_output("dst", dst, inputs=[src], overwrite=job.overwrite) as temp:
            pixels = image.read()
            y = _apply(job, pixels[..., :colour] if pixels.ndim == 3 else pixels, kk, call)
            if info.alpha:
                y = np.concatenate((y, pixels[..., colour:].astype(target)), axis=2)
            del pixels
            _images.write_image(temp, y, fmt, info)
            job.report(1, 1)
    return Filtered("image", info.describe(), y.shape, y.dtype, p.algorithm, p)


# --- WAV ------------------------------------------------------------------------------


def _wav_file(src: str, dst: str, k: np.ndarray, job: _Job) -> Filtered:
    if job.axis is not None:
        raise bad_argument("axis", job.axis, "does not apply to WAV files (time is filtered)")
    if not dst.lower().endswith(".wav"):
        raise bad_argument("dst", dst, "must end in .wav: src is a WAV file")
    info = _wav.read_info(src, lenient=job.lenient)
    if k.ndim > 2 or (k.ndim == 2 and k.shape[0] not in (1, info.channels)):
        raise bad_argument(
            "kernel.shape",
            k.shape,
            f"must be (taps,) or ({info.channels}, taps) for a WAV file of "
            f"{info.channels} channel(s)",
        )
    if k.dtype.kind == "c":
        raise bad_argument(
            "kernel", k, "is complex, and a WAV file holds real samples", cls=ArgumentTypeError
        )
    out = _wav_output(info, job.out_dtype)
    job = job.with_boundary("constant")
    kk = k.reshape(1, -1) if k.ndim == 1 else k  # (channels, taps)
    with atomic_output("dst", dst, inputs=[src], overwrite=job.overwrite) as temp:
        if job.streams() and (job.mode != "valid" or info.frames >= kk.shape[1]):
            lo, hi = _window(job.mode, info.frames, kk.shape[1])
            out = replace(out, frames=hi - lo)
            _disk_check(dst, out.frames * out.frame_bytes)
            pieces = _stream(_wav.iter_frames(src, info, job.chunk), info.frames, kk, 0, job)
            how, p = f"streamed in chunks of {job.chunk} frames", None
        else:
            p, call = _in_memory(
                job, src, (info.frames, info.channels), info.dtype, kk.T, (0,), None
            )
            y = _apply(job, _wav.read_frames(src, info, 0, info.frames), kk.T, call)
            out, pieces, how = replace(out, frames=y.shape[0]), iter([y]), p.algorithm
        with open(temp, "wb") as f:
            f.write(_wav.header(out))
            for y in pieces:
                f.write(_wav.encode(y, out))
            f.write(b"\0" * ((out.frames * out.frame_bytes) & 1))  # chunks have even sizes
        if p is not None:
            job.report(1, 1)
    return Filtered("wav", info.describe(), (out.frames, out.channels), out.dtype, how, p)


def _wav_output(info: _wav.WavInfo, out_dtype: object) -> _wav.WavInfo:
    """The output's sample format: the input's, or the one ``out_dtype`` names."""
    if out_dtype is None:
        return info
    name = _dtype(out_dtype).name
    if name not in _WAV_DTYPES:
        raise choice_error("out_dtype", name, list(_WAV_DTYPES))
    return replace(info, float=name.startswith("float"), bits=_WAV_DTYPES[name])


# --- NPY and CSV ----------------------------------------------------------------------


def _array_file(kind: str, src: str, dst: str, k: np.ndarray, job: _Job) -> Filtered:
    _array_suffix(dst)
    job = job.with_boundary("constant")
    x = _arrays.read_csv(src) if kind == "csv" else None
    shape, dtype = (x.shape, x.dtype) if x is not None else _arrays.npy_header(src)
    ndim = len(shape)
    if ndim == 0:
        raise bad_argument("src", src, "holds a scalar; an array with at least one axis is needed")
    if k.ndim == ndim and ndim > 1:
        if job.axis is not None:
            raise bad_argument(
                "axis",
                job.axis,
                f"applies to a 1-D kernel; this kernel has {k.ndim} axes like src",
                "leave axis out to filter every axis",
            )
        axes, kk = tuple(range(ndim)), k
    elif k.ndim == 1:
        a = _axis(-1 if job.axis is None else job.axis, ndim)
        axes, kk = (a,), k.reshape([-1 if i == a else 1 for i in range(ndim)])
    else:
        raise bad_argument(
            "kernel.shape",
            k.shape,
            f"must be 1-D (filtering along axis) or {ndim}-D like src, whose shape is {shape}",
        )
    fits = job.mode != "valid" or shape[axes[0]] >= k.size
    if kind == "npy" and len(axes) == 1 and job.streams() and fits:
        return _npy_stream(src, dst, k, axes[0], shape, dtype, job)
    p, call = _in_memory(job, src, shape, dtype, kk, axes, job.out_dtype)
    if dst.lower().endswith(".csv"):
        _arrays.check_csv_shape("dst", dst, p.spec.out_shape)
    with atomic_output("dst", dst, inputs=[src], overwrite=job.overwrite) as temp:
        y = _apply(job, _arrays.load_npy(src, mmap=True) if x is None else x, kk, call)
        _arrays.write_array(temp, dst, y)
        job.report(1, 1)
    return Filtered(kind, f"{shape} {dtype}", y.shape, y.dtype, p.algorithm, p)


def _axis(axis: object, ndim: int) -> int:
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise bad_argument("axis", axis, "must be an int", cls=ArgumentTypeError)
    if not -ndim <= axis < ndim:
        raise bad_argument(
            "axis",
            axis,
            f"is out of range for an array of {ndim} axes",
            f"use an axis in [{-ndim}, {ndim - 1}]",
        )
    return int(axis) % ndim


def _npy_stream(src, dst, k, a, shape, dtype, job: _Job) -> Filtered:
    """Filter NPY ``src`` along axis ``a`` into ``dst``, a block of samples at a time."""
    if dst.lower().endswith(".csv"):
        raise bad_argument(
            "dst",
            dst,
            "is a CSV file, and a streamed NPY result is written as NPY",
            "write .npy (np.load reads it; convert small results to CSV yourself)",
        )
    target = default_out_dtype(dtype, k.dtype)
    if job.out_dtype is not None:
        target = check_out_dtype(job.out_dtype, target)
    n = shape[a]
    lo, hi = _window(job.mode, n, k.size)
    out_shape = (*shape[:a], hi - lo, *shape[a + 1 :])
    _disk_check(dst, math.prod(out_shape) * target.itemsize)
    with atomic_output("dst", dst, inputs=[src], overwrite=job.overwrite) as temp:
        x = _arrays.load_npy(src, mmap=True)
        y = np.lib.format.open_memmap(temp, mode="w+", dtype=target, shape=out_shape)
        try:
            blocks = (x[_along(a, slice(s, s + job.chunk))] for s in range(0, max(n, 1), job.chunk))
            done = 0
            for part in _stream(blocks, n, k, a, job):
                y[_along(a, slice(done, done + part.shape[a]))] = cast_output(part, target)
                done += part.shape[a]
            y.flush()
        finally:
            del y
    how = f"streamed in chunks of {job.chunk} samples"
    return Filtered("npy", f"{shape} {dtype}", out_shape, target, how, None)


# --- streaming ------------------------------------------------------------------------


def _along(axis: int, index: slice) -> tuple[Any, ...]:
    return (slice(None),) * axis + (index,)


def _window(mode: str, n: int, taps: int) -> tuple[int, int]:
    """The samples ``[lo, hi)`` of the full convolution that ``mode`` keeps (n >= taps
    for ``valid``)."""
    if mode == "full":
        return 0, n + taps - 1 if n else 0
    if mode == "same":
        return (taps - 1) // 2, (taps - 1) // 2 + n
    if mode == "valid":
        return taps - 1, n
    return 0, n  # causal


def _stream(
    blocks: Iterator[np.ndarray], n: int, k: np.ndarray, a: int, job: _Job
) -> Iterator[np.ndarray]:
    """The kept part of the full convolution of the blocks' signal (along axis ``a``)
    with ``k`` (taps along its last axis), piece by piece."""
    taps = k.shape[-1]
    kernel = k if job.op == "convolve" else np.conj(k[..., ::-1])
    lo, hi = _window(job.mode, n, taps)
    f = Filter(kernel, a, mode="full", method=job.method)
    position = written = 0

    def outputs() -> Iterator[np.ndarray]:
        for block in blocks:
            yield f.process(block)
        yield f.flush()

    for y in outputs():
        m = y.shape[a]
        start, stop = min(max(lo - position, 0), m), min(max(hi - position, 0), m)
        position += m
        if stop > start:
            written += stop - start
            yield y[_along(a, slice(start, stop))]
            job.report(written, hi - lo)
