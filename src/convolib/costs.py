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

from . import threads

if TYPE_CHECKING:
    from .spec import Spec

DIRECT_TERM_S = {
    "float32": 2.7e-11,
    "float64": 5.7e-11,
    "complex64": 1.7e-10,
    "complex128": 4.3e-10,
    "int64": 1.2e-10,
}
"""The compiled direct loops (``algorithms/_direct_kernels.py``): seconds per
multiply-add per thread, per accumulator dtype. With the other ``DIRECT_`` constants,
fitted (non-negative least squares of relative errors, one thread, best of 9) to 40
shapes per dtype (float32, float64), each on every path and form it has: 256², 1024²
and 2048² images with 3×3 to 15×15, 1×9 and 9×1 kernels, 1-D signals of 1e4 and 1e6
with 8, 32 and 128 taps, 64³ volumes with 3³ and 5³, batches of eight 32² to 128²
images with 3×3 to 7×7 (median error 16%, on a shared machine). Measured on a 2-core
AMD EPYC (AVX-512), where the constants fitted before on an Intel Xeon had a median
ratio of 1.03 to the same timings, so direct's estimates stay comparable with the
other algorithms'. The complex and int64 entries are from the Xeon."""

DIRECT_TAPS_PER_PASS = 8
"""Taps the direct loops add in one pass over the outputs (register blocking: one load
and store of an output per eight multiply-adds instead of per one)."""

DIRECT_LINE_MIN_TAPS = 16
"""Kernel rows of at least this many taps (stride and dilation 1 along them) are summed
as one run, their float sums in registers (``_direct_kernels.LINE_MIN_TAPS``)."""

DIRECT_SIGNAL_LINE_FACTOR = 0.68
"""Multiply-adds of 1-D signals summed as runs (`DIRECT_LINE_MIN_TAPS`) take this share
of `DIRECT_TERM_S`, which was fitted mostly to images: measured against the model on
one thread (2-core AMD EPYC, Zen 4, 2026-12), 1e7 float32 with 32 and 64 taps 0.80 and
0.71, 1e6 with 300 taps 0.69; 1e6 float64 with 16, 32 and 128 taps 0.68, 0.63 and
0.65; 2048² float32 with 1×31 0.94 and 1e6 float64 with 8 taps 0.96 (neither a
signal summed as runs)."""

DIRECT_PASS_S = 3.7e-8
"""One pass of up to eight taps over a block of one output row, on the rows path."""

DIRECT_EDGE_S = 1.0e-8
"""The rows path, per kernel tap and output row whose ends lie on implicit zero
padding: the outputs there are added tap by tap."""

DIRECT_PADDED_PASS_S = 1.4e-8
"""One pass of up to eight taps over a whole output row, on the padded path."""

DIRECT_COPY_BYTE_S = 4.6e-12
"""The padded path's zero-padded copies of the signal, per byte: zeroed, then filled."""

DIRECT_BAND_BYTES = 2**19
"""The padded path's buffer per thread: the signal rows one band of output rows reads
(`direct_band_rows`), in a core's cache."""

DIRECT_OUTPUT_BYTE_S = 1.6e-11
"""Per output byte: writing it."""

DIRECT_MEMORY_BYTE_S = 3.4e-11
"""Per output byte, beyond `DIRECT_OUTPUT_BYTE_S`, where the output (over
`DIRECT_CACHE_BYTES`) goes out to memory."""

DIRECT_CACHE_BYTES = 2**21
"""Outputs up to this size stay in cache."""

DIRECT_BLOCK_BYTES = 16384
"""Output columns of one task of the direct loops, in bytes."""


