"""What numbers the computation uses: input dtypes, the accumulator, the output.

Rules, each written once here:

* bool and integer inputs accumulate in int64 and give exact int64 results; if the
  exact result might not fit, the call raises (never wraps);
* object arrays (Python ints, ``Fraction``) are computed with Python arithmetic;
* float16 computes in float32 and returns float16; other floats and complex
  numbers compute and return in ``np.result_type`` of the inputs;
* ``out_dtype`` narrows explicitly: integers saturate, floats round to nearest first.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from .errors import ArgumentTypeError, ExactOverflowError, bad_argument

INT64_MAX = int(np.iinfo(np.int64).max)
_EXACT_KINDS = "biu"


def as_operand(arg: str, value: object) -> np.ndarray:
    """``value`` as an ndarray of a numeric dtype, or a clear error.

    >>> as_operand("x", [1, 2]).dtype
    dtype('int64')
    """
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists and the like
        raise bad_argument(
            arg,
            value,
            f"could not be read as an array ({err})",
            "pass an ndarray or a rectangular nested list of numbers",
            cls=ArgumentTypeError,
        ) from None
    kind = a.dtype.kind
    if kind in "biufc":
        return a
    if kind == "O":
        odd = [t for t in set(map(type, a.reshape(-1).tolist())) if not _is_number_type(t)]
        if not odd:
            return a
        index, item = next((i, v) for i, v in np.ndenumerate(a) if type(v) in odd)
        raise bad_argument(
            arg,
            item,
            f"object arrays must hold numbers (int, Fraction, float); "
            f"found a {type(item).__name__} at index {index}",
            cls=ArgumentTypeError,
        )
    raise bad_argument(
        f"{arg}.dtype",
        a.dtype,
        "must be numeric: bool, integer, floating, complex or object holding numbers",
        "convert the data to numbers first",
        cls=ArgumentTypeError,
    )


@functools.cache
def _is_number_type(t: type) -> bool:
    return issubclass(t, numbers.Number | np.bool_)


def compute_dtype(x: np.dtype, k: np.dtype) -> np.dtype:
    """The dtype the sum is accumulated in.

    >>> compute_dtype(np.dtype("uint8"), np.dtype("bool"))
    dtype('int64')
    """
    if "O" in (x.kind, k.kind):
        return np.dtype(object)
    if x.kind in _EXACT_KINDS and k.kind in _EXACT_KINDS:
        return np.dtype(np.int64)
    result = np.result_type(x, k)
    if result == np.float16:
        return np.dtype(np.float32)
    return result


def default_out_dtype(x: np.dtype, k: np.dtype) -> np.dtype:
    """The dtype returned when ``out_dtype`` is not given."""
    acc = compute_dtype(x, k)
    if acc.kind == "f" and np.result_type(x, k) == np.float16:
        return np.dtype(np.float16)
    return acc


def check_out_dtype(value: object, acc: np.dtype) -> np.dtype:
    """Validate ``out_dtype`` against the accumulator dtype ``acc``."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise bad_argument(
            "out_dtype",
            value,
            "is not a NumPy dtype",
            "pass e.g. np.uint8 or 'float32'",
            cls=ArgumentTypeError,
        ) from None
    if dtype.kind not in "iufcO":
        raise bad_argument(
            "out_dtype",
            dtype,
            "must be an integer, floating, complex or object dtype",
            cls=ArgumentTypeError,
        )
    if acc.kind == "c" and dtype.kind not in {"c", "O"}:
        raise bad_argument(
            "out_dtype",
            dtype,
            "would discard the imaginary part of a complex result",
            "pass a complex dtype, or take np.real() of the result yourself",
        )
    return dtype


