"""Phone and camera formats found by a query: HEIC and AVIF photos beside ordinary JPEGs."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.library import Library
from tests.support.photos import write_shape_photos
from tests.support.shapes import caption_for_text, render


@pytest.fixture
def phone_folder(tmp_path: Path) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()  # only to write the samples
    folder = tmp_path / "phone"
    write_shape_photos(folder / "jpegs", seeds=(101,))
    render(caption_for_text("a red circle on the left"), (320, 240), seed=5).save(
        folder / "IMG_4001.HEIC", quality=90
    )
    render(caption_for_text("a blue triangle at the top"), (320, 240), seed=5).save(
        folder / "IMG_4002.avif", quality=90
    )
    return folder


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("a red circle on the left", "IMG_4001.HEIC"),
        ("a blue triangle at the top", "IMG_4002.avif"),
    ],
)
def test_heic_and_avif_photos_are_found_by_what_they_show(
    tiny_library: Library, phone_folder: Path, query: str, name: str
) -> None:
    summary = tiny_library.index([phone_folder])
    assert summary.failed == 0
    top = [h.file.path.name for h in tiny_library.search(query, k=2).hits]
    assert name in top, top
