"""WAV files: PCM (8, 16, 24, 32 bits) and IEEE float (32, 64 bits), plain or
WAVE_FORMAT_EXTENSIBLE, any number of channels, read in chunks.

The header's sizes are checked against the file: a data chunk that announces more
bytes than the file holds is refused as truncated, unless ``lenient`` (then the whole
frames present are read). 8-bit PCM is unsigned with 128 as zero; it is read and
written as ``value - 128``, so every PCM width is a signed integer here.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import bad_argument
from ..numbers import cast_output

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
PCM_BITS = (8, 16, 24, 32)
FLOAT_BITS = (32, 64)


@dataclass(frozen=True)
class WavInfo:
    """What a WAV header says, checked against the file."""

    float: bool
    """IEEE float samples (else PCM integers)."""
    bits: int
    channels: int
    rate: int
    frames: int
    """Whole frames in the data chunk (after a lenient read of a truncated file, those present)."""
    offset: int
    """Byte offset of the first sample."""

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8

    @property
    def dtype(self) -> np.dtype:
        """The dtype samples are read as (8-bit PCM widened to int16, 24-bit to int32)."""
        if self.float:
            return np.dtype(f"f{self.bits // 8}")
        return np.dtype({8: np.int16, 16: np.int16, 24: np.int32, 32: np.int32}[self.bits])

    def describe(self) -> str:
        kind = "float" if self.float else "PCM"
        return f"{self.bits}-bit {kind}, {self.channels} channel(s), {self.rate} Hz"


def _bad(path: str, rule: str, fix: str = "") -> Exception:
    return bad_argument("src", path, rule, fix)


def read_info(path: str, *, lenient: bool = False) -> WavInfo:
    """The header of the WAV file at ``path``, with its sizes checked against the file."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise _bad(path, "is not a RIFF/WAVE file (no RIFF...WAVE header)")
        declared = struct.unpack("<I", head[4:8])[0] + 8
        if declared > size and not lenient:
            raise _bad(
                path,
                f"is truncated: its RIFF header announces {declared} bytes and the file has {size}",
                "pass --lenient (lenient=True) to read the frames that are present",
            )
        fmt: tuple[int, int, int, int, int] | None = None
        position = 12
        while position + 8 <= size:
            f.seek(position)
            chunk_id, length = struct.unpack("<4sI", f.read(8))
            body = position + 8
            if chunk_id == b"fmt ":
                fmt = _format(path, f.read(min(length, 64)))
            elif chunk_id == b"data":
                if fmt is None:
                    raise _bad(path, "has its data chunk before its fmt chunk")
                return _info(path, fmt, body, length, size, lenient)
            position = body + length + (length & 1)
    if fmt is None:
        raise _bad(path, "has no fmt chunk: it is not a complete WAV file")
    raise _bad(path, "has no data chunk: it holds no samples")


def _format(path: str, body: bytes) -> tuple[int, int, int, int, int]:
    if len(body) < 16:
        raise _bad(path, f"has a fmt chunk of {len(body)} bytes; at least 16 are needed")
    code, channels, rate, _, align, bits = struct.unpack("<HHIIHH", body[:16])
    if code == EXTENSIBLE:
        if len(body) < 40:
            raise _bad(path, "has a WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes")
        code = struct.unpack("<H", body[24:26])[0]
    if code not in (PCM, FLOAT):
        raise _bad(
            path,
            f"has sample format {code:#06x}; convolib reads PCM (1) and IEEE float (3)",
            "convert it to PCM or float WAV first (e.g. with sox or ffmpeg)",
        )
    allowed = PCM_BITS if code == PCM else FLOAT_BITS
    if bits not in allowed:
        kind = "PCM" if code == PCM else "float"
        raise _bad(path, f"has {bits}-bit {kind} samples; {kind} must be {allowed} bits")
    if channels < 1 or rate < 1 or align != channels * bits // 8:
        raise _bad(
            path,
            f"has an inconsistent fmt chunk ({channels} channels, {rate} Hz, {bits} bits, "
            f"{align} bytes per frame)",
        )
    return code, channels, rate, align, bits


