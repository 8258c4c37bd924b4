"""The compiled loops that do the arithmetic ask LLVM for 512-bit vectors
(`convolib.algorithms._simd`), which it otherwise leaves unused on AVX-512 CPUs."""

import numba as nb
import numpy as np
import pytest
from llvmlite import binding

from convolib.algorithms import (
    _direct_kernels,
    _direct_sum_kernels,
    _separable_kernels,
    _simd,
    _winograd_kernels,
)

AVX512 = "+avx512f" in binding.get_host_cpu_features().flatten().split(",")


def _compiled(function, *args):
    """A fresh, uncached compilation of ``function`` for ``args`` (called on them: the
    arguments ask for no work), as its LLVM IR and assembly."""
    fresh = nb.njit(fastmath={"contract"})(function.py_func)
    fresh(*args)
    signature = fresh.signatures[0]
    return fresh.inspect_llvm(signature), fresh.inspect_asm(signature)


def _axpy(y, x, a):
    _simd.wide_vectors()
    for i in range(y.size):
        y[i] += a * x[i]


def test_wide_vectors_marks_the_function_it_is_compiled_into():
    y = np.zeros(64, np.float32)
    ir, asm = _compiled(nb.njit(_axpy), y, y, np.float32(1))
    for attribute in _simd.WIDE_ATTRIBUTES:
        assert attribute in ir
    if AVX512:
        assert "zmm" in asm  # 512-bit registers


f8, i8 = np.zeros(64), np.zeros(64, np.int64)
PASSES = {
    "direct": (_direct_kernels._add, (f8, 0, f8, i8, 0, f8, 0, 1, 0, 0, False)),
    "separable rows": (_separable_kernels._add, (f8, 0, f8, i8, 0, f8, 0, 1, 0, False)),
    "separable columns": (_separable_kernels._add4, (f8, f8, i8, f8, 0, 1, 0, False)),
    "direct_sum": (_direct_sum_kernels._pass, (f8, 0, i8, 0, f8, 0, f8, 0, 0, False)),
    "winograd input": (
        _winograd_kernels.transform_input,
        (f8, np.zeros(5, np.int64), np.zeros((6, 6)), f8, 1, 0, 0, 1, 0),
    ),
    "winograd output": (
        _winograd_kernels.transform_output,
        (f8, np.zeros((4, 6)), f8, np.zeros(3, np.int64), 1, 0, 0, 1, 0),
    ),
}


@pytest.mark.parametrize("name", sorted(PASSES))
def test_every_pass_over_the_outputs_is_compiled_with_wide_vectors(name):
    function, args = PASSES[name]
    ir, _ = _compiled(function, *args)
    assert _simd.WIDE_ATTRIBUTES[0] in ir
