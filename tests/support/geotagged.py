"""Photos and videos that say when and where they were taken (EXIF dates and GPS; ISO 6709)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tests.support.shapes import Caption, render
from tests.support.videos import write_shape_video

# Cities the tests travel to: (latitude, longitude), and the place Lumen should name.
LISBON = (38.7223, -9.1393)
PORTO = (41.1496, -8.6110)
TOKYO = (35.6895, 139.6917)
PARIS = (48.8566, 2.3522)
NEW_YORK = (40.7128, -74.0060)
REYKJAVIK = (64.1466, -21.9426)

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def dms(value: float) -> tuple[float, float, float]:
    """Degrees, minutes, seconds of a positive angle."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4)


def gps_exif(
    taken_at: datetime | None = None,
    where: tuple[float, float] | None = None,
    raw_gps: dict[int, Any] | None = None,
) -> Image.Exif:
    """An EXIF block with the capture date and GPS position (or ``raw_gps`` tags as given)."""
    exif = Image.Exif()
    exif[0x010F] = "Lumen"
    exif[0x0110] = "GeoCam"
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[0x0132] = stamp
        exif.get_ifd(EXIF_IFD)[0x9003] = stamp
    gps = exif.get_ifd(GPS_IFD)
    if where is not None:
        lat, lon = where
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = dms(abs(lat))
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = dms(abs(lon))
    for tag, value in (raw_gps or {}).items():
        gps[tag] = value
    return exif


def write_geotagged_photo(
    path: Path,
    caption: Caption,
    seed: int,
    taken_at: datetime | None = None,
    where: tuple[float, float] | None = None,
    raw_gps: dict[int, Any] | None = None,
) -> Path:
    """A JPEG (or HEIC, by its suffix) of ``caption`` taken at ``taken_at`` in ``where``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = gps_exif(taken_at, where, raw_gps)
    picture = render(caption, seed=seed)
    if path.suffix.lower() == ".heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
        picture.save(path, format="HEIF", exif=exif.tobytes(), quality=80)
    else:
        picture.save(path, exif=exif.tobytes(), quality=90)
    return path


def write_geotagged_video(path: Path, caption: Caption, where: tuple[float, float]) -> Path:
    """A short video whose container says where it was filmed (ISO 6709, as phones write it)."""
    lat, lon = where
    location = f"{lat:+08.4f}{lon:+09.4f}/"
    return write_shape_video(path, [(caption, 1.0)], metadata={"location": location})
