"""Freed memory kept for the next call: heap buffers, and mappings for large outputs.

The blocked algorithms (overlap-save, the layers' chunks, the transforms inside
``scipy.fft``) allocate and free buffers of a few hundred KiB to a few MiB per block.
glibc's malloc serves blocks over its mmap threshold (128 KiB at start) with fresh
mappings, and gives freed heap memory back to the system once more than its trim
threshold (twice that) is free; either way the next block's buffers are faulted in
anew. Freeing one mapped block raises both thresholds to that block's size
(``mallopt(3)``, "dynamic mmap threshold"), which any program that frees a
large-enough array does sooner or later. convolib does it once, before its first plan
runs, so that its speed does not depend on what the process freed before. Measured in
a fresh process on a 2-core AMD EPYC: the benchmark suite's s4 (overlap-save) took
81 ms with 46 000 page faults per call before, 28 ms with 580 after; s5 (one large
FFT) 83 ms with 20 000 faults before, 59 ms with 4 000 after. The price: the heap may
keep up to twice `HEAP_BLOCK_BYTES` of freed memory instead of returning it to the
system. Other allocators than glibc's are not affected.

Outputs of 30 MiB or more (`KEPT_MIN_BYTES`) get fresh mappings whatever the thresholds,
and the system zeroes every page of them as it is first written: a 4096² int64 image
(134 MiB) took 10.6 ms to fault in on two threads, against 4.7 ms to write into memory
already mapped. So such outputs come from mappings kept from earlier outputs (`empty`):
the array's memory goes back to a small pool when the last array that uses it is gone
(views keep it), and the next output of about its size reuses it. The pool keeps at
most `KEPT_BLOCKS` mappings, `KEPT_BYTES` in all; the arrays are counted by
``tracemalloc`` as NumPy's own are. Measured on the 2-core EPYC, each call's result
dropped before the next (the usual loop), against the build before: the i5 case of the
benchmark suite took 10.9-13.8 ms against 19.3-23.2, s2 7.5-8.3 against 9.5-9.7.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import os
import threading
import weakref
from collections.abc import Callable
from functools import cache, partial

import numpy as np

HEAP_BLOCK_BYTES = 30 * 2**20
"""The freed block: just under glibc's 32 MiB cap on the dynamic threshold."""


@cache
def keep_freed_blocks() -> None:
    """Raise glibc's dynamic mmap and trim thresholds (module docstring); once."""
    block = np.empty(HEAP_BLOCK_BYTES, np.uint8)  # mapped, never touched: no page faults
    del block


KEPT_MIN_BYTES = HEAP_BLOCK_BYTES
"""Outputs this large come from kept mappings (`empty`): glibc maps blocks over its mmap
threshold afresh every time, and `keep_freed_blocks` raises that threshold to this
size, as far as it goes (glibc caps it at 32 MiB)."""

KEPT_BLOCKS = 4
"""The most mappings the pool keeps while no array uses them."""


def _physical_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30


KEPT_BYTES = min(512 * 2**20, _physical_bytes() // 16)
"""The most bytes the pool keeps while no array uses them: 512 MiB, or a sixteenth of the
machine's memory if that is less."""

_PAGE = 2 * 2**20  # mappings are whole huge pages
_TRACED = np.lib.tracemalloc_domain  # tracemalloc counts the arrays as NumPy's own


def _track(address: int, nbytes: int) -> None:
    """Count ``nbytes`` at ``address`` in ``tracemalloc``, as NumPy counts its arrays."""
    ctypes.pythonapi.PyTraceMalloc_Track(
        ctypes.c_uint(_TRACED), ctypes.c_void_p(address), ctypes.c_size_t(nbytes)
    )


def _untrack(address: int) -> None:
    ctypes.pythonapi.PyTraceMalloc_Untrack(ctypes.c_uint(_TRACED), ctypes.c_void_p(address))


class _Mapping:
    """An anonymous mapping of ``size`` bytes, its first byte at ``address``."""

    __slots__ = ("address", "map", "size", "view")

    def __init__(self, size: int) -> None:
        self.map = mmap.mmap(-1, size)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            self.map.madvise(mmap.MADV_HUGEPAGE)
        self.view = np.frombuffer(self.map, np.uint8)
        self.address, self.size = self.view.ctypes.data, size

    def close(self) -> None:
        self.view = None  # the mapping cannot close while a view of it exists
        self.map.close()


class _Lease:
    """The base of an array over a kept mapping: the array, and every view of it, holds
    it, and the mapping goes back to the pool when it is gone."""

    __slots__ = ("__array_interface__", "__weakref__")


_lock = threading.Lock()
_idle: list[_Mapping] = []  # kept mappings no array uses, the latest returned last


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``np.empty(shape, dtype)``; where that is `KEPT_MIN_BYTES` or more (and holds no
    Python objects), its memory comes from a mapping kept from an earlier output
    (module docstring).

    >>> y = empty((3, 2), np.dtype(np.float64))
    >>> y.shape, y.dtype, y.flags.writeable
    ((3, 2), dtype('float64'), True)
    """
    return allocator(shape, dtype)()


def allocator(shape: tuple[int, ...], dtype: np.dtype) -> Callable[[], np.ndarray]:
    """`empty` of ``shape`` and ``dtype`` as a function of nothing, for loops that make
    many outputs alike: NumPy's own where they are small, at no cost beside it.

    >>> allocator((2, 2), np.dtype(np.int64))().shape
    (2, 2)
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < KEPT_MIN_BYTES or dtype.hasobject:
        return partial(np.empty, shape, dtype)
    return partial(_mapped, tuple(shape), dtype, nbytes)


def _mapped(shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> np.ndarray:
    """An array over a kept mapping (`empty`), or NumPy's own where none can be had."""
    try:
        mapping = _take(-(-nbytes // _PAGE) * _PAGE)
    except OSError:  # no mapping to be had: NumPy's memory, or its MemoryError
        return np.empty(shape, dtype)
    lease = _Lease()
    lease.__array_interface__ = {
        "shape": shape,
        "typestr": dtype.str,
        "descr": dtype.descr,
        "data": (mapping.address, False),
        "version": 3,
    }
    weakref.finalize(lease, _give_back, mapping).atexit = False
    _track(mapping.address, nbytes)
    return np.asarray(lease)


def _take(size: int) -> _Mapping:
    """A kept mapping of ``size`` bytes to a quarter more, the latest returned, or a new one."""
    with _lock:
        for i in range(len(_idle) - 1, -1, -1):
            if size <= _idle[i].size <= size + size // 4:
                return _idle.pop(i)
    return _Mapping(size)


def _give_back(mapping: _Mapping) -> None:
    """Keep ``mapping``, no longer used, closing the oldest kept ones beyond the limits."""
    _untrack(mapping.address)
    with _lock:
        _idle.append(mapping)
        closing = []
        while len(_idle) > KEPT_BLOCKS or sum(m.size for m in _idle) > KEPT_BYTES:
            closing.append(_idle.pop(0))
    for old in closing:
        old.close()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _idle.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
