"""Where a photo or video was taken: GPS coordinates from EXIF and from videos' location tags.

Photos (JPEG, HEIC, TIFF, PNG, WebP) through Pillow's EXIF reader; camera RAW files that are
TIFF inside (DNG, NEF, CR2, ARW, ORF, RW2, PEF, …) from the start of the file; videos from the
container's ISO 6709 location (QuickTime ``©xyz``, ``com.apple.quicktime.location.ISO6709``,
Android's ``location``) through PyAV. Malformed, out-of-range and (0, 0) "null island"
coordinates (phones without a fix) read as no position: never an error.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.records import is_raw

if TYPE_CHECKING:  # Pillow loads when a position is read (not when a search imports this)
    from PIL import Image

log = logging.getLogger(__name__)

GPS_IFD = 0x8825
# GPS tags: N/S, latitude, E/W, longitude (EXIF 2.3, section 4.6.6).
_LAT_REF, _LAT, _LON_REF, _LON = 1, 2, 3, 4
RAW_HEAD_BYTES = 4 * 1024 * 1024  # a RAW file's TIFF directories sit at its start
_VIDEO_KEYS = (
    "com.apple.quicktime.location.ISO6709",
    "location",
    "location-eng",
    "©xyz",
    "xyz",
)
_ISO6709 = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


def read_gps(path: Path, kind: str) -> tuple[float, float] | None:
    """(latitude, longitude) in degrees where ``path`` was taken, or None when unknown."""
    try:
        if kind == "video":
            return _video_gps(path)
        if kind != "image":
            return None
        if is_raw(path):
            return _raw_gps(path)
        return _image_gps(path)
    except Exception as exc:  # a damaged file has no usable position; never an error
        log.debug("no GPS read from %s: %s", path, exc)
        return None


def valid(lat: float, lon: float) -> tuple[float, float] | None:
    """The coordinates when they can be a place on Earth, not the (0, 0) of a missing fix."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    if abs(lat) < 1e-6 and abs(lon) < 1e-6:
        return None
    return lat, lon


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # HEIC then reads as no position, like any unreadable file
        pass


def _image_gps(path: Path) -> tuple[float, float] | None:
    from PIL import Image

    if path.suffix.lower() in (".heic", ".heif", ".hif"):
        _register_heif()
    with warnings.catch_warnings(), Image.open(path) as image:  # the header and EXIF only
        warnings.simplefilter("ignore")  # Pillow's "Corrupt EXIF data": no position, quietly
        return from_exif(image.getexif())


def _raw_gps(path: Path) -> tuple[float, float] | None:
    with path.open("rb") as f:
        head = f.read(RAW_HEAD_BYTES)
    if head[:4] not in _TIFF_MAGIC:
        if head[:2] == b"II":  # ORF ("IIRO") and RW2 ("IIU\0"): TIFF with another magic
            head = b"II*\x00" + head[4:]
        else:
            return None  # CR3, RAF and others: not TIFF inside
    from PIL import Image

    exif = Image.Exif()
    with warnings.catch_warnings():  # Pillow warns of a damaged directory: no position then
        warnings.simplefilter("ignore")
        exif.load(head)
        return from_exif(exif)


def from_exif(exif: Image.Exif) -> tuple[float, float] | None:
    """The position in an EXIF block's GPS directory, or None."""
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:
        return None
    if not gps:
        return None
    lat = _degrees(gps.get(_LAT))
    lon = _degrees(gps.get(_LON))
    if lat is None or lon is None:
        return None
    if _ref(gps.get(_LAT_REF)) == "S":
        lat = -abs(lat)
    if _ref(gps.get(_LON_REF)) == "W":
        lon = -abs(lon)
    return valid(lat, lon)


def _ref(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 ").upper()[:1]


def _number(value: Any) -> float | None:
    """A rational in any of the forms cameras write: IFDRational, (num, den), int, float."""
    if isinstance(value, tuple | list) and len(value) == 2:
        num, den = value
        if not den:
            return None
        value = float(num) / float(den)
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _degrees(value: Any) -> float | None:
    """Degrees from (degrees, minutes, seconds), (degrees, minutes) or one number."""
    if value is None:
        return None
    parts = list(value) if isinstance(value, tuple | list) else [value]
    numbers = [_number(p) for p in parts[:3]]
    if not numbers or any(n is None or n < 0 for n in numbers):
        return None
    if any(n is not None and n >= 60 for n in numbers[1:]):
        return None  # minutes or seconds out of range: a garbled value
    scale = (1.0, 60.0, 3600.0)
    return sum(n / s for n, s in zip(numbers, scale, strict=False) if n is not None)


def _video_gps(path: Path) -> tuple[float, float] | None:
    import av

    with av.open(str(path), metadata_errors="replace") as container:
        tags: dict[str, str] = {}
        for stream in container.streams:
            tags.update(dict(stream.metadata))
        tags.update(dict(container.metadata))
    for key in _VIDEO_KEYS:
        for name, text in tags.items():
            if name.casefold() == key.casefold():
                found = parse_iso6709(text)
                if found is not None:
                    return found
    return None


def parse_iso6709(text: str) -> tuple[float, float] | None:
    """An ISO 6709 point ("+38.7223-009.1393+012.000/", "+384320-0090825/"), or None."""
    m = _ISO6709.match(text or "")
    if m is None:
        return None
    lat = _sexagesimal(m[1], 2)
    lon = _sexagesimal(m[2], 3)
    if lat is None or lon is None:
        return None
    return valid(lat, lon)


def _sexagesimal(text: str, degree_digits: int) -> float | None:
    """±DD.dd, ±DDMM.mm or ±DDMMSS.ss (``degree_digits`` 2 for latitude, 3 for longitude)."""
    sign = -1.0 if text[0] == "-" else 1.0
    whole = text[1:].partition(".")[0]
    digits = len(whole)
    value = float(text[1:])
    if digits <= degree_digits:
        return sign * value
    if digits == degree_digits + 2:
        degrees, minutes = divmod(value, 100)
        return sign * (degrees + minutes / 60) if minutes < 60 else None
    if digits == degree_digits + 4:
        degrees, rest = divmod(value, 10000)
        minutes, seconds = divmod(rest, 100)
        if minutes >= 60 or seconds >= 60:
            return None
        return sign * (degrees + minutes / 60 + seconds / 3600)
    return None
