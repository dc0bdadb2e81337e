"""The catalog's SQLAlchemy engine: built on first use by a write or an ORM read (``CatalogDb``).

A search reads through plain ``sqlite3`` connections and never imports this module.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage import catalog_db
from desktop_app.core.storage.catalog_format import check_readable
from desktop_app.core.storage.catalog_pragmas import read_only_uri
from desktop_app.core.storage.catalog_schema import migrate_to_read

__all__ = ["open_engine", "open_read_only"]


def open_engine(path: Path) -> Engine:
    """An engine on the catalog file at ``path``, created, or migrated to the current schema
    when this version cannot read it as it is (``CatalogDb.upgrade`` does the rest)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"Cannot create the data folder {path.parent}: {exc}") from exc
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", catalog_db.set_sqlite_pragmas)
    try:
        with engine.begin() as conn:
            migrate_to_read(conn)
    except OperationalError as exc:
        engine.dispose()
        raise DataDirError(f"Cannot open the catalog {path}: {exc.orig}") from exc
    return engine


def open_read_only(path: Path, frozen: bool) -> Engine:
    """A read-only engine on an up-to-date catalog (SQLite's ``mode=ro``; ``frozen``: the
    file is all there is, see ``read_only_uri``)."""
    uri = read_only_uri(path, frozen)

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    # The URL names no file, so SQLAlchemy would pick its in-memory pool, which closes a
    # connection another thread is still reading once more than five threads read; the
    # window's host reads from more threads than that.
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool)
    event.listen(engine, "connect", catalog_db.set_read_only_pragmas)
    try:
        with engine.connect() as conn:
            check_readable(int(conn.exec_driver_sql("PRAGMA user_version").scalar_one()))
    except OperationalError as exc:
        engine.dispose()
        raise DataDirError(f"Cannot open the catalog {path}: {exc.orig}") from exc
    except DataDirError:
        engine.dispose()
        raise
    return engine
