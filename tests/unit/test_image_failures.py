"""Every way an image file can fail, each in one plain line; odd names and threads."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract, images, kind_for_path
from desktop_app.core.extractors.images import extract_image, open_for_display, read_image_metadata
from tests.support.pictures import RED, close_to, corner, quadrants, save

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