def _info(path, fmt, offset: int, length: int, size: int, lenient: bool) -> WavInfo:
    code, channels, rate, align, bits = fmt
    present = size - offset
    if length > present and not lenient:
        raise _bad(
            path,
            f"is truncated: its data chunk announces {length} bytes and the file holds "
            f"{present} after the header",
            "pass --lenient (lenient=True) to read the frames that are present",
        )
    usable = min(length, present)
    if usable % align and not lenient:
        raise _bad(
            path,
            f"has {usable} data bytes, not a whole number of {align}-byte frames",
            "pass --lenient (lenient=True) to drop the partial frame",
        )
    return WavInfo(code == FLOAT, bits, channels, rate, usable // align, offset)


def read_frames(path: str, info: WavInfo, start: int, count: int) -> np.ndarray:
    """Frames ``[start, start + count)`` as an array (frames, channels) of ``info.dtype``."""
    count = max(0, min(count, info.frames - start))
    with open(path, "rb") as f:
        f.seek(info.offset + start * info.frame_bytes)
        data = f.read(count * info.frame_bytes)
    if len(data) != count * info.frame_bytes:
        raise _bad(path, "changed while it was being read")
    return decode(data, info)


def iter_frames(path: str, info: WavInfo, step: int) -> Iterator[np.ndarray]:
    """The file's frames, ``step`` at a time."""
    for start in range(0, info.frames, step):
        yield read_frames(path, info, start, step)


def decode(data: bytes, info: WavInfo) -> np.ndarray:
    """Sample bytes as an array (frames, channels)."""
    raw = np.frombuffer(data, np.uint8)
    if info.float:
        x = raw.view(f"<f{info.bits // 8}").astype(info.dtype)
    elif info.bits == 8:
        x = raw.astype(np.int16) - 128
    elif info.bits == 24:
        b = raw.reshape(-1, 3).astype(np.int32)
        x = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (x ^ 0x800000) - 0x800000  # sign-extend 24 bits
    else:
        x = raw.view(f"<i{info.bits // 8}").astype(info.dtype)
    return x.reshape(-1, info.channels)


def encode(y: np.ndarray, info: WavInfo) -> bytes:
    """Samples in ``info``'s format: PCM rounded to the nearest integer (ties to even)
    and saturated to the width's range; float samples as they are."""
    if info.float:
        return np.asarray(y, f"<f{info.bits // 8}").tobytes()
    if y.dtype.kind == "c":
        raise bad_argument(
            "k",
            None,
            "gives complex results, which a WAV file cannot hold",
            "pass a real kernel",
            show_value=False,
        )
    high = (1 << (info.bits - 1)) - 1
    y = np.clip(cast_output(y, np.dtype(np.int64)), -high - 1, high)
    if info.bits == 8:
        return (y + 128).astype(np.uint8).tobytes()
    if info.bits == 24:
        return np.ascontiguousarray(y, "<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return y.astype(f"<i{info.bits // 8}").tobytes()


def header(info: WavInfo) -> bytes:
    """A plain PCM or IEEE float header for ``info.frames`` frames (float adds a fact chunk)."""
    data = info.frames * info.frame_bytes
    code = FLOAT if info.float else PCM
    fmt = struct.pack(
        "<HHIIHH",
        code,
        info.channels,
        info.rate,
        info.rate * info.frame_bytes,
        info.frame_bytes,
        info.bits,
    )
    extra = b""
    if info.float:
        fmt += struct.pack("<H", 0)
        extra = b"fact" + struct.pack("<II", 4, info.frames)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", data)
    return b"RIFF" + struct.pack("<I", len(body) + data + (data & 1)) + body
