"""Launching parallel work: compiled loops one launch at a time (the same result either
way), tasks that release the GIL on Python threads, and BLAS products on a given number
of threads."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
"""One parallel launch at a time: numba's fallback threading layer (workqueue) aborts
on concurrent launches from several Python threads; a call that finds the lock taken
runs serially instead, with the same result."""


def launch(
    workers: int, parallel: Callable[[int], None], serial: Callable[[], None], fewest: int = 2
) -> None:
    """``parallel(threads)`` on up to ``workers`` numba threads if that is at least
    ``fewest``, else ``serial()``. (Loops compiled for numba's threads may run faster
    on one thread than their serial form: numba tells the compiler that the arrays of
    a parallel loop do not overlap.)"""
    if workers >= fewest and _lock.acquire(blocking=False):
        try:
            import numba as nb

            threads = min(workers, nb.config.NUMBA_NUM_THREADS)
            nb.set_num_threads(threads)
            parallel(threads)
        finally:
            _lock.release()
    else:
        serial()


def each_in_threads(threads: int, task: Callable[[T], None], items: Sequence[T]) -> None:
    """``task(item)`` for every item, on up to ``threads`` Python threads (the calling one
    included); for tasks whose work releases the GIL (NumPy, scipy.fft).

    Each thread takes the next item not yet taken, so a thread slowed down by other
    processes takes fewer. The tasks run in the caller's context (`contextvars`). The
    first exception raised is re-raised here once every thread has stopped.
    """
    threads = min(threads, len(items))
    if threads <= 1:
        for item in items:
            task(item)
        return
    queue = _Queue(items)
    futures = [
        _pool().submit(contextvars.copy_context().run, queue.drain, task)
        for _ in range(threads - 1)
    ]
    try:
        queue.drain(task)
    finally:
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error


class _Queue:
    """Items handed out one at a time to the threads that drain it."""

    def __init__(self, items: Sequence) -> None:
        self._items = items
        self._next = 0
        self._lock = threading.Lock()
        self.failed = False

    def drain(self, task: Callable) -> None:
        """Run ``task`` on items until none is left (or another thread failed)."""
        while True:
            with self._lock:
                if self.failed or self._next == len(self._items):
                    return
                item = self._items[self._next]
                self._next += 1
            try:
                task(item)
            except BaseException:
                self.failed = True
                raise


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    from .. import threads

    return ThreadPoolExecutor(max(1, threads.cpu_count() - 1), thread_name_prefix="convolib")


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


RUNS_PER_THREAD = 4
"""Runs of tasks per thread, so that a thread slowed by other work takes fewer."""


def in_runs(workers: int, tasks: int, loop) -> None:
    """``loop(t0, t1)`` over tasks ``0 .. tasks - 1``, in runs shared out over up to
    ``workers`` Python threads (the loops release the GIL). Every run, whatever the
    count, goes through the same compiled loop: numba compiles a serial loop and its
    parallel form to code that may round differently (complex128 real parts 1 ulp
    apart), and results must not depend on ``workers``."""
    runs = min(tasks, workers * RUNS_PER_THREAD) if workers > 1 else 1
    bounds = [(r * tasks // runs, (r + 1) * tasks // runs) for r in range(runs)]
    each_in_threads(workers, lambda run: loop(*run), bounds)
