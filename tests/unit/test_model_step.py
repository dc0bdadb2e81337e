"""A model step over more pictures than one image-tower call takes: every picture keeps its own vector."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import numpy as np
from PIL import Image

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.indexing.prepare import IMAGE_CALL, PreparedFile, model_step


def _prepared(embedder: Embedder, shade: int) -> PreparedFile:
    picture = Image.new("RGB", (64, 64), (shade, 255 - shade, (shade * 7) % 256))
    record = MagicMock(path=Path(f"/photos/{shade}.jpg"))
    return PreparedFile(record, None, embedder.prepare_image(picture), {})


def test_each_picture_of_a_large_batch_gets_its_own_vector(tiny_embedder: Embedder) -> None:
    batch = [_prepared(tiny_embedder, shade) for shade in range(0, 250, 5)]
    assert len(batch) > IMAGE_CALL  # the step spans several image-tower calls

    pictures, vectors, _, _ = model_step(batch, tiny_embedder)

    assert [item for item, _, _ in pictures] == batch
    alone = np.concatenate([tiny_embedder.encode_prepared(p[None]) for _, p, _ in pictures])
    np.testing.assert_allclose(vectors, alone, atol=1e-4)
