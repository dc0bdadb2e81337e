"""Counts kept by triggers (each space's vector count, largest id and id sum; files per status)
are always what a count of the catalog says, and a library of the format before them opens as
it is (a search writes nothing) until the process that becomes the writer upgrades it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from desktop_app.core.indexing.writer import Writer
from desktop_app.core.storage import kept_counts
from desktop_app.core.storage.catalog import (
    FAILED,
    INDEXED,
    OFFLINE,
    PENDING,
    SCHEMA_VERSION,
    Catalog,
    EmbeddedFile,
    NewVector,
)
from desktop_app.core.storage.store import Store
from tests.support.catalog import SPACE, add, index
from tests.support.unprivileged import deny_writes_under


def _counted(path: Path, space: str = SPACE) -> tuple[int, int, int]:
    """The fingerprint as a scan of the vectors says it."""
    with sqlite3.connect(path) as db:
        count, largest, total = db.execute(
            "SELECT count(id), max(id), sum(id) FROM vectors WHERE space = ?", (space,)
        ).fetchone()
    db.close()
    return int(count), int(largest or 0), int(total or 0)


def _by_status(catalog: Catalog, path: Path) -> dict[str, tuple[int, int]]:
    """Each status's file count, kept and counted."""
    with sqlite3.connect(path) as db:
        counted = dict(db.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
    db.close()
    return {
        status: (catalog.count_with_status(status), counted.get(status, 0))
        for status in (PENDING, INDEXED, FAILED, OFFLINE)
    }


def _same(counts: dict[str, tuple[int, int]]) -> bool:
    return all(kept == counted for kept, counted in counts.values())


def _format(path: Path) -> int:
    with sqlite3.connect(path) as db:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    db.close()
    return version


def _as_format_8(path: Path) -> None:
    """Take the catalog at ``path`` back to the format before the vector counts."""
    catalog = Catalog.open(path)
    with catalog.session() as s:
        kept_counts.drop(s.connection())
        s.execute(text("PRAGMA user_version = 8"))
    catalog.close()


def _files(catalog: Catalog, tmp_path: Path, n: int) -> list[int]:
    return [add(catalog, tmp_path / f"photo-{i}.jpg") for i in range(n)]


def test_the_kept_figures_are_the_counted_ones_through_every_kind_of_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.sqlite3"
    catalog = Catalog.open(path)
    kept = catalog.vector_fingerprint
    assert kept(SPACE) == (0, 0, 0)
    files = _files(catalog, tmp_path, 4)
    for file_id in files:
        index(catalog, file_id, 0.1, 0.2, 0.3)  # inserts
    assert kept(SPACE) == _counted(path) and kept(SPACE)[0] == 12
    index(catalog, files[-1], 0.5)  # the newest file again: its largest id leaves, one comes
    assert kept(SPACE) == _counted(path)
    catalog.delete_files([files[-1]])  # the largest id leaves by the files' cascade
    assert kept(SPACE) == _counted(path) and kept(SPACE)[0] == 9
    catalog.delete_files([files[0]])  # the smallest
    assert kept(SPACE) == _counted(path) and kept(SPACE)[0] == 6

    vector = [NewVector("image", np.ones(4, np.float32))]
    catalog.add_space_vectors("other", [EmbeddedFile(files[1], vector, (), {})])  # a switch
    assert kept("other") == _counted(path, "other") and kept(SPACE) == _counted(path)
    catalog.drop_vectors_outside("other")
    assert kept(SPACE) == (0, 0, 0) == _counted(path)
    assert kept("other") == _counted(path, "other") and kept("other")[0] == 1
    with catalog.session() as s:  # a space renamed in place (as bench_fresh_search does)
        s.execute(text("UPDATE vectors SET space = :s"), {"s": SPACE})
    assert kept(SPACE) == _counted(path) and kept("other") == (0, 0, 0)
    catalog.close()
    with sqlite3.connect(path) as db:
        db.execute("VACUUM")  # the catalog compacted: ids stay (they are the index's labels)
    db.close()
    assert Catalog.open(path).vector_fingerprint(SPACE) == _counted(path)


def test_the_files_per_status_are_the_counted_ones_as_files_come_change_and_go(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.sqlite3"
    catalog = Catalog.open(path)
    assert catalog.count_with_status(INDEXED) == 0
    files = _files(catalog, tmp_path, 6)
    assert _by_status(catalog, path)[PENDING] == (6, 6)
    for file_id in files[:4]:
        index(catalog, file_id, 0.5)  # pending -> indexed
    index(catalog, files[0], 0.25)  # indexed again: no change of status
    catalog.update_file(files[4], status=FAILED, error="unreadable")
    counts = _by_status(catalog, path)
    assert _same(counts) and counts[INDEXED] == (4, 4) and counts[FAILED] == (1, 1)
    catalog.delete_files([files[1], files[4]])
    counts = _by_status(catalog, path)
    assert _same(counts) and counts[INDEXED] == (3, 3) and counts[FAILED] == (0, 0)
    with catalog.session() as s:  # a folder gone offline, all at once
        s.execute(
            text("UPDATE files SET status = :s WHERE status = :i"), {"s": OFFLINE, "i": INDEXED}
        )
    counts = _by_status(catalog, path)
    assert _same(counts) and counts[OFFLINE] == (3, 3) and counts[INDEXED] == (0, 0)
    catalog.close()


def test_an_index_compaction_keeps_the_store_in_step(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    catalog.set_meta("space", SPACE)
    catalog.set_meta("dim", "4")
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    files = _files(catalog, tmp_path, 8)
    rng = np.random.default_rng(1)
    for file_id in files:
        vector = rng.normal(size=4).astype(np.float32)
        store.store_embedded(SPACE, [EmbeddedFile(file_id, [NewVector("image", vector)], (), {})])
    store.delete_files(files[:5])
    assert store.index.needs_compaction()
    assert store.reconcile() is False  # same ids: nothing read, the graph compacted
    assert not store.index.needs_compaction()
    assert store.index.fingerprint() == catalog.vector_fingerprint(SPACE)
    assert catalog.vector_fingerprint(SPACE) == _counted(tmp_path / "catalog.sqlite3")
    catalog.close()


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_a_library_of_the_format_before_opens_unwritten_until_a_writer_claims_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    path = data / "catalog.sqlite3"
    catalog = Catalog.open(path)
    for file_id in _files(catalog, tmp_path, 3):
        index(catalog, file_id, 0.25, 0.75)
    catalog.close()
    _as_format_8(path)
    before = _state(data)

    catalog = Catalog.open(path)  # as a search opens it
    assert catalog.vector_fingerprint(SPACE) == _counted(path)  # counted, not kept
    assert _same(_by_status(catalog, path)) and catalog.count_with_status(INDEXED) == 3
    catalog.close()
    assert _state(data) == before and _format(path) == 8

    catalog = Catalog.open(path)
    store = Store.open(catalog, data / "vectors.hnsw")
    writer = Writer(store, data)
    writer.claim("test")  # becoming the writer upgrades the catalog
    assert _format(path) == SCHEMA_VERSION
    file_id = add(catalog, tmp_path / "new.jpg")
    index(catalog, file_id, 0.5)
    assert catalog.vector_fingerprint(SPACE) == _counted(path) and _counted(path)[0] == 7
    assert _same(_by_status(catalog, path)) and catalog.count_with_status(INDEXED) == 4
    writer.close()
    catalog.close()


def test_a_read_only_library_of_the_format_before_answers_and_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    path = data / "catalog.sqlite3"
    catalog = Catalog.open(path)
    index(catalog, add(catalog, tmp_path / "a.jpg"), 0.5)
    catalog.close()
    _as_format_8(path)
    before = _state(data)
    deny_writes_under(data, monkeypatch)
    catalog = Catalog.open(path)
    assert catalog.vector_fingerprint(SPACE) == _counted(path)
    catalog.upgrade()  # a writer in a folder it cannot write: left as it is, said in the log
    assert catalog.vector_fingerprint(SPACE) == _counted(path)
    catalog.close()
    assert _state(data) == before and _format(path) == 8
