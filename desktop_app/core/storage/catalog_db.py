"""The catalog's database: its SQLite engine, sessions, write counter and what errors mean.

Each part of the catalog (files and folders, vector rows, metadata, tags) is a ``CatalogPart``
over one shared ``CatalogDb``.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage.catalog_schema import (
    SCHEMA_VERSION,
    check_readable,
    migrate,
    migrate_to_read,
)

# A statement starting with WITH is a read unless one of these follows (a CTE can write).
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# SQLite's words for a disk that is full, read-only or failing (not a bug in a query).
_STORAGE_FAILURES = ("disk is full", "readonly", "read-only", "disk i/o error", "unable to open")
_LOCK_FAILURES = ("database is locked", "database table is locked")  # busy_timeout ran out


def set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Settings of every new SQLite connection (WAL, foreign keys, waiting for locks)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    _set_shared_pragmas(cursor)
    cursor.close()


def set_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Settings of a read-only connection: no journal mode change, and no write at all."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    _set_shared_pragmas(cursor)
    cursor.close()


def _set_shared_pragmas(cursor: Any) -> None:
    """What every connection needs, read-only or not."""
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Paths are case-sensitive (/x/Trip is not /x/trip): folder prefixes use LIKE.
    cursor.execute("PRAGMA case_sensitive_like=ON")


def writable(path: Path) -> bool:
    """Whether this process may write the catalog at ``path`` (and its journal beside it)."""
    folder = path.parent
    if not folder.is_dir():
        return True  # created (or refused in plain words) by ``open_engine``
    if not os.access(folder, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def open_engine(path: Path) -> Engine:
    """An engine on the catalog file at ``path``, created, or migrated to the current schema
    when this version cannot read it as it is (``CatalogDb.upgrade`` does the rest).

    A catalog this process may not write (a read-only folder, disk or file: a backup, another
    user's library) is opened read-only: it answers searches, and a write says why it fails.
    """
    if not writable(path) and path.exists():
        return open_read_only(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"Cannot create the data folder {path.parent}: {exc}") from exc
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", set_sqlite_pragmas)
    try:
        with engine.begin() as conn:
            migrate_to_read(conn)
    except OperationalError as exc:
        engine.dispose()
        raise DataDirError(f"Cannot open the catalog {path}: {exc.orig}") from exc
    return engine


def open_read_only(path: Path) -> Engine:
    """A read-only engine on an up-to-date catalog (SQLite's ``mode=ro``).

    In a folder nobody may write, SQLite cannot create the WAL's shared-memory file a reader
    needs; without a WAL file the database file is all there is, so it is opened immutable.
    """
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    frozen = not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists()
    if frozen:
        uri += "&immutable=1"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    # The URL names no file, so SQLAlchemy would pick its in-memory pool, which closes a
    # connection another thread is still reading once more than five threads read; the
    # window's host reads from more threads than that.
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool)
    event.listen(engine, "connect", set_read_only_pragmas)
    try:
        with engine.connect() as conn:
            check_readable(conn)
    except OperationalError as exc:
        engine.dispose()
        raise DataDirError(f"Cannot open the catalog {path}: {exc.orig}") from exc
    except DataDirError:
        engine.dispose()
        raise
    return engine


class CatalogDb:
    """One catalog file: sessions on it, and a counter of the statements that may have written."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine = engine
        self.path = path
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Bumped by every statement that may write, so read results can be cached safely.
        self.generation = 0
        event.listen(engine, "before_cursor_execute", self._count_writes)

    def _count_writes(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip()[:6].upper()
        if head.startswith(("SELECT", "PRAGMA")):
            return
        # A query with a common table expression (the keyword search's) reads unless it writes.
        if head.startswith("WITH") and not _WRITES.search(statement):
            return
        self.generation += 1

    def upgrade(self) -> bool:
        """Bring a catalog opened in an older format it could read as it was to the current one
        (the writer's to call: it writes); whether it did. Refused, it stays as it was."""
        with self.session() as s:
            if s.execute(text("PRAGMA user_version")).scalar_one() >= SCHEMA_VERSION:
                return False
            migrate(s.connection())
        return True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error.

        A full or read-only disk becomes a ``DataDirError`` for the user (the transaction is
        rolled back: the catalog stays as it was before it).
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            reason = str(exc.orig).lower()
            if not any(sign in reason for sign in (*_STORAGE_FAILURES, *_LOCK_FAILURES)):
                raise
            raise self.data_dir_error(exc) from exc

    def data_dir_error(self, exc: OperationalError) -> DataDirError:
        """What an SQLite error after opening means for the user: disk trouble or a lock."""
        reason = str(exc.orig)
        if any(sign in reason.lower() for sign in _LOCK_FAILURES):
            return DataDirError(
                f"The library in {self.path.parent} stayed locked by another program "
                f"({reason}). Nothing was lost; Lumen tries again at the next change."
            )
        return DataDirError(
            f"Cannot write to the library in {self.path.parent} ({reason}). Nothing was "
            "lost: what was saved before is kept. Free some space (or make the folder "
            "writable) and run again; searching still works meanwhile."
        )

    def close(self) -> None:
        """Close every connection to the file."""
        self.engine.dispose()


class CatalogPart:
    """One responsibility of the catalog, over the database it shares with the other parts."""

    def __init__(self, db: CatalogDb) -> None:
        self._db = db
