"""The catalog's own promises: SQLite trouble after opening is the user's data-dir error."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage import catalog_db
from desktop_app.core.storage.catalog import Catalog


@pytest.fixture
def impatient_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    """A catalog that waits 0.1 s (not 10 s) for another program's lock."""
    real = catalog_db.set_sqlite_pragmas

    def pragmas(connection: Any, record: Any) -> None:
        real(connection, record)
        connection.execute("PRAGMA busy_timeout=100")

    monkeypatch.setattr(catalog_db, "set_sqlite_pragmas", pragmas)
    catalog = Catalog.open(tmp_path / "library" / "catalog.sqlite3")
    yield catalog
    catalog.close()


def test_a_lock_held_too_long_is_a_data_dir_error_and_nothing_is_lost(
    impatient_catalog: Catalog, tmp_path: Path
) -> None:
    impatient_catalog.add_folder(tmp_path / "Photos")
    other = sqlite3.connect(tmp_path / "library" / "catalog.sqlite3")
    other.execute("BEGIN EXCLUSIVE")  # another program (a backup tool, a second app) holds it
    try:
        with pytest.raises(DataDirError) as error:
            impatient_catalog.add_folder(tmp_path / "Documents")
    finally:
        other.rollback()
        other.close()
    message = str(error.value)
    assert "stayed locked by another program" in message and "database is locked" in message
    assert str(tmp_path / "library") in message  # which library
    assert [f.path for f in impatient_catalog.folders()] == [tmp_path / "Photos"]  # kept
    impatient_catalog.add_folder(tmp_path / "Documents")  # and it works again once released
    assert len(impatient_catalog.folders()) == 2