def direct_block(itemsize: int) -> int:
    """Output columns of one task of the direct loops, for elements of ``itemsize``."""
    return max(64, DIRECT_BLOCK_BYTES // itemsize)


def direct_band_rows(
    planes: int, rows: int, extent: int, stride: int, reach: int, length: int, itemsize: int
) -> int:
    """Output rows of one band of the padded path: as many as keep the signal rows they
    read (``reach`` for the first, ``stride`` more for each next, each ``length`` long,
    in ``extent`` planes) within `DIRECT_BAND_BYTES`, and few enough that the ``planes``
    output planes of ``rows`` rows make four tasks for each core."""
    fit = (DIRECT_BAND_BYTES // max(1, extent * length * itemsize) - reach) // stride + 1
    share = -(-planes * rows // (4 * threads.cpu_count()))
    return max(1, min(rows, fit, share))


REFERENCE_TERMS_PER_S = {"object": 1.0e7, "default": 8.0e8}
"""The reference tap loop (``algorithms/reference.py``): NumPy ufuncs, or Python
arithmetic for object arrays."""

CALL_OVERHEAD_S = {"direct": 2e-6, "reference": 2e-5}
"""Fixed cost of one call: argument handling, allocation, dispatch."""

PER_TAP_OVERHEAD_S = 3e-6
"""The reference algorithm's cost per kernel tap (one round of NumPy calls)."""

PARALLEL_MIN_TERMS = 200_000
"""Below this many terms the direct loops run serially: numba's parallel launch
costs a few microseconds, more than it saves on small problems."""

# --- layers: gemm and winograd (algorithms/gemm.py, winograd.py) ----------------------
# Both run chunks of work on Python threads, each calling BLAS on one thread. Measured
# on a 2-core Intel Xeon (AVX-512, OpenBLAS 0.3.31 SkylakeX kernels; 2026-12), each part
# alone on one thread, best of 15, over the layers of the benchmark suite (n1-n9) and
# smaller ones (2×16×32², 4×32×17², 1×512×7², 16×8×16² in float64).

GEMM_MAC_S = {
    "float32": 1.6e-11,
    "float64": 3.4e-11,
    "complex64": 6.4e-11,
    "complex128": 1.4e-10,
}
"""Matrix products (NumPy's OpenBLAS on one thread): seconds per multiply-add, from
products of 200 to 2000 columns (15-16 ps in float32, 32-38 ps in float64); complex
taken as four real products."""

GEMM_HALF_SPEED_COLUMNS = 16
"""A product of ``n`` columns runs at ``n / (n + GEMM_HALF_SPEED_COLUMNS)`` of
`GEMM_MAC_S`'s rate (measured: 25 columns at 0.65 of it, 64 at 0.8, 4 at 0.15)."""

GEMM_HALF_SPEED_FILTERS = 12
"""The ``windows`` layout's products of ``f`` filters (rows) run at ``f / (f +
GEMM_HALF_SPEED_FILTERS)`` of the rate above (2-core AMD EPYC, one thread, float32,
147 to 576 rows by 1024 to 3136 columns, relative to 512 filters: 8 filters at 0.3-0.55,
16 at 0.45-0.75, 32 at 0.6-0.8, 64 at 0.75-0.9, 128 at 0.9-1)."""

LAYER_THREAD_EFFICIENCY = 0.85
"""Speed-up of each extra thread running chunks, as a fraction of one (two threads
ran 1.74-1.91x one thread's speed on an otherwise idle machine)."""

GEMM_GATHER_BYTES_PER_S = 2.5e10
"""Gathering windows into a chunk's matrix (compiled loops, one thread): bytes written
(17-48 GB/s on rows of 28 to 224 outputs, stride 1 or 2)."""

GEMM_GATHER_STRIDED_BYTES_PER_S = 1.2e10
"""The same with a stride along the rows: every other value read (2-core AMD EPYC, one
thread: 11-14 GB/s at stride 2, rows of 28 to 112 outputs, against 30-55 at stride 1)."""

GEMM_GATHER_SEGMENT_S = 8e-9
"""Gathering, per run of one output row copied for one (channel, tap): the loop's set-up
(rows of 7 outputs gathered at 3.7 GB/s)."""

PAD_BYTES_PER_S = 5e9
"""Copying the signal into a padded buffer (NumPy, one thread, first touch included)."""

GEMM_CALL_OVERHEAD_S = 5e-5
"""Fixed cost of one gemm or winograd call: layout, allocations, the BLAS thread setting."""

GEMM_CHUNK_S = 1e-5
"""Fixed cost of one chunk (gather and product calls, handing it to a thread)."""

GEMM_PRODUCT_CALL_S = 1.5e-5
"""Fixed cost of one product of the ``taps`` layout (a strided view and a BLAS call)."""

GEMM_CHUNK_BYTES = 2**20
"""The ``windows`` layout gathers output rows in chunks whose matrix stays under this
size (in a core's cache while it is multiplied)."""

GEMM_MIN_COLUMNS = 128
"""Fewest columns of a chunk's matrix (narrower products run below BLAS's rate)."""

WINOGRAD_INPUT_S = {"float32": 2.7e-10, "float64": 6.4e-10}
"""Winograd's input transform (``Bᵀ d B``, tiles gathered): seconds per transformed
element, one thread (0.66-0.9 ns per element with 7-14 tile columns, 1.7-3 ns with 2-4:
see `WINOGRAD_INPUT_ROW_S`)."""

WINOGRAD_INPUT_ROW_S = 2.5e-7
"""Winograd's input transform, per channel and tile row: the row transforms' set-up."""

WINOGRAD_OUTPUT_S = {"float32": 2.0e-10, "float64": 3.5e-10}
"""Winograd's output transform (``Aᵀ M A``, tiles scattered): seconds per element of
the products, one thread."""

WINOGRAD_OUTPUT_ROW_S = 6e-8
"""Winograd's output transform, per filter and tile row."""

WINOGRAD_WEIGHTS_S = {"float32": 5e-10, "float64": 7e-10}
"""Winograd's kernel transform (``G w Gᵀ`` as one product by ``G ⊗ G``): seconds per
transformed element written, one thread."""

WINOGRAD_WEIGHTS_PER_RUN = 2048
"""Kernels (filter-channel pairs) whose transforms run as one task."""

WINOGRAD_CHUNK_BYTES = 4 * 2**20
"""Tile matrices (input transform and products) of one chunk: chunks that stay in a
core's cache."""

WINOGRAD_MIN_TILES = 64
"""Fewest tiles per chunk, for efficient products."""


# --- layers: direct_sum (algorithms/direct_sum.py) ------------------------------------
# Measured on the 2-core Xeon (AVX-512; 2026-12), the loops alone on one thread, best
# of 7, over n1-n4, n9, 1×512×7² into 512 filters (3×3) and 2×16×32² into 16 filters
# (3×3): 1.7-2.0e-11 s per multiply-add in float32 (up to 2.9e-11 in the machine's
# slow phases), 3.4-4.2e-11 in float64.

DIRECT_SUM_MAC_S = {"float32": 2.0e-11, "float64": 3.7e-11}
"""The loops' seconds per multiply-add, one thread, filters padded to whole blocks,
beyond `DIRECT_SUM_JOB_S`."""

DIRECT_SUM_JOB_S = 1e-6
"""Per job (a run of one signal's line for one block of filters): its buffer, and
copying its outputs out."""

DIRECT_SUM_TAP_BLOCK = 128
"""Taps per pass over a job's tiles: a pass's signal values and weights stay in the
first-level cache while it sums every tile of the job (n1, n2, n9 and 1×512×7² into
512 filters ran 3-10% faster in passes of 128 taps than in one pass over all of them,
and faster than in passes of 16-64, one thread, 2026-12)."""

DIRECT_SUM_CHUNK_BYTES = 2048
"""Outputs per job, in bytes of one output line: eight filters' runs of outputs stay
in the first-level cache across the passes."""

DIRECT_SUM_COPY_BYTES_PER_S = 1.5e10
"""Copying before the loops, one thread: the signal (padded, split by the stride) and
the weights into blocks (n3's copies ran at about 15 GB/s). The loops copy the outputs
out themselves, from a buffer in cache; the model leaves that copy out."""

DIRECT_SUM_CALL_S = 6e-5
"""Fixed cost of one direct_sum call: layout, weights in blocks, allocations, the
launch (a 4×8×100 layer into 12 filters, 5 taps, took 70 µs in all)."""

DIRECT_SUM_PARALLEL_MIN_S = 3e-4
"""One thread's estimated work below which the loops run on one thread."""


# --- interleaved (algorithms/interleaved.py, _interleaved_kernels.py) -----------------
# Measured on a 2-core AMD EPYC (Zen 3, AVX2; 2026-12), one thread, best of 20, on
# n5 (N8 C384 28², 7×7 depthwise, float32), each step of the loops alone: sums 2.6 ms
# (7.4e6 vector multiply-adds), transposes 0.74 ms in and 0.85 ms out (9.6 MB each way).
# Both are divided by 2.27, the calibration factor of direct's vector loops on that
# machine, to stand for the machine of record as the other constants do.

INTERLEAVED_VECTOR_FMA_S = 1.5e-10
"""The sums: seconds per multiply-add of one vector (a lane per plane), one thread."""

INTERLEAVED_TRANSPOSE_BYTE_S = 3.7e-11
"""The transposes of the planes into pixels and of the sums back, per byte moved."""

INTERLEAVED_BUFFER_MAX_BYTES = 16 * 2**20
"""One thread's buffers (`_interleaved_kernels.buffer_values`) over this many bytes do
not stay in cache, and every pixel there is a whole vector: ``auto`` does not plan
the interleaved loops for them (v1, one 256³ volume in one lane of sixteen, 1.1 GB of
buffer per thread, forced: 56x direct's time on Zen 3). s6's 2 MiB ran 1.4x direct's
speed."""

INTERLEAVED_CALL_S = 1e-5
"""Fixed cost of one call: the launch and the buffers' allocation."""

INTERLEAVED_CHUNKS = 4
"""Runs of blocks per thread: a thread slowed down by other work takes fewer."""


LAYER_PARALLEL_MIN_S = 2e-3
"""One thread's estimated work below which gemm and winograd run their chunks on one
thread: threads that hand the interpreter back and forth between short calls made
layers of 0.3-1.3 ms 1.1-1.9x slower on two threads than on one."""


def layer_threads(work: float, chunks: int, workers: int) -> int:
    """Threads for ``chunks`` chunks of ``work`` seconds in all (one thread's estimate)."""
    return 1 if work < LAYER_PARALLEL_MIN_S else min(workers, chunks)


def product_seconds(macs: float, columns: int, dtype: np.dtype) -> float:
    """BLAS products of ``macs`` multiply-adds, ``columns`` wide, on one thread."""
    return macs * GEMM_MAC_S[dtype.name] * (columns + GEMM_HALF_SPEED_COLUMNS) / columns


def on_threads(seconds: float, threads: int) -> float:
    """``seconds`` of one thread's work shared out over ``threads`` running chunks."""
    return seconds / (1 + LAYER_THREAD_EFFICIENCY * (threads - 1))


SCAN_BYTE_S = 5e-11
"""``auto``'s scan of the operands' values before a transform (NaN, inf, dynamic
range; ``execute._spread``), per byte on one thread: a minimum and a
maximum pass (1e7 float32: 2 ms on a 2-core AMD EPYC)."""

SCAN_PARALLEL_BYTES = 2**22
"""Operands of at least this size are scanned in parts, on every thread."""


def scan_seconds(nbytes: int, workers: int) -> float:
    """The value scan of ``nbytes`` of operands on up to ``workers`` threads."""
    return nbytes * SCAN_BYTE_S / (workers if nbytes >= SCAN_PARALLEL_BYTES else 1)


MEMORY_FRACTION = 0.8
"""Share of the currently available memory a call may use for its output and
workspace before it is refused."""


def direct_padded(spec: Spec) -> bool:
    """Whether the direct loops take their padded path (``algorithms/_direct_kernels.py``):
    where copying the signal into a zero-padded buffer costs less than adding the
    outputs near the row ends tap by tap (short rows, small problems). Decided for
    every core (`threads.cpu_count`), whatever a call's ``workers``, since the paths
    add the terms in different orders and results do not depend on ``workers``."""
    rows, padded = _direct_paths(spec, _path_threads(spec))
    return padded < rows


def direct_planes(spec: Spec) -> bool:
    """Whether the padded path runs a plane at a time (stride 1 along the last two
    axes): each pass covers a whole plane, at the price of the columns between its
    rows; where passes over short rows cost more. Decided as `direct_padded`."""
    threads = _path_threads(spec)
    lines, planes = _padded_forms(spec, threads, _direct_shared(spec))
    return direct_padded(spec) and planes < lines


def _path_threads(spec: Spec) -> int:
    """The threads the direct loops' paths are chosen for: every core, where the
    problem is large enough to run in parallel."""
    return threads.cpu_count() if spec.terms >= PARALLEL_MIN_TERMS else 1


def _padded_lengths(spec: Spec) -> tuple[int, ...]:
    """The padded path's buffer lengths (``_direct_kernels.geometry``)."""
    lengths = []
    for n, (lo, hi), o, s, m, d in zip(
        spec.n, spec.pads, spec.out, spec.stride, spec.m, spec.dilation, strict=True
    ):
        reach = (o - 1) * s + (m - 1) * d + 1
        lengths.append(max(n + lo, reach) if spec.zero_padding else n + lo + hi)
    return tuple(lengths)


def _lines_seconds(spec: Spec, threads: int, shared: float) -> float:
    """The padded path a band of rows at a time: its passes, the bands' copies (or the
    whole signal padded first) and the ``shared`` work, over the bands."""
    lines = math.prod(spec.batch) * math.prod(spec.out[:-1])
    per_pass = DIRECT_TAPS_PER_PASS if not spec.ndim or spec.stride[-1] == 1 else 1
    seconds = lines * -(-math.prod(spec.m) // per_pass) * DIRECT_PADDED_PASS_S + shared
    _, copied, bands = _band_bytes(spec)
    if not _copies_pad(spec):
        return seconds / min(threads, bands) + _pad_first_seconds(spec)
    if any(lo or hi for lo, hi in spec.pads):
        seconds += copied * DIRECT_COPY_BYTE_S
    return seconds / min(threads, bands)


def _copies_pad(spec: Spec) -> bool:
    """Whether the padded path's copies can pad by the spec's boundary rule (all but a
    constant other than zero)."""
    return spec.zero_padding or spec.boundary != "constant"


def direct_pads_in_copies(spec: Spec) -> bool:
    """Whether the direct loops pad by a boundary rule as they copy each band (the
    padded path, a band of rows at a time), not the whole signal before they run."""
    if spec.zero_padding or not _copies_pad(spec):
        return False
    return direct_padded(spec) and not direct_planes(spec)


DIRECT_IN_PLACE_MAX_TAPS = 9
"""The padded path reads a band in place, without copying it, only for kernels of at
most this many taps: there the copy is a large share of the work (a 3×3 kernel on
2048² float32 ran 1.15-1.2x faster in place), while with more taps the copy's padded
rows pay off (5×5 ran as fast, 7×7 to 11×11 and 5×5×5 up to 15% slower in place:
signal rows of 8 KiB put every kernel row's samples in the same cache sets)."""

DIRECT_IN_PLACE_VALUES_PER_EDGE_TERM = 16
"""...and only where a signal row holds at least this many values for each term of a
row's outer columns, which are summed one term at a time: copying a value costs about
a sixteenth of such a term (1-D float64, 8 taps: 14 outer columns cost 160 ns, the
copy of 1000 values 80 ns)."""


def direct_bands_in_place(spec: Spec) -> bool:
    """Whether the padded path may read the bands that lie inside the signal where they
    are (zero padding, stride 1 along the last two axes), summing the outer columns of
    each row, whose taps reach into the padding, apart (`DIRECT_IN_PLACE_MAX_TAPS`)."""
    taps = math.prod(spec.m)
    if not spec.ndim or taps > DIRECT_IN_PLACE_MAX_TAPS:
        return False
    outer = spec.out[-1] - direct_inner_columns(spec)
    return spec.n[-1] >= DIRECT_IN_PLACE_VALUES_PER_EDGE_TERM * outer * taps


def direct_inner_columns(spec: Spec) -> int:
    """Output columns, along the last axis at stride 1, whose every tap reads inside the
    signal's row: those from column ``lo`` (the padding before the row) on."""
    n, o, m, d, lo = spec.n[-1], spec.out[-1], spec.m[-1], spec.dilation[-1], spec.pads[-1][0]
    return max(0, min(o, n + lo - (m - 1) * d) - lo)


def direct_pads_first(spec: Spec) -> bool:
    """Whether the whole signal is padded by its boundary rule before the direct loops
    run (neither zeros they skip or copy in, nor a rule their band copies apply)."""
    return not spec.zero_padding and not direct_pads_in_copies(spec)


def _pad_first_seconds(spec: Spec) -> float:
    """Padding the whole signal by a boundary rule before the loops run (one thread)."""
    return 0.0 if spec.zero_padding else padded_signal_bytes(spec) / PAD_BYTES_PER_S


def _band_bytes(spec: Spec) -> tuple[int, int, int]:
    """The padded path's buffer (one thread's), the bytes copied into such buffers in
    all, and the number of bands (`direct_band_rows`)."""
    item = spec.acc_dtype.itemsize
    # the first two of three axes (the loops' geometry): 1 where the spec has fewer
    (o0, o1), (m0, m1), (_, s1), (d0, d1) = (
        (1, 1, 1, *axes)[-3:-1] for axes in (spec.out, spec.m, spec.stride, spec.dilation)
    )
    length = (1, *_padded_lengths(spec))[-1]
    planes = math.prod(spec.batch) * o0
    extent, reach = (m0 - 1) * d0 + 1, (m1 - 1) * d1 + 1
    band = direct_band_rows(planes, o1, extent, s1, reach, length, item)
    height = (band - 1) * s1 + reach
    bands = max(1, planes * -(-o1 // band))
    return extent * height * length * item, bands * extent * height * length * item, bands


DIRECT_PLANE_BYTES = 2**18
"""The padded path runs a plane at a time only where a plane's padded signal fits in
this many bytes (in a core's cache, with the plane's wide rows)."""


def _planes_seconds(spec: Spec) -> float:
    """The padded path a plane at a time, on one thread: its passes, the terms of the
    columns between rows, each plane's padded copy and the rows copied out."""
    if spec.ndim < 2 or spec.stride[-2:] != (1, 1):
        return math.inf
    item, taps = spec.acc_dtype.itemsize, math.prod(spec.m)
    o1, o2 = spec.out[-2:]
    len1, len2 = _padded_lengths(spec)[-2:]
    extent = (spec.m[-3] - 1) * spec.dilation[-3] + 1 if spec.ndim > 2 else 1
    if extent * len1 * len2 * item > DIRECT_PLANE_BYTES:
        return math.inf
    planes = math.prod(spec.batch) * math.prod(spec.out[:-2])
    term = DIRECT_TERM_S.get(spec.acc_dtype.name, math.inf)
    seconds = planes * -(-taps // DIRECT_TAPS_PER_PASS) * DIRECT_PADDED_PASS_S
    seconds += planes * ((o1 - 1) * len2 + o2 - o1 * o2) * taps * term
    return seconds + planes * (extent * len1 * len2 + o1 * o2) * item * DIRECT_COPY_BYTE_S


def _direct_paths(spec: Spec, threads: int) -> tuple[float, float]:
    """Seconds of the direct loops' two paths on ``threads``, each path's tasks shared
    out over them."""
    item = spec.acc_dtype.itemsize
    taps = math.prod(spec.m)
    last = spec.out[-1] if spec.ndim else 1
    lines = math.prod(spec.batch) * math.prod(spec.out[:-1])  # output rows
    per_pass = DIRECT_TAPS_PER_PASS if not spec.ndim or spec.stride[-1] == 1 else 1
    passes = lines * -(-taps // per_pass)
    blocks = -(-last // direct_block(item))
    shared = _direct_shared(spec)
    rows = passes * blocks * DIRECT_PASS_S + shared
    if spec.ndim and spec.zero_padding and any(spec.pads[-1]):
        rows += lines * taps * DIRECT_EDGE_S
    rows = rows / min(threads, max(1, lines * blocks)) + _pad_first_seconds(spec)
    return rows, min(_padded_forms(spec, threads, shared))


def _direct_shared(spec: Spec) -> float:
    """One thread's seconds for the work every path does: the multiply-adds, and
    writing the output."""
    term = DIRECT_TERM_S.get(spec.acc_dtype.name, math.inf)
    if _signal_line(spec):
        term *= DIRECT_SIGNAL_LINE_FACTOR
    return spec.terms * term + output_seconds(spec)


def _signal_line(spec: Spec) -> bool:
    """Whether ``spec`` is a 1-D signal whose kernel the direct loops sum as one run."""
    return (
        spec.ndim == 1
        and spec.stride == (1,)
        and spec.dilation == (1,)
        and spec.m[0] >= DIRECT_LINE_MIN_TAPS
        and spec.acc_dtype.kind == "f"
    )


def output_seconds(spec: Spec) -> float:
    """One thread's seconds for writing the output of loops that write each value once,
    through memory where it is larger than `DIRECT_CACHE_BYTES`."""
    out_bytes = math.prod(spec.batch) * math.prod(spec.out) * spec.acc_dtype.itemsize
    memory = DIRECT_MEMORY_BYTE_S if out_bytes > DIRECT_CACHE_BYTES else 0.0
    return out_bytes * (DIRECT_OUTPUT_BYTE_S + memory)


def _padded_forms(spec: Spec, threads: int, shared: float) -> tuple[float, float]:
    """Seconds of the padded path on ``threads``, a band of rows at a time and a plane
    at a time (planes shared out over the threads), with the ``shared`` work."""
    planes = max(1, math.prod(spec.batch) * math.prod(spec.out[:-2]))
    lines = _lines_seconds(spec, threads, shared)
    planes_form = (_planes_seconds(spec) + shared) / min(threads, planes)
    return lines, planes_form + _pad_first_seconds(spec)


def direct_padded_bytes(spec: Spec, threads: int) -> int:
    """Bytes of the padded path's buffers on ``threads`` (one per thread with a band)."""
    buffer, _, bands = _band_bytes(spec)
    return min(threads, bands) * buffer


def padded_signal_bytes(spec: Spec) -> int:
    """Bytes of the signal padded by ``spec.pads`` (by a boundary rule)."""
    padded = math.prod(spec.padded_n)
    return math.prod(spec.signal_batch) * padded * spec.acc_dtype.itemsize


def direct_seconds(spec: Spec, workers: int) -> float:
    """The direct loops' time for ``spec``: passes over output rows, multiply-adds, output."""
    if spec.acc_dtype.name not in DIRECT_TERM_S:
        return math.inf
    threads = workers if spec.terms >= PARALLEL_MIN_TERMS else 1
    rows, padded = _direct_paths(spec, threads)
    return CALL_OVERHEAD_S["direct"] + (padded if direct_padded(spec) else rows)


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


# --- separable algorithm (algorithms/separable.py, _separable_kernels.py, factor.py) ---
# Fitted (relative least squares, one thread, best of 7; 2-core Intel Xeon, AVX-512,
# 2026-12) to `Separable.run` on 128² to 4096² images in float32 and float64 with
# kernels of 3 to 49 taps per axis, uint8 and int64 images with 3×3 to 9×9 boxes, and
# 64³ to 256³ float32 volumes with 9³ Gaussians: estimates within 0.85-1.4 of the
# measured times. The fused passes sum in float32 at about 32 G multiply-adds per
# second and thread, 60% of the FMA peak the benchmark suite measures there.

SEPARABLE_TERM_S = {"float32": 3.1e-11, "float64": 5.9e-11, "int64": 2.0e-10}
"""Seconds per multiply-add per thread of the fused passes, by the dtype they sum in
(int64: integers too large for float64's significand, 2048² with 9×9 and 3×3 boxes)."""

SEPARABLE_ROW_S = 1.2e-10
"""Per element of each row-pass row: the input copied into the padded line, the loop
overhead of the passes."""

SEPARABLE_BYTE_S = 3.5e-11
"""Per byte of the output of the fused passes, written."""

SEPARABLE_MEMORY_BYTE_S = 2.5e-11
"""Per byte of the input and output of the fused passes where together they exceed
`DIRECT_CACHE_BYTES`: read and written through memory."""

SEPARABLE_PASS_BYTE_S = 1.5e-10
"""Per byte of the input read and the output written by a pass along a single axis
(on the direct loops, which stream whole arrays through memory: 256³ and 128³ float32
volumes, 9 taps along the first axis)."""

SEPARABLE_SCAN_BYTE_S = 8e-11
"""Per byte of an int64 signal: the passes over its values that bound the sums."""

SEPARABLE_BLOCK = 2048
"""Output columns of one task of the fused passes: ``BLOCK`` in
``algorithms/_separable_kernels.py`` (a literal there, as `DIRECT_TAPS_PER_PASS`)."""

SEPARABLE_SLAB_BYTES = 2**22
"""The separable passes over a volume run a slab of output planes of about this many
bytes at a time: the intermediate between the pass along the first axis and the fused
passes stays in cache."""

SEPARABLE_CALL_S = 2e-5
"""Fixed cost of one call of the separable algorithm: the Python around the passes, the
factors looked up, the weights laid out, the compiled loops entered (a 32² image with
a 3×3 kernel: 22 us in all)."""

SEPARABLE_PARALLEL_MIN_S = 3e-4
"""The fused passes' tasks go to Python threads where their work is estimated at more
than this on one thread: two threads broke even at 0.2-0.3 ms (2-core Intel Xeon,
2026-12; 1.15x at 0.4 ms, 1.3x at 0.8 ms, 1.9x at 7 ms)."""

SEPARABLE_THREADS_S = 1e-4
"""Handing the fused passes' tasks to Python threads and waiting for them (measured:
80-110 us for 2 to 8 tasks of 5 us to 0.2 ms on two threads)."""

SEPARABLE_TASKS_PER_CPU = 4
"""Tasks per core the fused passes aim at (strips of output rows times column blocks)."""

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

NTT_TRANSFORM_FIXED = 1000
"""Fixed work of one transform of a block (copies, set-up), in butterflies: it keeps the
blocks from being tiny when the kernel is short. Measured (2-core Intel Xeon, 2026-12,
one thread): with 0,
kernels of 1 to 5 taps took blocks of 2 to 32 samples and ran 2.4-2.9x slower than
with 1000; 300 to 3000 were within 10% of each other."""

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

NTT_OBJECT_CALL_S = 1.2e-4
"""Fixed cost of one call on object arrays beyond `CALL_OVERHEAD_S_NTT`: limb tables,
Garner constants, the type scan (`NTT.run` on 100 Python ints of 150 bits, 2026-12)."""

NTT_PARALLEL_MIN = 1 << 16
"""PROVISIONAL: transform work (elements) below which the blocks run serially."""


# --- fft and overlap_save (algorithms/fft.py, overlap_save.py): scipy.fft (pocketfft) ---
# Line transforms measured on the 2-core Intel Xeon (2026-12, `scipy.fft` 1.x, one
# worker, best of 18 interleaved runs): batches of 2**19 points in lines of 256 to
# 16384 points, contiguous and strided (axis 0 of (n, 512)), and single lines of 2**12
# to 2**20 points. The cost per point grows as log2(n) in every form: a constant per
# point (the earlier model, fitted on a Zen 4) made 12000-point blocks look 2.2x cheaper
# than they ran, relative to 256-point ones, and overlap_save won s6 at 1.3x direct's time.

FFT_NS_PER_POINT_LOG2 = {"float32": 0.23, "float64": 0.42, "complex64": 0.37, "complex128": 0.74}
"""Nanoseconds per point and per log2(n) of lines transformed in SIMD groups of
`FFT_SIMD_LINES` (f32: 1.9 ns at 256 points, 3.4 ns at 16384)."""

FFT_NS_PER_POINT_LOG2_SINGLE = {
    "float32": 0.40,
    "float64": 0.55,
    "complex64": 0.77,
    "complex128": 0.80,
}
"""Nanoseconds per point and per log2(n) of a line transformed alone, in cache."""

FFT_SIMD_LINES = {"float32": 4, "float64": 2, "complex64": 4, "complex128": 2}
"""Lines pocketfft transforms at once in SIMD lanes."""

FFT_LINE_CACHE_BYTES = 2 * 2**20
"""A pass over more than this (one core's L2 here) gathers strided lines from memory,
and a single line larger than this runs from memory."""

FFT_STRIDED_FACTOR = {"cache": 1.2, "memory": 3.0}
"""Extra cost of gathering lines along a strided axis, for passes within and beyond
`FFT_LINE_CACHE_BYTES` (measured: 1.1-1.4x at (256, 512), 2.9-3.7x at (4096, 512))."""

FFT_OUT_OF_CACHE_FACTOR = 1.7
"""Slow-down of a single line larger than `FFT_LINE_CACHE_BYTES` (measured 1.3-2.0x at
2**20 points)."""

FFT_FOUR_STEP_MIN_BYTES = 2**19
"""Lines of at least this many bytes transform in four steps (`fft.four_step`).
Measured (2-core Zen 4, 2026-12, best of 7, one and two workers): from 512 KiB up
(2**16 float64, 2**17 float32, 2**15 complex128, 2**16 complex64 values), as fast as
`scipy.fft` or faster (2**21 float64: `rfft` 32.7 ms, four steps 16.2 on one worker
and 9.2 on two; 2**20 complex64: `fft` 15.0 ms, four steps 9.7 and 5.2); below,
no faster."""

FFT_FOUR_STEP_MIN_FACTOR = 16
"""The shortest factor of a four-step transform's length: with fewer values per row,
the passes over memory would outweigh what short transforms save."""

FFT_PASS_OVERHEAD_S = 5e-6
"""Fixed cost of one pass (one axis of one transform)."""

FFT_CACHE_BYTES = 12 * 2**20
"""Memory-bound passes (padding, products, copies) over more than this run from memory."""

FFT_PARALLEL_MIN_POINTS = 1 << 17
"""Points in a pass below which it runs on one thread."""

FFT_TOGETHER_MIN_POINTS = 1 << 16
"""Transform length above which a one-line signal's and kernel's transforms run on
two threads at once (`algorithms/fft.forwards_together`): at 2**16 and below,
handing one to a second thread cost as much as it saved (2**17: 2.2 ms against
2.6 ms; 2**21, s5: 90 ms against 117 ms)."""

FFT_PARALLEL_EFFICIENCY = 0.85
"""Speed-up of each extra thread, as a fraction of one."""

FFT_THREAD_START_S = 6e-5
"""Cost of starting pocketfft's threads for one pass."""

FFT_BYTES_PER_S = {"cache": 120e9, "memory": 30e9}
"""Bandwidth of the memory-bound passes (padding, spectrum product, copying out)."""

FFT_CALL_OVERHEAD_S = 3e-5
"""Fixed cost of one call of either transform algorithm."""

FFT_BLOCK_BYTES = 16 * 2**20
"""A channel sum over a bank of kernels (a layer's filters) transforms its kernels in
blocks whose spectra stay under this size, each multiplied and transformed back in
turn: the workspace stays bounded (n7's 16 × 16 kernels of 1025 taps on 65536-sample
signals held 69 MiB of kernel spectra at once; in blocks of 4 filters, the same time)."""

OS_GROUP_BYTES = 2 * 2**20
"""Workspace of one group of overlap-save frames (they are transformed together).
Groups of 1-2 MiB ran 1.4x faster than 8 MiB ones on 2 threads (1e6 f64 samples, 1001
taps, 2-core Intel Xeon, 2026-12): a group stays in its core's cache, and more groups
share out evenly."""

OS_GROUP_OVERHEAD_S = 3e-5
"""Fixed cost per group of frames."""

OS_THREADS_MIN_S = 5e-4
"""Groups of frames whose work is estimated at more than this (one thread) are shared
out over Python threads, each transforming its groups on one thread, so that products
and copies run in parallel too; shorter work leaves the threads to scipy.fft. Measured
(2 threads, 2-core Intel Xeon, 2026-12): 1e6 f64 samples with 1001 taps 1.6x faster,
1e5 with 257 taps (3 groups, 0.74 ms estimated) 1.3x, 5e4 (2 groups, 0.4 ms) no faster."""

OS_THREAD_S = 1.5e-5
"""Handing groups to the other threads and waiting for them (measured: 15 us)."""

OS_MAX_BLOCK_EXTENTS = 12
"""Longest block, in kernel extents. The model's transform cost per point does not grow
with the length, but batched transforms' does (about as log2 of it; 2-core Intel Xeon,
2026-12):
blocks of 8-12 extents ran 1.1-1.4x faster than the longer ones the model preferred
(1e6 f64 with 300 and 1001 taps, 2e6 f32 with 64 and 4096, 256 x 16384 f32 with 128)."""

OS_MIN_BLOCK = 64
"""Shortest block considered."""

OS_MIN_RATIO = 4
"""Blocked axes are those where the signal is at least this many times the kernel."""


# --- lanes_fft (algorithms/lanes_fft.py): compiled transforms, a frame per SIMD lane ---
# Fitted to whole calls on one thread (2-core AMD EPYC, Zen 4, AVX-512, 2026-12):
# 1e6 f64 with 1001 taps (B = 8192: 369 us a group), 1e7 f32 with 4096 (B = 32768:
# 2.1 ms), 256 x 16384 f32 with 128 (B = 2048: 98 us); frames in cache: 3.1 ns (f64)
# and 5.2 ns (f32) a point and log2 at B = 4096.

LANES_NS_PER_POINT_LOG2 = {"float32": 4.3, "float64": 3.5}
"""Nanoseconds per point of a group's ``B``-point lines and per ``log2 B``: copying the
group's frames in, both transforms, the product and copying its outputs out."""

LANES_CACHE_POINTS = 4096
"""Stages of up to this many points touch only runs of that many (512 KiB of a group's
buffer), so they run on one run at a time, forward, product and back, while it is in
cache."""

LANES_CACHE_BYTES = 2 * 2**20
LANES_SPILL_PER_DOUBLING = 0.3
"""A thread's buffers larger than the first (a core's second-level cache and some of
the third) cost the second more per doubling: 1e7 f32 with 4096 taps took 19.2 ms in
frames of 16384 (2 MiB) and 20.0 in frames of 32768 (4 MiB), where the model without
it preferred the second; 1e6 f64 with 1001 taps 3.05, 4.12 and 5.34 ms in frames of
8192, 32768 and 65536 (1, 4 and 8 MiB), one thread."""

LANES_MIN_BLOCK = 64
LANES_MAX_BLOCK = 2**16
"""Frames of lines considered: the powers of two from twice the kernel's extent (at
least the first) up to the second, whose group buffer takes 8 MiB."""

LANES_MAX_TILE = 2**16
"""Points of the largest tile of an image considered (256 x 256: two buffers of 512
KiB in float32)."""

LANES_TILE_FACTOR = 1.3
"""A pair of tiles' work beside lines' of as many points: laying the pair out by
columns and back by rows."""


# --- limbs (algorithms/limbs.py): Python ints as int64 limb planes, compiled sums ---
# Fitted to `Limbs.run` on one thread (2-core Intel Xeon, AVX-512, 2026-12, best of 5):
# 1-D signals of 100 to 30000 Python ints of 150 bits (five 32-bit limbs), kernels of
# 5 to 100 small ints, mode "full", with and without negative values: measured times
# were 1.0-1.2 of the model with both signs, 0.7-0.95 without (their bytes convert
# faster).

LIMBS_S_PER_VALUE_IN = 1.5e-7
"""Seconds per value converted to limbs (``int.to_bytes`` into one buffer, NumPy after)."""

LIMBS_S_PER_VALUE_OUT = 1.3e-7
"""Seconds per output converted back to a Python int (``int.from_bytes`` per value)."""

LIMBS_S_PER_TERM = 1.5e-10
"""Seconds per multiply-add of one plane product, one thread."""

LIMBS_OBJECT_PLANES = 5
"""Plane products assumed for object specs, whose magnitudes only `run` sees (as
`NTT_OBJECT_PRIMES`: five 32-bit limbs, results to about 150 bits)."""

LIMBS_PARALLEL_MIN = 1 << 24
"""Multiply-adds (terms times plane products; about 4 ms on one thread) below which
the sums run on one thread. Two threads halve the time on an idle machine (from 0.5M
multiply-adds up), but a parallel launch next to another busy process stalled for about
8 ms (2026-12): only work of several milliseconds risks it."""

LIMBS_CALL_OVERHEAD_S = 5e-5
"""Fixed cost of one call: the type scan, the layout, allocations."""
