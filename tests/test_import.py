"""``import convolib`` stays light: fast, and without numba or scipy."""

import subprocess
import sys

PROBE = """
import sys, time
start = time.perf_counter()
import convolib
elapsed = time.perf_counter() - start
print(elapsed, 'numba' in sys.modules, 'scipy' in sys.modules)
"""


def test_import_is_fast_and_lazy():
    timings = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        ).stdout.split()
        timings.append(float(out[0]))
        assert out[1:] == ["False", "False"], "import convolib must not import numba or scipy"
    assert min(timings) < 0.5, timings
