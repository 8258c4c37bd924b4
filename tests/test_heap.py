"""convolib keeps freed buffers of a few MiB in the heap, and the memory of large
outputs in mappings of its own (``convolib._heap``)."""

import platform
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import convolib
from convolib import _heap

FAULTS_OF_FREED_BUFFERS = """
import resource
import numpy as np
{setup}

def faults():
    # a block's buffers: three of 1 MiB at once (over malloc's first mmap threshold,
    # under NumPy's huge pages), all freed at the end
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    buffers = [np.ones(2**20, np.uint8) for _ in range(3)]
    del buffers
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults()
print(min(faults() for _ in range(5)))
"""


def faults_per_block(setup: str) -> int:
    code = FAULTS_OF_FREED_BUFFERS.format(setup=setup)
    return int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc thresholds")
def test_a_planned_call_keeps_freed_buffers_in_the_heap():
    # A fresh process gives the freed buffers back and faults them in anew (hundreds of pages
    # of 4 KiB); after convolib's first call they are reused from the heap.
    assert faults_per_block("") >= 300
    call = "import convolib; convolib.convolve(np.ones(8), np.ones(3))"
    assert faults_per_block(call) <= 8


# --- outputs of 30 MiB or more come from kept mappings ---------------------------------

BIG = (4096, 2100)  # float32: just over KEPT_MIN_BYTES


def address(y: np.ndarray) -> int:
    return y.__array_interface__["data"][0]


def test_large_outputs_reuse_the_memory_of_dropped_ones():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal(BIG).astype(np.float32), rng.standard_normal((3, 3))
    k = k.astype(np.float32)
    first = convolib.convolve(x, k, "same")
    assert first.nbytes >= _heap.KEPT_MIN_BYTES
    where = address(first)
    del first
    again = convolib.convolve(x, k, "same")
    assert address(again) == where
    assert np.array_equal(again, convolib.convolve(x, k, "same", method="direct"))


def test_an_output_in_use_is_never_handed_out_again():
    """A result, or a view of it, keeps its memory: later results go elsewhere and
    leave its values as they were."""
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal(BIG).astype(np.float32), np.ones((1, 1), np.float32)
    kept = convolib.convolve(x, k, "same")
    view = convolib.convolve(2 * x, k, "same")[::3, 1:]
    others = [convolib.convolve(x + i, k, "same") for i in range(3)]
    assert len({address(kept), address(view.base), *map(address, others)}) == 5
    assert np.array_equal(kept, x) and np.array_equal(view, (2 * x)[::3, 1:])


def test_kept_outputs_are_counted_by_tracemalloc_and_limited():
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        arrays = [_heap.empty(BIG, np.float32) for _ in range(_heap.KEPT_BLOCKS + 2)]
        counted = tracemalloc.get_traced_memory()[0] - before
        assert counted >= len(arrays) * arrays[0].nbytes
        del arrays
        assert tracemalloc.get_traced_memory()[0] - before < 2**20
    finally:
        tracemalloc.stop()
    assert len(_heap._idle) <= _heap.KEPT_BLOCKS
    assert sum(m.size for m in _heap._idle) <= _heap.KEPT_BYTES


def test_small_and_object_arrays_are_numpys_own():
    for shape, dtype in [((3, 4), np.float64), ((2**22 + 1,), object)]:
        y = _heap.empty(shape, dtype)
        assert y.flags.owndata and y.shape == shape and y.dtype == dtype


def test_an_output_that_cannot_be_mapped_is_numpys_own(monkeypatch):
    def refuse(size):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(_heap, "_Mapping", refuse)
    monkeypatch.setattr(_heap, "_idle", [])  # none kept from other tests
    y = _heap.empty(BIG, np.float32)
    assert y.flags.owndata and y.shape == BIG


def test_the_allocator_of_small_outputs_is_numpys_own():
    """Small calls pay nothing for the choice: their allocator is ``np.empty`` itself."""
    small, large = _heap.allocator((64, 64), np.float32), _heap.allocator(BIG, np.float32)
    assert small.func is np.empty and small().shape == (64, 64)
    assert large.func is _heap._mapped and not large().flags.owndata


def test_threads_take_and_return_kept_mappings_safely():
    """Three threads each make and drop large results in turn: every result is right,
    whatever mapping it got, and the pool stays within its limits."""
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal(BIG).astype(np.float32) for _ in range(2)]
    k = np.full((1, 1), 2, np.float32)
    wrong: list[tuple[int, int]] = []

    def work(t: int) -> None:
        for r in range(6):
            x = xs[(t + r) % 2]
            y = convolib.convolve(x, k, "same", workers=1)
            if not np.array_equal(y, 2 * x):
                wrong.append((t, r))
            del y

    pool = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not wrong
    assert len(_heap._idle) <= _heap.KEPT_BLOCKS
