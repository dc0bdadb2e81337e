"""Every mode Pillow opens becomes a right-looking RGB picture, resized without errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.extractors.images import extract_image, open_for_display
from desktop_app.core.extractors.pixels import fit_longest, fit_shortest, to_rgb


def _half_white(mode: str, size: tuple[int, int] = (1800, 1600)) -> Image.Image:
    """Left half dark, right half bright, in ``mode``."""
    width, height = size
    if mode in ("I;16", "I;16B", "I;16L"):
        pixels = np.zeros((height, width), ">u2" if mode == "I;16B" else "<u2")
        pixels[:, width // 2 :] = 65535
        return Image.frombytes(mode, size, pixels.tobytes())
    if mode == "I":
        pixels32 = np.zeros((height, width), np.int32)
        pixels32[:, width // 2 :] = 65535
        return Image.fromarray(pixels32, "I")
    if mode == "F":
        floats = np.zeros((height, width), np.float32)
        floats[:, width // 2 :] = 1.0
        return Image.fromarray(floats, "F")
    rgb = Image.new("RGB", size, (0, 0, 0))
    rgb.paste((255, 255, 255), (width // 2, 0, width, height))
    if mode == "La":
        return Image.frombuffer("La", size, rgb.convert("LA").tobytes(), "raw", "La", 0, 1)
    if mode == "P-transparency":
        paletted = rgb.convert("P")
        paletted.info["transparency"] = 255  # an index no pixel uses
        return paletted
    return rgb.convert(mode)


@pytest.mark.parametrize(
    "mode",
    [
        "I;16",
        "I;16B",
        "I;16L",
        "I",
        "F",
        "L",
        "LA",
        "PA",
        "P",
        "P-transparency",
        "CMYK",
        "1",
        "La",
        "RGBa",
    ],
)
def test_every_mode_becomes_rgb_with_its_dark_and_bright_halves(mode: str) -> None:
    image = fit_shortest(_half_white(mode), 258)
    rgb = to_rgb(image, keep_alpha=False)
    assert rgb.mode == "RGB" and min(rgb.size) == 258
    dark = rgb.convert("L").getpixel((5, 5))
    bright = rgb.convert("L").getpixel((rgb.width - 5, 5))
    assert isinstance(dark, int) and isinstance(bright, int)
    if mode in ("CMYK",):  # white in CMYK is no ink: the halves swap, but both are there
        dark, bright = sorted((dark, bright))
    assert dark < 40 and bright > 215, (mode, dark, bright)


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("I;16", ".tif"),
        ("I;16B", ".tif"),
        ("I", ".tif"),
        ("F", ".tif"),
        ("CMYK", ".tif"),
        ("LA", ".png"),
        ("I;16", ".png"),
    ],
)
def test_files_in_high_bit_depth_and_odd_modes_are_indexed(
    tmp_path: Path, mode: str, suffix: str
) -> None:
    path = tmp_path / f"picture{suffix}"
    _half_white(mode).save(path)
    extraction = extract_image(path)
    assert extraction.image is not None and extraction.image.mode == "RGB"
    assert max(open_for_display(path, 200).size) == 200


def test_fit_longest_never_enlarges() -> None:
    small = Image.new("RGB", (40, 30))
    assert fit_longest(small, 100) is small
    assert fit_longest(Image.new("I;16", (400, 300)), 100).size == (100, 75)
