"""SQLite catalog (SQLAlchemy): folders, files and their vectors; the single source of truth.

The tables live in ``catalog_tables``, the plain records it returns in ``records`` and the FTS5
keyword index in ``keyword_index``; this module re-exports their public names.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, delete, event, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from desktop_app.core.errors import DataDirError
from desktop_app.core.records import (
    RAW,
    EmbeddedFile,
    FileFilter,
    FileRecord,
    Folder,
    KeywordHit,
    NewText,
    NewVector,
    Tag,
    VectorOwner,
)
from desktop_app.core.storage import keyword_index, tag_store
from desktop_app.core.storage.catalog_tables import (
    FAILED,
    INDEXED,
    OFFLINE,
    PENDING,
    Base,
    ExclusionRow,
    FileRow,
    FolderRow,
    Meta,
    TagRow,
    VectorRow,
    apply_filter,
    chunks,
    escape_like,
    path_prefix,
    rowcount,
)
from desktop_app.core.storage.exclusions import DEFAULT_PATTERNS
from desktop_app.core.storage.keyword_index import KEYWORD_ROWID_BITS, KEYWORD_TABLE
from desktop_app.core.storage.pathtext import to_db

__all__ = [
    "FAILED",
    "INDEXED",
    "KEYWORD_ROWID_BITS",
    "KEYWORD_TABLE",
    "OFFLINE",
    "PENDING",
    "SCHEMA_VERSION",
    "Base",
    "Catalog",
    "EmbeddedFile",
    "FileFilter",
    "FileRecord",
    "FileRow",
    "Folder",
    "FolderRow",
    "KeywordHit",
    "Meta",
    "NewText",
    "NewVector",
    "Tag",
    "TagRow",
    "VectorOwner",
    "VectorRow",
]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 6
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
EXCLUSIONS_VERSION_KEY = "exclusions_version"
RESCAN_ASKED_KEY = "rescan_asked"  # tickets handed to the writer by other processes
RESCAN_DONE_KEY = "rescan_done"  # the last ticket a finished full run covered
RESCAN_SUMMARY_KEY = "rescan_summary"  # that run's figures (JSON), for whoever asked
# SQLite's words for a disk that is full, read-only or failing (not a bug in a query).
_STORAGE_FAILURES = ("disk is full", "readonly", "read-only", "disk i/o error", "unable to open")
_LOCK_FAILURES = ("database is locked", "database table is locked")  # busy_timeout ran out


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Paths are case-sensitive (/x/Trip is not /x/trip): folder prefixes use LIKE.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the table has that column already."""
    present = {row[1] for row in conn.execute(text(f"PRAGMA table_info({table})"))}
    if column not in present:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


