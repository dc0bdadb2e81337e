"""The catalog's database: plain read connections, the engine and sessions that write, the
write counter and what errors mean.

A search reads through plain ``sqlite3`` connections (``reader``); the SQLAlchemy engine, its
ORM tables and sessions are built the first time something writes or reads through the ORM
(``catalog_engine``), so a fresh ``lumen search`` never imports SQLAlchemy. Each part of the
catalog (files and folders, vector rows, metadata, tags) is a ``CatalogPart`` over one shared
``CatalogDb``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage.catalog_format import (
    SCHEMA_VERSION,
    check_readable,
    readable_as_it_is,
)
from desktop_app.core.storage.catalog_pragmas import (
    frozen,
    read_only_uri,
    read_write_uri,
    set_shared_pragmas,
    writable,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

# A statement starting with WITH is a read unless one of these follows (a CTE can write).
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# SQLite's words for a disk that is full, read-only or failing (not a bug in a query).
_STORAGE_FAILURES = ("disk is full", "readonly", "read-only", "disk i/o error", "unable to open")
_LOCK_FAILURES = ("database is locked", "database table is locked")  # busy_timeout ran out


def set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Settings of every new connection of the engine (WAL, foreign keys, waiting for locks)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    set_shared_pragmas(cursor)
    cursor.close()


def set_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Settings of a connection that only reads (every plain one, and the engine's on a catalog
    this process may not write): no journal mode change, and no write at all."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    set_shared_pragmas(cursor)
    cursor.close()


class CatalogDb:
    """One catalog file: read connections and sessions on it, and a counter of the statements
    that may have written."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._frozen = read_only and frozen(path)
        # Bumped by every statement that may write, so read results can be cached safely.
        self.generation = 0
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._lock = threading.Lock()  # the read connections
        self._engine_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []  # read connections no thread holds
        self._opened: list[sqlite3.Connection] = []
        self._held = threading.local()  # this thread's read connection, while it reads

    @classmethod
    def open(cls, path: Path) -> CatalogDb:
        """Open the catalog at ``path``: created, or migrated when this version cannot read it
        as it is (through the engine: a write). One it reads as it is is only read.

        A catalog this process may not write (a read-only folder, disk or file: a backup,
        another user's library) is opened read-only: it answers searches, and a write says why
        it fails.
        """
        if not path.exists():
            db = cls(path)
            db._make_engine()  # creates the file and its tables
            return db
        db = cls(path, read_only=not writable(path))
        try:
            version = db.format()
            if db.read_only:
                check_readable(version)
            elif not readable_as_it_is(version):
                db._make_engine()  # migrates it
        except BaseException:
            db.close()
            raise
        return db

    def format(self) -> int:
        """The catalog's format number (SQLite's ``user_version``)."""
        try:
            with self.reader() as conn:
                return int(conn.execute("PRAGMA user_version").fetchone()[0])
        except DataDirError as exc:
            raise DataDirError(f"Cannot open the catalog {self.path}: {exc.__cause__}") from exc

    # -- plain reads -----------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only ``sqlite3`` connection, one snapshot for the block (a block inside it on
        the same thread shares both). A lock or disk failure becomes a ``DataDirError``."""
        held: sqlite3.Connection | None = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        conn = self._take()
        self._held.conn = conn
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:  # (SQLite ends it itself after some errors)
                    conn.execute("ROLLBACK")  # it only read
        except sqlite3.OperationalError as exc:  # a lock or disk failure: not a bug in a query
            raise self._read_error(exc) from exc
        except sqlite3.DatabaseError as exc:  # not a catalog at all (a damaged file)
            raise DataDirError(f"Cannot read the catalog {self.path}: {exc}") from exc
        finally:
            self._held.conn = None
            with self._lock:
                if conn in self._opened:  # (not closed meanwhile)
                    self._idle.append(conn)

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        uri = (
            read_only_uri(self.path, self._frozen) if self.read_only else read_write_uri(self.path)
        )
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise DataDirError(f"Cannot open the catalog {self.path}: {exc}") from exc
        try:
            set_read_only_pragmas(conn, None)
        except sqlite3.Error as exc:
            conn.close()
            raise DataDirError(f"Cannot open the catalog {self.path}: {exc}") from exc
        with self._lock:
            self._opened.append(conn)
        return conn

    def _read_error(self, exc: sqlite3.OperationalError) -> DataDirError:
        if any(sign in str(exc).lower() for sign in _LOCK_FAILURES):
            return self.data_dir_error(exc)
        return DataDirError(f"Cannot read the catalog {self.path}: {exc}")

    # -- the engine: writes, and reads through the ORM -----------------------------------------

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (built on first use: it imports SQLAlchemy and the ORM)."""
        return self._make_engine()

    def _make_engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                from sqlalchemy import event
                from sqlalchemy.orm import sessionmaker

                from desktop_app.core.storage import catalog_engine

                if self.read_only:
                    engine = catalog_engine.open_read_only(self.path, self._frozen)
                else:
                    engine = catalog_engine.open_engine(self.path)
                self._sessions = sessionmaker(engine, expire_on_commit=False)
                event.listen(engine, "before_cursor_execute", self._count_writes)
                self._engine = engine
            return self._engine

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
        if self.format() >= SCHEMA_VERSION:
            return False
        from desktop_app.core.storage.catalog_schema import migrate

        with self.session() as s:
            migrate(s.connection())
        return True

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error.

        A full or read-only disk becomes a ``DataDirError`` for the user (the transaction is
        rolled back: the catalog stays as it was before it).
        """
        from sqlalchemy.exc import OperationalError

        self._make_engine()
        assert self._sessions is not None
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            reason = str(exc.orig).lower()
            if not any(sign in reason for sign in (*_STORAGE_FAILURES, *_LOCK_FAILURES)):
                raise
            raise self.data_dir_error(exc) from exc

    def data_dir_error(self, exc: Exception) -> DataDirError:
        """What an SQLite error after opening means for the user: disk trouble or a lock
        (``exc``: SQLite's error, or SQLAlchemy's around it)."""
        reason = str(getattr(exc, "orig", None) or exc)
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
        with self._lock:
            opened, self._opened, self._idle = self._opened, [], []
        with self._engine_lock:
            engine, self._engine = self._engine, None
        for conn in opened:
            conn.close()
        if engine is not None:
            engine.dispose()


class CatalogPart:
    """One responsibility of the catalog, over the database it shares with the other parts."""

    def __init__(self, db: CatalogDb) -> None:
        self._db = db
