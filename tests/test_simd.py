"""The compiled loops that do the arithmetic ask LLVM for 512-bit vectors
(`convolib.algorithms._simd`), which it otherwise leaves unused on AVX-512 CPUs."""

import subprocess
import sys

import numba as nb
import numpy as np
import pytest
from llvmlite import binding

from convolib.algorithms import (
    _direct_kernels,
    _direct_sum_kernels,
    _interleaved_kernels,
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
    "direct_sum": (_direct_sum_kernels._tiles, (f8, 0, i8, 0, 0, f8, 0, f8, 0, 0, 0)),
    "interleaved": (  # no output columns: nothing to sum
        _interleaved_kernels._sums,
        (f8, f8, _interleaved_kernels.geometry((1,), (1,), (0,), (0,), (1,), (1,), 0), f8),
    ),
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


@nb.njit
def _lanes(x):
    return _simd.lanes(x)


@nb.njit
def _copy(x, y):
    step = _simd.lanes(x)
    for i in range(0, x.size, step):
        _simd.store(y, i, _simd.load(x, i))


@nb.njit
def _fused(a, b, c, out):
    _simd.store(out, 0, _simd.fma(_simd.load(a, 0), _simd.load(b, 0), _simd.load(c, 0)))


@nb.njit
def _scaled(x, i, y, out):
    _simd.store(out, 0, _simd.fma(_simd.splat(x, i), _simd.load(y, 0), _simd.zeros(y)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectors_hold_64_bytes_and_load_and_store_them(dtype):
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    assert _lanes(np.zeros(1, dtype)) == lanes
    x = np.arange(3 * lanes, dtype=dtype) - 7.5
    y = np.zeros_like(x)
    _copy(x, y)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_splat_fills_every_lane_and_fma_multiplies_lane_by_lane(dtype):
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    x, y = np.array([2.0, 3.0, 5.0], dtype), np.arange(lanes, dtype=dtype)
    out = np.zeros(lanes, dtype)
    _scaled(x, 2, y, out)
    np.testing.assert_array_equal(out, 5 * y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_rounds_once(dtype):
    # (1 + e)² - (1 + 2e) = e² exactly, for e half the precision: a product rounded
    # before the sum loses e² (its tie rounds to even), a fused one keeps it
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    e = dtype(2.0) ** -(np.finfo(dtype).nmant // 2 + 1)
    a = np.full(lanes, 1 + e, dtype)
    c = np.full(lanes, -(1 + 2 * e), dtype)
    assert (a * a + c == 0).all()  # NumPy rounds the product first
    out = np.zeros(lanes, dtype)
    _fused(a, a, c, out)
    np.testing.assert_array_equal(out, np.full(lanes, e * e, dtype))


def test_vectors_refuse_arrays_they_cannot_hold():
    with pytest.raises(nb.core.errors.TypingError, match="floating-point"):
        _copy(np.zeros(16, np.int64), np.zeros(16, np.int64))
    with pytest.raises(nb.core.errors.TypingError, match="1-D contiguous"):
        _copy(np.zeros((4, 16)), np.zeros((4, 16)))


@nb.njit
def _evens(x, i, y):
    _simd.store(y, 0, _simd.load_evens(x, i))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_evens_reads_every_second_value_of_two_vectors(dtype):
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    x = np.arange(1, 2 * lanes + 8, dtype=dtype) * 1.5
    for start in (0, 3, np.uint64(7)):  # the loops' unsigned indices too
        y = np.zeros(lanes, dtype)
        _evens(x, start, y)
        np.testing.assert_array_equal(y, x[int(start) : int(start) + 2 * lanes : 2])
    with pytest.raises(nb.core.errors.TypingError, match="floating-point"):
        _evens(np.zeros(64, np.int64), 0, np.zeros(64, np.int64))


@nb.njit
def _copied(dst, at, src, start, count):
    _simd.copy(dst, at, src, start, count)


@nb.njit
def _cleared(dst, at, count):
    _simd.copy(dst, at, None, 0, count)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.complex128])
def test_copy_writes_one_run_and_nothing_else(dtype):
    src, dst = np.arange(1, 21).astype(dtype), np.full(20, -1, dtype)
    expected = dst.copy()
    _copied(dst, 3, src, 5, 7)
    expected[3:10] = src[5:12]
    np.testing.assert_array_equal(dst, expected)
    _cleared(dst, np.uint64(8), np.uint64(4))  # the loops' unsigned indices
    expected[8:12] = 0
    np.testing.assert_array_equal(dst, expected)
    _copied(dst, 0, src, 0, 0)
    _cleared(dst, 19, 0)
    np.testing.assert_array_equal(dst, expected)


def test_copy_refuses_arrays_of_other_types_or_shapes():
    with pytest.raises(nb.core.errors.TypingError, match="one type"):
        _copied(np.zeros(4), 0, np.zeros(4, np.float32), 0, 4)
    with pytest.raises(nb.core.errors.TypingError, match="1-D contiguous"):
        _cleared(np.zeros((2, 2)), 0, 4)


@nb.njit
def _transposed(tile):
    _simd.transpose(tile)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_turns_a_square_tile_of_vectors_over_in_place(dtype):
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    tile = np.arange(lanes * lanes + 3, dtype=dtype)
    _transposed(tile)
    square = np.arange(lanes * lanes, dtype=dtype).reshape(lanes, lanes)
    np.testing.assert_array_equal(tile[: lanes * lanes].reshape(lanes, lanes), square.T)
    np.testing.assert_array_equal(tile[lanes * lanes :], np.arange(3) + lanes * lanes)


@nb.njit
def _transposed_copy(dst, at, dst_step, src, start, src_step):
    _simd.transposed_copy(dst, at, dst_step, src, start, src_step)


@pytest.mark.parametrize(("dst_step", "src_step"), [(None, None), (37, 23), (64, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transposed_copy_writes_the_tile_read_turned_over(dtype, dst_step, src_step):
    """Rows ``src_step`` apart (any step; a tile's own width when None) come out as
    columns, written as rows ``dst_step`` apart; nothing else in ``dst`` changes."""
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    dst_step, src_step = dst_step or lanes, src_step or lanes
    src = np.arange(3 + lanes * src_step + lanes, dtype=dtype)
    dst = np.full(5 + lanes * dst_step + lanes, -1, dtype)
    _transposed_copy(dst, 5, dst_step, src, 3, src_step)
    read = np.stack([src[3 + i * src_step : 3 + i * src_step + lanes] for i in range(lanes)])
    expected = np.full_like(dst, -1)
    for j in range(lanes):
        expected[5 + j * dst_step : 5 + j * dst_step + lanes] = read[:, j]
    np.testing.assert_array_equal(dst, expected)


def _copier(store_first):
    @nb.njit
    def copy_first(x, i, count, y, j):
        store_first(y, j, _simd.load_first(x, i, count), count)

    return copy_first


_COPIERS = {
    "masked": _copier(_simd._store_first_masked),
    "in parts": _copier(_simd._store_first_in_parts),
}


@nb.njit
def _store_loaded_first(x, i, count, y):
    _simd.store(y, 0, _simd.load_first(x, i, count))


@pytest.mark.parametrize("store", _COPIERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_vectors_move_only_their_first_lanes(dtype, store):
    """Every count a store in parts splits differently, and counts outside 0 .. lanes
    (none or all lanes)."""
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    x = np.arange(1, 3 * lanes + 1, dtype=dtype)
    for count in (-3, *range(lanes + 1)):
        y = np.full(3 * lanes, -1, dtype)
        _COPIERS[store](x, 3, count, y, 5)
        expected = np.full(3 * lanes, -1, dtype)
        kept = max(count, 0)
        expected[5 : 5 + kept] = x[3 : 3 + kept]
        np.testing.assert_array_equal(y, expected)
    whole = np.full(lanes, -1, dtype)
    _store_loaded_first(x, 2, 3, whole)
    np.testing.assert_array_equal(whole, np.r_[x[2:5], np.zeros(lanes - 3, dtype)])


@nb.njit
def _loaded_first_if(masked, x, i, count, y):
    _simd.store(y, 0, _simd.load_first_if(masked, x, i, count))


@nb.njit
def _fused_if(flag, a, b, c, out):
    _simd.store(out, 0, _simd.fma_if(flag, _simd.load(a, 0), _simd.load(b, 0), _simd.load(c, 0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_first_if_masks_only_where_asked_and_fma_if_adds_only_where_asked(dtype):
    lanes = _simd.VECTOR_BYTES // np.dtype(dtype).itemsize
    x = np.arange(1, 3 * lanes + 1, dtype=dtype)
    for count in (-5, 0, 3, lanes, lanes + 9):  # outside 0 .. lanes: none or all lanes
        kept = min(max(count, 0), lanes)
        y = np.full(lanes, -1, dtype)
        _loaded_first_if(True, x, 2, count, y)
        np.testing.assert_array_equal(y, np.r_[x[2 : 2 + kept], np.zeros(lanes - kept, dtype)])
        _loaded_first_if(False, x, 2, count, y)
        np.testing.assert_array_equal(y, x[2 : 2 + lanes])
    a, b, c = x[:lanes], x[lanes : 2 * lanes], x[2 * lanes :]
    out = np.zeros(lanes, dtype)
    _fused_if(True, a, b, c, out)
    np.testing.assert_array_equal(out, a * b + c)
    _fused_if(False, a, b, c, out)
    np.testing.assert_array_equal(out, c)


GUARD_PAGE = """
import ctypes, mmap, numpy as np, numba as nb
from convolib.algorithms import _simd
page = mmap.PAGESIZE
memory = mmap.mmap(-1, 2 * page)
base = ctypes.addressof(ctypes.c_char.from_buffer(memory))
assert ctypes.CDLL(None).mprotect(ctypes.c_void_p(base + page), page, 0) == 0
x = np.frombuffer(memory, np.float32, count=page // 4)  # the page before the guard

@nb.njit
def copy(x, i, count, y):
    STORE(y, 0, _simd.load_first(x, i, count), count)
    STORE(x, i, _simd.load_first(y, 0, count), count)

y = np.zeros(16, np.float32)
x[-3:] = 7
copy(x, x.size - 3, 3, y)
print(y[:4].tolist())
"""


@pytest.mark.parametrize("store", ["_store_first_masked", "_store_first_in_parts"])
def test_masked_vectors_touch_no_memory_past_their_lanes(store):
    """Three values at the end of a page followed by one that may not be read or
    written: a masked load and a store of them (masked or in parts) must not fault."""
    script = GUARD_PAGE.replace("STORE", f"_simd.{store}")
    run = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[7.0,", "7.0,", "7.0,", "0.0]"]
