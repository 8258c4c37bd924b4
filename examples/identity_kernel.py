"""The identity kernel: a unit impulse leaves a signal or an image unchanged.

Seed scenario: "Identity: E = [..., 0, 0, 1, 0, 0, ...], F * E = F (think about
whether cross-correlation can do it)" (seed 000). With the impulse at the kernel's
centre, both operations return F in ``same`` mode (and F padded in ``full`` mode).
The difference shows elsewhere: convolution commutes (E * F = F * E) and
correlation does not (E ⋆ F is F reversed); and an off-centre impulse moves the
image one way under correlation and the other way under convolution. NumPy's
``convolve``/``correlate``/``roll`` are the oracles.

Run: python examples/identity_kernel.py
"""

from __future__ import annotations

import sys

import numpy as np

import convolib
from convolib import kernels


def expect(ok: bool, what: str) -> None:
    """Stop with a non-zero exit status if ``ok`` is false."""
    if not ok:
        sys.exit(f"FAILED: {what}")


def main() -> None:
    f = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    e = np.array([0, 0, 1, 0, 0])
    for op in (convolib.convolve, convolib.correlate):
        expect(np.array_equal(op(f, e, "same"), f), f"{op.__name__}(F, E, 'same') == F")
        expect(
            np.array_equal(op(f, e), np.pad(f, 2)),
            f"{op.__name__}(F, E) is F with two zeros either side",
        )
    expect(np.array_equal(convolib.convolve(f, e), np.convolve(f, e)), "np.convolve agrees")
    expect(np.array_equal(convolib.convolve(e, f), convolib.convolve(f, e)), "E * F == F * E")
    corr_ef, corr_fe = convolib.correlate(e, f), convolib.correlate(f, e)
    expect(np.array_equal(corr_ef, np.correlate(e, f, "full")), "np.correlate(E, F) agrees")
    expect(np.array_equal(corr_fe, np.correlate(f, e, "full")), "np.correlate(F, E) agrees")
    expect(np.array_equal(corr_ef, corr_fe[::-1]), "E ⋆ F is F ⋆ E reversed")
    print(f"F = {f.tolist()}, E = {e.tolist()}")
    print(f"convolve(F, E, 'same') = correlate(F, E, 'same') = {f.tolist()}")
    print(f"correlate(E, F) = {corr_ef.tolist()}  (F reversed: correlation does not commute)")

    image = np.random.default_rng(0).integers(0, 256, (6, 8))
    for size in (1, 3, 5):
        delta = kernels.delta(size, ndim=2)
        for op in (convolib.convolve, convolib.correlate):
            for boundary in ("constant", "reflect", "wrap"):
                out = op(image, delta, "same", boundary=boundary)
                expect(
                    np.array_equal(out, image),
                    f"{op.__name__} with a {size}x{size} delta ({boundary}) leaves the image",
                )
    print("a 1x1, 3x3 and 5x5 delta leave a 6x8 image unchanged under both operations")

    offset = (1, -2)
    moved = kernels.shift(offset)
    by_corr = convolib.correlate(image, moved, "same", boundary="wrap")
    by_conv = convolib.convolve(image, moved, "same", boundary="wrap")
    expect(np.array_equal(by_corr, np.roll(image, offset, (0, 1))), "correlate moves by +o")
    expect(
        np.array_equal(by_conv, np.roll(image, (-1, 2), (0, 1))),
        "convolve (the kernel flipped) moves by -o",
    )
    print(f"an off-centre impulse: correlate moves the image by {offset}, convolve by (-1, 2)")
    print("OK: the identity holds for both operations; only convolution commutes.")


if __name__ == "__main__":
    main()
