"""convolib keeps freed buffers of a few MiB in the heap (``convolib._heap``)."""

import platform
import subprocess
import sys

import pytest

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
