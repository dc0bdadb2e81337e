"""The int8 option: image vectors close to fp32 ones, and no loss of text→image recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.library import Library
from tests.support.photos import write_shape_photos
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
    tiny_embedder: Embedder, int8_embedder: Embedder, tiny_settings: Settings, tmp_path: Path
) -> None:
    shapes: dict[Path, object] = dict(write_shape_photos(tmp_path / "photos"))
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in sorted(shapes)[:24]]
    cosine = np.sum(tiny_embedder.encode_images(images) * int8_embedder.encode_images(images), 1)
    assert cosine.min() >= 0.99, cosine.min()
    assert int8_embedder.space == tiny_embedder.space  # same vector space: nothing re-embedded

    recall = {}
    for name, embedder in (("fp32", tiny_embedder), ("int8", int8_embedder)):
        settings = tiny_settings.replace(data_dir=tmp_path / f"lib-{name}", int8=name == "int8")
        with Library.open(settings, lambda _s, e=embedder: e) as library:  # type: ignore[misc]
            assert library.index([tmp_path / "photos"]).failed == 0
            recall[name] = _recall_at_1(library, shapes)
    assert recall["int8"] >= recall["fp32"], recall


def test_the_int8_choice_is_remembered(tiny_settings: Settings) -> None:
    tiny_settings.replace(int8=True).save()
    assert Settings.load(tiny_settings.data_dir).int8
