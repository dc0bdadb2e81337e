"""The image extractor on real files: orientation, colour modes, metadata, every way to fail."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile, ImageOps, JpegImagePlugin, TiffImagePlugin, features

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract, images, kind_for_path
from desktop_app.core.extractors.images import (
    IMAGE_EXTENSIONS,
    extract_image,
    open_for_display,
    read_image_metadata,
)

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

Colour = tuple[int, ...]


def close_to(actual: Any, expected: Colour, tolerance: int = 40) -> bool:
    """Pixel equality up to lossy-compression noise."""
    return all(abs(int(a) - int(e)) <= tolerance for a, e in zip(actual, expected, strict=True))


def quadrants(width: int, height: int) -> Image.Image:
    """Red, green / blue, white quarters: any turn or flip of it shows."""
    image = Image.new("RGB", (width, height), WHITE)
    half_w, half_h = width // 2, height // 2
    image.paste(RED, (0, 0, half_w, half_h))
    image.paste(GREEN, (half_w, 0, width, half_h))
    image.paste(BLUE, (0, half_h, half_w, height))
    return image


def exif_with(
    orientation: int | None = None, ifd0: dict[int, Any] | None = None, **details: Any
) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    if details:
        sub_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        for name, value in details.items():
            sub_ifd[ExifTags.Base[name]] = value
    return exif


def save(image: Image.Image, path: Path, **params: Any) -> Path:
    image.save(path, **params)
    return path


def corner(image: Image.Image, where: str) -> Any:
    """The pixel a few pixels inside one corner ("tl", "tr", "bl", "br")."""
    inset_x, inset_y = max(1, image.width // 10), max(1, image.height // 10)
    x = inset_x if where[1] == "l" else image.width - 1 - inset_x
    y = inset_y if where[0] == "t" else image.height - 1 - inset_y
    return image.getpixel((x, y))


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-megapixel photo-sized JPEG (4000×3000), made once."""
    path = tmp_path_factory.mktemp("big") / "big photo.jpg"
    return save(quadrants(4000, 3000), path, quality=90)


# --- extension set -------------------------------------------------------------------------


def test_extensions_are_lower_case_suffixes_and_cover_common_formats() -> None:
    assert {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"} <= (
        IMAGE_EXTENSIONS
    )
    assert all(ext.startswith(".") and ext == ext.lower() for ext in IMAGE_EXTENSIONS)


def test_heic_heif_and_avif_are_indexed_by_default() -> None:
    assert {".heic", ".heif", ".hif", ".avif"} <= IMAGE_EXTENSIONS


# --- size and draft decoding ---------------------------------------------------------------


def test_large_jpeg_is_decoded_small_but_reports_its_real_size(
    big_jpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts: list[tuple[Any, Any]] = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: Any, size: Any) -> Any:
        result = original_draft(self, mode, size)
        drafts.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    extraction = extract_image(big_jpeg)

    assert extraction.kind == "image"
    assert (extraction.width, extraction.height) == (4000, 3000)
    assert drafts == [((224, 224), (500, 375))]  # libjpeg decoded at 1/8 scale
    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    width, height = extraction.image.size
    assert 224 <= min(width, height) <= round(224 * 1.15)
    assert width / height == pytest.approx(4 / 3, rel=0.01)  # not cropped, not squashed
    assert close_to(corner(extraction.image, "tl"), RED)
    assert close_to(corner(extraction.image, "br"), WHITE)


def test_image_size_argument_sets_the_shortest_side(big_jpeg: Path) -> None:
    extraction = extract_image(big_jpeg, image_size=336)
    assert extraction.image is not None
    assert 336 <= min(extraction.image.size) <= round(336 * 1.15)


def test_small_image_is_not_enlarged(tmp_path: Path) -> None:
    path = save(quadrants(100, 80), tmp_path / "small.jpg")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.size == (100, 80)
    assert (extraction.width, extraction.height) == (100, 80)


def test_non_jpeg_is_downscaled_too(tmp_path: Path) -> None:
    path = save(quadrants(1200, 900), tmp_path / "big.png")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert min(extraction.image.size) == round(224 * 1.15)
    assert (extraction.width, extraction.height) == (1200, 900)


# --- EXIF orientation ----------------------------------------------------------------------


