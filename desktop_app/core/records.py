"""The catalog's plain records: frozen, picklable snapshots that cross threads and processes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


# File status values.
PENDING = "pending"  # found, not embedded yet (new, changed, or its model changed)
INDEXED = "indexed"
FAILED = "failed"  # extraction failed; ``error`` says why
OFFLINE = "offline"  # its folder is unreachable; kept but hidden from results

# Camera RAW photos (read by LibRaw): files of kind "image"; ``FileFilter`` kind "raw" selects them.
RAW_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf",
        ".rw2", ".raf", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mrw", ".rwl",
    }
)  # fmt: skip
RAW = "raw"  # a FileFilter kind: the RAW photos among the images
PDF = "pdf"  # a FileFilter kind: the PDF files among the documents
SCREENSHOT = "screenshot"  # a FileFilter kind: images named as screenshots, or camera-less PNGs


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def readable(value: str | Path) -> str:
    """A path or name for people (and the keyword index): undecodable bytes read as Latin-1.

    A name that is not valid UTF-8 (``'caf\\udce9.jpg'``, the bytes ``caf\\xe9.jpg`` of an old
    camera card or Windows share) reads ``'café.jpg'``; a widget would drop the byte. Use only
    for display and search words: open the file by its own ``Path``.
    """
    return _ESCAPED_BYTE.sub(lambda m: chr(ord(m.group()) - 0xDC00), str(value))


def is_raw(path: Path) -> bool:
    """Whether ``path`` names a camera RAW photo (by its extension, any case)."""
    return path.suffix.lower() in RAW_EXTENSIONS


def file_to_open(path: Path, companions: Sequence[Path], open_raw: bool) -> Path:
    """The file that Open shows for a result ``path`` whose shot also holds ``companions``.

    For a RAW+JPEG (or RAW+HEIC) shot: the RAW when ``open_raw``, else the processed photo.
    Anything else (a single file, a Live Photo's still or video) opens as itself.
    """
    if open_raw:
        return path if is_raw(path) else next((p for p in companions if is_raw(p)), path)
    if is_raw(path):
        return next((p for p in companions if not is_raw(p)), path)
    return path


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
    # Its best row in the keyword index while its page and snippet are not read yet (a search
    # that cuts snippets only for the hits it shows: ``Catalog.keyword_snippets``); else None.
    row: int | None = None


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
class Tag:
    """One tag of a file: given by the model (``source`` "auto", with its score) or the user."""

    name: str
    source: str
    score: float | None = None


@dataclass(frozen=True)
class FileFilter:
    """Restricts searches: by kind, by folders, by date taken (or modified when no EXIF date).

    ``kinds`` holds file kinds ("image", "video", "document") and may hold ``RAW``: the images
    that are camera RAW files (``RAW_EXTENSIONS``).
    """

    kinds: frozenset[str] | None = None
    folders: tuple[Path, ...] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    tags: frozenset[str] = frozenset()  # files with every one of these tags (tag:beach)
    without_tags: frozenset[str] = frozenset()  # and none of these (-tag:people)
    # Taken at this place (issue 21): "PT", "PT|Lisbon" (a region), "PT|Lisbon|Lisbon" (a city).
    place: str | None = None
    people: frozenset[int] = frozenset()  # files showing every one of these people (person:Ann)
    without_people: frozenset[int] = frozenset()  # and none of these (-person:Ann)

    @property
    def is_empty(self) -> bool:
        return not (
            self.kinds
            or self.folders
            or self.date_from
            or self.date_to
            or self.tags
            or self.without_tags
            or self.place
            or self.people
            or self.without_people
        )


# -- indexing and status ------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where an indexing run stands; sent to the progress callback from the indexing thread."""

    # "scanning", "loading model", "indexing", "deeper pass" (the rest of the documents'
    # passages, once every file is findable), "saving", "done", "waiting"
    phase: str
    done: int = 0
    total: int = 0
    failed: int = 0
    rate: float = 0.0  # files per second over the embedding phase
    eta_s: float | None = None  # until the run ends ("indexing": the deeper pass included)
    current: Path | None = None
    note: str = ""  # "waiting": for whom, in words ("Handed to lumen watch (pid 12), …")


@dataclass(frozen=True)
class DownloadProgress:
    """How far a download of the model's weights has got (sent from the downloading thread)."""

    name: str  # e.g. "laion/CLIP-ViT-B-32-laion2B-s34B-b79K/open_clip_model.safetensors"
    done_bytes: int
    total_bytes: int | None  # None until the size is known
    finished: bool = False
    cache_dir: Path | None = None  # where the file goes


@dataclass
class IndexSummary:
    """What one indexing run did."""

    seen: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    touched: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    failed: int = 0
    offline_folders: list[Path] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False
    elapsed_s: float = 0.0
    embed_s: float = 0.0

    @property
    def files_per_second(self) -> float:
        return self.embedded / self.embed_s if self.embed_s > 0 else 0.0


@dataclass(frozen=True)
class FileChanges:
    """What one write to the library changed, reported as soon as it is committed.

    Every mutation returns one (``Library.forget``, ``exclude``, ``set_tag``, folders …), and
    indexing runs send one per step to their ``on_change`` callback, so a view applies them to
    the rows it shows instead of asking its query again: a removed file's row goes, a moved
    file's row takes its new path, a changed file's or re-tagged file's row is refreshed, and
    only an added file (or a folder back online) needs the query's ranking to find its place.
    Lists only what a user can see: a touched-but-unchanged file is not reported. A callback
    runs on the library's writer thread: it must return quickly and must not wait for a write.
    """

    added: tuple[Path, ...] = ()  # files embedded for the first time, now searchable
    changed: tuple[Path, ...] = ()  # files embedded again (their content changed)
    moved: tuple[tuple[Path, Path], ...] = ()  # (old path, new path); the vectors were kept
    removed: tuple[Path, ...] = ()  # deleted, forgotten, excluded, or their folder removed
    failed: tuple[tuple[Path, str], ...] = ()  # could not be indexed, and why
    offline: tuple[Path, ...] = ()  # watched folders now unreachable: their files are hidden
    online: tuple[Path, ...] = ()  # watched folders back again: their files show again
    tags: tuple[Path, ...] = ()  # files whose tags changed
    located: tuple[Path, ...] = ()  # files found to have been taken at a place (GPS, issue 21)
    folders: tuple[Path, ...] = ()  # watched folders added, removed, paused or resumed
    exclusions: tuple[str, ...] = ()  # exclusion patterns added or taken away
    vectors_removed: int = 0  # vectors that left the index with the removed files

    def __bool__(self) -> bool:
        return any(
            (
                self.added,
                self.changed,
                self.moved,
                self.removed,
                self.failed,
                self.offline,
                self.online,
                self.tags,
                self.located,
                self.folders,
                self.exclusions,
                self.vectors_removed,
            )
        )

    @property
    def indexed(self) -> tuple[Path, ...]:
        """Files (re-)embedded, now searchable: the added and the changed."""
        return (*self.added, *self.changed)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every path whose place in results changed (files, and folders gone offline or back)."""
        paths = [*self.indexed, *self.removed, *self.offline, *self.online, *self.tags]
        paths += self.located
        for old, new in self.moved:
            paths += [old, new]
        return tuple(paths)

    def __add__(self, other: FileChanges) -> FileChanges:
        """Both records as one (the changes of a batch of operations)."""
        return FileChanges(
            *(
                getattr(self, f) + getattr(other, f)
                for f in (
                    "added",
                    "changed",
                    "moved",
                    "removed",
                    "failed",
                    "offline",
                    "online",
                    "tags",
                    "located",
                    "folders",
                    "exclusions",
                    "vectors_removed",
                )
            )
        )


@dataclass(frozen=True)
class LibraryStatus:
    """Counts a user wants to see: files per state, vectors, folders, model."""

    data_dir: Path
    model: str
    folders: list[Folder]
    indexed: int
    pending: int
    failed: int
    offline: int
    vectors: int
    index_size: int
    kinds: dict[str, int] = field(default_factory=dict)  # indexed files per kind
    switching: Progress | None = None  # a switch to another model under way (see model_switch)
    # files of kinds Lumen never reads, by extension, as the last full scan counted them
    other_kinds: dict[str, int] = field(default_factory=dict)
    # documents findable by their words and first passage whose other passages wait for the
    # index run's second pass (the next run goes on with them)
    deeper_pass: int = 0


def duration_words(seconds: float) -> str:
    """'12 s', '3 min', '1 h 20 min'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
