"""Arrays in and out: NPY (never pickled), CSV (numbers only, with limits), and
literals written on a command line (``"[[0,-1,0],[-1,5,-1],[0,-1,0]]"`` or ``"1,2,3"``)."""

from __future__ import annotations

import ast
import os
import re

import numpy as np

from ..errors import ArgumentTypeError, bad_argument
from ._safety import existing_file

NPY_MAGIC = b"\x93NUMPY"
CSV_MAX_BYTES = 256 * 2**20
"""CSV files larger than this are refused: text is slow and memory-hungry to parse."""
CSV_MAX_CELLS = 10_000_000
_INT = re.compile(r"[+-]?\d+")


def is_npy(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == NPY_MAGIC


def npy_header(path: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a NPY file, read from its header alone."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(f)
    except (ValueError, OSError, EOFError) as err:
        raise bad_argument("src", path, f"could not be read as a NPY file ({err})") from None
    if dtype.kind not in "biufc" or dtype.fields is not None:
        raise bad_argument(
            "src",
            path,
            f"holds {dtype} data; convolib reads arrays of numbers only (never pickled objects)",
            "save a numeric array (bool, integer, floating or complex)",
            cls=ArgumentTypeError,
        )
    return shape, dtype


def load_npy(path: str, *, mmap: bool = False) -> np.ndarray:
    """A NPY file's array (memory-mapped if ``mmap``), after `npy_header`'s checks."""
    shape, _ = npy_header(path)
    try:
        a = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise bad_argument("src", path, f"could not be read as a NPY file ({err})") from None
    if a.shape != shape:  # pragma: no cover (np.load checks this itself)
        raise bad_argument("src", path, "changed while it was being read")
    return a


def read_csv(path: str, arg: str = "src") -> np.ndarray:
    """A CSV file of numbers: one line gives a 1-D array, several a 2-D one.

    Cells are separated by commas; blank lines and lines starting with ``#`` are
    skipped. Integers give int64, otherwise float64 (complex128 where a cell is
    complex, such as ``1+2j``). Ragged lines and cells that are not numbers are
    reported with their line and column.
    """
    size = os.path.getsize(path)
    if size > CSV_MAX_BYTES:
        raise bad_argument(
            arg,
            path,
            f"is a CSV file of {size:,} bytes, over the CSV limit of {CSV_MAX_BYTES:,}",
            "save large arrays as .npy (np.save), which is read without parsing",
        )
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise bad_argument(arg, path, "is not a UTF-8 text file, so not a CSV file") from None
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if rows and len(cells) != len(rows[0]):
            raise bad_argument(
                arg,
                path,
                f"line {number} has {len(cells)} cells and line {lines[0]} has {len(rows[0])}; "
                "every line needs the same number of cells",
            )
        rows.append(cells)
        lines.append(number)
        if len(rows) * len(cells) > CSV_MAX_CELLS:
            raise bad_argument(
                arg,
                path,
                f"holds more than {CSV_MAX_CELLS:,} cells, the CSV limit",
                "save large arrays as .npy (np.save)",
            )
    if not rows:
        raise bad_argument(arg, path, "holds no numbers (every line is blank or a # comment)")
    values = [
        [_cell(arg, path, cell, line, column) for column, cell in enumerate(cells, start=1)]
        for line, cells in zip(lines, rows, strict=True)
    ]
    a = _number_array(arg, path, values)
    return a[0] if a.shape[0] == 1 else a


def _cell(arg: str, path: str, cell: str, line: int, column: int) -> int | float | complex:
    if _INT.fullmatch(cell):
        return int(cell)
    try:
        return float(cell)
    except ValueError:
        pass
    try:
        if "j" in cell.lower():
            return complex(cell.replace(" ", ""))
    except ValueError:
        pass
    what = "is empty" if not cell else f"holds {cell[:40]!r}, which is not a number"
    raise bad_argument(arg, path, f"line {line}, column {column} {what}")


def _number_array(arg: str, where: str, values: list) -> np.ndarray:
    flat = np.asarray(values, dtype=object).ravel()
    kinds = {type(v) for v in flat}
    if kinds <= {int}:
        if any(not -(2**63) <= v < 2**63 for v in flat):
            raise bad_argument(
                arg, where, "holds integers outside the int64 range", "write them as floats"
            )
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.complex128 if complex in kinds else np.float64)


def check_csv_shape(arg: str, path: str, shape: tuple[int, ...]) -> None:
    """Refuse to write an array of ``shape`` as CSV unless it is 1-D or 2-D."""
    if not 1 <= len(shape) <= 2:
        raise bad_argument(
            arg,
            path,
            f"is a CSV file, which holds 1-D or 2-D arrays, and the result has shape {shape}",
            "write .npy instead",
        )


def write_csv(path: str, a: np.ndarray) -> None:
    """``a`` (1-D: one line; 2-D: one line per row) as CSV text; floats round-trip."""
    check_csv_shape("dst", path, a.shape)
    rows = a.reshape(1, -1) if a.ndim == 1 else a
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(",".join(_text(v) for v in row.tolist()) + "\n")


def _text(v: object) -> str:
    if isinstance(v, complex):
        return repr(v).strip("()")
    return repr(v) if not isinstance(v, bool) else str(int(v))


def parse_literal(arg: str, text: str) -> np.ndarray:
    """An array written as a Python/JSON literal: ``"[[1,2],[3,4]]"`` or ``"1,2,3"``.

    >>> parse_literal("k", "[[0,-1],[1,0.5]]")
    array([[ 0. , -1. ],
           [ 1. ,  0.5]])
    """
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise bad_argument(
            arg,
            text,
            "is not an array literal",
            "write numbers in brackets, e.g. '[[0,-1,0],[-1,5,-1],[0,-1,0]]' or '1,2,3'",
        ) from None
    if isinstance(value, int | float | complex) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple) or not _numbers_only(value):
        raise bad_argument(arg, text, "must hold only numbers, in (nested) brackets")
    try:
        return _number_array(arg, text, _lists(value))
    except ValueError:
        raise bad_argument(
            arg, text, "is ragged: every row must have the same length", "fix the brackets"
        ) from None


