"""What the image extractor reads of a photo besides its pixels: date, camera, the preview's copy."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, TiffImagePlugin

from desktop_app.core.extractors.images import extract_image, open_for_display, read_image_metadata
from tests.support.pictures import RED, close_to, corner, exif_with, quadrants, save

# --- EXIF metadata -------------------------------------------------------------------------


def test_date_and_camera_are_read_back(tmp_path: Path) -> None:
    ifd0: dict[int, Any] = {
        ExifTags.Base.Make: "Canon",
        ExifTags.Base.Model: "Canon EOS 5D Mark IV\x00",
        ExifTags.Base.DateTime: "2022:01:01 09:00:00",  # last edit, not capture
    }
    exif = exif_with(ifd0=ifd0, DateTimeOriginal="2021:07:14 18:30:05")
    path = save(quadrants(64, 48), tmp_path / "IMG_1234.JPG", exif=exif)

    extraction = extract_image(path)

    assert extraction.taken_at == datetime(2021, 7, 14, 18, 30, 5)
    assert extraction.camera == "Canon EOS 5D Mark IV"


@pytest.mark.parametrize(
    ("ifd0", "details", "expected"),
    [
        ({ExifTags.Base.DateTime: "2019:12:31 23:59:59"}, {}, datetime(2019, 12, 31, 23, 59, 59)),
        ({}, {"DateTimeOriginal": "0000:00:00 00:00:00"}, None),
        ({}, {"DateTimeOriginal": "2020:02:30 10:00:00"}, None),
        ({}, {"DateTimeOriginal": "    "}, None),
        ({}, {"DateTimeOriginal": "2020-05-06 07:08:09"}, datetime(2020, 5, 6, 7, 8, 9)),
        ({}, {}, None),
    ],
)
def test_capture_date_falls_back_and_ignores_junk(
    tmp_path: Path, ifd0: dict[int, Any], details: dict[str, Any], expected: datetime | None
) -> None:
    path = save(quadrants(32, 24), tmp_path / "d.jpg", exif=exif_with(ifd0=ifd0, **details))
    assert extract_image(path).taken_at == expected


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
        ("Apple", "iPhone 12 Pro", "Apple iPhone 12 Pro"),
        ("OLYMPUS IMAGING CORP.  ", "E-M5\x00\x00", "OLYMPUS E-M5"),
        ("RICOH IMAGING COMPANY, LTD.", "PENTAX K-1", "RICOH PENTAX K-1"),
        ("  SONY ", "ILCE-7M3", "SONY ILCE-7M3"),
        (None, "DMC-GH4", "DMC-GH4"),
        ("FUJIFILM", None, "FUJIFILM"),
        ("  ", "\x00", None),
    ],
)
def test_camera_name_is_cleaned(
    tmp_path: Path, make: str | None, model: str | None, expected: str | None
) -> None:
    ifd0: dict[int, Any] = {}
    if make is not None:
        ifd0[ExifTags.Base.Make] = make
    if model is not None:
        ifd0[ExifTags.Base.Model] = model
    path = save(quadrants(32, 24), tmp_path / "c.jpg", exif=exif_with(ifd0=ifd0))
    assert extract_image(path).camera == expected


def test_damaged_exif_does_not_lose_the_photo(tmp_path: Path) -> None:
    path = save(quadrants(64, 48), tmp_path / "bad-exif.jpg", exif=b"Exif\x00\x00II*\x00\xff\xff")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert (extraction.taken_at, extraction.camera) == (None, None)


def test_metadata_for_the_preview_pane(tmp_path: Path) -> None:
    exif = exif_with(
        orientation=6,
        ifd0={ExifTags.Base.Make: "Canon", ExifTags.Base.Model: "Canon EOS R5"},
        DateTimeOriginal="2023:03:04 05:06:07",
        LensModel="RF24-105mm F4 L IS USM",
        ExposureTime=TiffImagePlugin.IFDRational(1, 250),
        FNumber=TiffImagePlugin.IFDRational(28, 10),
        ISOSpeedRatings=400,
        FocalLength=TiffImagePlugin.IFDRational(50, 1),
    )
    path = save(quadrants(400, 300), tmp_path / "meta.jpg", exif=exif)

    metadata = read_image_metadata(path)

    assert metadata == {
        "format": "JPEG",
        "width": 300,
        "height": 400,
        "taken_at": datetime(2023, 3, 4, 5, 6, 7),
        "camera": "Canon EOS R5",
        "lens": "RF24-105mm F4 L IS USM",
        "exposure_time": pytest.approx(0.004),
        "f_number": pytest.approx(2.8),
        "iso": 400,
        "focal_length": pytest.approx(50.0),
    }


def test_metadata_of_a_plain_png(tmp_path: Path) -> None:
    metadata = read_image_metadata(save(quadrants(30, 20), tmp_path / "plain.png"))
    assert (metadata["format"], metadata["width"], metadata["height"]) == ("PNG", 30, 20)
    assert metadata["camera"] is None and metadata["taken_at"] is None


# --- open_for_display ----------------------------------------------------------------------


def test_display_copy_fits_and_is_upright(big_jpeg: Path, tmp_path: Path) -> None:
    shown = open_for_display(big_jpeg, 256)
    assert shown.size == (256, 192)
    assert shown.mode == "RGB"
    assert close_to(corner(shown, "tl"), RED)

    portrait = save(quadrants(4000, 3000), tmp_path / "portrait.jpg", exif=exif_with(orientation=8))
    shown = open_for_display(portrait, 256)
    assert shown.size == (192, 256)
    assert close_to(corner(shown, "bl"), RED)  # turned anticlockwise
    assert "exif" not in shown.info  # nothing left that would turn it a second time


def test_display_copy_keeps_transparency(tmp_path: Path) -> None:
    image = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (300, 0, 600, 300))
    shown = open_for_display(save(image, tmp_path / "icon.png"), 100)
    assert shown.mode == "RGBA"
    assert shown.size == (100, 50)
    assert corner(shown, "tl")[3] == 0
    assert shown.getpixel((95, 25)) == (0, 0, 255, 255)


def test_display_copy_of_a_small_image_is_not_enlarged(tmp_path: Path) -> None:
    shown = open_for_display(save(quadrants(50, 40), tmp_path / "tiny.gif"), 256)
    assert shown.size == (50, 40)
