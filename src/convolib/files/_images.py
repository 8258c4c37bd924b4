"""Images in and out: PNG, JPEG, TIFF and BMP through Pillow; 16-bit colour PNG through
pypng and 16-bit colour TIFF through tifffile (Pillow reads those as 8 bits).

Pixels come back as an array (rows, columns) or (rows, columns, channels) of the file's
own sample type: uint8, uint16, int32 or float32. The pixel limit is checked on the
header, before anything is decoded. The ICC profile and the resolution (dots per inch)
are read on every route and written back where the output format holds them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import bad_argument

FORMATS = ("PNG", "JPEG", "TIFF", "BMP")
SUFFIXES = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
MAX_PIXELS = 200_000_000
"""Default pixel limit: larger images are refused before decoding (decompression bombs)."""

_WRITES = {  # format -> sample types it can hold, and whether it holds alpha
    "PNG": ({"uint8", "uint16"}, True),
    "JPEG": ({"uint8"}, False),
    "TIFF": ({"uint8", "uint16", "int16", "uint32", "int32", "float32", "float64"}, True),
    "BMP": ({"uint8"}, True),
}


@dataclass(frozen=True)
class ImageInfo:
    """What was read: the format, the sample type, the channels, and metadata to keep."""

    format: str
    dtype: np.dtype
    channels: int
    alpha: bool
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None

    def describe(self) -> str:
        names = {1: "grey", 2: "grey+alpha", 3: "colour", 4: "colour+alpha"}
        return f"{self.format}, {names[self.channels]}, {self.dtype}"


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise _needs("images", "Pillow") from None
    return Image


def image_format(path: str) -> str | None:
    """The allowed format of the image at ``path`` from its first bytes, or None."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    return None


_MODES = {  # Pillow mode -> (samples per pixel, sample type) as read
    "1": (1, "uint8"),
    "L": (1, "uint8"),
    "LA": (2, "uint8"),
    "PA": (4, "uint8"),
    "RGB": (3, "uint8"),
    "RGBA": (4, "uint8"),
    "RGBX": (3, "uint8"),
    "CMYK": (3, "uint8"),
    "YCbCr": (3, "uint8"),
    "I;16": (1, "uint16"),
    "I;16L": (1, "uint16"),
    "I;16B": (1, "uint16"),
    "I": (1, "int32"),
    "F": (1, "float32"),
}
_PNG_PLANES = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


