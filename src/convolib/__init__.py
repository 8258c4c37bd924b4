"""convolib: convolution and cross-correlation in 1-D, 2-D and N-D, under one convention.

>>> import convolib
>>> convolib.correlate([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], "valid").tolist()
[[37, 47], [67, 77]]
>>> convolib.convolve([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], "valid").tolist()
[[23, 33], [53, 63]]
"""

from ._version import __version__
from .api import convolve, correlate, plan
from .calibration import calibrate
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    ConvolibError,
    ExactOverflowError,
    MemoryBudgetError,
)
from .planner import Plan, methods, set_tune
from .threads import set_workers

_SUBMODULES = (
    "check",
    "chunked",
    "explain",
    "kernels",
    "learned",
    "nn",
    "prob",
    "signal",
    "stream",
)
"""Imported on first use (``convolib.nn.conv``), so ``import convolib`` stays fast."""


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'convolib' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ConvolibError",
    "ExactOverflowError",
    "MemoryBudgetError",
    "Plan",
    "__version__",
    "calibrate",
    "convolve",
    "correlate",
    "methods",
    "plan",
    "set_tune",
    "set_workers",
]
