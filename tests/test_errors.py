"""Every error a user can trigger: its class (convolib's and the builtin base) and a
message that names the argument, the rule, the value received, and the choices or fix.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

import convolib

X1 = np.arange(7.0)
K1 = np.array([1.0, 2.0, 3.0])
X2 = np.arange(20.0).reshape(4, 5)
K2 = np.ones((2, 3))


def raises(cls, base, func, *args, **kwargs) -> str:
    """Call ``func``, expect ``cls`` (also a ``base`` and a ConvolibError); the message."""
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    err = info.value
    assert isinstance(err, base), f"{type(err).__name__} is not a {base.__name__}"
    assert isinstance(err, convolib.ConvolibError)
    return str(err)


def contains(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in message: {message}"


# ------------------------------------------------------------------------------------ mode


@pytest.mark.parametrize("op", [convolib.convolve, convolib.correlate])
@pytest.mark.parametrize(("bad", "close"), [("sme", "same"), ("fulll", "full"), ("Valid", "valid")])
def test_unknown_mode_near_miss_suggests(op, bad, close):
    msg = raises(convolib.ArgumentError, ValueError, op, X1, K1, bad)
    contains(msg, "mode", repr(bad), "'full'", "'same'", "'valid'", f"Did you mean {close!r}?")


def test_unknown_mode_far_miss_lists_choices():
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "banana")
    contains(msg, "mode='banana'", "'full', 'same', 'valid'")
    assert "did you mean" not in msg.lower()


@pytest.mark.parametrize("bad", [3, None, b"same", ["same"], 1.5])
def test_non_string_mode_is_a_type_error(bad):
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, bad)
    contains(msg, f"mode={bad!r}", "string", "'full', 'same', 'valid'")


# -------------------------------------------------------------------------------- boundary


def test_unknown_boundary_near_miss_suggests():
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "same", boundary="reflct"
    )
    contains(msg, "boundary='reflct'", "'constant'", "'wrap'", "'circular'", "'reflect'?")


def test_unknown_boundary_lists_all_names():
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "same", boundary="xyz"
    )
    for name in ("constant", "edge", "reflect", "symmetric", "wrap", "zeros", "replicate"):
        contains(msg, repr(name))
    contains(msg, "boundary='xyz'", "circular")


@pytest.mark.parametrize(
    ("foreign", "ours"),
    [
        ("nearest", "edge"),  # scipy.ndimage
        ("mirror", "reflect"),  # scipy.ndimage: d c b | a b c d
        ("grid-mirror", "symmetric"),
        ("grid-wrap", "wrap"),
        ("fill", "constant"),  # scipy.signal.convolve2d
        ("symm", "symmetric"),
    ],
)
def test_other_libraries_boundary_names_suggest_ours(foreign, ours):
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "same", boundary=foreign
    )
    contains(msg, f"boundary={foreign!r}", f"boundary={ours!r}")


@pytest.mark.parametrize("bad", [0, None, ("edge",)])
def test_non_string_boundary_is_a_type_error(bad):
    msg = raises(
        convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, "same", boundary=bad
    )
    contains(msg, f"boundary={bad!r}", "'constant'", "string")


# ---------------------------------------------------------------------------------- method


def test_unknown_method_lists_registered_names():
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, method="fastest")
    contains(msg, "method='fastest'")
    for name in convolib.methods():
        contains(msg, repr(name))
    assert {"auto", "direct", "reference"} <= set(convolib.methods())


def test_method_near_miss_suggests():
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, method="drect")
    contains(msg, "Did you mean 'direct'?")


@pytest.mark.parametrize("bad", [None, 1, convolib.convolve])
def test_non_string_method_is_a_type_error(bad):
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, method=bad)
    contains(msg, "method=", "'auto'", "'direct'")


def test_forcing_direct_on_object_dtype_explains_why():
    x = np.array([1, 2, 3], object)
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, x, np.array([1, 1]), method="direct"
    )
    contains(msg, "method='direct'", "object", "method='auto'")
    # The planner's own choice works.
    assert convolib.convolve(x, np.array([1, 1])).tolist() == [1, 3, 5, 3]


def test_forcing_direct_on_four_convolved_axes_explains_why():
    x, k = np.ones((2, 2, 2, 2)), np.ones((1, 1, 1, 1))
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, x, k, method="direct")
    contains(msg, "method='direct'", "3", "4", "method='auto'")


def test_plan_reports_forced_method_errors_too():
    x = np.array([1, 2, 3], object)
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.plan, "convolve", x, x, method="direct"
    )
    contains(msg, "method='direct'", "object")


# ---------------------------------------------------------------------------------- shapes


def test_dimension_mismatch_names_both_ndims_and_the_fix():
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X2, K1)
    contains(msg, "k=(3,)", "x.ndim=2", "k.ndim=1", "k[None, :]")


def test_dimension_mismatch_other_way_round():
    msg = raises(convolib.ArgumentError, ValueError, convolib.correlate, X1, K2)
    contains(msg, "k=(2, 3)", "x.ndim=1", "k.ndim=2")


@pytest.mark.parametrize(("axes", "axis"), [(2, "2"), ([0, 5], "5"), (-3, "-3")])
def test_axes_out_of_range(axes, axis):
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X2, K2, axes=axes)
    contains(msg, f"axes={axes!r}", f"axis {axis} is out of range", "2-D", "[-2, 1]")


@pytest.mark.parametrize("axes", [(0, 0), [1, -1], (0, -2, 1)])
def test_repeated_axes(axes):
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X2, K2, axes=axes)
    contains(msg, f"axes={axes!r}", "more than once")


@pytest.mark.parametrize("axes", [[0.5], (0, 1.0), "0", [None], [True], [np.float64(1)]])
def test_non_int_axes_are_a_type_error(axes):
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, X2, K2, axes=axes)
    contains(msg, "axes=", "must hold ints")


@pytest.mark.parametrize("axes", [object(), 1.5, True])
def test_axes_of_the_wrong_kind(axes):
    x, k = np.ones((3, 3, 3)), np.ones((2, 2, 2))  # shapes used nowhere else
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, x, k, axes=axes)
    contains(msg, "axes=", "int")


@pytest.mark.parametrize(
    ("option", "valid", "invalid", "rule"),
    [
        ("axes", 0, 0.0, "ints"),
        ("axes", 0, False, "ints"),
        ("axes", 1, np.float64(1.0), "ints"),
        ("origin", 0, 0.0, "int"),
        ("origin", 0, False, "ints"),
        ("workers", 1, True, "an int"),
        ("workers", 1, 1.0, "an int"),
        ("tune", True, 1, "True, False or None"),
        ("tune", False, 0.0, "True, False or None"),
    ],
)
def test_an_option_of_the_wrong_type_is_rejected_even_after_a_valid_call(
    option, valid, invalid, rule
):
    # The type rule must not depend on what was called before: 0 == 0.0 == False and
    # they hash alike, so the cache of calls (`convolib.api`) must not answer for them.
    x, k = np.ones((4, 4)), np.ones((4, 1))
    convolib.convolve(x, k, **{option: valid})
    msg = raises(
        convolib.ArgumentTypeError, TypeError, convolib.convolve, x, k, **{option: invalid}
    )
    contains(msg, f"{option}=", rule)


@pytest.mark.parametrize(
    ("option", "valid", "invalid", "rule"),
    [
        ("stride", 2, 2.0, "ints (one per spatial axis)"),
        ("padding", 1, 1.0, "ints (one per spatial axis)"),
        ("dilation", 1, True, "ints (one per spatial axis)"),
        ("groups", 1, 1.0, "must be an int"),
        ("groups", 1, True, "must be an int"),
    ],
)
def test_a_layer_option_of_the_wrong_type_is_rejected_even_after_a_valid_call(
    option, valid, invalid, rule
):
    # as for convolve: `convolib.nn.conv` remembers its calls by signature too
    x, w = np.ones((1, 2, 6, 6)), np.ones((4, 2, 3, 3))
    convolib.nn.conv(x, w, **{option: valid})
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.nn.conv, x, w, **{option: invalid})
    contains(msg, f"{option}=", rule)


def test_batch_axes_must_broadcast():
    x, k = np.ones((3, 5)), np.ones((2, 2))
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, x, k, axes=[1])
    contains(msg, "k=(2, 2)", "axis 0", "not convolved", "x.shape=(3, 5)", "axis 0 to axes")


@pytest.mark.parametrize("op", [convolib.convolve, convolib.correlate])
def test_valid_mode_needs_one_input_at_least_as_large(op):
    x, k = np.ones((5, 3)), np.ones((3, 5))
    msg = raises(convolib.ArgumentError, ValueError, op, x, k, "valid")
    contains(msg, "mode='valid'", "at least as large", "(5, 3)", "(3, 5)", "mode='full'")


# ------------------------------------------------------------------------------ fill_value


@pytest.mark.parametrize("bad", [[1, 2], np.array([0.0, 1.0]), "a", None, {"v": 1}])
def test_fill_value_must_be_a_single_number(bad):
    msg = raises(
        convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, "same", fill_value=bad
    )
    contains(msg, "fill_value=", "single number")


def test_complex_fill_value_for_real_inputs():
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "same", fill_value=1j
    )
    contains(msg, "fill_value=1j", "complex", "real", "float64")


@pytest.mark.parametrize("bad", [0.5, float("nan"), float("inf"), 1e-9])
def test_integer_inputs_need_an_integer_fill_value(bad):
    x, k = np.arange(5), np.array([1, 2, 1])
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, x, k, "same", fill_value=bad
    )
    contains(msg, f"fill_value={bad!r}", "integer", "float inputs")


@pytest.mark.parametrize("boundary", ["edge", "reflect", "symmetric", "wrap", "circular"])
def test_fill_value_only_with_constant_boundary(boundary):
    msg = raises(
        convolib.ArgumentError,
        ValueError,
        convolib.convolve,
        X1,
        K1,
        "same",
        boundary=boundary,
        fill_value=2.0,
    )
    contains(msg, "fill_value=2.0", "boundary='constant'", repr(boundary))


def test_fill_value_contradicts_zeros():
    msg = raises(
        convolib.ArgumentError,
        ValueError,
        convolib.convolve,
        X1,
        K1,
        "same",
        boundary="zeros",
        fill_value=3,
    )
    contains(msg, "fill_value=3", "zeros", "boundary='constant'")


# ---------------------------------------------------------------------------------- origin


@pytest.mark.parametrize(
    ("k", "origin", "interval"),
    [
        (np.ones(3), 2, "[-1, 1]"),
        (np.ones(3), -2, "[-1, 1]"),
        (np.ones(4), 2, "[-2, 1]"),  # even kernel: lo = m//2 + origin must be in [0, m-1]
        (np.ones(1), 1, "[0, 0]"),
    ],
)
def test_origin_off_the_kernel(k, origin, interval):
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, k, "same", origin=origin
    )
    contains(msg, f"origin={origin}", "off the kernel", interval)


def test_origin_off_the_kernel_reports_the_axis():
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X2, K2, "same", origin=(0, 2)
    )
    contains(msg, "origin=(0, 2)", "axis 1", "[-1, 1]")


@pytest.mark.parametrize("mode", ["full", "valid"])
def test_origin_only_in_same_mode(mode):
    msg = raises(convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, mode, origin=1)
    contains(msg, "origin=1", "mode='same'", repr(mode))


@pytest.mark.parametrize("origin", [(1, 0), (0, 0, 0), ()])
def test_origin_needs_one_value_per_axis(origin):
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.convolve, X1, K1, "same", origin=origin
    )
    contains(msg, f"origin={origin!r}", "one value per convolved axis (1)")


@pytest.mark.parametrize("origin", [0.5, "1", [1.0], [True], True])
def test_origin_must_hold_ints(origin):
    x, k = np.ones(6), np.ones(5)  # shapes used nowhere else
    msg = raises(
        convolib.ArgumentTypeError, TypeError, convolib.convolve, x, k, "same", origin=origin
    )
    contains(msg, "origin=", "int")


@pytest.mark.parametrize(("valid", "invalid"), [(1, 1.0), (1, True), (-1, np.float64(-1.0))])
def test_non_int_origin_rejected_even_after_a_valid_call(valid, invalid):
    x, k = np.ones(9), np.ones(3)
    convolib.convolve(x, k, "same", origin=valid)
    msg = raises(
        convolib.ArgumentTypeError, TypeError, convolib.convolve, x, k, "same", origin=invalid
    )
    contains(msg, "origin=", "int")


# ---------------------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "bad",
    [
        np.array(["a", "b"]),
        ["a", "b"],
        np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
        np.array([1, 2], dtype="timedelta64[s]"),
        np.zeros(2, dtype=[("a", "f8")]),
    ],
)
@pytest.mark.parametrize("which", ["x", "k"])
def test_non_numeric_dtypes(bad, which):
    args = (bad, K1) if which == "x" else (X1, bad)
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, *args)
    dtype = np.asarray(bad).dtype
    contains(msg, f"{which}.dtype=", repr(dtype), "numeric", "object")


@pytest.mark.parametrize("item", ["a", None, [1], b"1"])
@pytest.mark.parametrize("which", ["x", "k"])
def test_object_arrays_must_hold_numbers(item, which):
    bad = np.empty(3, object)
    bad[:] = [1, 2, 3]
    bad[1] = item
    args = (bad, K1) if which == "x" else (X1, bad)
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.correlate, *args)
    contains(msg, f"{which}=", "object arrays must hold numbers", type(item).__name__, "(1,)")


@pytest.mark.parametrize("which", ["x", "k"])
def test_ragged_lists(which):
    ragged = [[1, 2], [3]]
    args = (ragged, [[1]]) if which == "x" else ([[1, 2]], ragged)
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, *args)
    contains(msg, f"{which}=[[", "could not be read as an array", "rectangular")


# ------------------------------------------------------------------------------- out_dtype


@pytest.mark.parametrize("bad", ["foo", "float33", object()])
def test_out_dtype_not_a_dtype(bad):
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, out_dtype=bad)
    contains(msg, "out_dtype=", "not a NumPy dtype", "np.uint8")


@pytest.mark.parametrize("bad", [bool, "U3", "datetime64[s]", "S2", "V8"])
def test_out_dtype_of_the_wrong_kind(bad):
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.convolve, X1, K1, out_dtype=bad)
    contains(msg, "out_dtype=", repr(np.dtype(bad)), "integer, floating, complex or object")


@pytest.mark.parametrize("real", [np.float64, np.float32, np.int16, np.uint8])
def test_out_dtype_would_drop_the_imaginary_part(real):
    msg = raises(
        convolib.ArgumentError, ValueError, convolib.correlate, X1 + 1j, K1, out_dtype=real
    )
    contains(msg, "out_dtype=", repr(np.dtype(real)), "imaginary", "complex dtype")


def test_nan_result_into_integer_out_dtype():
    msg = raises(
        convolib.ArgumentError,
        ValueError,
        convolib.convolve,
        [np.nan, 1.0],
        [1.0],
        out_dtype=np.uint8,
    )
    contains(msg, "out_dtype=", "uint8", "NaN", "floating out_dtype")


# ---------------------------------------------------------------------------------- memory


BIG_X, BIG_K = np.ones((1, 10**6)), np.ones((10**6, 1))
"""axes=() broadcasts these to a (10**6, 10**6) float64 output: 8 TB."""


@pytest.mark.parametrize("method", ["auto", "direct", "reference"])
@pytest.mark.parametrize("op", [convolib.convolve, convolib.correlate])
def test_output_too_large_for_memory_is_refused_quickly(op, method):
    tracemalloc.start()
    try:
        start = time.perf_counter()
        msg = raises(
            convolib.MemoryBudgetError, MemoryError, op, BIG_X, BIG_K, axes=(), method=method
        )
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5, f"took {elapsed:.1f} s to refuse"
    assert peak < 64 * 2**20, f"allocated {peak / 2**20:.0f} MiB before refusing"
    with pytest.raises(ValueError):  # also a ValueError, like every argument error
        op(BIG_X, BIG_K, axes=(), method=method)
    contains(msg, "memory budget")
    if method == "auto":
        contains(msg, "(1000000, 1000000)", "GiB", "compute the result in pieces")
    else:
        contains(msg, f"method={method!r}", "GiB", "method='auto'")


def test_plan_refuses_too_large_output():
    msg = raises(
        convolib.MemoryBudgetError, MemoryError, convolib.plan, "convolve", BIG_X, BIG_K, axes=()
    )
    contains(msg, "memory budget")


# ------------------------------------------------------------------------------------- plan


def test_plan_called_with_other_shapes():
    p = convolib.plan("convolve", np.ones(3), np.ones(2))
    msg = raises(convolib.ArgumentError, ValueError, p, np.ones(4), np.ones(2))
    contains(msg, "x, k=", "(4,) float64", "x(3,) float64", "k(2,) float64", "new plan")


def test_plan_called_with_other_dtypes():
    p = convolib.plan("correlate", np.ones((3, 3)), np.ones((2, 2)), "valid")
    msg = raises(
        convolib.ArgumentError, ValueError, p, np.ones((3, 3), np.float32), np.ones((2, 2))
    )
    contains(msg, "float32", "x(3, 3) float64", "new plan")


def test_plan_called_with_non_numeric_input():
    p = convolib.plan("convolve", np.ones(3), np.ones(2))
    msg = raises(convolib.ArgumentTypeError, TypeError, p, ["a", "b", "c"], np.ones(2))
    contains(msg, "x.dtype=", "numeric")


@pytest.mark.parametrize(("bad", "hint"), [("convolv", "convolve"), ("corelate", "correlate")])
def test_plan_with_unknown_op(bad, hint):
    msg = raises(convolib.ArgumentError, ValueError, convolib.plan, bad, X1, K1)
    contains(msg, f"op={bad!r}", "'convolve', 'correlate'", f"Did you mean {hint!r}?")


def test_plan_with_non_string_op():
    msg = raises(convolib.ArgumentTypeError, TypeError, convolib.plan, np.convolve, X1, K1)
    contains(msg, "op=", "'convolve', 'correlate'")
