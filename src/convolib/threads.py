"""How many threads convolib's algorithms use: the ``workers=`` rule, written once.

``workers=None`` means the global setting (`set_workers`), which defaults to every
core this process may run on; a positive int is a count; a negative int counts back
from the number of cores, as in ``scipy.fft`` (``-1`` is all, ``-2`` all but one).
"""

from __future__ import annotations

import numbers
import os
from functools import cache

from .errors import ArgumentTypeError, bad_argument

_default: int | None = None


@cache
def cpu_count() -> int:
    """Cores this process may run on (read once, as BLAS and numba do)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve(workers: object) -> int:
    """The thread count ``workers`` asks for.

    >>> resolve(1)
    1
    >>> resolve(-1) == cpu_count()
    True
    """
    if workers is None:
        return _default if _default is not None else cpu_count()
    if type(workers) is int and workers > 0:  # a count, the usual case: no ABC checks
        return workers
    if not isinstance(workers, numbers.Integral) or isinstance(workers, bool):
        raise bad_argument("workers", workers, "must be None or an int", cls=ArgumentTypeError)
    cores = cpu_count()
    count = int(workers) if workers > 0 else cores + 1 + int(workers)
    if workers == 0 or count < 1:
        raise bad_argument(
            "workers",
            workers,
            f"must be a positive thread count, or -1 ... -{cores} to count back from "
            f"the {cores} cores",
        )
    return count


def set_workers(workers: int | None) -> int | None:
    """Set the thread count used when ``workers=None``; returns the previous setting.

    >>> previous = set_workers(1)
    >>> set_workers(previous)
    1
    """
    from .planner import forget_plans  # plans hold the thread count they were made for

    global _default
    previous = _default
    _default = None if workers is None else resolve(workers)
    forget_plans()
    return previous
