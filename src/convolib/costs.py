"""The cost model's constants, in one place, with where each came from.

Throughputs are multiply-adds ("terms") per second per thread. They were measured
on the developer machine of record (AMD EPYC Zen 4, 2 cores, AVX-512; 2026-11-22)
with `measure` (``python -c "import convolib.costs as c; print(c.measure())"``),
which times each algorithm on a 512x512 image with a 7x7 kernel per dtype. They
only need to rank algorithms correctly; the performance issue replaces them by a
per-machine calibration.
"""

from __future__ import annotations

import math

import numpy as np

DIRECT_TERMS_PER_S = {
    "float32": 1.5e10,
    "float64": 1.1e10,
    "complex64": 8.5e9,
    "complex128": 4.0e9,
    "int64": 1.0e10,
}
"""The compiled direct loops (``algorithms/direct.py``), per accumulator dtype."""

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

MEMORY_FRACTION = 0.8
"""Share of the currently available memory a call may use for its output and
workspace before it is refused."""


def direct_seconds(terms: int, acc: np.dtype, workers: int) -> float:
    rate = DIRECT_TERMS_PER_S.get(acc.name)
    if rate is None:
        return math.inf
    used = workers if terms >= PARALLEL_MIN_TERMS else 1
    return CALL_OVERHEAD_S["direct"] + terms / (rate * used)


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


def measure() -> dict[str, dict[str, float]]:
    """Time the algorithms on a mid-sized 2-D problem and return terms per second.

    This is how the tables above were made.
    """
    import time

    from .algorithms import registry
    from .execute import prepare
    from .spec import build_spec
    from .threads import cpu_count

    workers = cpu_count()
    rng = np.random.default_rng(0)
    rates: dict[str, dict[str, float]] = {"direct": {}, "reference": {}}
    for acc in DIRECT_TERMS_PER_S:
        dtype = np.dtype(acc)
        x = rng.integers(-100, 100, (512, 512)).astype(dtype)
        k = rng.integers(-3, 4, (7, 7)).astype(dtype)
        spec = build_spec("correlate", x, k, "same")
        spec, signal, kernel = prepare(spec, x, k)
        for name, table in rates.items():
            algorithm = registry()[name]
            algorithm.run(spec, signal, kernel, workers)  # compile and warm up
            times = []
            for _ in range(5):
                start = time.perf_counter()
                algorithm.run(spec, signal, kernel, workers)
                times.append(time.perf_counter() - start)
            used = workers if name == "direct" else 1  # the reference is single-threaded
            table[acc] = spec.terms / (sorted(times)[2] * used)
    return rates
