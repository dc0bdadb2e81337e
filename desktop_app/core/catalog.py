"""SQLite catalog (SQLAlchemy): folders, files and their vectors; the single source of truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from desktop_app.core.errors import DataDirError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

# The keyword index (SQLite FTS5): one row per passage of a file's text (a page, a block), or
# one row with an empty body for a file without text, each carrying the file's name and folder
# names. Row ids are ``file_id << KEYWORD_ROWID_BITS | n``, so a file's rows are one rowid range.
KEYWORD_TABLE = "keyword_index"
KEYWORD_ROWID_BITS = 20
_MAX_KEYWORD_ROWS = (1 << KEYWORD_ROWID_BITS) - 1
# bm25 weights of the body, name and folder columns: a word in a file's name says more about
# it than the same word once in its text.
_KEYWORD_WEIGHTS = "1.0, 2.0, 0.5"
_HIT_START, _HIT_END = "\x02", "\x03"

# File status values.
PENDING = "pending"  # found, not embedded yet (new, changed, or its model changed)
INDEXED = "indexed"
FAILED = "failed"  # extraction failed; ``error`` says why
OFFLINE = "offline"  # its folder is unreachable; kept but hidden from results


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FolderRow(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    added_at: Mapped[float] = mapped_column(Float)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    last_scan_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class FileRow(Base):
    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder_id: Mapped[int | None] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE"), index=True, nullable=True
    )
    path: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    mtime_ns: Mapped[int] = mapped_column(Integer)
    inode: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True, default=PENDING)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    camera: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    added_at: Mapped[float] = mapped_column(Float)
    indexed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class VectorRow(Base):
    __tablename__ = "vectors"
    # Never reuse a deleted vector's id: it doubles as the vector index's label.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it once)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    space: Mapped[str] = mapped_column(String, index=True)  # model + weights + preprocessing
    role: Mapped[str] = mapped_column(String(8))  # "image" (pixels) or "text" (a passage)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passage: Mapped[str | None] = mapped_column(Text, nullable=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Folder:
    """A watched folder."""

    id: int
    path: Path
    paused: bool
    online: bool
    last_scan_at: float | None


@dataclass(frozen=True)
class FileRecord:
    """A snapshot of one catalogued file."""

    id: int
    folder_id: int | None
    path: Path
    size: int
    mtime_ns: int
    inode: int | None
    fingerprint: str
    kind: str
    status: str
    error: str | None
    width: int | None
    height: int | None
    taken_at: datetime | None
    camera: str | None
    title: str | None
    page_count: int | None
    indexed_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> FileRecord:
        """From an ORM ``FileRow`` or a plain result row of the files table."""
        return cls(
            id=row.id,
            folder_id=row.folder_id,
            path=Path(row.path),
            size=row.size,
            mtime_ns=row.mtime_ns,
            inode=row.inode,
            fingerprint=row.fingerprint,
            kind=row.kind,
            status=row.status,
            error=row.error,
            width=row.width,
            height=row.height,
            taken_at=row.taken_at,
            camera=row.camera,
            title=row.title,
            page_count=row.page_count,
            indexed_at=row.indexed_at,
        )


@dataclass(frozen=True)
class NewVector:
    """A vector to store for a file."""

    role: str
    embedding: np.ndarray
    page: int | None = None
    passage: str | None = None


@dataclass(frozen=True)
class NewText:
    """A passage of a file's text for the keyword index (a page, a block of a text file)."""

    text: str
    page: int | None = None


@dataclass(frozen=True)
class KeywordHit:
    """A file found by the keyword index: its best passage (when the words were in its text)."""

    file_id: int
    rank: float  # bm25: lower is better
    page: int | None
    snippet: str | None


@dataclass(frozen=True)
class EmbeddedFile:
    """One file's new vectors, keyword text and metadata, ready to store."""

    file_id: int
    vectors: Sequence[NewVector]
    texts: Sequence[NewText] = ()
    file_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorOwner:
    """Which file (and which page/passage of it) a vector belongs to."""

    vector_id: int
    file_id: int
    role: str
    page: int | None
    passage: str | None