class Catalog:
    """The catalog of one library. Writes go through one writer; reads may come from any thread."""

    def __init__(self, engine: Engine, path: Path = Path("catalog.sqlite3")) -> None:
        self._engine = engine
        self._path = path
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Bumped by every statement that may write, so read results can be cached safely.
        self._generation = 0
        self._allowed_cache: tuple[tuple[int, str, FileFilter], np.ndarray] | None = None
        event.listen(engine, "before_cursor_execute", self._count_writes)

    def _count_writes(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA")):
            self._generation += 1

    @classmethod
    def open(cls, path: Path) -> Catalog:
        """Open (creating or migrating) the catalog at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataDirError(f"Cannot create the data folder {path.parent}: {exc}") from exc
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        catalog = cls(engine, path)
        try:
            with engine.begin() as conn:
                catalog._migrate(conn)
        except OperationalError as exc:
            engine.dispose()
            raise DataDirError(f"Cannot open the catalog {path}: {exc.orig}") from exc
        return catalog

    def close(self) -> None:
        self._engine.dispose()

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self, conn: Connection) -> None:
        version = conn.execute(text("PRAGMA user_version")).scalar_one()
        if version > SCHEMA_VERSION:
            raise DataDirError(
                f"This library was written by a newer Lumen (format {version}); "
                f"this version reads format {SCHEMA_VERSION}. Update Lumen."
            )
        if version < 1:
            # Step 1: the initial schema.
            Base.metadata.create_all(conn)
        if version < 2:
            # Step 2: the keyword index over passages, file names and folder names (FTS5), and
            # an index to find vectors by role; files indexed before become findable by name.
            keyword_index.create_keyword_index(conn)
        if version < 3:
            # Step 3: videos. A frame's vector keeps its time; a video file its duration.
            # (A new catalog got both columns from step 1.)
            _add_column(conn, "vectors", "at_ms", "INTEGER")
            _add_column(conn, "files", "duration_s", "FLOAT")
        if version < 4:
            # Step 4: exclusions (files, folders and name patterns never read again), with
            # folders that hold no one's photos excluded from the start.
            ExclusionRow.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
            now = time.time()
            for pattern in DEFAULT_PATTERNS:
                conn.execute(
                    text("INSERT OR IGNORE INTO exclusions (pattern, added_at) VALUES (:p, :t)"),
                    {"p": pattern, "t": now},
                )
        if version < 5:
            # Step 5: file names without regard to (ASCII) case, to find the files of one shot
            # (IMG_1.JPG beside img_1.cr2) with an index seek in folders of any size.
            conn.execute(
                text("CREATE INDEX IF NOT EXISTS ix_files_name_folded ON files (lower(name))")
            )
        if version < 6:
            # Step 6: tags (automatic ones from the model, and the user's own), searchable as
            # words: the keyword index gains a tags column; every photo gets tagged next run.
            TagRow.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
            _add_column(conn, "files", "tags_version", "VARCHAR(16)")
            keyword_index.add_tags_column(conn)
        # Later steps go here, one commented ``if version < N`` block each.
        if version != SCHEMA_VERSION:  # (opening an up-to-date catalog writes nothing)
            conn.execute(text(f"PRAGMA user_version = {SCHEMA_VERSION}"))

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
                f"The library in {self._path.parent} stayed locked by another program "
                f"({reason}). Nothing was lost; Lumen tries again at the next change."
            )
        return DataDirError(
            f"Cannot write to the library in {self._path.parent} ({reason}). Nothing was "
            "lost: what was saved before is kept. Free some space (or make the folder "
            "writable) and run again; searching still works meanwhile."
        )

    def get_meta(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(Meta, key)
            return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s:
            s.merge(Meta(key=key, value=value))

    # -- folders --------------------------------------------------------------------------

    def add_folder(self, path: Path) -> Folder:
        """Watch ``path`` (idempotent)."""
        with self.session() as s:
            row = s.scalar(select(FolderRow).where(FolderRow.path == str(path)))
            if row is None:
                row = FolderRow(path=str(path), added_at=time.time(), paused=False, online=True)
                s.add(row)
                s.flush()
                # Files catalogued before under this folder (e.g. by `forget` of a parent) join it.
                s.execute(
                    update(FileRow)
                    .where(FileRow.path.like(escape_like(path_prefix(path)) + "%", escape="\\"))
                    .values(folder_id=row.id)
                )
            return self._folder(row)

    def remove_folder(self, path: Path) -> list[int]:
        """Stop watching ``path`` and drop its files; returns the vector ids removed."""
        with self.session() as s:
            row = s.scalar(select(FolderRow).where(FolderRow.path == str(path)))
            if row is None:
                return []
            file_ids = list(s.scalars(select(FileRow.id).where(FileRow.folder_id == row.id)))
            vector_ids = self._delete_files(s, file_ids)
            s.delete(row)
            return vector_ids

    def remove_folder_keep_files(self, folder_id: int, new_folder_id: int) -> None:
        """Merge a folder into another that contains it (its files and vectors stay)."""
        with self.session() as s:
            moved = list(s.scalars(select(FileRow.id).where(FileRow.folder_id == folder_id)))
            s.execute(
                update(FileRow)
                .where(FileRow.folder_id == folder_id)
                .values(folder_id=new_folder_id)
            )
            s.execute(delete(FolderRow).where(FolderRow.id == folder_id))
            keyword_index.refresh_names(s, moved)

    def folders(self) -> list[Folder]:
        with self.session() as s:
            return [self._folder(r) for r in s.scalars(select(FolderRow).order_by(FolderRow.path))]

    def set_folder_state(
        self,
        folder_id: int,
        *,
        paused: bool | None = None,
        online: bool | None = None,
        scanned: bool = False,
    ) -> None:
        values: dict[str, Any] = {}
        if paused is not None:
            values["paused"] = paused
        if online is not None:
            values["online"] = online
        if scanned:
            values["last_scan_at"] = time.time()
        if values:
            with self.session() as s:
                s.execute(update(FolderRow).where(FolderRow.id == folder_id).values(**values))
        if online is not None:
            with self.session() as s:
                s.execute(
                    update(FileRow)
                    .where(FileRow.folder_id == folder_id)
                    .where(FileRow.status == (INDEXED if not online else OFFLINE))
                    .values(status=OFFLINE if not online else INDEXED)
                )

    @staticmethod
    def _folder(row: FolderRow) -> Folder:
        return Folder(row.id, Path(row.path), row.paused, row.online, row.last_scan_at)

    # -- files ----------------------------------------------------------------------------

    def files_in_folder(self, folder_id: int) -> dict[Path, FileRecord]:
        """Every catalogued file of a folder, by path."""
        with self.session() as s:
            rows = s.scalars(select(FileRow).where(FileRow.folder_id == folder_id))
            return {Path(r.path): FileRecord.from_row(r) for r in rows}

    def file_by_path(self, path: Path) -> FileRecord | None:
        with self.session() as s:
            row = s.scalar(select(FileRow).where(FileRow.path == str(path)))
            return FileRecord.from_row(row) if row else None

    def files_under(self, path: Path) -> dict[Path, FileRecord]:
        """Catalogued files at ``path`` or anywhere below it, by path (case-sensitive)."""
        prefix = path_prefix(path)
        below = (FileRow.path >= prefix) & (FileRow.path < prefix[:-1] + chr(ord("/") + 1))
        with self.session() as s:
            rows = s.scalars(select(FileRow).where((FileRow.path == str(path)) | below))
            return {Path(r.path): FileRecord.from_row(r) for r in rows}

    def files_at(self, paths: Iterable[Path]) -> dict[Path, FileRecord]:
        """Catalogued files at exactly these paths, by path."""
        keys = sorted({str(p) for p in paths})
        out: dict[Path, FileRecord] = {}
        with self.session() as s:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                for row in s.scalars(select(FileRow).where(FileRow.path.in_(chunk))):
                    out[Path(row.path)] = FileRecord.from_row(row)
        return out

    def files_with_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, list[FileRecord]]:
        """Catalogued files whose content fingerprint is one of ``fingerprints``."""
        keys = sorted(set(fingerprints))
        out: dict[str, list[FileRecord]] = {}
        with self.session() as s:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                for row in s.scalars(select(FileRow).where(FileRow.fingerprint.in_(chunk))):
                    out.setdefault(row.fingerprint, []).append(FileRecord.from_row(row))
        return out

    def has_files(self, folder_id: int) -> bool:
        """Whether any file of this folder is catalogued."""
        with self.session() as s:
            first = s.scalar(select(FileRow.id).where(FileRow.folder_id == folder_id).limit(1))
            return first is not None

    def files_by_ids(self, file_ids: Iterable[int]) -> dict[int, FileRecord]:
        ids = list(set(file_ids))
        out: dict[int, FileRecord] = {}
        with self.session() as s:
            for chunk in chunks(ids, 900):
                # Plain rows, not ORM objects: this runs for every search (≈ 5× faster).
                for row in s.execute(select(FileRow.__table__).where(FileRow.id.in_(chunk))):
                    out[row.id] = FileRecord.from_row(row)
        return out

    def visible_file_ids(
        self, file_ids: Iterable[int], file_filter: FileFilter | None = None
    ) -> set[int]:
        """Those of ``file_ids`` that may show in results (indexed: not offline, not pending),
        and pass ``file_filter`` when given."""
        ids = list(set(file_ids))
        out: set[int] = set()
        with self.session() as s:
            for chunk in chunks(ids, 900):
                query = select(FileRow.id).where(FileRow.id.in_(chunk), FileRow.status == INDEXED)
                out.update(s.scalars(apply_filter(query, file_filter)))
        return out

    def files_with_status(self, status: str, limit: int | None = None) -> list[FileRecord]:
        with self.session() as s:
            query = select(FileRow).where(FileRow.status == status).order_by(FileRow.id)
            if limit:
                query = query.limit(limit)
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def recent_files(self, limit: int, file_filter: FileFilter | None = None) -> list[FileRecord]:
        """Indexed files, newest first (by date taken, else modification time)."""
        with self.session() as s:
            # Plain rows, not ORM objects: the window's first screen is up to 20k of them.
            query = select(FileRow.__table__).where(FileRow.status == INDEXED)
            query = apply_filter(query, file_filter)
            query = query.order_by(
                func.coalesce(
                    FileRow.taken_at, func.datetime(FileRow.mtime_ns / 1e9, "unixepoch")
                ).desc()
            ).limit(limit)
            return [FileRecord.from_row(r) for r in s.execute(query)]

    def find_by_name(
        self, words: Sequence[str], limit: int, file_filter: FileFilter | None = None
    ) -> list[FileRecord]:
        """Indexed or pending files whose name contains every word (case-insensitive)."""
        with self.session() as s:
            query = select(FileRow).where(FileRow.status.in_((INDEXED, PENDING)))
            for word in words:
                query = query.where(FileRow.name.ilike(f"%{escape_like(word)}%", escape="\\"))
            query = apply_filter(query, file_filter).limit(limit)
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def files_named_like(self, path: Path) -> list[FileRecord]:
        """Indexed files in ``path``'s folder whose name is ``path``'s up to the extension.

        The name is compared without regard to case (``IMG_1.JPG`` finds ``img_1.cr2``: a
        camera writes upper case, a computer that copies or renames files often lower case);
        the folder is compared exactly, as the file system does.
        """
        return self.files_named_like_each([path])[path]

    def files_named_like_each(
        self, paths: Sequence[Path], known: Mapping[Path, FileRecord] | None = None
    ) -> dict[Path, list[FileRecord]]:
        """``files_named_like`` for each of ``paths``, in one transaction and few statements.

        ``known``: records the caller holds already (a page of hits), used as they are.
        """
        held = {str(path): record for path, record in (known or {}).items()}

        # (strings, not Path methods: this runs for every search's page of results)
        def key(path: str) -> tuple[str, str]:  # the folder, and the stem folded as lower()
            folder, name = os.path.split(path)
            dot = name.rfind(".")
            stem = name[:dot] if 0 < dot < len(name) - 1 else name  # (Path.stem's rule)
            return folder, stem.translate(_ASCII_LOWER)

        keys = {p: key(str(p)) for p in paths}
        wanted = set(keys.values())
        stems = sorted({stem for _folder, stem in wanted})
        found: dict[tuple[str, str], list[FileRecord]] = {}
        with self.session() as s:
            for chunk in chunks(stems, 200):
                # Each LIKE seeks the name index (step 5). The status is checked here, not in
                # SQL: SQLite would then scan the files by status instead. (The condition is
                # written out: 200 LIKE expressions built by SQLAlchemy cost more than the query.)
                likes = " OR ".join(
                    f"lower(name) LIKE :n{i} ESCAPE '\\'" for i in range(len(chunk))
                )
                query = select(FileRow.__table__).where(text(likes))
                patterns = {
                    f"n{i}": to_db(escape_like(stem) + ".%") for i, stem in enumerate(chunk)
                }
                for row in s.execute(query, patterns):
                    if row.status != INDEXED:
                        continue
                    row_key = key(row.path)
                    if row_key in wanted:
                        record = held.get(row.path)
                        if record is None or record.id != row.id:
                            record = FileRecord.from_row(row)
                        found.setdefault(row_key, []).append(record)
        return {path: found.get(keys[path], []) for path in paths}

    def add_file(
        self,
        *,
        folder_id: int | None,
        path: Path,
        size: int,
        mtime_ns: int,
        inode: int | None,
        fingerprint: str,
        kind: str,
    ) -> int:
        """Catalogue a new file as pending; returns its id."""
        with self.session() as s:
            row = FileRow(
                folder_id=folder_id,
                path=str(path),
                name=path.name,
                size=size,
                mtime_ns=mtime_ns,
                inode=inode,
                fingerprint=fingerprint,
                kind=kind,
                status=PENDING,
                added_at=time.time(),
            )
            s.add(row)
            s.flush()
            return row.id

    def update_file(self, file_id: int, **values: Any) -> None:
        """Change a file's columns (path, size, mtime_ns, status, …)."""
        if "path" in values:
            values["path"] = str(values["path"])
            values["name"] = Path(values["path"]).name
        with self.session() as s:
            s.execute(update(FileRow).where(FileRow.id == file_id).values(**values))
            if {"path", "folder_id", "title"} & values.keys():
                keyword_index.refresh_names(s, [file_id])

    def delete_files(self, file_ids: Sequence[int]) -> list[int]:
        """Forget files; returns the vector ids that went with them."""
        with self.session() as s:
            return self._delete_files(s, file_ids)

    def forget_path(self, path: Path) -> list[int]:
        """Forget a file, or every file under a folder path; returns the vector ids removed."""
        with self.session() as s:
            ids = list(
                s.scalars(
                    select(FileRow.id).where(
                        (FileRow.path == str(path))
                        | FileRow.path.like(escape_like(path_prefix(path)) + "%", escape="\\")
                    )
                )
            )
            return self._delete_files(s, ids)

    # -- exclusions -----------------------------------------------------------------------

    def exclusions(self) -> list[str]:
        """The exclusion patterns, oldest first."""
        with self.session() as s:
            rows = s.scalars(select(ExclusionRow).order_by(ExclusionRow.added_at))
            return [r.pattern for r in rows]

    def add_exclusion(self, pattern: str) -> bool:
        """Exclude ``pattern`` (False if it already was)."""
        with self.session() as s:
            if s.get(ExclusionRow, pattern) is not None:
                return False
            s.add(ExclusionRow(pattern=pattern, added_at=time.time()))
            s.merge(Meta(key=EXCLUSIONS_VERSION_KEY, value=str(time.time_ns())))
            return True

    def remove_exclusion(self, pattern: str) -> bool:
        """Stop excluding ``pattern`` (False if it was not excluded)."""
        with self.session() as s:
            gone = rowcount(s.execute(delete(ExclusionRow).where(ExclusionRow.pattern == pattern)))
            if gone:
                s.merge(Meta(key=EXCLUSIONS_VERSION_KEY, value=str(time.time_ns())))
            return bool(gone)

    def exclusions_version(self) -> str:
        """Changes whenever the exclusions change (in any process)."""
        return self.get_meta(EXCLUSIONS_VERSION_KEY) or ""

    # -- work handed to the writer (see ``Library.index(hand_off=True)``) ---------------------

    def ask_rescan(self) -> int:
        """Ask the process that is the writer for a full run; returns this request's ticket."""
        with self.session() as s:
            row = s.get(Meta, RESCAN_ASKED_KEY)
            ticket = int(row.value) + 1 if row else 1
            s.merge(Meta(key=RESCAN_ASKED_KEY, value=str(ticket)))
            return ticket

    def rescan_asked(self) -> int:
        """The newest ticket asked for (0: none ever)."""
        return int(self.get_meta(RESCAN_ASKED_KEY) or 0)

    def rescan_done(self) -> tuple[int, str]:
        """The newest ticket a finished full run covered, and that run's figures (JSON)."""
        with self.session() as s:
            done, summary = s.get(Meta, RESCAN_DONE_KEY), s.get(Meta, RESCAN_SUMMARY_KEY)
            return int(done.value) if done else 0, summary.value if summary else "{}"

    def mark_rescan_done(self, ticket: int, summary: str) -> None:
        """Record that a full run which started after ``ticket`` was asked for has finished."""
        with self.session() as s:
            done = s.get(Meta, RESCAN_DONE_KEY)
            if done is None or int(done.value) < ticket:
                s.merge(Meta(key=RESCAN_DONE_KEY, value=str(ticket)))
                s.merge(Meta(key=RESCAN_SUMMARY_KEY, value=summary))

    def forget_matching(self, excluded: Callable[[Path], bool]) -> list[int]:
        """Forget every file ``excluded`` says is excluded; returns the vector ids removed."""
        with self.session() as s:
            rows = s.execute(select(FileRow.id, FileRow.path)).all()
            ids = [file_id for file_id, path in rows if excluded(Path(path))]
            return self._delete_files(s, ids)

    @staticmethod
    def _delete_files(s: Session, file_ids: Sequence[int]) -> list[int]:
        vector_ids: list[int] = []
        for chunk in chunks(list(file_ids), 900):
            vector_ids += s.scalars(select(VectorRow.id).where(VectorRow.file_id.in_(chunk)))
            s.execute(delete(VectorRow).where(VectorRow.file_id.in_(chunk)))
            s.execute(delete(FileRow).where(FileRow.id.in_(chunk)))
            keyword_index.delete_rows(s, chunk)
        return vector_ids

    def missing_by_fingerprint(self, fingerprint: str, candidates: set[int]) -> FileRecord | None:
        """One of ``candidates`` (file ids whose path vanished) with this fingerprint, if any."""
        if not candidates:
            return None
        with self.session() as s:
            rows = s.scalars(select(FileRow).where(FileRow.fingerprint == fingerprint))
            for row in rows:
                if row.id in candidates:
                    return FileRecord.from_row(row)
        return None

    def counts(self) -> dict[str, int]:
        """Number of files per status, plus ``vectors``."""
        with self.session() as s:
            out = {
                st: n
                for st, n in s.execute(
                    select(FileRow.status, func.count()).group_by(FileRow.status)
                )
            }
            out["vectors"] = s.scalar(select(func.count()).select_from(VectorRow)) or 0
            return out

    def indexed_kinds(self) -> dict[str, int]:
        """Number of indexed files of each kind ("image", "document", "video"), and under
        ``RAW`` how many of the images are camera RAW files (when any are).
        """
        with self.session() as s:
            counts: dict[str, int] = {
                kind: n
                for kind, n in s.execute(
                    select(FileRow.kind, func.count())
                    .where(FileRow.status == INDEXED)
                    .group_by(FileRow.kind)
                )
            }
            if counts.get("image"):
                raws = s.scalar(
                    apply_filter(
                        select(func.count()).select_from(FileRow).where(FileRow.status == INDEXED),
                        FileFilter(kinds=frozenset({RAW})),
                    )
                )
                if raws:
                    counts[RAW] = int(raws)
            return counts

    def failed_files(self, limit: int = 1000) -> list[FileRecord]:
        return self.files_with_status(FAILED, limit)

    # -- vectors --------------------------------------------------------------------------

    def store_embeddings(
        self,
        file_id: int,
        space: str,
        vectors: Sequence[NewVector],
        texts: Sequence[NewText] = (),
        **file_values: Any,
    ) -> tuple[list[int], list[int]]:
        """Replace a file's vectors and keyword-index text and mark it indexed, in one transaction.

        Returns (new vector ids, old vector ids removed).
        """
        ids, old = self.store_embedded_files(
            space, [EmbeddedFile(file_id, vectors, texts, file_values)]
        )
        return ids[0], old

    def store_embedded_files(
        self, space: str, files: Sequence[EmbeddedFile]
    ) -> tuple[list[list[int]], list[int]]:
        """``store_embeddings`` for a batch of files in one transaction (one fsync, not one per file).

        Returns the new vector ids of each file, in order, and all old vector ids removed.
        """
        new_ids: list[list[int]] = []
        old: list[int] = []
        now = time.time()
        with self.session() as s:
            wanted = [item.file_id for item in files]
            present = set(s.scalars(select(FileRow.id).where(FileRow.id.in_(wanted))))
            for item in files:
                if item.file_id not in present:  # forgotten while it was being embedded
                    new_ids.append([])
                    continue
                old += s.scalars(select(VectorRow.id).where(VectorRow.file_id == item.file_id))
                s.execute(delete(VectorRow).where(VectorRow.file_id == item.file_id))
                rows = _vector_rows(item.file_id, space, item.vectors)
                s.add_all(rows)
                s.execute(
                    update(FileRow)
                    .where(FileRow.id == item.file_id)
                    .values(
                        status=INDEXED,
                        error=None,
                        indexed_at=now,
                        tags_version=None,  # new pixels: tagged again
                        **item.file_values,
                    )
                )
                s.flush()
                keyword_index.store_rows(s, item.file_id, item.texts)
                new_ids.append([r.id for r in rows])
        return new_ids, old

    def role_vector_ids(self, space: str, role: str) -> np.ndarray:
        """Ids of the vectors of ``space`` with this role ("image" or "text"), sorted."""
        with self.session() as s:
            ids = s.scalars(
                select(VectorRow.id)
                .where(VectorRow.space == space, VectorRow.role == role)
                .order_by(VectorRow.id)
            ).all()
        return np.asarray(ids, dtype=np.int64)

    def spread_vector_ids(self, space: str, role: str, per_file: int) -> np.ndarray:
        """Ids of at most ``per_file`` vectors of each file, for samples no file dominates."""
        numbered = (
            select(
                VectorRow.id,
                func.row_number()
                .over(partition_by=VectorRow.file_id, order_by=VectorRow.id)
                .label("n"),
            )
            .where(VectorRow.space == space, VectorRow.role == role)
            .subquery()
        )
        with self.session() as s:
            ids = s.scalars(select(numbered.c.id).where(numbered.c.n <= per_file)).all()
        return np.sort(np.asarray(ids, dtype=np.int64))

    def keyword_search(
        self, match: str, limit: int, file_filter: FileFilter | None = None
    ) -> list[KeywordHit]:
        """Indexed files whose text, name or folder names match an FTS5 ``match`` expression.

        Best first (bm25), one hit per file: the passage that matched best, with its page and
        a snippet around the matched words. An invalid expression matches nothing.
        """
        visible = apply_filter(select(FileRow.id).where(FileRow.status == INDEXED), file_filter)
        try:
            with self.session() as s:
                return keyword_index.search(s, match, limit, visible)
        except OperationalError as exc:
            if not keyword_index.is_query_error(exc):  # disk, lock, a damaged file: not the query
                raise DataDirError(f"Cannot read the catalog: {exc.orig}") from exc
            log.debug("keyword query %r failed: %s", match, exc)
            return []

    def vector_ids(self, space: str) -> np.ndarray:
        """Ids of every vector of ``space``."""
        with self.session() as s:
            ids = s.scalars(select(VectorRow.id).where(VectorRow.space == space)).all()
        return np.asarray(ids, dtype=np.int64)

    def vectors(self, vector_ids: Sequence[int], dim: int) -> np.ndarray:
        """The stored vectors for ``vector_ids``, in that order."""
        order = {vid: i for i, vid in enumerate(vector_ids)}
        out = np.zeros((len(order), dim), dtype=np.float32)
        with self.session() as s:
            for chunk in chunks(list(order), 900):
                for vid, blob in s.execute(
                    select(VectorRow.id, VectorRow.embedding).where(VectorRow.id.in_(chunk))
                ):
                    out[order[vid]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def file_vectors(self, file_id: int, space: str) -> list[tuple[VectorOwner, np.ndarray]]:
        with self.session() as s:
            rows = s.execute(
                select(VectorRow)
                .where(VectorRow.file_id == file_id, VectorRow.space == space)
                .order_by(VectorRow.id)
            ).scalars()
            return [
                (
                    VectorOwner(r.id, r.file_id, r.role, r.page, r.passage, r.at_ms),
                    np.frombuffer(r.embedding, dtype=np.float32).copy(),
                )
                for r in rows
            ]

    def owners(self, vector_ids: Sequence[int]) -> dict[int, VectorOwner]:
        out: dict[int, VectorOwner] = {}
        with self.session() as s:
            for chunk in chunks(list(vector_ids), 900):
                for vid, fid, role, page, passage, at_ms in s.execute(
                    select(
                        VectorRow.id,
                        VectorRow.file_id,
                        VectorRow.role,
                        VectorRow.page,
                        VectorRow.passage,
                        VectorRow.at_ms,
                    ).where(VectorRow.id.in_(chunk))
                ):
                    out[vid] = VectorOwner(vid, fid, role, page, passage, at_ms)
        return out

    def drop_other_spaces(self, space: str) -> int:
        """Delete vectors made by another model and mark their files pending; returns files affected."""
        with self.session() as s:
            stale_files = select(VectorRow.file_id).where(VectorRow.space != space).distinct()
            n = rowcount(
                s.execute(update(FileRow).where(FileRow.id.in_(stale_files)).values(status=PENDING))
            )
            s.execute(delete(VectorRow).where(VectorRow.space != space))
            return n

    def files_without_space(self, space: str) -> list[FileRecord]:
        """Indexed files with no vector of ``space`` yet (what a model switch still has to do)."""
        with self.session() as s:
            has_vec = select(VectorRow.file_id).where(VectorRow.space == space)
            query = (
                select(FileRow)
                .where(FileRow.status == INDEXED, FileRow.id.not_in(has_vec))
                .order_by(FileRow.id)
            )
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def add_space_vectors(self, space: str, files: Sequence[EmbeddedFile]) -> list[list[int]]:
        """Store vectors of another ``space`` beside a file's current ones (a model switch).

        The file's status, data and keyword text stay as they are. Returns each file's new
        vector ids, in order (none for a file forgotten meanwhile).
        """
        out: list[list[int]] = []
        with self.session() as s:
            wanted = [item.file_id for item in files]
            present = set(s.scalars(select(FileRow.id).where(FileRow.id.in_(wanted))))
            for item in files:
                if item.file_id not in present:
                    out.append([])
                    continue
                s.execute(
                    delete(VectorRow).where(
                        VectorRow.file_id == item.file_id, VectorRow.space == space
                    )
                )
                rows = _vector_rows(item.file_id, space, item.vectors)
                s.add_all(rows)
                s.flush()
                out.append([r.id for r in rows])
        return out

    def drop_vectors_outside(self, space: str) -> int:
        """Delete every vector not of ``space`` (a finished model switch); returns how many."""
        with self.session() as s:
            return rowcount(s.execute(delete(VectorRow).where(VectorRow.space != space)))

    def indexed_without_vectors(self, space: str) -> int:
        """Mark indexed files that have no vector of ``space`` pending again; returns how many."""
        with self.session() as s:
            has_vec = select(VectorRow.file_id).where(VectorRow.space == space)
            return rowcount(
                s.execute(
                    update(FileRow)
                    .where(FileRow.status == INDEXED, FileRow.id.not_in(has_vec))
                    .values(status=PENDING)
                )
            )

    def known_allowed_vector_ids(self, space: str, file_filter: FileFilter) -> np.ndarray | None:
        """``allowed_vector_ids``' answer if it is kept (nothing changed since), else None."""
        cached = self._allowed_cache
        if cached is not None and cached[0] == (self._generation, space, file_filter):
            return cached[1]
        return None

    def allowed_vector_ids(self, space: str, file_filter: FileFilter) -> np.ndarray:
        """Ids of the vectors of indexed files that pass ``file_filter``, sorted.

        The last answer is kept until the catalog changes: type-to-search repeats one filter
        for every keystroke, and at 100k files this query costs tens of milliseconds.
        """
        key = (self._generation, space, file_filter)
        cached = self._allowed_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        with self.session() as s:
            query = (
                select(VectorRow.id)
                .join(FileRow, FileRow.id == VectorRow.file_id)
                .where(VectorRow.space == space, FileRow.status == INDEXED)
                .order_by(VectorRow.id)
            )
            query = apply_filter(query, file_filter)
            ids = np.asarray(s.scalars(query).all(), dtype=np.int64)
        ids.flags.writeable = False
        self._allowed_cache = (key, ids)
        return ids

    def hidden_vector_ids(self, space: str) -> np.ndarray:
        """Vectors of files that must not show in results (offline, pending re-embedding)."""
        with self.session() as s:
            query = (
                select(VectorRow.id)
                .join(FileRow, FileRow.id == VectorRow.file_id)
                .where(VectorRow.space == space, FileRow.status != INDEXED)
            )
            return np.asarray(s.scalars(query).all(), dtype=np.int64)

    # -- tags -----------------------------------------------------------------------------

    def files_to_tag(self, space: str, version: str, limit: int = 500) -> list[int]:
        """Indexed files with image vectors whose automatic tags are missing or out of date."""
        with self.session() as s:
            return tag_store.files_to_tag(s, space, version, limit)

    def image_vectors(self, file_ids: Sequence[int], space: str) -> dict[int, np.ndarray]:
        """Each file's image vectors (a photo's one, a video's frames), one row each."""
        with self.session() as s:
            return tag_store.image_vectors(s, file_ids, space)

    def store_auto_tags(self, version: str, tags: dict[int, list[tuple[str, float]]]) -> None:
        """Replace these files' automatic tags (the user's own stay) and mark them tagged."""
        if tags:
            with self.session() as s:
                tag_store.store_auto(s, version, tags)

    def tags_of(self, file_ids: Iterable[int]) -> dict[int, list[Tag]]:
        """The tags shown for each file: the user's first, then automatic ones by score."""
        with self.session() as s:
            return tag_store.tags_of(s, file_ids)

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag in use with how many files carry it, most used first."""
        with self.session() as s:
            return tag_store.counts(s)

    def tagged_files(
        self, file_filter: FileFilter, limit: int
    ) -> list[tuple[FileRecord, float | None]]:
        """Files with the filter's tags, surest first (a user's tag has no score)."""
        with self.session() as s:
            return tag_store.tagged_files(s, file_filter, limit)

    def set_user_tag(self, file_id: int, tag: str, present: bool) -> bool:
        """Add (``present``) or remove a tag of a file; whether anything changed."""
        with self.session() as s:
            return tag_store.set_user_tag(s, file_id, tag, present)


def _vector_rows(file_id: int, space: str, vectors: Iterable[NewVector]) -> list[VectorRow]:
    """Catalog rows for one file's vectors in ``space`` (embeddings as float32 bytes)."""
    return [
        VectorRow(
            file_id=file_id,
            space=space,
            role=v.role,
            page=v.page,
            passage=v.passage,
            at_ms=v.at_ms,
            embedding=np.asarray(v.embedding, dtype=np.float32).tobytes(),
        )
        for v in vectors
    ]