def test_orientation_6_photo_comes_out_upright(tmp_path: Path) -> None:
    """A phone held upright stores the picture turned; the marker must end up top-right."""
    stored = Image.new("RGB", (240, 200), BLUE)
    stored.paste(RED, (0, 0, 40, 40))  # stored top-left
    path = save(stored, tmp_path / "portrait.jpg", exif=exif_with(orientation=6), quality=95)

    extraction = extract_image(path)

    assert (extraction.width, extraction.height) == (200, 240)
    assert extraction.image is not None
    assert extraction.image.size == (200, 240)
    top_right = extraction.image.getpixel((extraction.image.width - 10, 10))
    assert close_to(top_right, RED)
    assert close_to(extraction.image.getpixel((10, 10)), BLUE)


def test_orientation_survives_draft_decoding_of_a_large_photo(tmp_path: Path) -> None:
    path = save(
        quadrants(4000, 3000), tmp_path / "rotated.jpg", exif=exif_with(orientation=6), quality=90
    )
    extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (3000, 4000)  # full size, upright
    assert extraction.image is not None
    assert extraction.image.width < extraction.image.height
    assert min(extraction.image.size) >= 224
    # Turning the stored picture clockwise puts its top-left (red) at the top-right.
    assert close_to(corner(extraction.image, "tr"), RED)
    assert close_to(corner(extraction.image, "tl"), BLUE)
    assert close_to(corner(extraction.image, "br"), GREEN)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillows_exif_transpose(tmp_path: Path, orientation: int) -> None:
    original = quadrants(1600, 1200)
    path = save(original, tmp_path / f"o{orientation}.jpg", exif=exif_with(orientation), quality=95)
    with Image.open(path) as reference_file:
        reference = ImageOps.exif_transpose(reference_file)
    assert reference is not None

    extraction = extract_image(path)
    assert extraction.image is not None
    assert (extraction.width, extraction.height) == reference.size
    expected = reference.resize(extraction.image.size, Image.Resampling.BICUBIC)
    difference = np.abs(
        np.asarray(expected, dtype=np.int16) - np.asarray(extraction.image, dtype=np.int16)
    )
    assert difference.mean() < 6

    shown = open_for_display(path, 200)
    assert max(shown.size) == 200
    assert close_to(corner(shown, "tl"), corner(reference, "tl"))


# --- colour modes --------------------------------------------------------------------------


def test_transparent_png_area_becomes_white_not_black(tmp_path: Path) -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (100, 0, 200, 100))
    path = save(image, tmp_path / "logo.png")

    extraction = extract_image(path)

    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert extraction.image.getpixel((10, 50)) == WHITE
    assert extraction.image.getpixel((190, 50)) == BLUE


def test_half_transparent_pixels_blend_with_white(tmp_path: Path) -> None:
    path = save(Image.new("RGBA", (50, 50), (0, 0, 0, 128)), tmp_path / "half.png")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert close_to(extraction.image.getpixel((25, 25)), (127, 127, 127), tolerance=2)


def test_greyscale_with_alpha_becomes_rgb_over_white(tmp_path: Path) -> None:
    image = Image.new("LA", (60, 40), (0, 0))
    image.paste((50, 255), (30, 0, 60, 40))
    path = save(image, tmp_path / "la.png")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert extraction.image.getpixel((5, 20)) == WHITE
    assert extraction.image.getpixel((55, 20)) == (50, 50, 50)


def test_palette_png_with_transparent_index_becomes_white(tmp_path: Path) -> None:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (20, 0, 40, 40))
    path = save(image, tmp_path / "palette.png", transparency=0)
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.getpixel((5, 5)) == WHITE
    assert extraction.image.getpixel((35, 5)) == RED


def test_palette_gif_keeps_its_colours(tmp_path: Path) -> None:
    path = save(quadrants(80, 60).convert("P"), tmp_path / "palette.gif")
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert close_to(corner(extraction.image, "tl"), RED, tolerance=0)
    assert close_to(corner(extraction.image, "tr"), GREEN, tolerance=0)


def _frames() -> list[Image.Image]:
    return [Image.new("RGB", (64, 48), colour) for colour in (RED, GREEN, BLUE)]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("animated.gif", {}),
        ("animated.webp", {"lossless": True}),
        ("animated.png", {}),  # APNG
    ],
)
def test_animation_gives_its_first_frame(tmp_path: Path, name: str, params: dict[str, Any]) -> None:
    first, *rest = _frames()
    path = save(first, tmp_path / name, save_all=True, append_images=rest, duration=100, **params)
    with Image.open(path) as check:
        assert getattr(check, "n_frames", 1) == 3

    extraction = extract_image(path)

    assert extraction.image is not None
    assert close_to(extraction.image.getpixel((32, 24)), RED, tolerance=2)
    assert close_to(open_for_display(path, 32).getpixel((16, 12)), RED, tolerance=2)


