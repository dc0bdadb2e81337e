"""The window's kinds resolved ahead again after an index run wrote; what they find is current."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.host.protocol import Col, Query
from desktop_app.host.service import LibraryService
from tests.support.photos import write_shape_photos
from tests.support.served import PHOTOS, index_all, resolved_photos, served
from tests.support.settings import tiny_model_settings


def _photos_only(service: LibraryService) -> set[Path]:
    """What a photos-only query shows."""
    found = service.query(Query(text="photos of a red circle", limit=200, show_all=True))
    assert found.understood is not None and found.understood.kind is not None
    return {Path(row[Col.PATH]) for row in found.rows}


def test_after_an_index_run_the_photos_filter_is_ready_again_and_holds_the_new_photo(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    with served(tmp_path, tiny_weights, tiny_embedder) as (library, service, _written):
        before = resolved_photos(library)

        new = write_shape_photos(tmp_path / "photos" / "later", seeds=(202,))
        index_all(service)  # the run writes: the kept filter is let go, then resolved again

        after = resolved_photos(library)
        assert len(after) == len(before) + len(new)
        assert set(new) <= _photos_only(service)  # the photos-only query shows the new photos


def test_a_deleted_photo_leaves_the_photos_only_results(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    with served(tmp_path, tiny_weights, tiny_embedder) as (library, service, written):
        before = resolved_photos(library)
        gone = written[0]
        gone.unlink()
        index_all(service)

        assert len(resolved_photos(library)) == len(before) - 1
        shown = _photos_only(service)
        assert gone not in shown and shown


def test_after_a_tag_is_given_the_photos_filter_is_ready_again(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    with served(tmp_path, tiny_weights, tiny_embedder) as (library, service, written):
        before = resolved_photos(library)
        generation = library.catalog.write_count
        service.set_tag(written[0], "holiday", True)
        assert library.catalog.write_count != generation  # the tag was written
        assert np.array_equal(resolved_photos(library), before)


def test_photos_the_watcher_indexed_are_in_the_photos_filter_resolved_ahead(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    with served(tmp_path, tiny_weights, tiny_embedder) as (library, service, _written):
        before = len(resolved_photos(library))
        indexed: list[Path] = []
        assert service.set_watching(True, lambda changes: indexed.extend(changes.added))
        new = write_shape_photos(tmp_path / "photos" / "dropped", seeds=(303,))
        deadline = time.monotonic() + 60
        while len(indexed) < len(new):  # the watcher's batches wrote them
            assert time.monotonic() < deadline, "the watcher did not index the new photos"
            time.sleep(0.05)
        while len(resolved_photos(library)) != before + len(new):  # resolved again, nobody asking
            assert time.monotonic() < deadline, "the photos filter was not resolved again"
            time.sleep(0.05)
        assert set(new) <= _photos_only(service)


def test_no_warm_up_before_the_model_is_ready(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    settings = tiny_model_settings(tmp_path, tiny_weights)
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(101,))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        try:
            index_all(service)  # the window's first run: nothing is searched by meaning yet
            time.sleep(0.2)
            space = library.store.space
            assert library.catalog.known_allowed_vector_ids(space, PHOTOS) is None
        finally:
            service.close()
