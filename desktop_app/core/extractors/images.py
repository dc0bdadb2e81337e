"""Image extractor (Pillow): reduced-size decode, EXIF orientation and metadata."""

from __future__ import annotations

import functools
import importlib
import logging
import math
import os
import re
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TypedDict

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError, features

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "ImageMetadata",
    "extract_image",
    "open_for_display",
    "read_image_metadata",
]

log = logging.getLogger(__name__)

# Refused right after the header is read, before any pixel is decoded. Pillow's own check
# (Image.MAX_IMAGE_PIXELS, a process-wide setting we leave alone) still applies on top: with
# its default it refuses anything above ~179 megapixels before this check is reached.
MAX_PIXELS = 250_000_000

# extract_image keeps the shortest side at most this factor above the model's input size, so
# the model's own resize + centre crop has real pixels to work with but little to throw away.
_EMBED_HEADROOM = 1.15

_BASE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
)
_HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})  # .hif: Canon and Fujifilm HEIF
_AVIF_EXTENSIONS = frozenset({".avif"})

# The only decoders Image.open may pick, whatever a file's name claims. This keeps exotic
# plugins out of the indexer's reach (EPS, for one, runs Ghostscript on load). MPO is how
# Pillow reports multi-picture JPEGs written by many cameras and phones.
_ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")

# Pillow's decoders signal bad data with any of these; all mean "this file is damaged".
_CORRUPT_DATA_ERRORS = (SyntaxError, EOFError, ValueError, IndexError, struct.error)

_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})

_EXIF_DATE_FORMATS = ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
# Trailing words dropped from EXIF Make: "NIKON CORPORATION", "OLYMPUS OPTICAL CO.,LTD".
_COMPANY_WORDS = frozenset(
    {"ag", "co", "company", "corp", "corporation", "gmbh", "imaging", "inc", "ltd", "optical"}
)


class ImageMetadata(TypedDict):
    """What the preview pane shows about a photo; every EXIF-derived value may be ``None``."""

    format: str | None
    width: int  # after EXIF orientation, full resolution
    height: int
    taken_at: datetime | None
    camera: str | None
    lens: str | None
    exposure_time: float | None  # seconds
    f_number: float | None
    iso: int | None
    focal_length: float | None  # millimetres


@functools.cache
def _pillow_heif() -> ModuleType | None:
    """The pillow_heif module (a regular dependency), or ``None`` if its native library fails."""
    try:
        return importlib.import_module("pillow_heif")
    except (ImportError, OSError) as exc:  # OSError: its native library failed to load
        log.debug("HEIC/HEIF support unavailable: %s", exc)
        return None


def _supported_extensions() -> frozenset[str]:
    extensions = _BASE_EXTENSIONS
    if _pillow_heif() is not None:
        extensions |= _HEIF_EXTENSIONS
    if features.check_module("avif"):  # Pillow >= 11.2 decodes AVIF itself when built with it
        extensions |= _AVIF_EXTENSIONS
    return extensions


IMAGE_EXTENSIONS: frozenset[str] = _supported_extensions()


@functools.cache
def _open_formats() -> tuple[str, ...]:
    """Registers optional decoders with Pillow (once, on first use); the formats to try."""
    heif = _pillow_heif()
    if heif is not None:
        heif.register_heif_opener()
    Image.init()
    return tuple(name for name in _ALLOWED_FORMATS if name in Image.OPEN)


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _os_error(exc: OSError) -> ExtractionError:
    if isinstance(exc, FileNotFoundError):
        return ExtractionError("file no longer exists")
    if isinstance(exc, PermissionError):
        return ExtractionError("permission denied")
    if isinstance(exc, IsADirectoryError):
        return ExtractionError("is a folder, not a file")
    return ExtractionError(f"cannot read file: {exc.strerror or _short(exc)}")


