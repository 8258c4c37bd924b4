"""Numba's compilations of convolib's loops: refused where a caller would rather skip
the work (calibration), and announced where a person waits for them (the CLI).

Numba compiles a loop on its first call and keeps it on disk, so a fresh environment
spends tens of seconds on the first call of each loop. Both uses listen to numba's
event API; loading a compiled loop from disk is no compilation and passes unseen.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_refused = contextvars.ContextVar("convolib_compiling_refused", default=False)
_announcers: list[Callable[[str], None]] = []
_lock = threading.Lock()
_listening = False


class CompilingRefusedError(Exception):
    """Raised, in place of compiling it, by the first call of a convolib loop that is not
    compiled yet, inside `compiling_refused`."""


@contextmanager
def compiling_refused() -> Iterator[None]:
    """Within the body (and the tasks it hands to convolib's threads, which run in its
    context), a call that would compile one of convolib's loops raises
    `CompilingRefusedError` before compiling anything; loops compiled already, in
    this process or on disk, run as usual. Other threads and other packages'
    functions compile as usual."""
    _listen()
    token = _refused.set(True)
    try:
        yield
    finally:
        _refused.reset(token)


def announce_first(say: Callable[[str], None]) -> None:
    """Call ``say(name)`` once, with the loop's name, when the process first starts
    compiling one of convolib's loops (outside `compiling_refused`)."""
    with _lock:
        _announcers.append(say)
    _listen()


def _listen() -> None:
    """Register the listener with numba, once."""
    global _listening
    with _lock:
        if not _listening:
            _register()
            _listening = True


def _register() -> None:
    from numba.core import event

    class Listener(event.Listener):
        def on_start(self, started: event.Event) -> None:
            function = getattr(started.data.get("dispatcher"), "py_func", None)
            module = getattr(function, "__module__", None) or ""
            if module.split(".")[0] != __name__.split(".")[0]:
                return
            name = f"{module}.{getattr(function, '__qualname__', '?')}"
            if _refused.get():
                raise CompilingRefusedError(name)
            with _lock:
                waiting = list(_announcers)
                _announcers.clear()
            for say in waiting:
                say(name)

        def on_end(self, ended: event.Event) -> None:
            pass

    event.register("numba:compile", Listener())