def _lists(value: object) -> object:
    return [_lists(v) for v in value] if isinstance(value, list | tuple) else value


def _numbers_only(value: object) -> bool:
    if isinstance(value, list | tuple):
        return all(_numbers_only(v) for v in value)
    return isinstance(value, int | float | complex) and not isinstance(value, bool)


def looks_like_literal(text: str) -> bool:
    """True for text that can only be meant as an array literal, not a path or a name."""
    return bool(re.match(r"\s*[\[\(\d+\-.]", text)) and not os.path.exists(text)


def read_array(arg: str, source: str) -> np.ndarray:
    """An array from a NPY or CSV file, or from a literal.

    >>> read_array("a", "[1, 2, 3]")
    array([1, 2, 3])
    """
    if looks_like_literal(source):
        return parse_literal(arg, source)
    path = existing_file(arg, source)
    if is_npy(path):
        return load_npy(path)
    if path.lower().endswith((".csv", ".txt")):
        return read_csv(path, arg)
    raise bad_argument(
        arg,
        path,
        "is neither a NPY file nor a .csv file",
        "pass a .npy or .csv file, or an array literal such as '[1,2,3]'",
    )


def write_array(temp: str, dst: str, a: np.ndarray) -> None:
    """Write ``a`` to ``temp`` in the format ``dst``'s suffix names (.npy or .csv)."""
    if dst.lower().endswith(".npy"):
        with open(temp, "wb") as f:
            np.save(f, a, allow_pickle=False)
    elif dst.lower().endswith(".csv"):
        write_csv(temp, a)
    else:
        raise bad_argument("dst", dst, "must end in .npy or .csv")
