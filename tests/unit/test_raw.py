"""RAW photos (DNGs written in the test): fast embedded preview, render fallback, EXIF, failures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract, kind_for_path
from desktop_app.core.extractors.images import open_for_display, read_image_metadata
from tests.support.raw import write_dng
from tests.support.shapes import caption_for_text, render

RED_CIRCLE = render(caption_for_text("a red circle on the left"), (320, 240), seed=3)
BLUE_SQUARE = render(caption_for_text("a blue square on the right"), (320, 240), seed=3)


def _share(image: Image.Image, channel: int) -> float:
    """How much of the picture is strongly of one colour channel (0 red, 2 blue)."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    others = [c for c in range(3) if c != channel]
    strong = pixels[..., channel] - pixels[..., others].max(axis=-1) > 80
    return float(strong.mean())


def test_raw_extensions_are_photos() -> None:
    for name in ("a.DNG", "b.cr2", "c.CR3", "d.nef", "e.arw", "f.orf", "g.rw2", "h.raf"):
        assert kind_for_path(Path(name)) == "image", name


def test_a_large_embedded_preview_is_used_instead_of_a_render(tmp_path: Path) -> None:
    # The preview and the sensor data differ, so the test sees which one was used.
    preview = RED_CIRCLE.resize((640, 480))  # full size, as many cameras embed
    path = write_dng(tmp_path / "IMG_0001.DNG", BLUE_SQUARE, preview=preview)
    extraction = extract(path)
    assert extraction.image is not None
    assert (extraction.width, extraction.height) == (640, 480)  # the sensor's size
    assert _share(extraction.image, 0) > 0.05 and _share(extraction.image, 2) < 0.01


def test_a_small_preview_falls_back_to_a_demosaiced_render(tmp_path: Path) -> None:
    tiny = RED_CIRCLE.resize((64, 48))
    path = write_dng(tmp_path / "IMG_0002.DNG", BLUE_SQUARE, preview=tiny)
    extraction = extract(path)
    assert extraction.image is not None
    assert min(extraction.image.size) >= 224  # the half-size render, not the 64-px preview
    assert _share(extraction.image, 2) > 0.05 and _share(extraction.image, 0) < 0.01


def test_date_camera_and_lens_are_read(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "IMG_0003.DNG", RED_CIRCLE)
    extraction = extract(path)
    assert extraction.taken_at == datetime(2023, 5, 6, 7, 8, 9)
    assert extraction.camera == "Canon EOS R5"
    details = read_image_metadata(path)  # what the preview pane shows
    assert details["lens"] == "RF24-105mm F4 L IS USM"
    assert (details["width"], details["height"]) == (640, 480)
    assert details["format"] == "RAW"


def test_thumbnails_and_previews_open_raw_files(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "IMG_0004.DNG", RED_CIRCLE)
    assert max(open_for_display(path, 128).size) == 128
    large = open_for_display(path, 600)  # larger than the preview: the render is used
    assert max(large.size) == 320 and _share(large, 0) > 0.05


def _quadrants(width: int, height: int) -> Image.Image:
    """Red, green / blue, white quarters: any turn of it shows."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = (255, 0, 0)
    pixels[: height // 2, width // 2 :] = (0, 255, 0)
    pixels[height // 2 :, : width // 2] = (0, 0, 255)
    pixels[height // 2 :, width // 2 :] = (255, 255, 255)
    return Image.fromarray(pixels)


def _quarters(image: Image.Image) -> list[tuple[int, ...]]:
    """The colour in each quarter (top left, top right, bottom left, bottom right), as 0/1."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    centres = [
        (w // 4, h // 4),
        (3 * w // 4, h // 4),
        (w // 4, 3 * h // 4),
        (3 * w // 4, 3 * h // 4),
    ]
    return [tuple(int(v > 128) for v in rgb.getpixel(c)) for c in centres]  # type: ignore[union-attr]


# The camera stores the sensor's picture as it saw it and an EXIF Orientation saying how to turn
# it; both the fast path (the embedded preview) and the fallback (LibRaw's render) turn it.
@pytest.mark.parametrize("preview_size", [(640, 480), (64, 48)], ids=["preview", "render"])
@pytest.mark.parametrize(
    ("orientation", "turn"),
    [
        (1, None),
        (3, Image.Transpose.ROTATE_180),
        (6, Image.Transpose.ROTATE_270),  # camera turned right for a portrait
        (8, Image.Transpose.ROTATE_90),  # camera turned left
    ],
)
def test_a_raw_shot_on_its_side_comes_out_upright(
    tmp_path: Path,
    orientation: int,
    turn: Image.Transpose | None,
    preview_size: tuple[int, int],
) -> None:
    stored = _quadrants(320, 240)
    path = write_dng(
        tmp_path / "IMG_0005.DNG",
        stored,
        preview=stored.resize(preview_size),
        orientation=orientation,
    )
    upright = stored if turn is None else stored.transpose(turn)
    extraction = extract(path)
    assert extraction.image is not None
    portrait = orientation in (6, 8)
    assert (extraction.width, extraction.height) == ((480, 640) if portrait else (640, 480))
    assert _quarters(extraction.image) == _quarters(upright)
    shown = open_for_display(path, 200)  # the window's thumbnail and preview
    assert (shown.height > shown.width) == portrait
    assert _quarters(shown) == _quarters(upright)
    details = read_image_metadata(path)
    assert (details["width"], details["height"]) == (extraction.width, extraction.height)


@pytest.mark.parametrize("content", [b"", b"II*\x00" + b"\x00" * 200, b"not a raw file" * 50])
def test_broken_raw_files_fail_with_a_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.nef"
    path.write_bytes(content)
    with pytest.raises(ExtractionError):
        extract(path)


def test_a_raw_with_a_standard_exif_ifd_is_read_with_its_details(tmp_path: Path) -> None:
    """Real DNG, NEF and CR2 files keep date, lens and exposure in an Exif IFD (tag 34665)."""
    from tests.support.world import write_dng_with_exif_ifd

    path = write_dng_with_exif_ifd(tmp_path / "IMG_0100.DNG", RED_CIRCLE)
    extraction = extract(path)
    assert extraction.taken_at == datetime(2023, 5, 6, 7, 8, 9)
    assert extraction.camera == "Canon EOS R5"
    details = read_image_metadata(path)  # what `lumen similar FILE.dng` and the preview read
    assert details["lens"] == "RF24-105mm F4 L IS USM"
    assert details["exposure_time"] == pytest.approx(1 / 125)
    assert details["f_number"] == 4.0 and details["iso"] == 200


@pytest.mark.parametrize("keep", [12_000, 200_000, 1_000_000])
def test_a_truncated_raw_is_refused_as_truncated(tmp_path: Path, keep: int) -> None:
    """A RAW cut short is not indexed from LibRaw's guesses (stripes, black)."""
    from tests.support.world import write_truncated_raw

    path = write_truncated_raw(tmp_path / "IMG_0101.DNG", keep)
    with pytest.raises(ExtractionError) as refused:
        extract(path)
    reason = str(refused.value)
    assert reason.startswith("truncated RAW photo")
    assert "b'" not in reason and "Errno" not in reason


def test_a_raw_whose_sensor_data_is_all_missing_is_refused(tmp_path: Path) -> None:
    """LibRaw renders data that is not there as one flat colour, without an error."""
    blank = Image.new("RGB", (320, 240), (0, 0, 0))
    path = write_dng(tmp_path / "IMG_0102.DNG", blank, preview=blank.resize((32, 24)))
    with pytest.raises(ExtractionError, match="truncated"):
        extract(path)