def _too_large(width: int, height: int) -> ExtractionError:
    return ExtractionError(
        f"image is too large ({width}×{height} pixels, limit {MAX_PIXELS / 1e6:g} megapixels)"
    )


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """Opens ``path`` as an image; any failure in the ``with`` body becomes ExtractionError."""
    formats = _open_formats()
    try:
        # O_NONBLOCK so a FIFO with an image's name cannot hang a worker; no effect on files.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _os_error(exc) from exc
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _os_error(exc) from exc
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        os.close(fd)
        raise ExtractionError("empty file" if stat.S_ISREG(info.st_mode) else "not a regular file")
    with open(fd, "rb") as fp:
        try:
            image = Image.open(fp, formats=formats)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _too_large(width, height)
            yield image
        except ExtractionError:
            raise
        except UnidentifiedImageError as exc:
            raise ExtractionError("not an image, or a format Lumen cannot read") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # Pillow's process-wide limit, hit inside Image.open before our own check.
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else _short(exc)
            raise ExtractionError(f"image is too large ({size})") from exc
        except MemoryError as exc:
            raise ExtractionError("not enough memory to decode this image") from exc
        except OSError as exc:
            if exc.errno is not None:  # the OS failed to read, the data may be fine
                raise _os_error(exc) from exc
            log.debug("decoding %s failed", path, exc_info=True)
            raise ExtractionError(f"corrupt or truncated image: {_short(exc)}") from exc
        except _CORRUPT_DATA_ERRORS as exc:
            log.debug("decoding %s failed", path, exc_info=True)
            raise ExtractionError(f"corrupt or truncated image: {_short(exc)}") from exc


