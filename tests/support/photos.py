"""Write real image files for tests: shape photos with known captions, and awkward files."""

from __future__ import annotations

import csv
import struct
import zlib
from pathlib import Path

from PIL import Image

from tests.support.shapes import Caption, all_captions, render


def file_name(caption: Caption, seed: int, suffix: str = ".jpg") -> str:
    """A camera-like name that says nothing about the picture (so file-name search can't help)."""
    return f"IMG_{all_captions().index(caption):03d}_{seed}{suffix}"


def write_shape_photos(
    folder: Path, seeds: tuple[int, ...] = (101, 102), size: tuple[int, int] = (160, 120)
) -> dict[Path, Caption]:
    """One JPEG per caption and seed; returns each file's caption."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[Path, Caption] = {}
    for caption in all_captions():
        for seed in seeds:
            path = folder / file_name(caption, seed)
            render(caption, size, seed=seed).save(path, quality=92)
            written[path] = caption
    return written


def write_captioned_set(
    folder: Path, seeds: tuple[int, ...] = (2001, 2002), size: tuple[int, int] = (96, 80)
) -> dict[Path, Caption]:
    """Shape photos (names that say nothing) plus ``captions.csv`` (image,caption) beside them."""
    written = write_shape_photos(folder, seeds, size)
    with (folder / "captions.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["image", "caption"])
        for path, caption in written.items():
            writer.writerow([path.name, caption.text])
    return written


def write_png_with_alpha(path: Path, caption: Caption) -> None:
    """The shape on a fully transparent background (transparent must read as white, not black)."""
    image = render(caption, (128, 128), seed=7).convert("RGBA")
    pixels = image.load()
    assert pixels is not None
    for x in range(image.width):
        for y in range(image.height):
            r, g, b, _ = pixels[x, y]
            if min(r, g, b) > 200:  # background
                pixels[x, y] = (0, 0, 0, 0)
    image.save(path)


def write_exif_rotated_jpeg(path: Path, caption: Caption) -> None:
    """A JPEG stored sideways with EXIF orientation 6 (display rotated 90° clockwise)."""
    upright = render(caption, (160, 120), seed=9)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera held sideways writes
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0110] = "TestCam 3000"
    exif[0x010F] = "Lumen"
    stored.save(path, exif=exif.tobytes(), quality=92)


def write_huge_dimension_png(path: Path, width: int = 40_000, height: int = 40_000) -> None:
    """A valid-looking PNG header declaring an enormous image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def write_awkward_files(folder: Path) -> dict[str, Path]:
    """Corrupt, empty and oversized files that must be skipped with a reason."""
    folder.mkdir(parents=True, exist_ok=True)
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    huge = folder / "huge.png"
    write_huge_dimension_png(huge)
    return {"corrupt": corrupt, "empty": empty, "huge": huge}
