"""Where a photo or video was taken: GPS read from JPEG, HEIC and video, bad positions ignored."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import TiffImagePlugin

from desktop_app.core.extractors.gps import parse_iso6709, read_gps
from desktop_app.core.understanding.geodata import Geocoder
from tests.support.geotagged import (
    LISBON,
    NEW_YORK,
    PARIS,
    REYKJAVIK,
    TOKYO,
    gps_exif,
    write_geotagged_photo,
    write_geotagged_video,
)
from tests.support.shapes import all_captions

CAPTION = all_captions()[0]


def close(found: tuple[float, float] | None, expected: tuple[float, float]) -> bool:
    return found is not None and all(
        abs(a - b) < 1e-3 for a, b in zip(found, expected, strict=True)
    )


def test_gps_of_a_jpeg_south_and_west_included(tmp_path: Path) -> None:
    photo = write_geotagged_photo(tmp_path / "a.jpg", CAPTION, 1, datetime(2023, 7, 1), LISBON)
    assert close(read_gps(photo, "image"), LISBON)
    south = write_geotagged_photo(tmp_path / "b.jpg", CAPTION, 1, None, (-33.8688, 151.2093))
    assert close(read_gps(south, "image"), (-33.8688, 151.2093))


def test_gps_of_a_heic(tmp_path: Path) -> None:
    photo = write_geotagged_photo(tmp_path / "a.heic", CAPTION, 1, datetime(2023, 7, 1), NEW_YORK)
    assert close(read_gps(photo, "image"), NEW_YORK)


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_gps_of_a_video(tmp_path: Path, suffix: str) -> None:
    video = write_geotagged_video(tmp_path / f"clip{suffix}", CAPTION, TOKYO)
    assert close(read_gps(video, "video"), TOKYO)


def rational(num: int, den: int) -> Any:
    return TiffImagePlugin.IFDRational(num, den)


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # null island: no fix
        {1: "N", 2: (91.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # out of range
        {1: "N", 2: (38.0, 75.0, 0.0), 3: "W", 4: (9.0, 8.0, 0.0)},  # 75 minutes
        {1: "N", 2: (rational(38, 0), rational(1, 0), rational(0, 0)), 3: "W", 4: (9.0, 8.0, 0.0)},
        {1: "N", 2: (38.0, 43.0, 20.0)},  # no longitude
        {1: "N", 3: "E"},  # references without values
    ],
)
def test_malformed_gps_reads_as_no_position(tmp_path: Path, gps: dict[int, Any]) -> None:
    photo = write_geotagged_photo(tmp_path / "bad.jpg", CAPTION, 1, raw_gps=gps)
    assert read_gps(photo, "image") is None


def test_odd_rational_forms_still_read(tmp_path: Path) -> None:
    gps = {1: "S", 2: (rational(3372, 100),), 3: "W", 4: (rational(58, 1), rational(23, 1))}
    photo = write_geotagged_photo(tmp_path / "odd.jpg", CAPTION, 1, raw_gps=gps)
    assert close(read_gps(photo, "image"), (-33.72, -(58 + 23 / 60)))


@pytest.mark.parametrize(
    ("name", "magic"),
    [
        ("shot.dng", b"II*\x00"),
        ("shot.nef", b"II*\x00"),
        ("shot.orf", b"IIRO"),
        ("shot.rw2", b"IIU\x00"),
    ],
)
def test_gps_of_raw_files_that_are_tiff_inside(tmp_path: Path, name: str, magic: bytes) -> None:
    exif = gps_exif(datetime(2023, 7, 1), REYKJAVIK)
    exif.endian = "<"  # little-endian, as these cameras write
    tiff = exif.tobytes()[6:]  # without the "Exif\0\0" of a JPEG segment
    raw = tmp_path / name
    raw.write_bytes(magic + tiff[4:] + bytes(4096))
    assert close(read_gps(raw, "image"), REYKJAVIK)


def test_raw_files_that_are_not_tiff_inside_have_no_position(tmp_path: Path) -> None:
    cr3 = tmp_path / "shot.cr3"
    cr3.write_bytes(b"\x00\x00\x00\x18ftypcrx " + bytes(4096))
    assert read_gps(cr3, "image") is None


def test_unreadable_files_have_no_position(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe1 not really")
    assert read_gps(broken, "image") is None
    assert read_gps(tmp_path / "missing.mp4", "video") is None
    assert read_gps(broken, "document") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+38.7223-009.1393+012.000/", (38.7223, -9.1393)),
        ("+384320-0090821/", (38 + 43 / 60 + 20 / 3600, -(9 + 8 / 60 + 21 / 3600))),
        ("+3843.5-00908.5/", (38 + 43.5 / 60, -(9 + 8.5 / 60))),
        ("+00.0000+000.0000/", None),
        ("+95.0+010.0/", None),
        ("somewhere", None),
    ],
)
def test_iso6709_forms(text: str, expected: tuple[float, float] | None) -> None:
    found = parse_iso6709(text)
    assert found == expected if expected is None else close(found, expected)


def test_positions_resolve_offline_to_city_region_and_country() -> None:
    geocoder = Geocoder()
    assert geocoder.lookup(*LISBON).label == "Lisbon, Portugal"
    assert geocoder.lookup(*TOKYO).label == "Tokyo, Japan"
    paris = geocoder.lookup(*PARIS)
    assert (paris.city, paris.region, paris.country_code) == ("Paris", "Île-de-France", "FR")
    assert geocoder.lookup(*REYKJAVIK).country == "Iceland"
    at_sea = geocoder.lookup(0.5, -30.0)  # the middle of the Atlantic
    assert at_sea.country is None and at_sea.key is None
