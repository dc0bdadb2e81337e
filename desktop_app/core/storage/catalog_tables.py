"""The catalog's SQLite tables (SQLAlchemy ORM), file status values and shared query helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
    column,
    func,
    or_,
    select,
    table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from desktop_app.core.records import FAILED, INDEXED, OFFLINE, PENDING, RAW, RAW_EXTENSIONS
from desktop_app.core.storage.kind_clauses import kind_clause
from desktop_app.core.storage.pathtext import PathText
from desktop_app.core.storage.place_store import place_clause

if TYPE_CHECKING:
    from desktop_app.core.records import FileFilter

_T = TypeVar("_T")

__all__ = [
    "FAILED",
    "INDEXED",
    "OFFLINE",
    "PENDING",
    "Base",
    "FileRow",
    "FolderRow",
    "Meta",
    "TagRow",
    "VectorRow",
]


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(PathText, primary_key=True)  # may name a folder
    value: Mapped[str] = mapped_column(Text)


class ExclusionRow(Base):
    __tablename__ = "exclusions"
    pattern: Mapped[str] = mapped_column(PathText, primary_key=True)  # a path or a name glob
    added_at: Mapped[float] = mapped_column(Float)


class FolderRow(Base):
    __tablename__ = "folders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(PathText, unique=True)
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
    path: Mapped[str] = mapped_column(PathText, unique=True)
    name: Mapped[str] = mapped_column(PathText)
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
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # videos
    added_at: Mapped[float] = mapped_column(Float)
    indexed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # What its automatic tags were computed with (tags.vocabulary_version; None: not yet).
    tags_version: Mapped[str | None] = mapped_column(String(16), nullable=True)


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
    at_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a video frame's time
    embedding: Mapped[bytes] = mapped_column(LargeBinary)


class TagRow(Base):
    __tablename__ = "tags"
    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(Text, primary_key=True, index=True)  # tags.normalise_tag
    source: Mapped[str] = mapped_column(String(8))  # tag_store.AUTO, USER or HIDDEN
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # an automatic tag's score


def path_prefix(folder: Path) -> str:
    """``folder`` with one trailing slash: the prefix of every path below it."""
    return str(folder).rstrip("/\\") + "/"


def escape_like(value: str) -> str:
    """``value`` escaped for a LIKE pattern with ``escape="\\"``."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_filter(query: Any, file_filter: FileFilter | None) -> Any:
    """``query`` (over the files table) restricted to the files that pass ``file_filter``."""
    if file_filter is None:
        return query
    if file_filter.kinds:
        kinds = set(file_filter.kinds)
        clauses: list[Any] = []
        if RAW in kinds:
            kinds.discard(RAW)
            clauses.append((FileRow.kind == "image") & _is_raw())
        for kind in sorted(kinds):  # issue 21: PDFs and screenshots (kind_clauses)
            clause = kind_clause(kind, FileRow)
            if clause is not None:
                kinds.discard(kind)
                clauses.append(clause)
        if kinds:
            clauses.append(FileRow.kind.in_(sorted(kinds)))
        query = query.where(or_(*clauses))
    if file_filter.folders:
        clauses = [
            FileRow.path.like(escape_like(path_prefix(f)) + "%", escape="\\")
            for f in file_filter.folders
        ]
        query = query.where(or_(*clauses))
    if file_filter.date_from or file_filter.date_to:
        when = func.coalesce(FileRow.taken_at, func.datetime(FileRow.mtime_ns / 1e9, "unixepoch"))
        if file_filter.date_from:
            query = query.where(when >= file_filter.date_from)
        if file_filter.date_to:
            query = query.where(when <= file_filter.date_to)
    if file_filter.place:  # issue 21: taken at a place (place_store)
        query = query.where(place_clause(file_filter.place, FileRow.id))
    shown = TagRow.source.in_(("auto", "user"))
    for tag in sorted(file_filter.tags):
        query = query.where(FileRow.id.in_(select(TagRow.file_id).where(TagRow.tag == tag, shown)))
    if file_filter.without_tags:
        unwanted = select(TagRow.file_id).where(
            TagRow.tag.in_(sorted(file_filter.without_tags)), shown
        )
        query = query.where(FileRow.id.not_in(unwanted))
    # People (issue 23): the faces table is core/people's own (core/people/store.py).
    if not (file_filter.people or file_filter.without_people):
        return query
    faces = table("faces", column("file_id"), column("person_id"))
    for person in sorted(file_filter.people):
        query = query.where(
            FileRow.id.in_(select(faces.c.file_id).where(faces.c.person_id == person))
        )
    if file_filter.without_people:
        in_them = select(faces.c.file_id).where(
            faces.c.person_id.in_(sorted(file_filter.without_people))
        )
        query = query.where(FileRow.id.not_in(in_them))
    return query


def _is_raw() -> Any:
    """The file's name ends with a RAW extension (any case)."""
    by_length: dict[int, list[str]] = {}
    for extension in sorted(RAW_EXTENSIONS):
        by_length.setdefault(len(extension), []).append(extension)
    return or_(
        *(
            func.lower(func.substr(FileRow.name, -length)).in_(extensions)
            for length, extensions in sorted(by_length.items())
        )
    )


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (typed loosely: SQLAlchemy's Result hides CursorResult)."""
    return int(result.rowcount or 0)


def chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in slices of at most ``size`` (SQLite limits the parameters of one statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A vector row's embedding: float16 values and one marker byte (an odd length), half the size
# of the float32 of catalogs written before (an even length, still read). At 512-d a float32
# row took a 4 KB page of its own; three float16 rows share one.
_HALF_MARK = b"h"


def encode_vector(vector: np.ndarray) -> bytes:
    """The catalog's bytes for an embedding (float16; the index keeps float32 for search)."""
    return np.asarray(vector, dtype=np.float16).tobytes() + _HALF_MARK


def decode_vector(blob: bytes) -> np.ndarray:
    """The float32 embedding in a vector row (either format), a new writable array."""
    if len(blob) % 2:
        return np.frombuffer(blob, dtype=np.float16, count=len(blob) // 2).astype(np.float32)
    return np.frombuffer(blob, dtype=np.float32).copy()
