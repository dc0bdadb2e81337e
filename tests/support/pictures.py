"""Test pictures whose every turn, flip and colour shows: quarters of four colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import ExifTags, Image

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
