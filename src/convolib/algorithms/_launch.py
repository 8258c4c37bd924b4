"""Launching parallel work: compiled loops one launch at a time (the same result either
way), and BLAS products on a given number of threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

_lock = threading.Lock()
"""One parallel launch at a time: numba's fallback threading layer (workqueue) aborts
on concurrent launches from several Python threads; a call that finds the lock taken
runs serially instead, with the same result."""


def launch(workers: int, parallel: Callable[[int], None], serial: Callable[[], None]) -> None:
    """``parallel(threads)`` on up to ``workers`` numba threads, else ``serial()``."""
    if workers > 1 and _lock.acquire(blocking=False):
        try:
            import numba as nb

            threads = min(workers, nb.config.NUMBA_NUM_THREADS)
            nb.set_num_threads(threads)
            parallel(threads)
        finally:
            _lock.release()
    else:
        serial()


@contextmanager
def blas_threads(workers: int) -> Iterator[None]:
    """Run the body with NumPy's BLAS limited to ``workers`` threads (it uses every core
    otherwise)."""
    from .. import threads

    if workers >= threads.cpu_count():
        yield
        return
    with _blas_controller().limit(limits=workers, user_api="blas"):
        yield


@lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
