"""Image extractor (Pillow): reduced-size decode, EXIF orientation and metadata."""

from __future__ import annotations

import functools
import importlib
import io
import logging
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError, features

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction
from desktop_app.core.extractors.chatter import quiet_decoder_warnings
from desktop_app.core.extractors.exif import (
    DECODE_ERRORS,
    ImageMetadata,
    image_metadata,
    orientation,
    oriented_size,
    read_exif,
)
from desktop_app.core.extractors.files import os_reason, readable_file, short_reason
from desktop_app.core.extractors.limits import decode_lane
from desktop_app.core.extractors.pixels import (
    fit_shortest,
    oriented,
    plain,
    resizable,
    resized,
    to_rgb,
)
from desktop_app.core.extractors.reasons import decoder_failure
from desktop_app.core.extractors.suffixes import (
    AVIF_SUFFIXES,
    HEIF_SUFFIXES,
    OPTIONAL_FORMAT_SUFFIXES,
    PHOTO_BASE_SUFFIXES,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "ImageMetadata",
    "extract_image",
    "extract_image_data",
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

_BASE_EXTENSIONS = PHOTO_BASE_SUFFIXES
_OPTIONAL_FORMATS = OPTIONAL_FORMAT_SUFFIXES
# Pillow's own plugin of each allowed format ``Image.preinit()`` does not load (JXL has none:
# a third-party one registers it; MPO is opened by the JPEG plugin).
_OPTIONAL_PLUGINS = {
    "WEBP": "WebPImagePlugin",
    "TIFF": "TiffImagePlugin",
    "AVIF": "AvifImagePlugin",
    "JPEG2000": "Jpeg2KImagePlugin",
    "PSD": "PsdImagePlugin",
    "TGA": "TgaImagePlugin",
    "DDS": "DdsImagePlugin",
    "PCX": "PcxImagePlugin",
}
_HEIF_EXTENSIONS = HEIF_SUFFIXES
_AVIF_EXTENSIONS = AVIF_SUFFIXES

# The only decoders Image.open may pick, whatever a file's name claims. This keeps exotic
# plugins out of the indexer's reach (EPS, for one, runs Ghostscript on load). MPO is how
# Pillow reports multi-picture JPEGs written by many cameras and phones.
# PSD, TGA, DDS, PCX and JPEG 2000 are plain raster formats Pillow decodes itself.
_ALLOWED_FORMATS = (
    "JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "DIB", "TIFF", "HEIF", "AVIF",
    *_OPTIONAL_FORMATS,
)  # fmt: skip
# TIFF compressions every libtiff decodes; a failure with another (WEBP, JPEG XL, LERC…)
# is most likely a codec this build lacks, not damage.
_BASELINE_TIFF_CODECS = frozenset(
    {
        None, "raw", "tiff_ccitt", "group3", "group4", "tiff_lzw", "tiff_jpeg", "jpeg",
        "tiff_adobe_deflate", "tiff_deflate", "packbits", "tiff_raw_16",
    }
)  # fmt: skip
_SOURCE = "_lumen_source"  # the file object an opened image reads from
# Bytes of memory per pixel a decoded picture takes in Pillow, by mode ("P" is converted to
# RGB(A) at full size before it is resized: both count).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 5, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


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
    for name, suffixes in _OPTIONAL_FORMATS.items():
        if _registered(name):
            extensions |= suffixes
    return extensions


def _registered(name: str) -> bool:
    """Whether Pillow opens format ``name``: as after ``Image.init()``, which would import all
    of Pillow's ~50 plugins (a third of this module's import, paid by every `lumen search`)."""
    plugin = _OPTIONAL_PLUGINS.get(name)
    if plugin is not None and name not in Image.OPEN:
        try:
            importlib.import_module(f"PIL.{plugin}")
        except ImportError:
            return False
    return name in Image.OPEN


IMAGE_EXTENSIONS: frozenset[str] = _supported_extensions()


@functools.cache
@functools.cache
def _open_formats() -> tuple[str, ...]:
    """Registers optional decoders with Pillow (once, on first use); the formats to try.

    Only the plugins of the allowed formats are imported: ``Image.init()`` would import all
    ~45 of Pillow's (50-80 ms of a run that reads one photo). Also sends decoder warnings to
    the debug log (thumbnails and previews open images too).
    """
    heif = _pillow_heif()
    if heif is not None:
        heif.register_heif_opener()
    Image.preinit()  # JPEG, PNG, GIF, BMP/DIB (and PPM)
    quiet_decoder_warnings()
    return tuple(name for name in _ALLOWED_FORMATS if _registered(name))


def _too_large(width: int, height: int) -> ExtractionError:
    return ExtractionError(
        f"image is too large ({width}×{height} pixels, limit {MAX_PIXELS / 1e6:g} megapixels)"
    )


def _decoded_bytes(image: Image.Image) -> int:
    """Memory the picture takes once decoded at its (draft) size."""
    return image.width * image.height * _BYTES_PER_PIXEL.get(image.mode, 4)


def _open_file(path: Path) -> int:
    """A read-only descriptor of a regular, non-empty file (``ExtractionError`` otherwise)."""
    readable_file(path)
    try:
        # O_NONBLOCK so a FIFO swapped in since the check cannot hang a worker.
        return os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        )
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ExtractionError(os_reason(exc)) from exc


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """Opens ``path`` as an image; any failure in the ``with`` body becomes ExtractionError."""
    with open(_open_file(path), "rb") as fp, _opened_stream(fp, str(path)) as image:
        yield image


