"""EXIF read for the preview pane and the catalog: date, camera, lens, exposure, orientation."""

from __future__ import annotations

import logging
import math
import struct
from datetime import datetime
from typing import TypedDict

from PIL import ExifTags, Image

__all__ = [
    "DECODE_ERRORS",
    "ImageMetadata",
    "camera_name",
    "exif_details",
    "image_metadata",
    "orientation",
    "oriented_size",
    "read_exif",
]

log = logging.getLogger(__name__)

# Pillow's decoders signal bad data with any of these; all mean "this file is damaged".
DECODE_ERRORS = (SyntaxError, EOFError, ValueError, IndexError, struct.error)

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


def read_exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF block; empty when there is none or it cannot be parsed.

    Call it while the image's file is open: the Exif IFD is read from the file on first use,
    so ``exif_details`` must run before the file is closed too.
    """
    try:
        return image.getexif()
    except (OSError, *DECODE_ERRORS, KeyError):
        log.debug("unreadable EXIF ignored", exc_info=True)
        return Image.Exif()


def exif_details(exif: Image.Exif) -> dict[int, object]:
    """The Exif sub-IFD (capture settings); empty when missing, damaged or no longer readable."""
    try:
        return dict(exif.get_ifd(ExifTags.IFD.Exif))
    except (OSError, *DECODE_ERRORS, KeyError):
        log.debug("unreadable Exif IFD ignored", exc_info=True)
        return {}


def orientation(exif: Image.Exif) -> int:
    """EXIF Orientation, 1 (upright) when missing or invalid."""
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def oriented_size(size: tuple[int, int], turn: int) -> tuple[int, int]:
    """``size`` as shown after EXIF Orientation ``turn``."""
    return (size[1], size[0]) if turn in (5, 6, 7, 8) else size


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


def camera_name(make: object, model: object) -> str | None:
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


def image_metadata(
    full_size: tuple[int, int],
    fmt: str | None,
    exif: Image.Exif,
    details: dict[int, object] | None = None,
) -> ImageMetadata:
    """Size (upright), date, camera, lens and exposure from ``exif`` and its Exif IFD
    (``details``, read from ``exif`` when not given)."""
    if details is None:
        details = exif_details(exif)
    width, height = oriented_size(full_size, orientation(exif))
    taken_at = _parse_exif_date(details.get(ExifTags.Base.DateTimeOriginal))
    if taken_at is None:
        taken_at = _parse_exif_date(exif.get(ExifTags.Base.DateTime))
    iso = _number(details.get(ExifTags.Base.ISOSpeedRatings))
    return ImageMetadata(
        format=fmt,
        width=width,
        height=height,
        taken_at=taken_at,
        camera=camera_name(exif.get(ExifTags.Base.Make), exif.get(ExifTags.Base.Model)),
        lens=_text(details.get(ExifTags.Base.LensModel)),
        exposure_time=_number(details.get(ExifTags.Base.ExposureTime)),
        f_number=_number(details.get(ExifTags.Base.FNumber)),
        iso=round(iso) if iso is not None else None,
        focal_length=_number(details.get(ExifTags.Base.FocalLength)),
    )
