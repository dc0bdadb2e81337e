"""The catalog's plain records: frozen, picklable snapshots that cross threads and processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np


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
    duration_s: float | None = None  # videos

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
            duration_s=row.duration_s,
        )


@dataclass(frozen=True)
class NewVector:
    """A vector to store for a file."""

    role: str
    embedding: np.ndarray
    page: int | None = None
    passage: str | None = None
    at_ms: int | None = None  # a video frame's time from the start


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
    at_ms: int | None = None  # a video frame's time from the start


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