def cast_output(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Narrow the accumulated result to ``dtype``: saturating for integers."""
    if y.dtype == dtype:
        return y
    if dtype.kind in "iu":
        return _saturate(y, dtype)
    return y.astype(dtype)


def _saturate(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    if y.dtype.kind == "O":  # Python numbers: round and clip exactly
        return np.vectorize(lambda v: min(max(round(v), info.min), info.max), otypes=[dtype])(y)
    if y.dtype.kind in "iu":
        low = max(info.min, int(np.iinfo(y.dtype).min))
        high = min(info.max, int(np.iinfo(y.dtype).max))
        return np.clip(y, low, high).astype(dtype)
    y = np.rint(y.real)
    if np.isnan(y).any():
        raise bad_argument(
            "out_dtype",
            dtype,
            "cannot hold the NaN values in this result",
            "use a floating out_dtype, or replace NaNs in the inputs",
        )
    # float(info.max) rounds up for 64-bit types, so compare before casting, not clip.
    high, low = y >= float(info.max), y <= float(info.min)
    out = np.where(high | low, 0, y).astype(dtype)
    out[high], out[low] = info.max, info.min
    return out


def _max_abs_bound(a: np.ndarray) -> int:
    """An upper bound on ``|a|`` from the dtype alone."""
    if a.dtype.kind == "b":
        return 1
    info = np.iinfo(a.dtype)
    return max(-int(info.min), int(info.max))


def max_abs(a: np.ndarray) -> int:
    """An upper bound on ``|a|`` for an integer or bool array: from the dtype where it
    is at most 32 bits wide, else from the values (a pass over them).

    >>> max_abs(np.zeros(3, np.uint8)), max_abs(np.array([5, -7]))
    (255, 7)
    """
    if a.size == 0:
        return 0
    if a.dtype.itemsize <= 4:
        return _max_abs_bound(a)
    return max(int(a.max()), -int(a.min()))


def exact_in_float(bound: int, dtype: object) -> bool:
    """Whether integer sums are exact in the float ``dtype`` when every term and partial
    sum is at most ``bound`` in magnitude: the dtype holds every integer up to
    ``2**(significand bits)``, so no product or sum rounds (float32: 2**24).

    >>> exact_in_float(255 * 25, np.float32), exact_in_float(2**53 + 1, np.float64)
    (True, False)
    """
    return bound <= 2 ** (np.finfo(dtype).nmant + 1)  # type: ignore[arg-type]


def int64_sums_fit(
    signal: np.ndarray, kernel: np.ndarray, n_axes: int, fill_value: object = 0
) -> bool:
    """Whether every partial sum of the correlation provably fits in int64.

    The bound is ``max|signal| * max over kernels of sum|kernel|``, which no partial
    sum exceeds. The dtypes alone usually prove it; wide integer inputs need a pass
    over the values.
    """
    terms = math.prod(kernel.shape[kernel.ndim - n_axes :])
    fill = abs(int(fill_value))  # type: ignore[call-overload]
    if max(_max_abs_bound(signal), fill) * terms * _max_abs_bound(kernel) <= INT64_MAX:
        return True
    if signal.size == 0 or kernel.size == 0:
        return True
    conv_axes = tuple(range(kernel.ndim - n_axes, kernel.ndim))
    max_x = max(int(signal.max()), -int(signal.min()), fill)
    if max_x * float(np.abs(kernel.astype(np.float64)).sum(axis=conv_axes).max()) <= 2.0**62:
        return True  # far enough below 2**63 for float rounding not to matter
    sums = np.sum(np.abs(kernel.astype(object)), axis=conv_axes)
    return max_x * int(np.max(sums)) <= INT64_MAX


def exact_int64(y: np.ndarray) -> np.ndarray:
    """Python-int results as int64, or `ExactOverflowError` if one does not fit."""
    if y.size:
        low, high = min(y.flat), max(y.flat)
        if low < -INT64_MAX - 1 or high > INT64_MAX:
            worst = high if high > INT64_MAX else low
            raise ExactOverflowError(
                f"x, k: the exact integer result holds {worst}, outside the int64 range, "
                f"and convolib never wraps. Pass x.astype(object) for exact Python ints, "
                f"or float64 inputs for a rounded result."
            )
    return y.astype(np.int64)
