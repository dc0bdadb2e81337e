"""The query policy ranks by one relevance with a cutoff, falls back to names, and never writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import ModelSlot
from desktop_app.core.indexing.writer_lock import WriterLock
from desktop_app.core.library import Library
from desktop_app.core.priority import QueryPriority
from desktop_app.core.query import results
from desktop_app.core.query.policy import QueryPolicy
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.store import Store
from tests.conftest import IndexedShapes
from tests.support.photos import file_name
from tests.support.shapes import caption_for_text

RED = "a red circle on the left"


@pytest.fixture
def indexed(indexed_shapes: IndexedShapes, tmp_path: Path) -> Settings:
    """A data dir holding 72 indexed photos, one per caption (the library closed again); the
    photos are in ``data_dir.parent / "photos"``."""
    settings, _written = indexed_shapes.copy(tmp_path / "models", seeds=(1,))
    return settings


def _policy(settings: Settings, embedder: Embedder) -> tuple[QueryPolicy, Store]:
    store = Store.open(Catalog.open(settings.catalog_path), settings.index_path)
    return QueryPolicy(
        store, ModelSlot(settings, store, lambda _s: embedder), QueryPriority()
    ), store


def test_the_best_match_comes_first_and_the_weak_ones_wait_below_the_cutoff(
    indexed: Settings, tiny_embedder: Embedder
) -> None:
    policy, store = _policy(indexed, tiny_embedder)
    found = policy.search(RED, k=72)
    assert found.hits[0].file.path.name == file_name(caption_for_text(RED), 1)
    relevance = [h.relevance for h in found.hits]
    assert relevance == sorted(relevance, reverse=True)
    assert found.cutoff is not None and found.hidden > 0  # the rest is hidden, not dropped
    assert all(h.relevant for h in found.hits)
    everything = policy.search(RED, k=72, show_all=True)
    assert len(everything.hits) == len(found.hits) + found.hidden
    assert [h.relevant for h in everything.hits].count(False) == found.hidden
    store.catalog.close()


def test_names_answer_what_meaning_cannot_find(indexed: Settings, tiny_embedder: Embedder) -> None:
    policy, store = _policy(indexed, tiny_embedder)
    name = file_name(caption_for_text(RED), 1)
    stem = Path(name).stem
    found = results.search_files(policy, stem, 10, load_model=False)  # the model is loading
    assert not found.semantic and found.notice == results.MODEL_LOADING_NOTICE
    assert [(f.file.path.name, f.match) for f in found.files] == [(name, results.BY_NAME)]
    record = store.catalog.file_by_path(indexed.data_dir.parent / "photos" / name)
    assert record is not None
    store.catalog.update_file(record.id, status="pending")  # not embedded (yet)
    found = results.search_files(policy, stem, 72)
    assert found.semantic
    assert (name, results.BY_NAME) in [(f.file.path.name, f.match) for f in found.files]
    store.catalog.close()


def test_a_search_never_writes(indexed: Settings, tiny_embedder: Embedder) -> None:
    """No writer lock, no index save, no catalog write: a backup or a read-only data dir is
    left exactly as it was (the tests run as root, so the files' stamps say it, not chmod)."""
    index_file = indexed.index_path
    before = index_file.stat()
    catalog_before = indexed.catalog_path.stat().st_mtime_ns
    with Library.open(indexed, embedder_loader=lambda _s: tiny_embedder) as library:
        assert library.search(RED, 5).hits
        library.similar(indexed.data_dir.parent / "photos" / file_name(caption_for_text(RED), 1))
        results.search_files(library, "circle", 10)
        other = WriterLock(indexed.data_dir)
        assert other.try_acquire()  # the searching process holds no writer lock
        other.release()
    after = index_file.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    assert indexed.catalog_path.stat().st_mtime_ns == catalog_before


def test_a_search_finds_vectors_the_index_file_lacks_without_writing_it(
    indexed: Settings, tiny_embedder: Embedder
) -> None:
    indexed.index_path.unlink()  # as if the writer died before its first save
    with Library.open(indexed, embedder_loader=lambda _s: tiny_embedder) as library:
        assert library.search(RED, 5).hits  # rebuilt from the catalog, in memory
    assert not indexed.index_path.exists()
