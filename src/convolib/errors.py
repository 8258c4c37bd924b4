"""The exceptions convolib raises, and the one place their messages are written.

Every message names the argument, the rule it broke, the value received, and the
choices or the fix: ``mode='sme': must be one of 'full', 'same', 'valid'. Did you
mean 'same'?``
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ConvolibError",
    "ExactOverflowError",
    "MemoryBudgetError",
]


class ConvolibError(Exception):
    """Base class of every error convolib raises on purpose."""


class ArgumentError(ConvolibError, ValueError):
    """An argument has a value that breaks a rule."""


class ArgumentTypeError(ConvolibError, TypeError):
    """An argument has a type convolib cannot work with."""


class ExactOverflowError(ArgumentError, OverflowError):
    """An exact integer result could exceed the accumulator's range."""


class MemoryBudgetError(ArgumentError, MemoryError):
    """The output or workspace would not fit in the memory budget."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def bad_argument(
    arg: str,
    value: object,
    rule: str,
    fix: str = "",
    *,
    cls: type[ConvolibError] = ArgumentError,
    show_value: bool = True,
) -> ConvolibError:
    """Build (not raise) an error in the project's one message style.

    >>> str(bad_argument("mode", "sme", "must be one of 'full', 'same', 'valid'"))
    "mode='sme': must be one of 'full', 'same', 'valid'."
    """
    head = f"{arg}={_show(value)}" if show_value else arg
    message = f"{head}: {rule}."
    if fix:
        message += f" {fix[0].upper()}{fix[1:]}" + ("" if fix.endswith((".", "?", ")")) else ".")
    return cls(message)


def choice_error(arg: str, value: object, choices: Iterable[str], hint: str = "") -> ConvolibError:
    """The error for a string that is not one of ``choices``, with a did-you-mean."""
    choices = list(choices)
    listed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        return bad_argument(
            arg, value, f"must be a string, one of {listed}", hint, cls=ArgumentTypeError
        )
    if not hint:
        close = difflib.get_close_matches(value.lower(), choices, n=1)
        hint = f"did you mean {close[0]!r}?" if close else ""
    return bad_argument(arg, value, f"must be one of {listed}", hint)


def check_progress(progress: object) -> None:
    """Refuse a ``progress`` argument that is neither None nor a callable
    ``progress(done, total)``."""
    if progress is not None and not callable(progress):
        raise bad_argument(
            "progress", progress, "must be a callable progress(done, total)", cls=ArgumentTypeError
        )
