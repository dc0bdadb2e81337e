"""The int8 option: image vectors close to fp32 ones, and no loss of text→image recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.library import Library
from tests.conftest import IndexedShapes
from tests.support.shapes import all_captions


@pytest.fixture(scope="module")
def int8_embedder(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return load_embedder(
        "lumen-tiny", tiny_weights, tmp_path_factory.mktemp("cache"), "cpu", int8=True
    )


def _recall_at_1(library: Library, shapes: dict[Path, object]) -> float:
    hits = 0
    for caption in all_captions():
        results = library.search(caption.text, k=1)
        hits += bool(results.hits) and shapes[results.hits[0].file.path] == caption
    return hits / len(all_captions())


def test_int8_image_vectors_are_close_to_fp32_and_find_the_same_photos(
    tiny_embedder: Embedder,
    int8_embedder: Embedder,
    tiny_settings: Settings,
    indexed_shapes: IndexedShapes,
    tmp_path: Path,
) -> None:
    # The fp32 library: the 144 shape photos indexed once a session (a copy); int8: indexed here.
    fp32, written = indexed_shapes.copy(tmp_path / "models", seeds=(101, 102))
    shapes: dict[Path, object] = dict(written)
    photos = fp32.data_dir.parent / "photos"
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in sorted(shapes)[:24]]
    cosine = np.sum(tiny_embedder.encode_images(images) * int8_embedder.encode_images(images), 1)
    assert cosine.min() >= 0.99, cosine.min()
    assert int8_embedder.space == tiny_embedder.space  # same vector space: nothing re-embedded

    recall = {}
    with Library.open(fp32, lambda _s: tiny_embedder) as library:
        recall["fp32"] = _recall_at_1(library, shapes)
    settings = tiny_settings.replace(data_dir=tmp_path / "lib-int8", int8=True)
    with Library.open(settings, lambda _s: int8_embedder) as library:
        assert library.index([photos]).failed == 0
        recall["int8"] = _recall_at_1(library, shapes)
    assert recall["int8"] >= recall["fp32"], recall


def test_the_int8_choice_is_remembered(tiny_settings: Settings) -> None:
    tiny_settings.replace(int8=True).save()
    assert Settings.load(tiny_settings.data_dir).int8
