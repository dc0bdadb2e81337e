"""The heat-map shows where a photo matches the query: the side the shape is on glows."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.heatmap import centre_square, heat_map
from tests.support.shapes import caption_for_text, render


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("a red circle on the left", "left"),
        ("a green triangle on the left", "left"),
        ("a red square on the right", "right"),
        ("a blue circle on the right", "right"),
    ],
)
def test_the_side_the_shape_is_on_glows(tiny_embedder: Embedder, text: str, side: str) -> None:
    picture = render(caption_for_text(text), (256, 256), seed=3)
    heat = heat_map(tiny_embedder, picture, tiny_embedder.encode_text(text), grid=4)
    cells = np.array(heat.cells)
    assert cells.shape == (4, 4) and cells.min() >= 0.0 and cells.max() == pytest.approx(1.0)
    left, right = cells[:, :2].sum(), cells[:, 2:].sum()
    assert (left > right) if side == "left" else (right > left)


def test_the_map_covers_the_square_the_model_sees() -> None:
    assert centre_square((400, 200)) == (0.25, 0.0, 0.5, 1.0)
    assert centre_square((300, 600)) == (0.0, 0.25, 1.0, 0.5)