def _sixteen_bit_png(path: Path) -> Path:
    pixels = np.full((40, 60), 32768, dtype=np.uint16)
    pixels[:, 30:] = 65535
    return save(Image.fromarray(pixels), path)


def _float_tiff(path: Path) -> Path:
    pixels = np.full((40, 60), 0.5, dtype=np.float32)
    pixels[:, 30:] = 1.0
    return save(Image.fromarray(pixels, "F"), path)


def _int32_tiff(path: Path) -> Path:
    pixels = np.full((40, 60), 32768, dtype=np.int32)
    pixels[:, 30:] = 65535
    return save(Image.fromarray(pixels, "I"), path)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("grey16.png", _sixteen_bit_png),
        ("float.tif", _float_tiff),
        ("int32.tif", _int32_tiff),
    ],
)
def test_high_bit_depth_greyscale_keeps_its_tones(
    tmp_path: Path, name: str, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path / name)
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert close_to(extraction.image.getpixel((5, 20)), (128, 128, 128), tolerance=2)  # not white
    assert extraction.image.getpixel((55, 20)) == WHITE


def test_cmyk_jpeg_colours_are_converted(tmp_path: Path) -> None:
    path = save(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), tmp_path / "print.jpg")
    with Image.open(path) as check:
        assert check.mode == "CMYK"
    extraction = extract_image(path)
    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert close_to(extraction.image.getpixel((32, 24)), RED)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("scan.tif", {"compression": "tiff_lzw"}),
        ("old.bmp", {}),
        ("web.webp", {"quality": 90}),
        ("greyscale.jpg", {}),
        ("bilevel.png", {}),
    ],
)
def test_common_formats_are_read(tmp_path: Path, name: str, params: dict[str, Any]) -> None:
    image = quadrants(320, 240)
    if name.startswith("greyscale"):
        image = image.convert("L")
    elif name.startswith("bilevel"):
        image = image.convert("1")
    path = save(image, tmp_path / name, **params)

    extraction = extract_image(path)

    assert extraction.image is not None
    assert extraction.image.mode == "RGB"
    assert (extraction.width, extraction.height) == (320, 240)
    expected = image.convert("RGB").resize(extraction.image.size)
    assert close_to(corner(extraction.image, "br"), corner(expected, "br"))
    assert close_to(corner(extraction.image, "tl"), corner(expected, "tl"))


def test_multi_picture_jpeg_gives_its_main_picture_decoded_small(tmp_path: Path) -> None:
    """Many cameras write MPO (a JPEG followed by more pictures); Pillow reports it as "MPO"."""
    path = tmp_path / "DSCF0001.JPG"
    quadrants(2000, 1500).save(
        path, format="MPO", save_all=True, append_images=[Image.new("RGB", (640, 480))]
    )
    with Image.open(path) as check:
        assert check.format == "MPO"
    extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (2000, 1500)
    assert extraction.image is not None
    assert min(extraction.image.size) == round(224 * 1.15)
    assert close_to(corner(extraction.image, "tl"), RED)


def test_heic_photo_is_read(tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()  # only to write the sample
    path = save(quadrants(640, 480), tmp_path / "IMG_0001.HEIC", quality=90)
    extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (640, 480)
    assert extraction.image is not None
    assert close_to(corner(extraction.image, "tl"), RED)


def test_avif_photo_is_read(tmp_path: Path) -> None:
    path = tmp_path / "photo.avif"
    quadrants(640, 480).save(path, quality=90)
    extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (640, 480)
    assert extraction.image is not None
    assert close_to(corner(extraction.image, "tl"), RED)


def _phone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 15 Pro"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:07:14 18:30:05"
    return exif


def test_heic_from_a_phone_keeps_its_date_and_is_not_turned_twice(tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()  # only to write the sample
    # pillow-heif stores the turn in the HEIF container (as phones do) and libheif applies it
    # on decode; the EXIF tag must then not turn the picture a second time.
    path = save(quadrants(640, 480), tmp_path / "IMG_0002.HEIC", exif=_phone_exif(6))
    extraction = extract_image(path)
    assert extraction.taken_at == datetime(2024, 7, 14, 18, 30, 5)
    assert extraction.camera == "Apple iPhone 15 Pro"
    assert extraction.image is not None
    assert (extraction.width, extraction.height) == (640, 480)
    assert close_to(corner(extraction.image, "tl"), RED)
    assert read_image_metadata(path)["taken_at"] == datetime(2024, 7, 14, 18, 30, 5)


def test_avif_exif_orientation_and_date_are_applied(tmp_path: Path) -> None:
    path = save(quadrants(640, 480), tmp_path / "photo.avif", quality=90, exif=_phone_exif(6))
    extraction = extract_image(path)
    assert extraction.taken_at == datetime(2024, 7, 14, 18, 30, 5)
    assert extraction.image is not None
    assert (extraction.width, extraction.height) == (480, 640)  # turned a quarter, once
    assert close_to(corner(extraction.image, "tl"), BLUE)


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


# --- failures ------------------------------------------------------------------------------


def _error_text(path: Path) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_image(path)
    with pytest.raises(ExtractionError) as caught_display:
        open_for_display(path, 128)
    assert str(caught_display.value) == str(caught.value)
    return str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.touch()
    assert _error_text(path) == "empty file"


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    assert "not an image" in _error_text(path)


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("shopping list: milk, eggs\n", encoding="utf-8")
    assert "not an image" in _error_text(path)


@pytest.mark.parametrize("name", ["cut.jpg", "cut.png"])
def test_truncated_file_is_refused_with_a_clear_reason(tmp_path: Path, name: str) -> None:
    """Partly copied files are refused rather than indexed with a grey lower half."""
    whole = io.BytesIO()
    noisy = np.random.default_rng(2).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    Image.fromarray(noisy).save(whole, format=Path(name).suffix[1:].replace("jpg", "jpeg"))
    path = tmp_path / name
    path.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])

    message = _error_text(path)

    assert message.startswith("truncated image")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # global state left alone


