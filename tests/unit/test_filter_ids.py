"""Filters resolved to vector ids: only the files that pass, of the space asked, several kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop_app.core.storage.catalog import Catalog, EmbeddedFile, FileFilter, NewVector
from tests.support.catalog import SPACE, add, index

PHOTOS = FileFilter(kinds=frozenset({"image"}))
DOCUMENTS = FileFilter(kinds=frozenset({"document"}))


def test_two_filters_stay_resolved_until_the_catalog_changes(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    photo = add(catalog, tmp_path / "a.jpg")
    document = add(catalog, tmp_path / "b.pdf", kind="document")
    photo_ids, document_ids = index(catalog, photo, 1.0, 2.0), index(catalog, document, 3.0)
    assert list(catalog.allowed_vector_ids(SPACE, PHOTOS)) == photo_ids
    assert list(catalog.allowed_vector_ids(SPACE, DOCUMENTS)) == document_ids
    # The window switching between its kind chips: both answers are kept.
    kept = catalog.known_allowed_vector_ids(SPACE, PHOTOS)
    assert kept is not None and list(kept) == photo_ids
    kept = catalog.known_allowed_vector_ids(SPACE, DOCUMENTS)
    assert kept is not None and list(kept) == document_ids
    add(catalog, tmp_path / "c.jpg")  # a change: every kept answer may be stale
    assert catalog.known_allowed_vector_ids(SPACE, PHOTOS) is None
    assert catalog.known_allowed_vector_ids(SPACE, DOCUMENTS) is None
    catalog.close()


def test_a_resolved_filter_holds_only_the_vectors_of_its_space(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    photo = add(catalog, tmp_path / "a.jpg")
    ours = index(catalog, photo, 1.0)
    # Another model's vectors of the same photo (a model switch under way).
    [theirs] = catalog.add_space_vectors(
        "other-space", [EmbeddedFile(photo, [NewVector("image", np.ones(4))])]
    )
    assert list(catalog.allowed_vector_ids(SPACE, PHOTOS)) == ours
    assert list(catalog.allowed_vector_ids("other-space", PHOTOS)) == theirs
    catalog.close()
