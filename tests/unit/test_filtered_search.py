"""A filter's first query checks the best candidates instead of resolving the whole filter:
the results are the same either way, and every hit passes the filter."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.query import fetch_sizes, search
from desktop_app.core.storage.catalog import FileFilter
from tests.conftest import IndexedShapes
from tests.support.photos import file_name, write_shape_photos
from tests.support.shapes import caption_for_text

QUERY = "a green square on the right"


def write_two_folders(photos: Path) -> Path:
    """72 shape photos in ``a``, 144 in ``b``, one of them (returned) last changed in 2015."""
    write_shape_photos(photos / "a", seeds=(1,))
    write_shape_photos(photos / "b", seeds=(2, 3))
    old = photos / "b" / file_name(caption_for_text(QUERY), 3)
    os.utime(old, (datetime(2015, 6, 1).timestamp(),) * 2)
    return old


@pytest.fixture
def indexed(
    indexed_shapes: IndexedShapes, tiny_embedder: Embedder, tmp_path: Path
) -> Iterator[tuple[Library, Path]]:
    """A library of ``write_two_folders``'s photos (indexed once a session, copied for this
    test), and their folder."""
    settings, old = indexed_shapes.copy_of(
        "two-folders", "photos", write_two_folders, tmp_path / "models"
    )
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        yield library, old.parent.parent


def test_a_new_filter_finds_what_the_resolved_filter_finds(
    indexed: tuple[Library, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_library, photos = indexed
    old = photos / "b" / file_name(caption_for_text(QUERY), 3)
    filters = {
        "folder a": FileFilter(folders=(photos / "a",)),
        "before 2016": FileFilter(date_to=datetime(2016, 1, 1)),
        "folder b since 2016": FileFilter(folders=(photos / "b",), date_from=datetime(2016, 1, 1)),
        "documents": FileFilter(kinds=frozenset({"document"})),
    }
    passes = {
        "folder a": lambda p: p.parent.name == "a",
        "before 2016": lambda p: p == old,
        "folder b since 2016": lambda p: p.parent.name == "b" and p != old,
        "documents": lambda p: False,
    }

    def found(file_filter: FileFilter) -> list[Path]:
        hits = tiny_library.search(QUERY, k=40, file_filter=file_filter, show_all=True).hits
        return [h.file.path for h in hits]

    catalog = tiny_library.catalog
    space = catalog.get_meta("space") or ""
    other = FileFilter(kinds=frozenset({"video"}))
    resolved: dict[str, list[Path]] = {}
    for name, file_filter in filters.items():
        first = found(file_filter)  # new: the best candidates are checked
        assert all(passes[name](p) for p in first), name
        assert catalog.known_allowed_vector_ids(space, file_filter) is None  # no full scan
        catalog.allowed_vector_ids(space, file_filter)  # resolved and kept
        resolved[name] = found(file_filter)
        assert resolved[name] == first, name
    assert resolved["before 2016"] == [old]
    assert len(resolved["folder a"]) == 40

    # A filter too narrow for the candidates checked is resolved as a whole (and kept for the
    # next query): the same results again.
    monkeypatch.setattr(search, "CHECKED_FETCH", 8)
    for name, file_filter in filters.items():
        catalog.allowed_vector_ids(space, other)  # the catalog keeps another filter now
        assert found(file_filter) == resolved[name], name
        assert catalog.known_allowed_vector_ids(space, file_filter) is not None


def test_a_filter_allowing_most_files_finds_what_the_index_filter_finds(
    indexed: tuple[Library, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_library, photos = indexed
    most = FileFilter(folders=(photos / "b",))  # two thirds of the photos
    catalog = tiny_library.catalog
    catalog.allowed_vector_ids(catalog.get_meta("space") or "", most)  # resolved: searched within

    def found() -> list[Path]:
        hits = tiny_library.search(QUERY, k=40, file_filter=most, show_all=True).hits
        return [h.file.path for h in hits]

    monkeypatch.setattr(fetch_sizes, "POST_FILTER_SHARE", 2.0)  # the index filters
    by_index = found()
    monkeypatch.setattr(fetch_sizes, "POST_FILTER_SHARE", 0.0)  # the search drops the rest
    dropped = found()
    assert dropped == by_index
    assert len(dropped) == 40 and all(p.parent.name == "b" for p in dropped)
