"""The cost model's constants, in one place, with where each came from.

Each constant says how it was measured, on the developer machine of record (AMD
EPYC Zen 4, 2 cores, AVX-512; 2026-11). They only need to rank algorithms
correctly: `convolib.calibration` corrects each algorithm's estimates by a factor
measured on the machine at hand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .spec import Spec

DIRECT_TERM_S = {
    "float32": 3.0e-11,
    "float64": 4.8e-11,
    "complex64": 7.0e-11,
    "complex128": 1.0e-10,
    "int64": 5.0e-11,
}
"""The compiled direct loops (``algorithms/direct.py``): seconds per multiply-add per
thread, per accumulator dtype. With `DIRECT_PASS_S` and `DIRECT_OUTPUT_BYTE_S`, fitted
(relative least squares, one thread) to 13 shapes per dtype: 1-D signals of 1e6-4e6
with 4-256 taps, 1024² images with 1×1 to 15×15 kernels, 96³ volumes with 5³."""

DIRECT_PASS_S = 8e-8
"""One pass of up to four taps over a block of one output row (loop set-up, edges)."""

DIRECT_OUTPUT_BYTE_S = 5e-11
"""Per output byte: zeroing the output and writing it back to memory."""

DIRECT_BLOCK_BYTES = 16384
"""Output columns of one task of the direct loops, in bytes."""


def direct_block(itemsize: int) -> int:
    """Output columns of one task of the direct loops, for elements of ``itemsize``."""
    return max(64, DIRECT_BLOCK_BYTES // itemsize)


REFERENCE_TERMS_PER_S = {"object": 1.0e7, "default": 8.0e8}
"""The reference tap loop (``algorithms/reference.py``): NumPy ufuncs, or Python
arithmetic for object arrays."""

CALL_OVERHEAD_S = {"direct": 4e-6, "reference": 2e-5}
"""Fixed cost of one call: argument handling, allocation, dispatch."""

PER_TAP_OVERHEAD_S = 3e-6
"""The reference algorithm's cost per kernel tap (one round of NumPy calls)."""

PARALLEL_MIN_TERMS = 200_000
"""Below this many terms the direct loops run serially: numba's parallel launch
costs a few microseconds, more than it saves on small problems."""

GEMM_MAC_S = {
    "float32": 2.2e-11,
    "float64": 5.0e-11,
    "complex64": 9.0e-11,
    "complex128": 2.0e-10,
}
"""The gemm algorithm's matrix products (NumPy's OpenBLAS): seconds per multiply-add
per thread, from (64 × 576) @ (576 × 3248) products on two threads (178 and 80
GFLOP/s for float32 and float64, i.e. 44 and 20 G multiply-adds per second per
thread), complex taken as four real products."""

GEMM_HALF_SPEED_COLUMNS = 128
"""Products with few columns run below the BLAS's peak: ``n`` columns are taken at
``n / (n + GEMM_HALF_SPEED_COLUMNS)`` of it (Winograd's 36 products per group of
tiles; measured: 784 columns ran at 0.78 of the large product's rate)."""

GEMM_GATHER_BYTES_PER_S = {"contiguous": 8e9, "strided": 1.5e9}
"""Gathering windows into the matrix: rows copied as contiguous slices, or element
by element along a strided view (NumPy copies of a 3×3 window view: about 1.5 GB/s);
also the rate of the padding and output copies."""

GEMM_CALL_OVERHEAD_S = 3e-5
"""Fixed cost of one gemm call: reshapes, views, the BLAS thread setting."""

GEMM_WORKSPACE_BYTES = 32 * 2**20
"""Signals are gathered in groups whose matrix stays under this size."""

WINOGRAD_PARALLEL_MIN = 1 << 20
"""Tile elements below which winograd moves its tiles on one thread: parallel loops
launched next to BLAS's spinning threads cost milliseconds on small layers."""

MEMORY_FRACTION = 0.8
"""Share of the currently available memory a call may use for its output and
workspace before it is refused."""


