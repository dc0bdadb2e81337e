"""Hostile and odd files in one library run: each gets one log line and an error, nothing else stops.

Every file is generated here, small. The table in the issue's closing note maps each case to
what happens; this test shows it for a whole run at once, next to photos indexed before.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from desktop_app.core.indexing.pipeline import Progress
from desktop_app.core.library import Library
from desktop_app.core.storage.catalog import FAILED, INDEXED
from tests.support.documents import write_corrupt_pdf, write_encrypted_pdf, write_text_pdf
from tests.support.photos import write_huge_dimension_png
from tests.support.shapes import caption_for_text, render

pytestmark = pytest.mark.slow

RED = "a red circle on the left"


def noisy(width: int, height: int, mode: str = "RGB") -> Image.Image:
    pixels = np.random.default_rng(width * height).integers(0, 256, (height, width, 3), np.uint8)
    return Image.fromarray(pixels).convert(mode)


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_zlib_bomb(path: Path) -> None:
    """A tiny valid PNG whose compressed text chunk inflates to 64 MB."""
    valid = encoded(noisy(8, 8), "PNG")
    bomb = zlib.compress(b"\0" * (64 << 20), 9)
    ztxt = png_chunk(b"zTXt", b"Comment\0\0" + bomb)
    path.write_bytes(valid[:33] + ztxt + valid[33:])


def many_page_pdf(path: Path, pages: int) -> None:
    """A valid PDF with ``pages`` empty pages (written by hand: no library makes it quickly)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages)).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>")
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    path.write_bytes(bytes(out))


def write_hostile_folder(folder: Path) -> tuple[dict[str, str], set[str], set[str]]:
    """Writes the cases; returns (name -> case, names that must fail, names that must index)."""
    folder.mkdir(parents=True)
    cases: dict[str, str] = {}
    fail: set[str] = set()
    index: set[str] = set()

    def mark(name: str, case: str, ok: bool) -> None:
        cases[name] = case
        (index if ok else fail).add(name)

    def add(name: str, case: str, data: bytes, ok: bool) -> None:
        (folder / name).write_bytes(data)
        mark(name, case, ok)

    photo = noisy(300, 200)
    pillow_heif.register_heif_opener()  # (lets Pillow write HEIC too)
    formats = (("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif"), ("HEIF", "heic"))
    for fmt, ext in formats:
        whole = encoded(photo, fmt)
        add(f"truncated.{ext}", f"truncated {fmt}", whole[: len(whole) // 2], ok=False)
        random = np.random.default_rng(len(ext)).integers(0, 256, 3000, np.uint8).tobytes()
        add(f"corrupt.{ext}", f"corrupt {fmt} (random bytes)", whole[:16] + random, ok=False)
    add("empty.jpg", "zero-byte file", b"", ok=False)
    pdf = write_text_pdf(folder / "tmp.pdf", ["a letter"]).read_bytes()
    os.unlink(folder / "tmp.pdf")
    add("really_a_pdf.jpg", "PDF named .jpg", pdf, ok=False)
    add("notes.png", "text named .png", b"shopping list: milk, eggs\n", ok=False)
    write_huge_dimension_png(folder / "bomb.png")
    mark("bomb.png", "decompression bomb (40000x40000 declared)", ok=False)
    png_with_zlib_bomb(folder / "text_chunk.png")
    # Pillow stops inflating at 1 MB (MAX_TEXT_CHUNK) and refuses the file: failed, not hung.
    mark("text_chunk.png", "PNG with a 64 MB zlib text chunk", ok=False)
    add("one_pixel.png", "1x1 image", encoded(noisy(1, 1), "PNG"), ok=True)
    wide = Image.new("RGB", (30000, 200), (200, 30, 30))
    add("panorama.png", "30000x200 image", encoded(wide, "PNG"), ok=True)
    deep = Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
    add("deep.tif", "16-bit TIFF", encoded(deep, "TIFF"), ok=True)
    add("print.tif", "CMYK TIFF", encoded(noisy(64, 64, "CMYK"), "TIFF"), ok=True)
    frames = [Image.new("P", (8, 8), i % 256) for i in range(3000)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=10)
    add("long.gif", "animated GIF, 3000 frames", gif.getvalue(), ok=True)
    write_encrypted_pdf(folder / "locked.pdf")
    mark("locked.pdf", "encrypted PDF", ok=False)
    write_corrupt_pdf(folder / "broken.pdf")
    mark("broken.pdf", "malformed PDF", ok=False)
    many_page_pdf(folder / "thick.pdf", 5000)
    mark("thick.pdf", "5,000-page PDF", ok=True)
    os.mkfifo(folder / "pipe.jpg")  # never opened: opening a FIFO would block the run
    os.symlink("/dev/zero", folder / "zero.png")  # a device: never read
    os.symlink(folder, folder / "loop")  # a symlink loop
    (folder / "nested.jpg").mkdir()  # a folder with an image's name
    return cases, fail, index


def test_hostile_files_fail_one_by_one_and_lose_nothing(
    tiny_library: Library, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = tmp_path / "photos" / "good"
    good.mkdir(parents=True)
    render(caption_for_text(RED)).save(good / "red.png")
    render(caption_for_text("a blue square at the top")).save(good / "blue.png")
    tiny_library.index([tmp_path / "photos"])
    hostile = tmp_path / "photos" / "hostile"
    cases, must_fail, must_index = write_hostile_folder(hostile)
    vanishing = hostile / "vanishing.png"
    changing = hostile / "changing.png"
    render(caption_for_text(RED)).save(vanishing)
    render(caption_for_text(RED)).save(changing)

    def meddle(progress: Progress) -> None:
        # After the scan, before reading: one file vanishes, one changes under Lumen's feet.
        if progress.phase == "loading model" and vanishing.exists():
            vanishing.unlink()
            render(caption_for_text("a green triangle on the right")).save(changing)

    caplog.set_level(logging.WARNING)
    summary = tiny_library.index(progress=meddle)
    assert not summary.cancelled

    records = {r.path.name: r for r in tiny_library.catalog.files_under(hostile).values()}
    for name in must_fail:
        assert records[name].status == FAILED and records[name].error, cases[name]
        lines = [r for r in caplog.records if str(hostile / name) in r.getMessage()]
        assert len(lines) == 1, (cases[name], [r.getMessage() for r in lines])
    for name in must_index:
        assert records[name].status == INDEXED, (cases[name], records[name].error)
    assert {"pipe.jpg", "zero.png", "nested.jpg", "vanishing.png"}.isdisjoint(records)
    assert "loop" not in {p.name for r in records.values() for p in r.path.parents}

    # What was indexed before is all still there and found.
    assert tiny_library.search(RED, 1).hits[0].file.path in {good / "red.png", changing}
    tiny_library.index()  # the changed file is seen as changed and embedded again
    status = tiny_library.status()
    assert status.vectors == status.index_size
    assert tiny_library.catalog.file_by_path(changing).status == INDEXED  # type: ignore[union-attr]
    assert tiny_library.catalog.file_by_path(good / "blue.png").status == INDEXED  # type: ignore[union-attr]
