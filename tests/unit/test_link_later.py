"""A large restore stores the rows first and links the graph later: the library answers at once,
exactly, and the writer's next save links every row (a million rows take seconds to store and
tens of minutes to link on two cores)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.storage import restore_progress, store, vector_graph
from desktop_app.core.storage.store import Store
from desktop_app.core.storage.vector_index import VectorIndex
from tests.support.vectors import DIM, exact_top, sparse_ids, unit_vectors
from tests.unit.test_store import _library

N = 3_000


def _unlinked_index() -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    """An index past its exact threshold whose rows were all stored without linking."""
    index = VectorIndex(DIM, exact_threshold=0)
    ids, vecs = sparse_ids(N), unit_vectors(N)
    index.add(ids, vecs, link=False)
    return index, ids, vecs


def test_rows_stored_without_linking_are_found_exactly_filtered_or_not() -> None:
    index, ids, vecs = _unlinked_index()
    assert index.graph_pending and len(index) == N
    for q in unit_vectors(20, seed=7):
        assert index.search(q, 10)[0].tolist() == exact_top(ids, vecs, q, 10).tolist()
    allowed = ids[::3]
    q = unit_vectors(1, seed=8)[0]
    found = index.search(q, 5, allowed)[0]
    assert found.tolist() == exact_top(allowed, vecs[::3], q, 5).tolist()
    index.remove(ids[:1].tolist())
    assert ids[0] not in index.search(vecs[0], 10)[0]


def test_compaction_links_every_row_and_the_graph_then_answers() -> None:
    index, ids, vecs = _unlinked_index()
    index.compact()
    assert not index.graph_pending
    found = [index.search(v, 1)[0][0] for v in vecs[:200]]
    assert found == ids[:200].tolist()  # every vector reached through the graph


def test_saving_links_first_so_the_file_holds_a_graph_of_every_row(tmp_path: Path) -> None:
    index, ids, vecs = _unlinked_index()
    index.save(tmp_path / "vectors.hnsw")
    assert not index.graph_pending
    loaded = VectorIndex.load(tmp_path / "vectors.hnsw", DIM, exact_threshold=0)
    assert not loaded.graph_pending and len(loaded) == N
    q = unit_vectors(1, seed=9)[0]
    top = exact_top(ids, vecs, q, 10).tolist()
    assert len(set(loaded.search(q, 10)[0].tolist()) & set(top)) >= 9


def test_a_large_restore_answers_exactly_at_once_and_the_next_save_links_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    catalog, _first, _files = _library(tmp_path, 400)
    index_path = tmp_path / "vectors.hnsw"
    index_path.unlink()  # lost: the catalog still has every vector
    monkeypatch.setattr(store, "LINK_LATER_FROM", 100)
    with caplog.at_level(logging.INFO, logger=store.__name__):
        reopened = Store.open(catalog, index_path)
    assert len(reopened) == 400 and reopened.index.graph_pending
    assert any("searched exactly until the next save" in r.getMessage() for r in caplog.records)
    vector_ids = reopened.index.ids()
    vectors = reopened.index.get_vectors(vector_ids.tolist())
    for q in unit_vectors(5, seed=11):
        expected = exact_top(vector_ids, vectors, q, 10).tolist()
        assert reopened.index.search(q, 10)[0].tolist() == expected
    assert not index_path.exists()  # a reader writes nothing
    assert reopened.save()
    assert not reopened.index.graph_pending
    again = VectorIndex.load(index_path, DIM, exact_threshold=0)
    assert len(again) == 400
    assert all(again.search(v, 1)[0][0] == vid for vid, v in zip(vector_ids, vectors, strict=True))
    catalog.close()


def test_a_small_restore_is_linked_at_once(tmp_path: Path) -> None:
    catalog, _first, _ids = _library(tmp_path, 50)
    (tmp_path / "vectors.hnsw").unlink()
    reopened = Store.open(catalog, tmp_path / "vectors.hnsw")
    assert len(reopened) == 50 and not reopened.index.graph_pending
    catalog.close()


def test_linking_a_large_restore_says_how_far_it_has_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    catalog, _first, _files = _library(tmp_path, 400)
    (tmp_path / "vectors.hnsw").unlink()
    monkeypatch.setattr(store, "LINK_LATER_FROM", 100)
    reopened = Store.open(catalog, tmp_path / "vectors.hnsw")
    monkeypatch.setattr(vector_graph, "CHECK_CHUNK", 100)
    monkeypatch.setattr(restore_progress, "EVERY_S", 0.0)  # a line after every chunk
    with caplog.at_level(logging.WARNING, logger=restore_progress.__name__):
        assert reopened.save()
    lines = [r.getMessage() for r in caplog.records if r.name == restore_progress.__name__]
    assert [line.split(" vectors,")[0] for line in lines] == [
        "Linking the restored vectors: 100 of 400",
        "Linking the restored vectors: 200 of 400",
        "Linking the restored vectors: 300 of 400",
    ]
    catalog.close()