class ImageFile:
    """An image opened for its header: ``shape`` and ``info`` are known (and the pixel
    limit checked) before `read` decodes anything.

    >>> import tempfile, os, numpy as np
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "a.png")
    ...     Image.fromarray(np.zeros((2, 3, 3), np.uint8)).save(path)
    ...     with ImageFile(path) as image:
    ...         print(image.shape, image.info.describe(), image.read().shape)
    (2, 3, 3) PNG, colour, uint8 (2, 3, 3)
    """

    def __init__(self, path: str, max_pixels: int = MAX_PIXELS) -> None:
        self._path, self._im = path, None
        if image_format(path) == "TIFF":
            self._open_tiff()
        else:
            self._open_pillow()
        height, width = self.shape[:2]
        if width * height > max_pixels:
            self.close()
            raise bad_argument(
                "src",
                path,
                f"has {width}×{height} = {width * height:,} pixels, over the limit of "
                f"{max_pixels:,} (a guard against decompression bombs)",
                "raise the limit with --max-pixels (max_pixels=) if the image is genuine",
            )

    def _open_tiff(self) -> None:
        """A single-image TIFF file, through tifffile (any sample type)."""
        try:
            import tifffile
        except ImportError:
            raise _needs("TIFF images", "tifffile") from None
        try:
            with tifffile.TiffFile(self._path) as tif:
                page = tif.pages[0]
                shape, dtype, axes = page.shape, page.dtype, page.axes
                icc, dpi = _tiff_metadata(page.tags)
                images = sum(not p.subfiletype & 1 for p in tif.pages)  # 1: a reduced copy
        except Exception as err:
            raise _undecodable(self._path, err) from None
        if images > 1:
            raise bad_argument(
                "src",
                self._path,
                f"holds {images} images (pages); convolib reads single-image TIFF files",
                "save each page as its own file, or stack them into a NPY file and filter "
                "that (a 3-D kernel filters across the pages too)",
            )
        self._route, self._samples_first = "tifffile", axes.startswith("S")
        if self._samples_first:
            shape = (*shape[1:], shape[0])
        if len(shape) not in (2, 3) or np.dtype(dtype).name not in _WRITES["TIFF"][0]:
            raise bad_argument(
                "src",
                self._path,
                f"holds {shape} {dtype} samples (axes {axes})",
                "convolib reads 2-D TIFF images, grey or with up to 4 samples",
            )
        self._describe("TIFF", shape, dtype, icc, dpi)

    def _open_pillow(self) -> None:
        Image = _pillow()
        pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # ours is checked
        try:
            im = self._im = Image.open(self._path, formats=FORMATS)
        except Exception as err:
            raise _undecodable(self._path, err) from None
        finally:
            Image.MAX_IMAGE_PIXELS = pillow_limit
        width, height = im.size
        self._route = "pillow"
        if im.format == "PNG" and _png_header(self._path)[0] == 16 and not im.mode.startswith("I"):
            self._route = "pypng"
            channels, dtype = _PNG_PLANES[_png_header(self._path)[1]], "uint16"
        elif im.mode == "P":
            channels, dtype = (4 if "transparency" in im.info else 3), "uint8"
        elif im.mode in _MODES:
            channels, dtype = _MODES[im.mode]
            if im.mode == "I" and im.format == "PNG":
                dtype = "uint16"
        else:
            self.close()
            raise bad_argument("src", self._path, f"has pixel mode {im.mode!r}, not supported")
        shape = (height, width) + ((channels,) if channels > 1 else ())
        self._describe(im.format, shape, dtype, im.info.get("icc_profile"), im.info.get("dpi"))

    def _describe(self, fmt: str, shape: tuple[int, ...], dtype, icc, dpi) -> None:
        channels = shape[2] if len(shape) == 3 else 1
        if channels > 4:
            self.close()
            raise bad_argument(
                "src", self._path, f"has {channels} samples per pixel; 1 to 4 are read"
            )
        self.shape: tuple[int, ...] = shape if channels > 1 else shape[:2]
        self.info = ImageInfo(fmt, np.dtype(dtype), channels, channels in (2, 4), icc, _dpi(dpi))

    def read(self) -> np.ndarray:
        """The pixels, (rows, columns) or (rows, columns, channels)."""
        try:
            if self._route == "pypng":
                a = _read_png16(self._path)
            elif self._route == "tifffile":
                import tifffile

                a = tifffile.imread(self._path, key=0)
                a = np.moveaxis(a, 0, -1) if self._samples_first else a
            else:
                a = _from_pillow(self._im)
        except Exception as err:
            raise _undecodable(self._path, err) from None
        a = a.reshape(self.shape) if a.size == math.prod(self.shape) else a
        if a.shape != self.shape or a.dtype != self.info.dtype:
            raise _undecodable(
                self._path, ValueError(f"decoded {a.shape} {a.dtype}, header said {self.shape}")
            )
        return a

    def close(self) -> None:
        if self._im is not None:
            self._im.close()

    def __enter__(self) -> ImageFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _needs(what: str, package: str) -> Exception:
    return bad_argument(
        "src",
        None,
        f"is one of the {what}, and reading them needs {package}",
        "pip install 'convolib[images]'",
        show_value=False,
    )


def _undecodable(path: str, err: Exception) -> Exception:
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return bad_argument(
        "src",
        path,
        f"could not be decoded as an image ({reason})",
        "check that the file is a complete PNG, JPEG, TIFF or BMP image",
    )


