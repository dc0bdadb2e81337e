"""A catalog this process may not write (a read-only folder or disk) is opened read-only: it
answers reads, leaves every byte as it was, and a write fails in plain words."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage.catalog import Catalog
from tests.support.unprivileged import deny_writes_under


def _catalog(folder: Path) -> Path:
    catalog = Catalog.open(folder / "catalog.sqlite3")
    catalog.add_folder(folder.parent / "photos")
    catalog.set_meta("space", "s")
    catalog.close()
    return folder / "catalog.sqlite3"


def _state(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_a_read_only_catalog_answers_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    path = _catalog(data)
    before = _state(data)
    deny_writes_under(data, monkeypatch)
    catalog = Catalog.open(path)
    assert catalog.get_meta("space") == "s"
    assert [f.path for f in catalog.folders()] == [tmp_path / "photos"]
    with pytest.raises(DataDirError, match="Cannot write to the library"):
        catalog.set_meta("space", "other")
    catalog.close()
    assert _state(data) == before  # no journal, no shared-memory file, not one byte


def test_a_read_only_catalog_answers_many_threads_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The window's host reads from a dozen threads (reads, thumbnails, query steps).
    data = tmp_path / "data"
    path = _catalog(data)
    deny_writes_under(data, monkeypatch)
    catalog = Catalog.open(path)
    all_started = threading.Barrier(12)

    def read(_: int) -> object:
        with catalog._db.engine.connect() as conn:
            all_started.wait(timeout=30)  # every thread holds its connection at once
            return conn.exec_driver_sql("SELECT count(*) FROM folders").scalar()

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(read, range(12)))
    catalog.close()
    assert answers == [1] * 12


def test_a_read_only_catalog_of_an_older_format_says_it_must_be_updated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    path = _catalog(data)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 6")
    conn.close()
    deny_writes_under(data, monkeypatch)
    with pytest.raises(DataDirError, match=r"older Lumen .* writable"):
        Catalog.open(path)