@dataclass(frozen=True)
class FileFilter:
    """Restricts searches: by kind, by folders, by date taken (or modified when no EXIF date)."""

    kinds: frozenset[str] | None = None
    folders: tuple[Path, ...] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.kinds or self.folders or self.date_from or self.date_to)


def _path_prefix(folder: Path) -> str:
    return str(folder).rstrip("/\\") + "/"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Paths are case-sensitive (/x/Trip is not /x/trip): folder prefixes use LIKE.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


class Catalog:
    """The catalog of one library. Writes go through one writer; reads may come from any thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
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
        catalog = cls(engine)
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
            _create_keyword_index(conn)
        # Later steps go here, one commented ``if version < N`` block each.
        conn.execute(text(f"PRAGMA user_version = {SCHEMA_VERSION}"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions.begin() as session:
            yield session

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
                    .where(FileRow.path.like(_escape_like(_path_prefix(path)) + "%", escape="\\"))
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
            _refresh_keyword_names(s, moved)

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
        prefix = _path_prefix(path)
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
            for chunk in _chunks(ids, 900):
                # Plain rows, not ORM objects: this runs for every search (≈ 5× faster).
                for row in s.execute(select(FileRow.__table__).where(FileRow.id.in_(chunk))):
                    out[row.id] = FileRecord.from_row(row)
        return out

    def visible_file_ids(self, file_ids: Iterable[int]) -> set[int]:
        """Those of ``file_ids`` that may show in results (indexed: not offline, not pending)."""
        ids = list(set(file_ids))
        out: set[int] = set()
        with self.session() as s:
            for chunk in _chunks(ids, 900):
                out.update(
                    s.scalars(
                        select(FileRow.id).where(FileRow.id.in_(chunk), FileRow.status == INDEXED)
                    )
                )
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
            query = select(FileRow).where(FileRow.status == INDEXED)
            query = self._apply_filter(query, file_filter)
            query = query.order_by(
                func.coalesce(
                    FileRow.taken_at, func.datetime(FileRow.mtime_ns / 1e9, "unixepoch")
                ).desc()
            ).limit(limit)
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def find_by_name(
        self, words: Sequence[str], limit: int, file_filter: FileFilter | None = None
    ) -> list[FileRecord]:
        """Indexed or pending files whose name contains every word (case-insensitive)."""
        with self.session() as s:
            query = select(FileRow).where(FileRow.status.in_((INDEXED, PENDING)))
            for word in words:
                query = query.where(FileRow.name.ilike(f"%{_escape_like(word)}%", escape="\\"))
            query = self._apply_filter(query, file_filter).limit(limit)
            return [FileRecord.from_row(r) for r in s.scalars(query)]

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
                _refresh_keyword_names(s, [file_id])

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
                        | FileRow.path.like(_escape_like(_path_prefix(path)) + "%", escape="\\")
                    )
                )
            )
            return self._delete_files(s, ids)

    @staticmethod
    def _delete_files(s: Session, file_ids: Sequence[int]) -> list[int]:
        vector_ids: list[int] = []
        for chunk in _chunks(list(file_ids), 900):
            vector_ids += s.scalars(select(VectorRow.id).where(VectorRow.file_id.in_(chunk)))
            s.execute(delete(VectorRow).where(VectorRow.file_id.in_(chunk)))
            s.execute(delete(FileRow).where(FileRow.id.in_(chunk)))
            _delete_keyword_rows(s, chunk)
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
            for item in files:
                old += s.scalars(select(VectorRow.id).where(VectorRow.file_id == item.file_id))
                s.execute(delete(VectorRow).where(VectorRow.file_id == item.file_id))
                rows = [
                    VectorRow(
                        file_id=item.file_id,
                        space=space,
                        role=v.role,
                        page=v.page,
                        passage=v.passage,
                        embedding=np.asarray(v.embedding, dtype=np.float32).tobytes(),
                    )
                    for v in item.vectors
                ]
                s.add_all(rows)
                s.execute(
                    update(FileRow)
                    .where(FileRow.id == item.file_id)
                    .values(status=INDEXED, error=None, indexed_at=now, **item.file_values)
                )
                s.flush()
                _store_keyword_rows(s, item.file_id, item.texts)
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
        visible = select(FileRow.id).where(FileRow.status == INDEXED)
        visible = self._apply_filter(visible, file_filter)
        table = sql_table(KEYWORD_TABLE, sql_column("rowid"), sql_column("page"))
        score: Any = literal_column(f"bm25({KEYWORD_TABLE}, {_KEYWORD_WEIGHTS})")
        snippet: Any = literal_column(
            f"snippet({KEYWORD_TABLE}, 0, '{_HIT_START}', '{_HIT_END}', '…', 24)"
        )
        matches = literal_column(KEYWORD_TABLE).op("MATCH")(match)
        ranked = (
            select(table.c.rowid, table.c.page, score)
            .where(matches)
            .where(table.c.rowid.op(">>")(KEYWORD_ROWID_BITS).in_(visible))
            .order_by(score)
            .limit(max(limit, 1) * 20)
        )
        best: dict[int, tuple[int, int | None, float]] = {}  # file id -> its best row
        try:
            with self.session() as s:
                for rowid, page, rank in s.execute(ranked):
                    best.setdefault(int(rowid) >> KEYWORD_ROWID_BITS, (rowid, page, float(rank)))
                    if len(best) >= limit:
                        break
                rows = [row for row, _, _ in best.values()]
                # Snippets only for the rows shown: snippet() is the costly part.
                shown = select(table.c.rowid, snippet).where(matches, table.c.rowid.in_(rows))
                snippets: dict[int, str] = {int(r): str(t or "") for r, t in s.execute(shown)}
        except OperationalError as exc:  # a query FTS5 cannot parse
            log.debug("keyword query %r failed: %s", match, exc)
            return []
        hits = []
        for file_id, (rowid, page, rank) in best.items():
            snip = snippets.get(rowid) or ""
            in_body = _HIT_START in snip  # else the words were in the name or folder only
            passage = " ".join(snip.replace(_HIT_START, "").replace(_HIT_END, "").split())
            hits.append(
                KeywordHit(file_id, rank, page if in_body else None, passage if in_body else None)
            )
        return hits

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
            for chunk in _chunks(list(order), 900):
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
                    VectorOwner(r.id, r.file_id, r.role, r.page, r.passage),
                    np.frombuffer(r.embedding, dtype=np.float32).copy(),
                )
                for r in rows
            ]

    def owners(self, vector_ids: Sequence[int]) -> dict[int, VectorOwner]:
        out: dict[int, VectorOwner] = {}
        with self.session() as s:
            for chunk in _chunks(list(vector_ids), 900):
                for vid, fid, role, page, passage in s.execute(
                    select(
                        VectorRow.id,
                        VectorRow.file_id,
                        VectorRow.role,
                        VectorRow.page,
                        VectorRow.passage,
                    ).where(VectorRow.id.in_(chunk))
                ):
                    out[vid] = VectorOwner(vid, fid, role, page, passage)
        return out

    def drop_other_spaces(self, space: str) -> int:
        """Delete vectors made by another model and mark their files pending; returns files affected."""
        with self.session() as s:
            stale_files = select(VectorRow.file_id).where(VectorRow.space != space).distinct()
            n = _rowcount(
                s.execute(update(FileRow).where(FileRow.id.in_(stale_files)).values(status=PENDING))
            )
            s.execute(delete(VectorRow).where(VectorRow.space != space))
            return n

    def indexed_without_vectors(self, space: str) -> int:
        """Mark indexed files that have no vector of ``space`` pending again; returns how many."""
        with self.session() as s:
            has_vec = select(VectorRow.file_id).where(VectorRow.space == space)
            return _rowcount(
                s.execute(
                    update(FileRow)
                    .where(FileRow.status == INDEXED, FileRow.id.not_in(has_vec))
                    .values(status=PENDING)
                )
            )

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
            query = self._apply_filter(query, file_filter)
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

    @staticmethod
    def _apply_filter(query: Any, file_filter: FileFilter | None) -> Any:
        if file_filter is None:
            return query
        if file_filter.kinds:
            query = query.where(FileRow.kind.in_(sorted(file_filter.kinds)))
        if file_filter.folders:
            clauses = [
                FileRow.path.like(_escape_like(_path_prefix(f)) + "%", escape="\\")
                for f in file_filter.folders
            ]
            query = query.where(or_(*clauses))
        if file_filter.date_from or file_filter.date_to:
            when = func.coalesce(
                FileRow.taken_at, func.datetime(FileRow.mtime_ns / 1e9, "unixepoch")
            )
            if file_filter.date_from:
                query = query.where(when >= file_filter.date_from)
            if file_filter.date_to:
                query = query.where(when <= file_filter.date_to)
        return query


def _create_keyword_index(conn: Connection) -> None:
    conn.execute(
        text(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {KEYWORD_TABLE} USING fts5("
            "body, name, folder, page UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
    )
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_vectors_space_role ON vectors (space, role)"))
    rows = conn.execute(
        text(
            "SELECT f.id, f.path, f.title, d.path FROM files f "
            "LEFT JOIN folders d ON d.id = f.folder_id WHERE f.status = :indexed"
        ),
        {"indexed": INDEXED},
    ).all()
    entries = []
    for file_id, path, title, folder in rows:
        name, folders = _keyword_names(path, title, folder)
        entries.append({"id": file_id << KEYWORD_ROWID_BITS, "name": name, "folder": folders})
    if entries:
        conn.execute(
            text(
                f"INSERT INTO {KEYWORD_TABLE} (rowid, body, name, folder, page) "
                "VALUES (:id, '', :name, :folder, NULL)"
            ),
            entries,
        )


def _keyword_names(path: str, title: str | None, folder: str | None) -> tuple[str, str]:
    """The name column (file name, title) and folder column (folders from the watched one down)."""
    file = Path(path)
    name = f"{file.name} {title}" if title else file.name
    if folder and file.parent.is_relative_to(folder):
        parts = [Path(folder).name, *file.parent.relative_to(folder).parts]
    else:
        parts = [file.parent.name]
    return name, " ".join(parts)


def _keyword_range(file_id: int) -> dict[str, int]:
    return {"lo": file_id << KEYWORD_ROWID_BITS, "hi": (file_id + 1) << KEYWORD_ROWID_BITS}


def _delete_keyword_rows(s: Session, file_ids: Sequence[int]) -> None:
    if file_ids:
        s.execute(
            text(f"DELETE FROM {KEYWORD_TABLE} WHERE rowid >= :lo AND rowid < :hi"),
            [_keyword_range(f) for f in file_ids],
        )


def _file_keyword_names(s: Session, file_id: int) -> tuple[str, str] | None:
    row = s.execute(
        select(FileRow.path, FileRow.title, FolderRow.path)
        .outerjoin(FolderRow, FolderRow.id == FileRow.folder_id)
        .where(FileRow.id == file_id)
    ).first()
    return _keyword_names(row[0], row[1], row[2]) if row else None


def _store_keyword_rows(s: Session, file_id: int, texts: Sequence[NewText]) -> None:
    """Replace a file's keyword-index rows: one per passage, or one for its name alone."""
    _delete_keyword_rows(s, [file_id])
    names = _file_keyword_names(s, file_id)
    if names is None:
        return
    passages = [t for t in texts if t.text.strip()][:_MAX_KEYWORD_ROWS] or [NewText("")]
    base = file_id << KEYWORD_ROWID_BITS
    s.execute(
        text(
            f"INSERT INTO {KEYWORD_TABLE} (rowid, body, name, folder, page) "
            "VALUES (:id, :body, :name, :folder, :page)"
        ),
        [
            {"id": base + n, "body": t.text, "name": names[0], "folder": names[1], "page": t.page}
            for n, t in enumerate(passages)
        ],
    )


def _refresh_keyword_names(s: Session, file_ids: Sequence[int]) -> None:
    """Rewrite the name and folder columns of files that were renamed or moved."""
    for file_id in file_ids:
        names = _file_keyword_names(s, file_id)
        if names is not None:
            s.execute(
                text(
                    f"UPDATE {KEYWORD_TABLE} SET name = :name, folder = :folder "
                    "WHERE rowid >= :lo AND rowid < :hi"
                ),
                {"name": names[0], "folder": names[1], **_keyword_range(file_id)},
            )


def _rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (typed loosely: SQLAlchemy's Result hides CursorResult)."""
    return int(result.rowcount or 0)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
