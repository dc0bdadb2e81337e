"""The empty query's listing: the newest files first, a page at a time, the same in any format."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from desktop_app.core.storage.catalog import Catalog, FileFilter
from desktop_app.core.storage.recent_order import INDEX
from tests.support.catalog import add, index

DAY_NS = 86_400 * 10**9


def _library(tmp_path: Path) -> tuple[Catalog, list[int], list[int]]:
    """30 indexed files (one photo taken long ago, the rest by modification time, two of them
    in the same second) and 4 not embedded yet; (catalog, indexed newest first, pending)."""
    catalog = Catalog.open(tmp_path / "library" / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "Photos")
    days = [*range(1, 29), 14, 40]  # day 14 twice: a tie
    indexed = []
    for n, day in enumerate(days):
        kind = "document" if n % 5 == 0 else "image"
        file_id = add(catalog, tmp_path / "Photos" / f"f{n:02d}.jpg", folder.id, kind)
        catalog.update_file(file_id, mtime_ns=day * DAY_NS)
        index(catalog, file_id, float(n))
        indexed.append((day, file_id))
    scanned = indexed[3][1]  # modified on day 4, but taken on day 35
    catalog.update_file(scanned, taken_at=datetime(1970, 2, 5, 12, 0))
    indexed[3] = (35, scanned)
    pending = [add(catalog, tmp_path / "Photos" / f"new{n}.jpg", folder.id) for n in range(4)]
    newest = [file_id for _day, file_id in sorted(indexed, key=lambda d: (-d[0], -d[1]))]
    return catalog, newest, pending


def _pages(catalog: Catalog, size: int, **kwargs: object) -> list[int]:
    ids: list[int] = []
    while True:
        page = catalog.recent_files(size, offset=len(ids), **kwargs)  # type: ignore[arg-type]
        ids += [r.id for r in page]
        if len(page) < size:
            return ids


def test_the_listing_is_newest_first_and_its_pages_add_up_to_it(tmp_path: Path) -> None:
    catalog, newest, pending = _library(tmp_path)
    assert [r.id for r in catalog.recent_files(100)] == newest
    assert [r.id for r in catalog.recent_files(5)] == newest[:5]
    assert [r.id for r in catalog.recent_files(5, offset=5)] == newest[5:10]
    assert _pages(catalog, 7) == newest  # a tie (two files of one second) keeps one order
    # A first run: the files not embedded yet follow, oldest found first, across pages.
    assert _pages(catalog, 7, pending=True) == newest + pending
    assert _pages(catalog, 30, pending=True) == newest + pending  # a page of indexed files only
    docs = FileFilter(kinds=frozenset({"document"}))
    documents = [r.id for r in catalog.recent_files(100, docs)]
    assert len(documents) == 6 and documents == [i for i in newest if i in documents]
    assert _pages(catalog, 4, file_filter=docs) == documents
    catalog.close()


def test_a_catalog_from_before_the_index_lists_the_same_files(tmp_path: Path) -> None:
    catalog, newest, pending = _library(tmp_path)
    path = tmp_path / "library" / "catalog.sqlite3"
    catalog.close()
    sql = "SELECT id FROM files WHERE status = 'indexed' ORDER BY {} DESC LIMIT 5"
    when = "coalesce(taken_at, datetime(mtime_ns / 1e9, 'unixepoch'))"
    with sqlite3.connect(path) as db:
        plan = " ".join(str(row) for row in db.execute(f"EXPLAIN QUERY PLAN {sql.format(when)}"))
        assert INDEX in plan and "TEMP B-TREE" not in plan  # read from the index, not sorted
        db.execute(f"DROP INDEX {INDEX}")
        db.execute("PRAGMA user_version = 9")
    old = Catalog.open(path)  # read as it is: nothing is written to it
    assert _pages(old, 7, pending=True) == newest + pending
    old.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (9,)
