"""Write real DNG files for tests (tifffile): a Bayer mosaic LibRaw demosaics, and a preview."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

# XYZ → linear sRGB: as the DNG's ColorMatrix1, the sensor's RGB is linear sRGB.
_XYZ_TO_SRGB = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
_WHITE = 4095  # a 12-bit sensor
_EXIF_PLACEHOLDER = 34664


def _linear(picture: Image.Image) -> np.ndarray:
    values = np.asarray(picture.convert("RGB"), dtype=np.float64) / 255.0
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def _mosaic(picture: Image.Image) -> np.ndarray:
    """An RGGB Bayer mosaic at twice the picture's size, as 12-bit sensor values."""
    full = np.kron(_linear(picture), np.ones((2, 2, 1)))
    cfa = np.empty(full.shape[:2])
    cfa[0::2, 0::2] = full[0::2, 0::2, 0]
    cfa[0::2, 1::2] = full[0::2, 1::2, 1]
    cfa[1::2, 0::2] = full[1::2, 0::2, 1]
    cfa[1::2, 1::2] = full[1::2, 1::2, 2]
    return np.round(cfa * _WHITE).astype(np.uint16)


def _rationals(values: tuple[float, ...]) -> list[int]:
    out: list[int] = []
    for value in values:
        out += [round(value * 10000), 10000]
    return out


def write_dng(
    path: Path,
    sensor: Image.Image,
    preview: Image.Image | None = None,
    taken: str = "2023:05:06 07:08:09",
    make: str = "Canon",
    model: str = "Canon EOS R5",
    lens: str = "RF24-105mm F4 L IS USM",
    orientation: int = 1,
    exif_ifd: bool = False,
) -> Path:
    """A DNG whose sensor data shows ``sensor`` (at twice its size) and whose embedded preview
    is ``preview`` (``sensor`` itself when not given), with date, camera and lens in its tags.

    ``orientation`` is the EXIF Orientation tag, as a camera held on its side writes it: the
    sensor data and the preview stay as the sensor saw them. With ``exif_ifd`` the date, lens
    and exposure are in an Exif IFD (tag 34665), as real DNG, NEF and CR2 files keep them.
    """
    shown = sensor if preview is None else preview
    tags = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),  # Orientation
        (306, "s", 0, taken, True),
        (50706, "B", 4, bytes([1, 4, 0, 0]), True),  # DNGVersion
        (50708, "s", 0, model, True),  # UniqueCameraModel
        (50721, "2i", 9, _rationals(_XYZ_TO_SRGB), True),  # ColorMatrix1
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, [1, 1, 1, 1, 1, 1], True),  # AsShotNeutral
    ]
    if exif_ifd:
        # tifffile will not write ExifIFD (34665) itself: a neighbouring unused tag keeps its
        # place in the sorted IFD and becomes 34665 once the Exif IFD is written (below).
        tags.append((_EXIF_PLACEHOLDER, "I", 1, 0, True))
    else:
        tags += [
            (36867, "s", 0, taken, True),  # DateTimeOriginal: DNG allows EXIF tags in IFD0
            (42036, "s", 0, lens, True),  # LensModel
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path) as tif:
        tif.write(
            np.asarray(shown.convert("RGB")),
            photometric="rgb",
            subfiletype=1,  # a reduced-resolution preview
            subifds=1,
            extratags=tags,
        )
        tif.write(
            _mosaic(sensor),
            photometric=32803,  # CFA
            subfiletype=0,
            extratags=[
                (33421, "H", 2, [2, 2], True),  # CFARepeatPatternDim
                (33422, "B", 4, bytes([0, 1, 1, 2]), True),  # CFAPattern: RGGB
                (50717, "I", 1, _WHITE, True),  # WhiteLevel
            ],
        )
    if exif_ifd:
        _append_exif_ifd(path, taken, lens)
    return path


def _append_exif_ifd(path: Path, taken: str, lens: str) -> None:
    """Appends an Exif IFD (date, lens, exposure 1/125 s, f/4, ISO 200) and points IFD0 at it."""
    with tifffile.TiffFile(path) as tif:
        first = tif.pages.first
        pointer = first.tags[_EXIF_PLACEHOLDER].valueoffset
    data = bytearray(path.read_bytes())
    data += b"\0" * (len(data) % 2)
    start = len(data)
    texts = {36867: taken.encode() + b"\0", 42036: lens.encode() + b"\0"}
    rationals = {33434: (1, 125), 33437: (4, 1)}
    entries = [33434, 33437, 34855, 36867, 42036]
    extra = start + 2 + 12 * len(entries) + 4  # where values too long for an entry go
    body, tail = bytearray(struct.pack("<H", len(entries))), bytearray()
    for tag in entries:
        if tag in rationals:
            body += struct.pack("<HHII", tag, 5, 1, extra + len(tail))
            tail += struct.pack("<II", *rationals[tag])
        elif tag in texts:
            body += struct.pack("<HHII", tag, 2, len(texts[tag]), extra + len(tail))
            tail += texts[tag] + b"\0" * (len(texts[tag]) % 2)
        else:
            body += struct.pack("<HHIHH", tag, 3, 1, 200, 0)
    body += struct.pack("<I", 0)
    data += body + tail
    data[pointer - 8 : pointer - 6] = struct.pack("<H", 34665)
    data[pointer : pointer + 4] = struct.pack("<I", start)
    path.write_bytes(bytes(data))
