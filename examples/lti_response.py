"""The response of a system whose impulse response decays: the seeds' signal example.

The seed posts feed an input f(t) into a linear system whose response g(t) decays
exponentially: the output at T = 10 is f(10)g(0) + f(9)g(1) + ... + f(0)g(10), each
earlier input decayed by the time since it came in. Sampled every dt, that sum times
dt approximates y(t) = ∫ f(s) g(t - s) ds; with f(t) = 1 + sin t and g(t) = a e^{-at},
y(t) = 1 - e^{-at} + a (a sin t - cos t + e^{-at}) / (1 + a²). Checked here: the
seed's sum at T = 10, and convergence to y(t) as O(dt) (rectangle rule) and O(dt²)
(trapezoid rule). Usage: python examples/lti_response.py [--out DIR] (writes a PNG).
"""

import argparse
import itertools
import math
import pathlib

import numpy as np

from convolib.signal import response

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", type=pathlib.Path, help="also write OUT/lti_response.png")
args = parser.parse_args()
A, END = 0.5, 20.0


def signals(t):
    """The input f, the impulse response g and the exact response y at times t."""
    e = np.exp(-A * t)
    return 1 + np.sin(t), A * e, 1 - e + A * (A * np.sin(t) - np.cos(t) + e) / (1 + A * A)


f, g, _ = signals(np.arange(11.0))  # the seed's picture, dt = 1: flip g, slide to T = 10
by_hand = sum(f[10 - j] * g[j] for j in range(11))
assert math.isclose(response(f, g).y[10], by_hand, rel_tol=1e-12)
print(f"dt = 1: f(10)g(0) + ... + f(0)g(10) = {by_hand:.4f}; exact y(10) = {signals(10.0)[2]:.4f}")

errors = {"rectangle": [], "trapezoid": []}
print(f"{'dt':>6} {'rectangle error':>16} {'trapezoid error':>16}")
for dt in (0.2, 0.1, 0.05, 0.025):
    f, g, y = signals(dt * np.arange(round(END / dt) + 1))
    for rule, errs in errors.items():
        errs.append(np.max(np.abs(response(f, g, dt, rule=rule).y - y)))
    print(f"{dt:6.3f} {errors['rectangle'][-1]:16.2e} {errors['trapezoid'][-1]:16.2e}")
for (rule, errs), order in zip(errors.items(), (1, 2), strict=True):
    orders = [math.log2(e0 / e1) for e0, e1 in itertools.pairwise(errs)]
    print(f"{rule}: the error shrinks like dt^{orders[-1]:.2f}")
    assert all(abs(p - order) < 0.1 for p in orders), (rule, orders)

if args.out:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(0, END, 0.5)
    f, g, y = signals(t)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(t, f, ":", label="input f(t) = 1 + sin t")
    ax.plot(t, y, label="exact response y(t)")
    ax.plot(t, response(f, g, 0.5).y, ".", label="rectangle rule, dt = 0.5")
    ax.set_xlabel("t")
    ax.legend()
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "lti_response.png", dpi=100, bbox_inches="tight")
    print(f"wrote {args.out / 'lti_response.png'}")