def _peak_memory_kib() -> int:
    """This process's peak resident memory (0 where the platform cannot tell)."""
    try:
        import resource
    except ImportError:
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def test_huge_dimensions_are_refused_before_decoding(tmp_path: Path) -> None:
    """A 60-byte PNG that claims 30000×30000 pixels must not allocate 2.7 GB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    peak_before = _peak_memory_kib()
    started = time.perf_counter()

    message = _error_text(path)

    assert time.perf_counter() - started < 1.0
    assert _peak_memory_kib() - peak_before < 200 * 1024
    assert message.startswith("image is too large")


def test_own_pixel_limit_applies_even_without_pillows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pillow_limit = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # as an app might choose to do
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    path = save(quadrants(200, 100), tmp_path / "wide.png")

    assert _error_text(path).startswith("image is too large (200×100 pixels")
    with pytest.raises(ExtractionError, match="too large"):
        read_image_metadata(path)
    monkeypatch.undo()
    assert pillow_limit == Image.MAX_IMAGE_PIXELS  # never changed by the extractor


def test_file_deleted_after_listing(tmp_path: Path) -> None:
    path = save(quadrants(32, 24), tmp_path / "gone.jpg")
    path.unlink()
    assert _error_text(path) == "file no longer exists"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = save(quadrants(32, 24), tmp_path / "locked.jpg")
    path.chmod(0)
    try:
        assert _error_text(path) == "permission denied"
    finally:
        path.chmod(0o644)


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same path as the chmod test, reachable when the tests run as root."""
    path = save(quadrants(32, 24), tmp_path / "locked.jpg")
    real_open = os.open

    def refusing_open(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    assert _error_text(path) == "permission denied"


def test_folder_with_an_image_name(tmp_path: Path) -> None:
    folder = tmp_path / "holiday.jpg"
    folder.mkdir()
    message = _error_text(folder)
    assert message in ("not a regular file", "is a folder, not a file", "permission denied")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_with_an_image_name_does_not_hang(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    assert _error_text(pipe) == "not a regular file"


# --- names and threads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "my photo (1).jpg",
        "фото з відпустки 日本 📷.jpg",
        "trailing space .png",
        "-starts-with-dash.webp",
        "new\nline.jpg",
        "UPPER.JPEG",
    ],
)
def test_odd_file_names_work(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    try:
        save(quadrants(64, 48), path, format=Image.registered_extensions()[path.suffix.lower()])
    except (OSError, UnicodeEncodeError) as exc:
        pytest.skip(f"this file system refuses the name: {exc}")
    extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (64, 48)
    assert open_for_display(path, 32).size == (32, 24)


def test_threads_can_extract_side_by_side(tmp_path: Path) -> None:
    paths = [
        save(quadrants(800 + 10 * i, 600), tmp_path / f"p{i}.jpg", quality=85) for i in range(8)
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(extract_image, paths))
    assert [(r.width, r.height) for r in results] == [(800 + 10 * i, 600) for i in range(8)]
    assert all(r.image is not None and close_to(corner(r.image, "tl"), RED) for r in results)


@pytest.mark.parametrize("name", ["scan.tif", "scan.png"])
def test_a_16_bit_greyscale_image_is_indexed_with_its_tones(tmp_path: Path, name: str) -> None:
    """Scientific, medical and scanner images are often 16-bit; large ones were refused."""
    from tests.support.world import write_grey16

    path = write_grey16(tmp_path / name, (2000, 1600))
    extraction = extract_image(path)
    assert extraction.image is not None and (extraction.width, extraction.height) == (2000, 1600)
    grey = np.asarray(extraction.image.convert("L"))
    assert grey[-2, 2] < 20  # the ramp's dark end…
    assert grey[-2, -3] > 235  # …and its bright end


def test_a_picture_too_large_to_decode_is_refused_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.extractors import limits

    monkeypatch.setattr(limits, "MAX_DECODE_BYTES", 100_000)
    path = save(quadrants(400, 300), tmp_path / "wide.png")
    assert _error_text(path).startswith("image is too large to decode")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.tga", "TGA"), ("a.pcx", "PCX"), ("a.dds", "DDS"), ("a.jp2", "JPEG2000")],
)
def test_raster_formats_pillow_reads_are_indexed(tmp_path: Path, name: str, fmt: str) -> None:
    if name.endswith(".jp2") and not features.check("jpg_2000"):
        pytest.skip("Pillow built without OpenJPEG")
    path = tmp_path / name
    quadrants(64, 48).save(path, fmt)
    extraction = extract(path)
    assert extraction.kind == "image" and extraction.image is not None
    assert close_to(extraction.image.getpixel((2, 2)), RED)


