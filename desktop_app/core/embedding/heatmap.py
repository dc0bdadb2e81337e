"""Where in a picture it matches the query: a heat-map by occlusion, on demand for one photo.

The picture the image tower sees (the model's centre square) is shown to it again with each
cell of a grid greyed out, all in one batch; a cell whose loss lowers the picture's similarity
to the query most is where it matched. The patch tokens themselves were tried first: compared
with the query they mark the background and not the subject (the red circle's patches scored
lowest for "a red circle", a known trait of CLIP's patch tokens), so occlusion it is. Its cost
is one batch of GRID² + 1 pictures through the image tower (benchmarks/bench_heatmap.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

    from desktop_app.core.embedding.embedder import Embedder

GRID = 7


@dataclass(frozen=True)
class HeatMap:
    """How much each cell of a picture's centre square makes it match a query (0–1, rows of
    cells top to bottom); ``box`` is that square as fractions of the picture (left, top, width,
    height)."""

    cells: tuple[tuple[float, ...], ...]
    box: tuple[float, float, float, float]
    elapsed_s: float = 0.0


def heat_map(
    embedder: Embedder, image: Image.Image, query: np.ndarray, grid: int = GRID
) -> HeatMap:
    """The heat-map of ``image`` for ``query`` (a normalised vector of the model's space)."""
    import torch

    # (3, size, size), normalised: 0 is the mean
    picture = torch.as_tensor(embedder.prepare_image(image))
    _, height, width = picture.shape
    batch = [picture]
    for row in range(grid):
        for col in range(grid):
            hidden = picture.clone()
            top, bottom = row * height // grid, (row + 1) * height // grid
            left, right = col * width // grid, (col + 1) * width // grid
            hidden[:, top:bottom, left:right] = 0.0
            batch.append(hidden)
    vectors = embedder.encode_prepared(torch.stack(batch))
    scores = vectors @ query.astype(np.float32)
    drops = np.maximum(scores[0] - scores[1:], 0.0).reshape(grid, grid)
    top_drop = float(drops.max())
    cells = drops / top_drop if top_drop > 0 else np.zeros_like(drops)
    return HeatMap(tuple(tuple(float(v) for v in row) for row in cells), centre_square(image.size))


def centre_square(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The centre square the model sees, as fractions (left, top, width, height) of a picture."""
    width, height = size
    side = min(width, height)
    return ((width - side) / 2 / width, (height - side) / 2 / height, side / width, side / height)
