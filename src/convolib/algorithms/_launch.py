"""Launching compiled parallel loops: one launch at a time, the same result either way."""

from __future__ import annotations

import threading
from collections.abc import Callable

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