def test_multi_picture_jpegs_are_picked_up_by_the_walk(tmp_path: Path) -> None:
    """Cameras and phones write .mpo files (a JPEG plus more pictures)."""
    path = tmp_path / "stereo.mpo"
    first, second = quadrants(64, 48), quadrants(64, 48).transpose(Image.Transpose.ROTATE_180)
    first.save(path, "MPO", save_all=True, append_images=[second])
    assert kind_for_path(path) == "image"
    extraction = extract(path)
    assert extraction.image is not None and close_to(extraction.image.getpixel((2, 2)), RED)


def test_an_unsupported_variant_is_not_called_corrupt(tmp_path: Path) -> None:
    """A valid BMP whose compression this Pillow does not decode is a variant, not damage."""
    whole = io.BytesIO()
    quadrants(32, 24).save(whole, "BMP")
    data = bytearray(whole.getvalue())
    data[30:34] = struct.pack("<I", 4)  # BI_JPEG: legal BMP, not decoded by Pillow
    path = tmp_path / "variant.bmp"
    path.write_bytes(bytes(data))
    reason = _error_text(path)
    assert "variant" in reason and "corrupt" not in reason


def _with_compression(path: Path, code: int) -> Path:
    """Rewrites the Compression tag (259) of a little-endian one-IFD TIFF to ``code``."""
    data = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == 259:
            struct.pack_into("<H", data, entry + 8, code)
    path.write_bytes(bytes(data))
    return path


def test_a_tiff_whose_codec_this_build_lacks_is_a_variant(tmp_path: Path) -> None:
    """A TIFF compressed with a codec libtiff was built without (WEBP, 50001, in Pillow's
    wheels) is "a variant Lumen cannot read", not "corrupt"."""
    path = _with_compression(save(quadrants(64, 48), tmp_path / "webp.tif"), 50001)
    try:
        Image.open(path).load()
        pytest.skip("this libtiff decodes WEBP")
    except OSError:
        pass
    reason = _error_text(path)
    assert reason.startswith("a variant of TIFF image") and "webp" in reason


def test_a_large_jpeg_2000_is_decoded_at_a_reduced_resolution(tmp_path: Path) -> None:
    """JPEG 2000 keeps lower resolutions: a big .jp2 need not be decoded in full."""
    if not features.check("jpg_2000"):
        pytest.skip("Pillow built without OpenJPEG")
    path = tmp_path / "big.jp2"
    quadrants(2400, 1800).save(path, "JPEG2000")
    from PIL import Jpeg2KImagePlugin

    decoded: list[tuple[int, int]] = []
    original = Jpeg2KImagePlugin.Jpeg2KImageFile.load

    def load(self: Jpeg2KImagePlugin.Jpeg2KImageFile) -> Any:
        pixels = original(self)
        decoded.append(self.size)  # the size actually decoded
        return pixels

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Jpeg2KImagePlugin.Jpeg2KImageFile, "load", load)
        extraction = extract_image(path)
    assert (extraction.width, extraction.height) == (2400, 1800)
    assert extraction.image is not None and close_to(extraction.image.getpixel((2, 2)), RED)
    assert decoded and max(w * h for w, h in decoded) <= 2400 * 1800 // 16
