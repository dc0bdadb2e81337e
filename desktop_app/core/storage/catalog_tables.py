"""The catalog's SQLite tables (SQLAlchemy ORM), file status values and shared query helpers.

Imported by writes and the reads that stay ORM, never by a search (see ``catalog_db``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from desktop_app.core.records import FAILED, INDEXED, OFFLINE, PENDING
from desktop_app.core.storage.filter_sql import filter_where
from desktop_app.core.storage.pathtext import from_db, to_db

if TYPE_CHECKING:
    from desktop_app.core.records import FileFilter

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
    "apply_filter",
]


class PathText(TypeDecorator[str]):
    """A text column holding paths (or names) of any bytes; see ``pathtext``."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return to_db(value) if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return from_db(value) if isinstance(value, str) else value


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


def apply_filter(query: Any, file_filter: FileFilter | None) -> Any:
    """``query`` (over the files table, by its name) restricted to the files that pass
    ``file_filter`` (the condition is ``filter_sql``'s, the plain reads' own)."""
    if file_filter is None or file_filter.is_empty:
        return query
    where, params = filter_where(file_filter)
    return query.where(text(where).bindparams(**params))
