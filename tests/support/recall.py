"""How often a library's best hit for each shape caption is a photo of that caption."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from tests.support.shapes import all_captions

if TYPE_CHECKING:
    from tests.conftest import IndexedShapes


def recall_at_1(library: Library, shapes: dict[Path, object]) -> float:
    """The share of the captions whose first hit is one of their photos (``shapes``: each
    photo's caption)."""
    hits = 0
    for caption in all_captions():
        results = library.search(caption.text, k=1)
        hits += bool(results.hits) and shapes[results.hits[0].file.path] == caption
    return hits / len(all_captions())


def recalls_beside_float32(
    indexed_shapes: IndexedShapes,
    float32: Embedder,
    other: Embedder,
    settings: Settings,
    tmp_path: Path,
) -> tuple[float, float]:
    """Recall@1 of the shape photos (seeds 101 and 102) indexed by the ``float32`` model (the
    session's library, a copy) and indexed here by ``other`` (``settings``' other fields)."""
    library_settings, written = indexed_shapes.copy(tmp_path / "models", seeds=(101, 102))
    shapes: dict[Path, object] = dict(written)
    with Library.open(library_settings, lambda _s: float32) as library:
        before = recall_at_1(library, shapes)
    with Library.open(settings.replace(data_dir=tmp_path / "other"), lambda _s: other) as library:
        assert library.index([library_settings.data_dir.parent / "photos"]).failed == 0
        after = recall_at_1(library, shapes)
    return before, after
