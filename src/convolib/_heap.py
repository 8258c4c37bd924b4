"""Keeping freed buffers of a few MiB in the process's heap.

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
"""

from __future__ import annotations

from functools import cache

import numpy as np

HEAP_BLOCK_BYTES = 30 * 2**20
"""The freed block: just under glibc's 32 MiB cap on the dynamic threshold."""


@cache
def keep_freed_blocks() -> None:
    """Raise glibc's dynamic mmap and trim thresholds (module docstring); once."""
    block = np.empty(HEAP_BLOCK_BYTES, np.uint8)  # mapped, never touched: no page faults
    del block
