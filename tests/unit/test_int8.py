"""The int8 option: image vectors close to fp32 ones, and no loss of text→image recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from tests.conftest import IndexedShapes
from tests.support.recall import recalls_beside_float32


@pytest.fixture(scope="module")
def int8_embedder(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return load_embedder(
        "lumen-tiny", tiny_weights, tmp_path_factory.mktemp("cache"), "cpu", int8=True
    )


def test_int8_image_vectors_are_close_to_fp32_and_find_the_same_photos(
    tiny_embedder: Embedder,
    int8_embedder: Embedder,
    tiny_settings: Settings,
    indexed_shapes: IndexedShapes,
    tmp_path: Path,
) -> None:
    # The fp32 library: the 144 shape photos indexed once a session (a copy); int8: indexed here.
    _, written = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in sorted(written)[:24]]
    cosine = np.sum(tiny_embedder.encode_images(images) * int8_embedder.encode_images(images), 1)
    assert cosine.min() >= 0.99, cosine.min()
    assert int8_embedder.space == tiny_embedder.space  # same vector space: nothing re-embedded

    fp32, int8 = recalls_beside_float32(
        indexed_shapes, tiny_embedder, int8_embedder, tiny_settings.replace(int8=True), tmp_path
    )
    assert int8 >= fp32, (fp32, int8)


def test_the_int8_choice_is_remembered(tiny_settings: Settings) -> None:
    tiny_settings.replace(int8=True).save()
    assert Settings.load(tiny_settings.data_dir).int8
