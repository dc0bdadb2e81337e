"""The thumbnail cache: formats, orientation, atomic writes, pruning and use from many threads."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.thumbnails import ThumbnailCache

FP = "0123456789abcdef0123456789abcdef"  # the shape fingerprint_file() gives


def fingerprint(number: int) -> str:
    return f"{number:032x}"


def photo(path: Path, size: tuple[int, int] = (1200, 900), orientation: int | None = None) -> Path:
    """A JPEG with a red top-left quarter on blue."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    image.save(path, exif=exif, quality=90)
    return path


def is_red(pixel: Any) -> bool:
    red, green, blue = pixel[:3]
    return bool(red > 200 and green < 60 and blue < 60)


def leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs", size=256)


def test_thumbnail_is_made_once_in_a_shard_folder(cache: ThumbnailCache, tmp_path: Path) -> None:
    source = photo(tmp_path / "holiday photo.jpg")

    made = cache.get(source, FP)

    assert made == cache.directory / "01" / f"{FP}.jpg"
    assert made == cache.path_for(FP)
    with Image.open(made) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (256, 192)
        assert is_red(thumbnail.getpixel((10, 10)))
    modified = made.stat().st_mtime_ns

    source.unlink()  # a cache hit does not even look at the source again
    assert cache.get(source, FP) == made
    assert made.stat().st_mtime_ns == modified


def test_path_for_an_unknown_fingerprint_is_where_a_jpeg_would_go(cache: ThumbnailCache) -> None:
    path = cache.path_for(FP)
    assert path == cache.directory / "01" / f"{FP}.jpg"
    assert not path.exists()


def test_rotated_photo_thumbnail_is_upright_and_carries_no_orientation(
    cache: ThumbnailCache, tmp_path: Path
) -> None:
    source = photo(tmp_path / "portrait.jpg", size=(1200, 900), orientation=6)

    made = cache.get(source, FP)

    assert made is not None
    with Image.open(made) as thumbnail:
        assert thumbnail.size == (192, 256)
        assert is_red(thumbnail.getpixel((thumbnail.width - 10, 10)))  # turned clockwise
        assert thumbnail.getexif().get(ExifTags.Base.Orientation) is None


def test_transparent_image_becomes_png(cache: ThumbnailCache, tmp_path: Path) -> None:
    image = Image.new("RGBA", (512, 512), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (256, 0, 512, 512))
    image.save(tmp_path / "logo.png")

    made = cache.get(tmp_path / "logo.png", FP)

    assert made == cache.directory / "01" / f"{FP}.png"
    assert cache.path_for(FP) == made
    with Image.open(made) as thumbnail:
        assert thumbnail.mode == "RGBA"
        assert thumbnail.size == (256, 256)
        assert thumbnail.getpixel((10, 128)) == (0, 0, 0, 0)
        assert is_red(thumbnail.getpixel((250, 128)))


def test_alpha_channel_without_transparency_becomes_jpeg(
    cache: ThumbnailCache, tmp_path: Path
) -> None:
    Image.new("RGBA", (300, 200), (10, 200, 30, 255)).save(tmp_path / "screenshot.png")
    made = cache.get(tmp_path / "screenshot.png", FP)
    assert made is not None and made.suffix == ".jpg"


def test_small_image_is_not_enlarged(cache: ThumbnailCache, tmp_path: Path) -> None:
    made = cache.get(photo(tmp_path / "icon.jpg", size=(40, 30)), FP)
    assert made is not None
    with Image.open(made) as thumbnail:
        assert thumbnail.size == (40, 30)


def test_size_is_configurable(tmp_path: Path) -> None:
    small = ThumbnailCache(tmp_path / "small", size=64)
    made = small.get(photo(tmp_path / "p.jpg"), FP)
    assert made is not None
    with Image.open(made) as thumbnail:
        assert thumbnail.size == (64, 48)


