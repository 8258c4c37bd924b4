"""Shared test helpers: seeded random operands and a dtype-aware closeness check."""

from __future__ import annotations

import shutil
import subprocess
import threading

import numpy as np
import pytest

import convolib

EXACT_KINDS = "biuO"
"""Result kinds that must match exactly (bool, integers, Python objects)."""


def random_array(rng: np.random.Generator, shape, dtype, low: int = -5, high: int = 5):
    """A random array of ``shape`` and ``dtype``.

    Integers are drawn from ``[low, high]`` (``[0, high]`` for unsigned types, 0/1 for
    bool, Python ints for object); floats are standard normal; complex numbers get a
    standard normal imaginary part too.
    """
    dtype = np.dtype(dtype)
    shape = tuple(shape) if np.iterable(shape) else (shape,)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind == "u":
        return rng.integers(0, high, shape, endpoint=True).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(low, high, shape, endpoint=True).astype(dtype)
    if dtype.kind == "O":
        values = rng.integers(low, high, shape, endpoint=True)
        out = np.empty(shape, object)
        for index in np.ndindex(*shape):
            out[index] = int(values[index])
        return out
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    raise TypeError(f"random_array: unsupported dtype {dtype}")


def assert_concurrent_calls_match_serial(call, cases, threads: int = 3, rounds: int = 2):
    """``call(*case)`` for every case, from ``threads`` Python threads at once, ``rounds``
    times each, gives the bits of the same calls made one after another."""
    serial = [call(*case) for case in cases]
    results: dict[int, list] = {}

    def work(t: int) -> None:
        results[t] = [call(*case) for case in cases * rounds]

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert len(results) == threads
    for got in results.values():
        for i, y in enumerate(got):
            assert np.array_equal(y, serial[i % len(cases)])


def compute_eps(dtype) -> float:
    """Machine epsilon of the arithmetic used for a float/complex ``dtype``.

    float16 results are documented to be computed in float32, then rounded.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return float(np.finfo(np.float32).eps)
    return float(np.finfo(dtype).eps)


def assert_close(got, expected, dtype=None, terms: int = 1, scale=None) -> None:
    """Check ``got`` against an accurate ``expected`` for a result of ``dtype``.

    Exact kinds (bool, int, object) must be equal. Floating results must satisfy,
    element by element,

        |got - expected| <= 2 * terms * eps_acc * scale + eps_out * |expected| + terms * s

    the documented direct-sum bound ``2 m eps (|x| * |k|) + m s`` (``scale`` is
    ``|x| * |k|`` per element, or a scalar bound; default: max |expected|; ``s`` the
    smallest subnormal) plus the final rounding into the output dtype. ``expected``
    should be computed in higher precision.
    """
    got = np.asarray(got)
    expected = np.asarray(expected)
    dtype = got.dtype if dtype is None else np.dtype(dtype)
    assert got.shape == expected.shape, f"shape {got.shape} != expected {expected.shape}"
    if dtype.kind in EXACT_KINDS:
        if got.dtype.kind == "O" or expected.dtype.kind == "O":
            mismatch = [
                (i, got[i], expected[i]) for i in np.ndindex(*got.shape) if got[i] != expected[i]
            ]
            assert not mismatch, f"exact mismatch at (index, got, expected): {mismatch[:5]}"
        else:
            np.testing.assert_array_equal(got, expected)
        return
    real = np.finfo(dtype)
    exp = expected.astype(np.complex128 if dtype.kind == "c" else np.float64)
    err = np.abs(got.astype(exp.dtype) - exp)
    if scale is None:
        scale = np.max(np.abs(exp), initial=0.0)
    # Where values underflow, each product (or fused multiply-add) may also lose up to
    # half the smallest subnormal s outright, while sums of subnormals are exact: at most
    # terms·s/2 in all (1.25·s lost by three float32 multiply-adds of 1e-45 and -1.5,
    # 1.25, 1.5: one rounding of a tie to the even 0, found by Hypothesis).
    bound = (
        2 * max(terms, 1) * compute_eps(dtype) * np.asarray(scale, np.float64)
        + float(real.eps) * np.abs(exp)
        + max(terms, 1) * float(real.smallest_subnormal)
    )
    finite = np.isfinite(exp)
    if not finite.all():  # NaN/inf must sit where the accurate result has them
        np.testing.assert_array_equal(got[~finite], expected[~finite])
    bad = finite & ~(err <= bound)  # a NaN error counts as bad
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{int(bad.sum())} of {bad.size} elements outside the {dtype} bound; first at "
            f"{where}: got {got[where]!r}, expected {exp[where]!r}, "
            f"error {err[where]:.3g} > bound {np.broadcast_to(bound, bad.shape)[where]:.3g}"
        )


def error_message(cls, func, *args, **kwargs) -> str:
    """The message of the ``cls`` error (a convolib error) that ``func(*args)`` raises."""
    with pytest.raises(cls) as info:
        func(*args, **kwargs)
    assert isinstance(info.value, convolib.ConvolibError)
    return str(info.value)


CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None
)
"""Debian's headless browser, for the tests of HTML pages (None where not installed)."""

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not on PATH (CI: apt-get update && apt-get install -y chromium)",
)


def chromium(tmp_path, url: str, *extra: str) -> str:
    """Run headless chromium on ``url`` with a fresh profile; its standard output
    (``--dump-dom`` gives the page after its scripts ran)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout
