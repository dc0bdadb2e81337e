"""The store keeps the catalog and the vector index in step; the catalog wins after a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete

from desktop_app.core.records import INDEXED, PENDING, EmbeddedFile, NewVector
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.catalog_tables import VectorRow
from desktop_app.core.storage.store import Store
from tests.support.vectors import DIM, unit_vectors

SPACE = "test-space"


def _library(tmp_path: Path, files: int) -> tuple[Catalog, Store, list[int]]:
    """A catalog of ``files`` embedded photos and its index saved beside it."""
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    for key, value in {"space": SPACE, "dim": str(DIM), "model": "test"}.items():
        catalog.set_meta(key, value)
    folder = catalog.add_folder(tmp_path / "photos")
    ids = [
        catalog.add_file(
            folder_id=folder.id,
            path=tmp_path / "photos" / f"{n}.jpg",
            size=1,
            mtime_ns=1,
            inode=None,
            fingerprint=f"{n:032x}",
            kind="image",
        )
        for n in range(files)
    ]
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    vectors = unit_vectors(files)
    store.store_embedded(
        SPACE, [EmbeddedFile(i, [NewVector("image", v)]) for i, v in zip(ids, vectors, strict=True)]
    )
    assert store.save()
    return catalog, store, ids


def _vector_of(catalog: Catalog, file_id: int) -> int:
    return catalog.file_vectors(file_id, SPACE)[0][0].vector_id


@pytest.fixture
def crashed(tmp_path: Path) -> tuple[Catalog, list[int], int, int]:
    """A library whose process died between a catalog write and the next index save: one file
    was embedded (its vector is in the catalog only), another forgotten (its vector is still in
    the index file)."""
    catalog, _store, ids = _library(tmp_path, 6)
    forgotten = _vector_of(catalog, ids[0])
    catalog.delete_files([ids[0]])  # the index file still has its vector
    new_vector = catalog.store_embeddings(ids[1], SPACE, [NewVector("image", unit_vectors(1)[0])])
    return catalog, ids, forgotten, new_vector[0][0]


def test_after_a_crash_the_index_holds_exactly_the_catalogs_vectors(
    tmp_path: Path, crashed: tuple[Catalog, list[int], int, int]
) -> None:
    catalog, _ids, forgotten, embedded = crashed
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    ids = set(store.index.ids().tolist())
    assert ids == set(catalog.vector_ids(SPACE).tolist())
    assert forgotten not in ids  # a vector without a row is dropped
    assert embedded in ids  # a row's vector missing from the file is copied in
    assert store.dirty  # so the writer saves it


def test_an_indexed_file_without_vectors_is_embedded_again(tmp_path: Path) -> None:
    catalog, _store, ids = _library(tmp_path, 3)
    with catalog.session() as s:  # as if its vectors were lost (an old crash, a bad migration)
        s.execute(delete(VectorRow).where(VectorRow.file_id == ids[2]))
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    assert catalog.files_by_ids([ids[2]])[ids[2]].status == INDEXED  # a reader writes nothing
    store.requeue_unembedded()  # the writer, when it takes over
    assert catalog.files_by_ids([ids[2]])[ids[2]].status == PENDING
    assert catalog.files_by_ids([ids[0]])[ids[0]].status == INDEXED


def test_a_store_in_step_with_its_catalog_reads_no_vector_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a million vectors, listing every id costs a second: the fingerprint says enough."""
    catalog, _store, _ids = _library(tmp_path, 5)

    def listing(_space: str) -> None:
        raise AssertionError("the ids were read although both hold the same vectors")

    monkeypatch.setattr(catalog, "vector_ids", listing)
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    assert len(store) == 5 and not store.dirty


def test_opening_and_reconciling_never_writes_the_index_file(
    tmp_path: Path, crashed: tuple[Catalog, list[int], int, int]
) -> None:
    catalog, *_ = crashed
    index_file = tmp_path / "vectors.hnsw"
    before = index_file.stat()
    store = Store.open(catalog, index_file)
    assert store.dirty
    after = index_file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_missing_index_file_is_rebuilt_from_the_catalog_in_memory(tmp_path: Path) -> None:
    catalog, _store, _ids = _library(tmp_path, 4)
    (tmp_path / "vectors.hnsw").unlink()
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    assert len(store) == 4
    assert not (tmp_path / "vectors.hnsw").exists()  # until the writer saves it
    assert store.save() and (tmp_path / "vectors.hnsw").exists()
    assert not store.save()  # nothing changed since: nothing written


def test_forgetting_files_takes_their_vectors_out_of_both(tmp_path: Path) -> None:
    catalog, store, ids = _library(tmp_path, 5)
    gone = [_vector_of(catalog, i) for i in ids[:2]]
    assert sorted(store.delete_files(ids[:2])) == sorted(gone)
    assert not set(gone) & set(store.index.ids().tolist())
    assert set(store.index.ids().tolist()) == set(catalog.vector_ids(SPACE).tolist())
    assert store.dirty


def test_a_file_forgotten_while_it_was_embedded_stays_forgotten(tmp_path: Path) -> None:
    catalog, store, ids = _library(tmp_path, 3)
    store.delete_files([ids[0]])
    stored = store.store_embedded(SPACE, [EmbeddedFile(ids[0], [NewVector("image", np.ones(DIM))])])
    assert stored == [[]]
    assert set(store.index.ids().tolist()) == set(catalog.vector_ids(SPACE).tolist())
