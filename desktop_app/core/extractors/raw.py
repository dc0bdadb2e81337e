"""Camera RAW photos (rawpy, LibRaw in its wheel): the embedded preview when it is large enough,
else a half-size demosaiced render; date, camera and lens from the file's EXIF.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
from PIL import ExifTags, Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction
from desktop_app.core.extractors.exif import (
    ImageMetadata,
    exif_details,
    image_metadata,
    read_exif,
)
from desktop_app.core.extractors.files import readable_file
from desktop_app.core.extractors.limits import decode_lane
from desktop_app.core.extractors.pixels import fit_longest, fit_shortest, plain, to_rgb
from desktop_app.core.extractors.reasons import decoder_failure
from desktop_app.core.records import RAW_EXTENSIONS

__all__ = [
    "RAW_EXTENSIONS",
    "extract_raw",
    "open_raw_for_display",
    "read_raw_metadata",
]

log = logging.getLogger(__name__)

# Files larger than this are refused before LibRaw reads them (medium-format RAWs are ~250 MB).
MAX_RAW_BYTES = 1_000_000_000
# Sensors larger than this are refused before their data is read (medium format is ~150 MP).
MAX_SENSOR_PIXELS = 400_000_000
# Even a lossy compressed RAW keeps more than one bit per sensor pixel: a file holding less
# than this per pixel its header declares has lost its data (a copy cut short).
_MIN_BYTES_PER_PIXEL = 1 / 8
# A render whose brightest and darkest pixels differ by less than this (0-255) shows no data.
_CONSTANT_RANGE = 2
_EMBED_HEADROOM = 1.15
# LibRaw's "flip" (how the sensor data must turn to be upright) as a Pillow transpose.
_EXIF_IN_IFD0 = (
    ExifTags.Base.DateTimeOriginal,
    ExifTags.Base.LensModel,
    ExifTags.Base.ExposureTime,
    ExifTags.Base.FNumber,
    ExifTags.Base.ISOSpeedRatings,
    ExifTags.Base.FocalLength,
)
_FLIP = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}


def _truncated() -> ExtractionError:
    return ExtractionError("truncated RAW photo (the file ends before its image data does)")


def _check_declared_size(raw: Any, file_size: int) -> None:
    """Refuses sensors too large to decode and files too small for the data they declare."""
    pixels = int(raw.sizes.raw_width) * int(raw.sizes.raw_height)
    if pixels > MAX_SENSOR_PIXELS:
        raise ExtractionError(f"RAW photo is too large ({pixels / 1e6:.0f} megapixels)")
    if file_size < pixels * _MIN_BYTES_PER_PIXEL:
        raise _truncated()


@contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """The file opened by LibRaw; its failures become ``ExtractionError``."""
    import rawpy

    info = readable_file(path, MAX_RAW_BYTES, "RAW file")
    try:
        raw = rawpy.imread(str(path))
    except (rawpy.LibRawIOError, rawpy.LibRawDataError) as exc:
        raise _truncated() from exc
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise ExtractionError("not a RAW photo, or a camera model LibRaw cannot read") from exc
    try:
        _check_declared_size(raw, info.st_size)
        yield raw
    except (rawpy.LibRawIOError, rawpy.LibRawDataError) as exc:
        raise _truncated() from exc
    except rawpy.LibRawError as exc:
        raise decoder_failure(exc, "RAW photo") from exc
    except MemoryError as exc:
        raise ExtractionError("not enough memory to decode this RAW photo") from exc
    finally:
        raw.close()


def _flip(raw: Any) -> int:
    return int(getattr(raw.sizes, "flip", 0) or 0)


def _upright_size(raw: Any) -> tuple[int, int]:
    width, height = int(raw.sizes.width), int(raw.sizes.height)
    return (height, width) if _flip(raw) in (5, 6) else (width, height)


def _preview(raw: Any, min_shortest: int) -> Image.Image | None:
    """The embedded preview, upright, when its shortest side is at least ``min_shortest``."""
    import rawpy

    flip, full = _flip(raw), _upright_size(raw)  # read first: extract_thumb changes them

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, MemoryError) as exc:
        log.debug("no usable embedded preview: %s", exc)
        return None
    picture: Image.Image
    if thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            picture = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
            if min(picture.size) < min_shortest:
                return None
            picture.draft("RGB", (min_shortest, min_shortest))
            picture.load()
        except (OSError, SyntaxError, ValueError) as exc:
            log.debug("embedded preview unreadable: %s", exc)
            return None
    elif thumb.format == rawpy.ThumbFormat.BITMAP:
        picture = Image.fromarray(thumb.data)
        if min(picture.size) < min_shortest:
            return None
    else:
        return None
    # The preview is stored as the sensor sees it; turn it as LibRaw turns the render.
    turn = _FLIP.get(flip)
    upright = picture if turn is None else picture.transpose(turn)
    if (upright.width >= upright.height) != (full[0] >= full[1]):
        return None  # a preview that disagrees with the photo's shape: render instead
    return upright


def _render(raw: Any) -> Image.Image:
    """A demosaiced render at half the sensor's size (LibRaw turns it upright).

    LibRaw renders missing data without a word (black, or a stripe pattern repeated from
    what it read): a render without any variation is refused as truncated.
    """
    sensor = int(raw.sizes.raw_width) * int(raw.sizes.raw_height)
    with decode_lane(sensor * 2 + sensor * 3 // 4):  # the 16-bit data and the half-size RGB
        pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    if pixels.size and int(np.ptp(pixels[:: max(1, pixels.shape[0] // 64)])) < _CONSTANT_RANGE:
        raise _truncated()
    return Image.fromarray(pixels)


def _picture(raw: Any, min_shortest: int) -> Image.Image:
    preview = _preview(raw, min_shortest)
    return preview if preview is not None else _render(raw)


def extract_raw(path: Path, image_size: int = 224) -> Extraction:
    """Reads a RAW photo for indexing: a small upright RGB copy plus size, date and camera.

    Raises ``ExtractionError`` with a short reason for anything LibRaw cannot read.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, not {image_size}")
    shortest = round(image_size * _EMBED_HEADROOM)
    with _opened(path) as raw:
        width, height = _upright_size(raw)  # before LibRaw reads the preview, which alters it
        picture = _picture(raw, shortest)
    metadata = read_raw_metadata(path, (width, height))
    return Extraction(
        kind="image",
        image=plain(to_rgb(fit_shortest(picture, shortest), keep_alpha=False)),
        width=width,
        height=height,
        taken_at=metadata["taken_at"],
        camera=metadata["camera"],
    )