def test_unreadable_source_gives_none_and_a_log_line(
    cache: ThumbnailCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")

    with caplog.at_level(logging.INFO, logger="desktop_app.core.thumbnails"):
        assert cache.get(broken, FP) is None

    assert "broken.jpg" in caplog.text
    assert "not an image" in caplog.text
    assert not list(cache.directory.rglob("*.*"))


def test_missing_source_gives_none(cache: ThumbnailCache, tmp_path: Path) -> None:
    assert cache.get(tmp_path / "gone.jpg", FP) is None


def test_custom_renderer_replaces_image_decoding(cache: ThumbnailCache, tmp_path: Path) -> None:
    calls: list[tuple[Path, int]] = []

    def render_first_page(path: Path, size: int) -> Image.Image:
        calls.append((path, size))
        return Image.new("L", (1000, 1414), 230)  # an A4 page, bigger than asked

    document = tmp_path / "report.pdf"
    document.write_bytes(b"%PDF-1.7 stand-in")

    made = cache.get(document, FP, render=render_first_page)

    assert calls == [(document, 256)]
    assert made is not None and made.suffix == ".jpg"
    with Image.open(made) as thumbnail:
        assert thumbnail.size == (181, 256)
        assert thumbnail.mode == "RGB"


def test_renderer_failure_gives_none(
    cache: ThumbnailCache, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def render(path: Path, size: int) -> Image.Image:
        raise ExtractionError("password-protected PDF")

    with caplog.at_level(logging.INFO, logger="desktop_app.core.thumbnails"):
        assert cache.get(tmp_path / "secret.pdf", FP, render=render) is None
    assert "password-protected PDF" in caplog.text


def test_failed_write_leaves_nothing_behind(
    cache: ThumbnailCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = photo(tmp_path / "p.jpg")

    def disk_full(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        fp.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with caplog.at_level(logging.WARNING, logger="desktop_app.core.thumbnails"):
        assert cache.get(source, FP) is None

    assert "No space left on device" in caplog.text
    assert not cache.path_for(FP).exists()
    assert leftovers(cache.directory) == []
    monkeypatch.undo()
    assert cache.get(source, FP) == cache.path_for(FP)  # the next try works


def test_discard(cache: ThumbnailCache, tmp_path: Path) -> None:
    made = cache.get(photo(tmp_path / "p.jpg"), FP)
    assert made is not None and made.exists()
    cache.discard(FP)
    assert not made.exists()
    cache.discard(FP)  # already gone: fine


def test_prune_keeps_only_what_is_in_use(cache: ThumbnailCache, tmp_path: Path) -> None:
    source = photo(tmp_path / "p.jpg", size=(300, 200))
    made = {number: cache.get(source, fingerprint(number)) for number in range(6)}
    shard = cache.directory / "00"
    stale_temp = shard / f".{fingerprint(7)}.jpg.abc123.tmp"
    stale_temp.write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale_temp, (old, old))
    fresh_temp = shard / f".{fingerprint(8)}.jpg.def456.tmp"  # another thread is writing it
    fresh_temp.write_bytes(b"half")
    unrelated = shard / "README.txt"
    unrelated.write_text("not ours", encoding="utf-8")

    removed = cache.prune({fingerprint(1), fingerprint(4)})

    assert removed == 5  # four thumbnails and the stale temp file
    assert sorted(p.name for p in shard.iterdir()) == sorted(
        [f"{fingerprint(1)}.jpg", f"{fingerprint(4)}.jpg", fresh_temp.name, "README.txt"]
    )
    assert made[1] is not None and made[1].exists()


def test_prune_of_an_empty_cache(cache: ThumbnailCache) -> None:
    assert cache.prune(set()) == 0


@pytest.mark.parametrize("bad", ["", "a", "../../etc/passwd", "ab/cd", "xyz123", FP + "\n"])
def test_fingerprint_must_be_hex(cache: ThumbnailCache, tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        cache.get(tmp_path / "p.jpg", bad)
    with pytest.raises(ValueError, match="fingerprint"):
        cache.path_for(bad)


def test_many_threads_many_fingerprints(cache: ThumbnailCache, tmp_path: Path) -> None:
    sources = [photo(tmp_path / f"p{i}.jpg", size=(600 + i, 400)) for i in range(24)]

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(cache.get, sources, [fingerprint(i) for i in range(24)]))

    assert all(path is not None for path in made)
    for i, path in enumerate(made):
        assert path == cache.path_for(fingerprint(i))
        with Image.open(path) as thumbnail:
            thumbnail.load()
            assert thumbnail.width == 256
    assert leftovers(cache.directory) == []


def test_same_fingerprint_from_many_threads_is_rendered_once(
    cache: ThumbnailCache, tmp_path: Path
) -> None:
    source = photo(tmp_path / "p.jpg")
    renders: list[str] = []
    start = threading.Barrier(8)

    def slow_render(path: Path, size: int) -> Image.Image:
        renders.append(threading.current_thread().name)
        time.sleep(0.05)  # long enough for the other threads to queue up behind the first
        return Image.new("RGB", (size, size), "red")

    def request(_: int) -> Path | None:
        start.wait()
        return cache.get(source, FP, render=slow_render)

    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(request, range(8)))

    assert made == {cache.path_for(FP)}
    assert len(renders) == 1