def direct_seconds(spec: Spec, workers: int) -> float:
    """The direct loops' time for ``spec``: passes over output rows, multiply-adds, output."""
    term = DIRECT_TERM_S.get(spec.acc_dtype.name)
    if term is None:
        return math.inf
    outputs = math.prod(spec.batch) * math.prod(spec.out)
    last = spec.out[-1] if spec.ndim else 1
    block = direct_block(spec.acc_dtype.itemsize)
    rows = outputs // max(last, 1) * -(-last // block)
    m = spec.m or (1,)
    per_pass = 4 if not spec.ndim or spec.stride[-1] == 1 else 1
    passes = rows * math.prod(m[:-1]) * -(-m[-1] // per_pass)
    seconds = (
        passes * DIRECT_PASS_S
        + spec.terms * term
        + outputs * spec.acc_dtype.itemsize * DIRECT_OUTPUT_BYTE_S
    )
    used = workers if spec.terms >= PARALLEL_MIN_TERMS else 1
    return CALL_OVERHEAD_S["direct"] + seconds / used


def reference_seconds(terms: int, taps: int, acc: np.dtype) -> float:
    rate = REFERENCE_TERMS_PER_S["object" if acc.kind == "O" else "default"]
    return CALL_OVERHEAD_S["reference"] + taps * PER_TAP_OVERHEAD_S + terms / rate


def available_memory() -> int:
    """Bytes of memory available to this process now (physical, not swap)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1


# --- separable algorithm (algorithms/separable.py, factor.py) --------------------------
# Its 1-D passes run on the direct loops' register-blocked passes. Measured on the
# developer machine (2 cores, Zen 4) with 2048² and 4096² float32/int64 images,
# kernels of 3 to 49 taps per axis, 1 and 2 threads (separable vs direct, medians).

SEPARABLE_TERMS_PER_S = {"float32": 1.5e10, "float64": 1.1e10, "int64": 1.0e10}
"""Multiply-adds per second per thread of the 1-D passes (2048² and 4096² images,
15- and 49-tap Gaussians, 5×5 integer boxes)."""

SEPARABLE_BYTES_PER_S = 1.0e10
"""Memory traffic per second per thread, a floor under the passes' time: the signal
read, the output written (first touch included), and three times each intermediate
array (zeroed, written by one pass, read by the next)."""

SEPARABLE_RANK_MAX_TAPS = 4096
"""Kernels with more taps are not factorised (the SVD of a 64×64 kernel takes about a
millisecond, and kernels this large go to transforms)."""

SEPARABLE_RANK_MIN_TERMS = 2_000_000
"""Below this many direct terms (about 0.1 ms of direct sum) the API does not compute
a kernel's rank: the factorisation would cost more than it could save."""

SEPARABLE_RANK_S = (3e-5, 2e-8)
"""Seconds to compute a kernel's rank the first time: fixed, and per kernel tap."""


# --- ntt (algorithms/exact.py): number-theoretic transforms mod primes, recombined by CRT ---

NTT_S_PER_BUTTERFLY = 3.0e-10
"""PROVISIONAL: seconds per element per stage of one transform, one thread."""

NTT_BLOCK_OVERHEAD = 3.0
"""PROVISIONAL: per-element work of a block beyond its transform stages, in stages."""

NTT_S_PER_RESIDUE = 1.0e-9
"""PROVISIONAL: seconds to reduce one signal sample modulo one prime."""

NTT_S_PER_CRT = 2.0e-9
"""PROVISIONAL: seconds to recombine one output, per prime."""

NTT_S_PER_OBJECT = 2.0e-7
"""PROVISIONAL: seconds per Python object converted in or out."""

NTT_OBJECT_PRIMES = 5
"""PROVISIONAL: primes assumed for object specs."""

CALL_OVERHEAD_S_NTT = 3.0e-5
"""PROVISIONAL: fixed cost of one call."""

NTT_PARALLEL_MIN = 1 << 16
"""PROVISIONAL: transform work (elements) below which the blocks run serially."""


# --- fft and overlap_save (algorithms/fft.py, overlap_save.py): scipy.fft (pocketfft) ---
# Measured on the developer machine (2 cores, Zen 4) by timing scipy.fft passes over
# lines of 64 to 2**22 points, one and two workers, medians of 7.

FFT_NS_PER_POINT = {"float32": 1.45, "float64": 2.6, "complex64": 2.6, "complex128": 5.0}
"""Nanoseconds per point of a line transformed in a SIMD group of `FFT_SIMD_LINES`."""

FFT_NS_PER_POINT_LOG2_SINGLE = {
    "float32": 0.33,
    "float64": 0.38,
    "complex64": 0.45,
    "complex128": 0.55,
}
"""Nanoseconds per point and per log2(n) of a line transformed alone."""

FFT_SIMD_LINES = {"float32": 4, "float64": 2, "complex64": 4, "complex128": 2}
"""Lines pocketfft transforms at once in SIMD lanes."""

FFT_STRIDED_FACTOR = 1.5
"""Extra cost of gathering lines along a strided axis."""

FFT_PASS_OVERHEAD_S = 5e-6
"""Fixed cost of one pass (one axis of one transform)."""

FFT_CACHE_BYTES = 12 * 2**20
"""Lines and passes larger than this run from memory rather than cache."""

FFT_OUT_OF_CACHE_FACTOR = 2.0
"""Slow-down of a single line that does not fit in cache."""

FFT_PARALLEL_MIN_POINTS = 1 << 17
"""Points in a pass below which it runs on one thread."""

FFT_PARALLEL_EFFICIENCY = 0.85
"""Speed-up of each extra thread, as a fraction of one."""

FFT_THREAD_START_S = 6e-5
"""Cost of starting pocketfft's threads for one pass."""

FFT_BYTES_PER_S = {"cache": 120e9, "memory": 30e9}
"""Bandwidth of the memory-bound passes (padding, spectrum product, copying out)."""

FFT_CALL_OVERHEAD_S = 3e-5
"""Fixed cost of one call of either transform algorithm."""

OS_GROUP_BYTES = 8 * 2**20
"""Workspace of one group of overlap-save frames (they are transformed together)."""

OS_GROUP_OVERHEAD_S = 3e-5
"""Fixed cost per group of frames."""

OS_MIN_BLOCK = 64
"""Shortest block considered."""

OS_MIN_RATIO = 4
"""Blocked axes are those where the signal is at least this many times the kernel."""
