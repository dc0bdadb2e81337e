"""Camera RAW photos (rawpy, LibRaw in its wheel): the embedded preview when it is large enough,
else a half-size demosaiced render; date, camera and lens from the file's EXIF.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from PIL import ExifTags, Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction
from desktop_app.core.extractors.images import (
    ImageMetadata,
    _exif,
    _metadata,
    _plain,
    _resized,
    _to_rgb,
)
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


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


@contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """The file opened by LibRaw; its failures become ``ExtractionError``."""
    import rawpy

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ExtractionError("not a regular file")
    if info.st_size == 0:
        raise ExtractionError("empty file")
    if info.st_size > MAX_RAW_BYTES:
        raise ExtractionError(f"RAW file is too large ({info.st_size / 1e6:.0f} MB)")
    try:
        raw = rawpy.imread(str(path))
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise ExtractionError(f"not a RAW photo LibRaw can read: {_short(exc)}") from exc
    try:
        yield raw
    except rawpy.LibRawError as exc:
        raise ExtractionError(f"corrupt RAW photo: {_short(exc)}") from exc
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
    """A demosaiced render at half the sensor's size (LibRaw turns it upright)."""
    pixels = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    return Image.fromarray(pixels)


def _picture(raw: Any, min_shortest: int) -> Image.Image:
    preview = _preview(raw, min_shortest)
    return preview if preview is not None else _render(raw)


def _fit_shortest(picture: Image.Image, shortest: int) -> Image.Image:
    if min(picture.size) <= shortest:
        return picture
    scale = shortest / min(picture.size)
    return _resized(
        picture, (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    )


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
        image=_plain(_to_rgb(_fit_shortest(picture, shortest), keep_alpha=False)),
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
    if max(picture.size) > max_side:
        scale = max_side / max(picture.size)
        picture = _resized(
            picture, (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        )
    return _plain(_to_rgb(picture, keep_alpha=False))


def _tiff_exif(path: Path) -> Image.Exif:
    """EXIF of a TIFF-based RAW (DNG, CR2, NEF, ARW, PEF…): the header only, no pixels."""
    try:
        with Image.open(path, formats=["TIFF"]) as header:
            exif = _exif(header)
    except Exception as exc:  # ORF, RW2, RAF, CR3 are not TIFF to Pillow
        log.debug("no TIFF EXIF in %s: %s", path.name, exc)
        return Image.Exif()
    # DNG allows EXIF tags in IFD0 itself; read them as if they were in the Exif IFD.
    details = exif.get_ifd(ExifTags.IFD.Exif)
    for tag in _EXIF_IN_IFD0:
        if tag not in details and tag in exif:
            details[tag] = exif[tag]
    return exif


def _preview_exif(path: Path) -> Image.Exif:
    """EXIF of the embedded JPEG preview (CR3, RAF and others keep a copy there)."""
    import rawpy

    try:
        with _opened(path) as raw:
            thumb = raw.extract_thumb()
            if thumb.format != rawpy.ThumbFormat.JPEG:
                return Image.Exif()
            with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as preview:
                return _exif(preview)
    except (ExtractionError, rawpy.LibRawError, OSError, SyntaxError, ValueError):
        return Image.Exif()


def read_raw_metadata(path: Path, size: tuple[int, int] | None = None) -> ImageMetadata:
    """Size, date, camera, lens and exposure of a RAW photo, without demosaicing it.

    Raises ``ExtractionError`` when LibRaw cannot read the file (only when ``size`` is not given).
    """
    if size is None:
        with _opened(path) as raw:
            size = _upright_size(raw)
    exif = _tiff_exif(path)
    metadata = _metadata(size, "RAW", exif)
    if metadata["taken_at"] is None or metadata["camera"] is None:
        fallback = _metadata(size, "RAW", _preview_exif(path))
        # (a plain dict's view of the TypedDict: the keys are known, the loop variable is not)
        values, extra = cast(dict[str, Any], metadata), cast(dict[str, Any], fallback)
        for key in ("taken_at", "camera", "lens", "exposure_time", "f_number", "iso"):
            if values[key] is None:
                values[key] = extra[key]
    metadata["width"], metadata["height"] = size
    return metadata