def open_raw_for_display(path: Path, max_side: int) -> Image.Image:
    """An upright RGB copy whose longest side is at most ``max_side`` (thumbnails, previews)."""
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    with _opened(path) as raw:
        full = _upright_size(raw)
        # The preview must be large enough for the longest side asked for.
        needed = round(max_side * min(full) / max(1, max(full)))
        picture = _picture(raw, min(needed, min(full)))
    return plain(to_rgb(fit_longest(picture, max_side), keep_alpha=False))


def _tiff_exif(path: Path) -> tuple[Image.Exif, dict[int, object]]:
    """EXIF of a TIFF-based RAW (DNG, CR2, NEF, ARW, PEF…) and its Exif IFD: no pixels read.

    The Exif IFD is read while the file is open (Pillow reads it from the file on first use).
    """
    try:
        with Image.open(path, formats=["TIFF"]) as header:
            exif = read_exif(header)
            details = exif_details(exif)
    except Exception as exc:  # ORF, RW2, RAF, CR3 are not TIFF to Pillow; any header trouble
        log.debug("no TIFF EXIF in %s: %s", path.name, exc)
        return Image.Exif(), {}
    # DNG allows EXIF tags in IFD0 itself; read them as if they were in the Exif IFD.
    for tag in _EXIF_IN_IFD0:
        if tag not in details and tag in exif:
            details[tag] = exif[tag]
    return exif, details


def _preview_exif(path: Path) -> Image.Exif:
    """EXIF of the embedded JPEG preview (CR3, RAF and others keep a copy there)."""
    import rawpy

    try:
        with _opened(path) as raw:
            thumb = raw.extract_thumb()
            if thumb.format != rawpy.ThumbFormat.JPEG:
                return Image.Exif()
            with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as preview:
                exif = read_exif(preview)
                exif_details(exif)  # read now: the Exif IFD is read lazily from the file
                return exif
    except (ExtractionError, rawpy.LibRawError, OSError, SyntaxError, ValueError):
        return Image.Exif()


def read_raw_metadata(path: Path, size: tuple[int, int] | None = None) -> ImageMetadata:
    """Size, date, camera, lens and exposure of a RAW photo, without demosaicing it.

    Raises ``ExtractionError`` when LibRaw cannot read the file (only when ``size`` is not given).
    """
    if size is None:
        with _opened(path) as raw:
            size = _upright_size(raw)
    exif, details = _tiff_exif(path)
    metadata = image_metadata(size, "RAW", exif, details)
    if metadata["taken_at"] is None or metadata["camera"] is None:
        preview = _preview_exif(path)
        fallback = image_metadata(size, "RAW", preview, exif_details(preview))
        # (a plain dict's view of the TypedDict: the keys are known, the loop variable is not)
        values, extra = cast(dict[str, Any], metadata), cast(dict[str, Any], fallback)
        for key in ("taken_at", "camera", "lens", "exposure_time", "f_number", "iso"):
            if values[key] is None:
                values[key] = extra[key]
    metadata["width"], metadata["height"] = size
    return metadata