def _dpi(value: object) -> tuple[float, float] | None:
    if isinstance(value, tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    return None


_CM_PER_INCH = 2.54


def _tiff_metadata(tags) -> tuple[bytes | None, tuple[float, float] | None]:
    """The ICC profile and the resolution in dots per inch from a TIFF page's tags."""
    icc = tags.get("InterColorProfile")
    icc = bytes(icc.value) if icc is not None else None
    x, y, unit = (tags.get(name) for name in ("XResolution", "YResolution", "ResolutionUnit"))
    if x is None or y is None or unit is None or int(unit.value) not in (2, 3):
        return icc, None  # unit 1: no absolute unit, an aspect ratio only
    per_inch = 1.0 if int(unit.value) == 2 else _CM_PER_INCH
    (xn, xd), (yn, yd) = x.value, y.value
    if not (xd and yd):
        return icc, None
    return icc, (xn / xd * per_inch, yn / yd * per_inch)


def _png_with_icc(path: str, icc: bytes) -> None:
    """Add an iCCP chunk (the profile, deflated) to the PNG at ``path``, after IHDR."""
    import zlib

    import png

    with open(path, "rb") as f:
        chunks = list(png.Reader(file=f).chunks())
    profile = (b"ICC profile", b"\0\0" + zlib.compress(icc))
    chunks.insert(1, (b"iCCP", b"".join(profile)))
    with open(path, "wb") as f:
        png.write_chunks(f, chunks)


def _from_pillow(im) -> np.ndarray:
    mode = im.mode
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    elif mode in ("CMYK", "YCbCr", "RGBX"):
        im = im.convert("RGB")
    elif mode.startswith("I;16") or (mode == "I" and im.format == "PNG"):
        return np.asarray(im).astype(np.uint16)
    return np.asarray(im)


def _png_header(path: str) -> tuple[int, int]:
    """Bit depth and colour type from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(26)
    if len(head) < 26 or head[12:16] != b"IHDR":
        return 8, 0
    return head[24], head[25]


def _read_png16(path: str) -> np.ndarray:
    import png

    width, height, rows, meta = png.Reader(filename=path).asDirect()
    planes = meta["planes"]
    a = np.empty((height, width * planes), np.uint16)
    for i, row in enumerate(rows):
        a[i] = row
    return a.reshape(height, width, planes) if planes > 1 else a


def output_format(arg: str, path: str) -> str:
    """The format an output path asks for, by its suffix."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise bad_argument(
            arg,
            path,
            f"must end in one of {', '.join(SUFFIXES)} to be written as an image",
        )
    return SUFFIXES[suffix]


def check_writable(arg: str, path: str, dtype: np.dtype, channels: int) -> str:
    """The output format, after checking that it can hold ``dtype`` samples and the channels."""
    fmt = output_format(arg, path)
    types, alpha = _WRITES[fmt]
    if np.dtype(dtype).name not in types:
        allowed = sorted(f for f, (t, _) in _WRITES.items() if np.dtype(dtype).name in t)
        raise bad_argument(
            arg,
            path,
            f"is a {fmt} file, which cannot hold {np.dtype(dtype).name} samples",
            f"write {' or '.join(allowed)}, or choose --out-dtype among {sorted(types)}"
            if allowed
            else f"choose --out-dtype among {sorted(types)}",
        )
    if channels in (2, 4) and not alpha:
        raise bad_argument(
            arg,
            path,
            f"is a {fmt} file, which has no alpha channel",
            "write PNG or TIFF to keep the alpha channel",
        )
    if channels not in (1, 3) + ((2, 4) if alpha else ()):
        raise bad_argument(arg, path, f"cannot hold {channels} channels")
    return fmt


def write_image(temp: str, a: np.ndarray, fmt: str, info: ImageInfo | None = None) -> None:
    """Write ``a`` (rows, columns[, channels]) to ``temp`` in ``fmt``: 16-bit colour PNG
    through pypng, TIFF beyond 8 bits through tifffile, the rest through Pillow."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    channels = 1 if a.ndim == 2 else a.shape[2]
    if fmt == "PNG" and a.dtype == np.uint16 and channels > 1:
        import png

        height, width = a.shape[:2]
        per_metre = {}
        if info is not None and info.dpi:
            per_metre = {
                "x_pixels_per_unit": round(info.dpi[0] / 0.0254),
                "y_pixels_per_unit": round(info.dpi[1] / 0.0254),
                "unit_is_meter": True,
            }
        writer = png.Writer(
            width,
            height,
            greyscale=channels < 3,
            alpha=channels in (2, 4),
            bitdepth=16,
            **per_metre,
        )
        with open(temp, "wb") as f:
            writer.write_array(f, a.reshape(-1))
        if info is not None and info.icc_profile:
            _png_with_icc(temp, info.icc_profile)
        return
    if fmt == "TIFF" and a.dtype != np.uint8:
        import tifffile

        options = {}
        if info is not None and info.dpi:
            options = {"resolution": info.dpi, "resolutionunit": "INCH"}
        tifffile.imwrite(
            temp,
            a,
            photometric="rgb" if channels >= 3 else "minisblack",
            compression="zlib",
            iccprofile=info.icc_profile if info is not None else None,
            **options,
        )
        return
    Image = _pillow()
    if a.dtype == np.uint16:
        im = Image.frombytes("I;16", (a.shape[1], a.shape[0]), a.astype("<u2").tobytes())
    else:
        im = Image.fromarray(a)
    options: dict[str, object] = {}
    if info is not None and info.icc_profile and fmt != "BMP":
        options["icc_profile"] = info.icc_profile
    if info is not None and info.dpi:
        options["dpi"] = info.dpi
    if fmt == "JPEG":
        options["quality"] = 95
    im.save(temp, format=fmt, **options)
