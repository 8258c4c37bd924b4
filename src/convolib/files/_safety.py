"""The rules every file operation follows, each written once.

* An input is never overwritten, and an existing output is replaced only when asked.
* Outputs are written to a temporary file beside the destination and renamed over it
  only when complete, so a failure never leaves a partial file.
* Work whose memory estimate exceeds the budget is refused before anything is
  allocated, with the numbers in the message.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator

from .. import costs
from ..errors import ArgumentTypeError, MemoryBudgetError, bad_argument
from ..planner import format_bytes

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?)b?\s*", re.IGNORECASE)


def text_path(arg: str, value: object) -> str:
    """``value`` as a text path, or a clear error."""
    if not isinstance(value, str | os.PathLike):
        raise bad_argument(arg, value, "must be a path (str or os.PathLike)", cls=ArgumentTypeError)
    path = os.fspath(value)
    if not isinstance(path, str):
        raise bad_argument(arg, value, "must be a text path, not bytes", cls=ArgumentTypeError)
    return path


def existing_file(arg: str, value: object) -> str:
    """The path of an existing regular file."""
    path = text_path(arg, value)
    if not os.path.exists(path):
        raise bad_argument(arg, path, "does not exist", "check the path")
    if not os.path.isfile(path):
        raise bad_argument(arg, path, "is not a regular file", "name a file")
    return path


def check_output(arg: str, dst: str, inputs: Iterable[str], overwrite: bool) -> None:
    """Refuse ``dst`` if it is an input, a folder, in a missing folder, or exists
    (unless ``overwrite``)."""
    if not isinstance(overwrite, bool):
        raise bad_argument("overwrite", overwrite, "must be True or False", cls=ArgumentTypeError)
    folder = os.path.dirname(os.path.abspath(dst))
    if not os.path.isdir(folder):
        raise bad_argument(arg, dst, f"is in a folder that does not exist ({folder})")
    if not os.path.lexists(dst):
        return
    for source in inputs:
        if os.path.exists(dst) and os.path.samefile(source, dst):
            raise bad_argument(
                arg,
                dst,
                "is an input file, and inputs are never overwritten",
                "choose another path",
            )
    if os.path.isdir(dst):
        raise bad_argument(arg, dst, "is a folder", "name a file")
    if not overwrite:
        raise bad_argument(
            arg,
            dst,
            "already exists",
            "pass overwrite=True (--force) to replace it, or choose another path",
        )


@contextlib.contextmanager
def atomic_output(
    arg: str, dst: object, *, inputs: Iterable[str] = (), overwrite: bool = False
) -> Iterator[str]:
    """Yield a temporary path beside ``dst``; rename it over ``dst`` if the block succeeds,
    remove it if the block fails.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = pathlib.Path(folder, "out.txt")
    ...     with atomic_output("dst", out) as temp:
    ...         _ = pathlib.Path(temp).write_text("done")
    ...     print(out.read_text(), len(list(pathlib.Path(folder).iterdir())))
    done 1
    """
    path = text_path(arg, dst)
    check_output(arg, path, list(inputs), overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{os.urandom(6).hex()}.part")
    with open(temp, "xb"):  # reserve the name; its permissions follow the umask
        pass
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise


def parse_size(arg: str, text: object) -> int:
    """Bytes from ``"512M"``, ``"4GiB"``, ``"1.5g"`` or ``"1000000"`` (k, M, G, T are powers
    of 1000; Ki, Mi, Gi, Ti of 1024).

    >>> parse_size("max_memory", "1.5GiB"), parse_size("max_memory", "200M")
    (1610612736, 200000000)
    """
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    match = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if match is None or float(match[1]) <= 0:
        raise bad_argument(
            arg, text, "must be a positive size such as 800M, 4G, 2GiB or a number of bytes"
        )
    unit = match[2].lower()
    scale = 1024 ** "kmgt".index(unit) * 1024 if match[3] and unit else _UNITS[unit]
    return int(float(match[1]) * scale)


def memory_budget(max_memory: object = None) -> int:
    """The bytes a file operation may use: ``max_memory``, or the planner's budget
    (a share of the memory available now)."""
    if max_memory is None:
        return int(costs.available_memory() * costs.MEMORY_FRACTION)
    return parse_size("max_memory", max_memory)


def check_memory(need: int, budget: int, what: str, fix: str) -> None:
    """Refuse ``what`` if it needs more than ``budget`` bytes."""
    if need > budget:
        raise bad_argument(
            "max_memory",
            format_bytes(budget),
            f"{what} needs about {format_bytes(need)}, over the memory budget",
            fix,
            cls=MemoryBudgetError,
        )
