"""The image extractor on real files: formats, sizes, orientation and colour modes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps, JpegImagePlugin

from desktop_app.core.extractors.images import (
    IMAGE_EXTENSIONS,
    extract_image,
    open_for_display,
    read_image_metadata,
)
from tests.support.pictures import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    close_to,
    corner,
    exif_with,
    quadrants,
    save,
)

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