@contextmanager
def _opened_stream(fp: BinaryIO, name: str) -> Iterator[Image.Image]:
    """Opens the image in ``fp``; any failure in the ``with`` body becomes ExtractionError."""
    formats = _open_formats()
    suffix = Path(name).suffix.lstrip(".").upper()
    fmt: str | None = suffix if suffix in formats else None  # until Pillow names it
    compression: object = None
    try:
        image = Image.open(fp, formats=formats)
        setattr(image, _SOURCE, fp)  # for _load's second try
        compression = image.info.get("compression")
        fmt = image.format
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
        size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else short_reason(exc)
        raise ExtractionError(f"image is too large ({size})") from exc
    except MemoryError as exc:
        raise ExtractionError("not enough memory to decode this image") from exc
    except OSError as exc:
        if exc.errno is not None:  # the OS failed to read, the data may be fine
            raise ExtractionError(os_reason(exc)) from exc
        log.debug("decoding %s failed", name, exc_info=True)
        if fmt == "TIFF" and compression not in _BASELINE_TIFF_CODECS:
            raise ExtractionError(
                f"a variant of TIFF image Lumen cannot read ({compression} compression)"
            ) from exc
        raise decoder_failure(exc, "image", fmt) from exc
    except (*DECODE_ERRORS, NotImplementedError, KeyError, TypeError, ZeroDivisionError) as exc:
        # Pillow's plugins raise these on data they do not expect (found on real files).
        log.debug("decoding %s failed", name, exc_info=True)
        raise decoder_failure(exc, "image", fmt) from exc


def _draft(image: Image.Image, wanted: tuple[int, int]) -> None:
    """Asks the decoder for a smaller picture, at least ``wanted`` on both sides: JPEG's DCT
    scaling, JPEG 2000's resolution levels (a 10-megapixel .jp2 decodes at a quarter)."""
    if image.format == "JPEG2000":
        level = 0
        while level < 5 and all(
            s >> (level + 1) >= w for s, w in zip(image.size, wanted, strict=True)
        ):
            level += 1
        if level:
            image.reduce = level  # type: ignore[assignment,method-assign]  # Jpeg2KImageFile
        return
    image.draft("RGB", wanted)


def _load(image: Image.Image) -> Image.Image:
    """Decodes the pixels; a JPEG 2000 that OpenJPEG cannot decode at the resolution level
    asked for (some files fail at some levels) is decoded again at full size."""
    try:
        image.load()
        return image
    except OSError:
        source: BinaryIO | None = getattr(image, _SOURCE, None)
        if image.format != "JPEG2000" or not getattr(image, "_reduce", 0) or source is None:
            raise
    log.debug("JPEG 2000 reduced decode failed; decoding at full size", exc_info=True)
    source.seek(0)
    full = Image.open(source, formats=["JPEG2000"])
    with decode_lane(_decoded_bytes(full)):
        full.load()
    return full


def extract_image(path: Path, image_size: int = 224) -> Extraction:
    """Reads a photo for indexing: a small upright RGB copy plus size, date and camera.

    JPEGs are decoded at a reduced scale; the shortest side of ``image`` stays at least
    ``image_size`` (when the original's is) and at most about 1.15 × ``image_size``.
    Raises ``ExtractionError`` with a short reason for anything that is not a readable image.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, not {image_size}")
    with _opened(path) as image:
        return _extracted(image, image_size)


def extract_image_data(data: bytes, image_size: int = 224) -> Extraction:
    """``extract_image`` for a picture held in memory (one embedded in a document)."""
    with _opened_stream(io.BytesIO(data), "embedded picture") as image:
        return _extracted(image, image_size)


def _extracted(image: Image.Image, image_size: int) -> Extraction:
    """The small upright RGB copy and the metadata of an opened image."""
    full_size = image.size
    _draft(image, (image_size, image_size))
    with decode_lane(_decoded_bytes(image)):
        image = _load(image)
        exif = read_exif(image)
        metadata = image_metadata(full_size, image.format, exif)
        turn = orientation(exif)
        small = fit_shortest(resizable(image), round(image_size * _EMBED_HEADROOM))
        pixels = plain(to_rgb(oriented(small, turn), keep_alpha=False))
    oriented_width, oriented_height = oriented_size(full_size, turn)
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
            _draft(image, wanted)
        with decode_lane(_decoded_bytes(image)):
            image = _load(image)
            turn = orientation(read_exif(image))
            working = resizable(image)
            if scale < 1:
                working = resized(
                    working, (max(1, round(width * scale)), max(1, round(height * scale)))
                )
            # to_rgb always returns a new image: nothing returned shares the file's core image.
            return plain(to_rgb(oriented(working, turn), keep_alpha=True))


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
        exif = Image.Exif() if skip_exif else read_exif(image)
        return image_metadata(image.size, image.format, exif)
