"""The catalog's plain read connections (what a search reads through): each block one snapshot,
no write possible through them, many threads at once, and the ORM built only by a write."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
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


def test_a_read_block_is_one_snapshot_and_the_next_sees_what_was_written(tmp_path: Path) -> None:
    path = _catalog(tmp_path / "data")
    catalog = Catalog.open(path)
    other = sqlite3.connect(path)
    with catalog.reader() as conn:
        assert conn.execute("SELECT count(*) FROM folders").fetchone() == (1,)
        other.execute("INSERT INTO folders (path, added_at, paused, online) VALUES ('/x', 0, 0, 1)")
        other.commit()
        assert conn.execute("SELECT count(*) FROM folders").fetchone() == (1,)
        with catalog.reader() as inner:  # a block inside it: the same snapshot
            assert inner.execute("SELECT count(*) FROM folders").fetchone() == (1,)
    with catalog.reader() as conn:
        assert conn.execute("SELECT count(*) FROM folders").fetchone() == (2,)
    other.close()
    catalog.close()


def test_nothing_can_be_written_through_a_read_connection(tmp_path: Path) -> None:
    catalog = Catalog.open(_catalog(tmp_path / "data"))
    with pytest.raises(DataDirError), catalog.reader() as conn:
        conn.execute("DELETE FROM folders")
    assert len(catalog.folders()) == 1
    catalog.close()


def test_a_read_only_catalog_answers_many_plain_readers_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    path = _catalog(data)
    deny_writes_under(data, monkeypatch)
    catalog = Catalog.open(path)
    all_started = threading.Barrier(12)

    def read(_: int) -> object:
        with catalog.reader() as conn:
            all_started.wait(timeout=30)  # every thread holds its connection at once
            return conn.execute("SELECT count(*) FROM folders").fetchone()[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(read, range(12)))
    assert catalog.get_meta("space") == "s"
    catalog.close()
    assert answers == [1] * 12


def test_opening_and_reading_import_no_orm_until_something_writes(tmp_path: Path) -> None:
    path = _catalog(tmp_path / "data")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from desktop_app.core.storage.catalog import Catalog\n"
        "catalog = Catalog.open(Path(sys.argv[1]))\n"
        "assert [str(f) for f in catalog.find_by_name(['x'], 5)] == []\n"
        "assert catalog.count_with_status('indexed') == 0\n"
        "print('sqlalchemy' in sys.modules)\n"
        "catalog.set_meta('space', 't')\n"
        "print('sqlalchemy' in sys.modules, catalog.get_meta('space'))\n"
        "catalog.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "True t"]