def _exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF block; empty when there is none or it cannot be parsed."""
    try:
        return image.getexif()
    except (OSError, *_CORRUPT_DATA_ERRORS, KeyError):
        log.debug("unreadable EXIF ignored", exc_info=True)
        return Image.Exif()


def _exif_ifd(exif: Image.Exif) -> dict[int, object]:
    """The Exif sub-IFD (capture settings); empty when missing or damaged."""
    try:
        return dict(exif.get_ifd(ExifTags.IFD.Exif))
    except (OSError, *_CORRUPT_DATA_ERRORS, KeyError):
        log.debug("unreadable Exif IFD ignored", exc_info=True)
        return {}


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.replace("\x00", " ").split())
    return cleaned or None


def _number(value: object) -> float | None:
    if isinstance(value, tuple) and value:
        value = value[0]
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, str...
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _parse_exif_date(value: object) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    for fmt in _EXIF_DATE_FORMATS:
        try:
            return datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    return None  # "0000:00:00 00:00:00", blanks and other junk cameras write


def _camera(make: object, model: object) -> str | None:
    """ "Make Model" without the duplication many cameras write ("Canon" + "Canon EOS R5")."""
    make_text, model_text = _text(make), _text(model)
    if make_text is not None:
        words = make_text.replace(",", " ").split()
        while len(words) > 1 and words[-1].lower().rstrip(".") in _COMPANY_WORDS:
            words.pop()
        make_text = " ".join(words)
    if make_text is None or model_text is None:
        return model_text or make_text
    brand = make_text.split()[0].lower()
    if model_text.lower().startswith(brand):
        return model_text
    return f"{make_text} {model_text}"


def _metadata(full_size: tuple[int, int], fmt: str | None, exif: Image.Exif) -> ImageMetadata:
    details = _exif_ifd(exif)
    width, height = _oriented_size(full_size, _orientation(exif))
    taken_at = _parse_exif_date(details.get(ExifTags.Base.DateTimeOriginal))
    if taken_at is None:
        taken_at = _parse_exif_date(exif.get(ExifTags.Base.DateTime))
    iso = _number(details.get(ExifTags.Base.ISOSpeedRatings))
    return ImageMetadata(
        format=fmt,
        width=width,
        height=height,
        taken_at=taken_at,
        camera=_camera(exif.get(ExifTags.Base.Make), exif.get(ExifTags.Base.Model)),
        lens=_text(details.get(ExifTags.Base.LensModel)),
        exposure_time=_number(details.get(ExifTags.Base.ExposureTime)),
        f_number=_number(details.get(ExifTags.Base.FNumber)),
        iso=round(iso) if iso is not None else None,
        focal_length=_number(details.get(ExifTags.Base.FocalLength)),
    )


def _resizable(image: Image.Image) -> Image.Image:
    """Converts modes that Pillow would resize with nearest-neighbour (palette, 1-bit)."""
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """Maps 16-bit, 32-bit integer and float greyscale onto 0-255 instead of clipping."""
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        scaled = pixels.astype(np.float32) / 257.0
    elif image.mode == "F" and pixels.size and pixels.min() >= 0.0 and pixels.max() <= 1.0:
        scaled = pixels.astype(np.float32) * 255.0
    else:  # "I" or "F" with an unknown range
        low = float(pixels.min()) if pixels.size else 0.0
        high = float(pixels.max()) if pixels.size else 0.0
        if image.mode == "I" and low >= 0 and high <= 255:
            scaled = pixels.astype(np.float32)
        elif image.mode == "I" and low >= 0 and high <= 65535:
            scaled = pixels.astype(np.float32) / 257.0
        elif high > low:
            scaled = (pixels.astype(np.float32) - low) * (255.0 / (high - low))
        else:
            scaled = np.zeros(pixels.shape, np.float32)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def _to_rgb(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB (or RGBA when ``keep_alpha`` and the image has transparency), alpha over white."""
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        image = _high_bit_depth_to_l(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if keep_alpha:
            return rgba
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise ExtractionError(f"unsupported colour mode {image.mode}") from exc


def _oriented(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def _plain(image: Image.Image) -> Image.Image:
    """Drops the source's metadata (its EXIF orientation no longer applies to these pixels)."""
    icc_profile = image.info.get("icc_profile")
    image.info = {"icc_profile": icc_profile} if icc_profile else {}
    return image


def extract_image(path: Path, image_size: int = 224) -> Extraction:
    """Reads a photo for indexing: a small upright RGB copy plus size, date and camera.

    JPEGs are decoded at a reduced scale; the shortest side of ``image`` stays at least
    ``image_size`` (when the original's is) and at most about 1.15 × ``image_size``.
    Raises ``ExtractionError`` with a short reason for anything that is not a readable image.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, not {image_size}")
    with _opened(path) as image:
        full_size = image.size
        image.draft("RGB", (image_size, image_size))
        image.load()
        exif = _exif(image)
        metadata = _metadata(full_size, image.format, exif)
        orientation = _orientation(exif)
        working = _resizable(image)
        width, height = working.size
        shortest_limit = round(image_size * _EMBED_HEADROOM)
        if min(width, height) > shortest_limit:
            scale = shortest_limit / min(width, height)
            working = _resized(
                working, (max(1, round(width * scale)), max(1, round(height * scale)))
            )
        pixels = _plain(_to_rgb(_oriented(working, orientation), keep_alpha=False))
    oriented_width, oriented_height = _oriented_size(full_size, orientation)
    return Extraction(
        kind="image",
        image=pixels,
        width=oriented_width,
        height=oriented_height,
        taken_at=metadata["taken_at"],
        camera=metadata["camera"],
    )


def _is_raw(path: Path) -> bool:
    from desktop_app.core.extractors.raw import RAW_EXTENSIONS

    return path.suffix.lower() in RAW_EXTENSIONS


def open_for_display(path: Path, max_side: int) -> Image.Image:
    """An upright RGB or RGBA copy whose longest side is at most ``max_side``.

    For thumbnails and previews; raises ``ExtractionError`` like ``extract_image``.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    if _is_raw(path):
        from desktop_app.core.extractors.raw import open_raw_for_display

        return open_raw_for_display(path, max_side)
    with _opened(path) as image:
        width, height = image.size
        scale = max_side / max(width, height)
        if scale < 1:
            # Ask for at least the final size on both axes: the longest side stays >= max_side.
            wanted = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
            image.draft("RGB", wanted)
        image.load()
        orientation = _orientation(_exif(image))
        working = _resizable(image)
        if scale < 1:
            working = _resized(
                working, (max(1, round(width * scale)), max(1, round(height * scale)))
            )
        # _to_rgb always returns a new image: nothing returned shares the file's core image.
        return _plain(_to_rgb(_oriented(working, orientation), keep_alpha=True))


def read_image_metadata(path: Path) -> ImageMetadata:
    """Dimensions and EXIF details (date, camera, lens, exposure) without decoding pixels.

    PNGs whose EXIF comes after the pixel data report none rather than being decoded.
    Raises ``ExtractionError`` like ``extract_image``.
    """
    if _is_raw(path):
        from desktop_app.core.extractors.raw import read_raw_metadata

        return read_raw_metadata(path)
    with _opened(path) as image:
        # For a PNG without EXIF before its pixels, Pillow would decode everything to look further.
        skip_exif = image.format == "PNG" and "exif" not in image.info
        exif = Image.Exif() if skip_exif else _exif(image)
        return _metadata(image.size, image.format, exif)
