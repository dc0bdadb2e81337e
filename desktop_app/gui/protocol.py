"""Plain values the window and the library host exchange (no Qt, no SQLAlchemy, picklable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# How a result got into the list.
BY_MEANING = "meaning"
BY_NAME = "name"
BY_DATE = "recent"

# Model states.
MODEL_LOADING = "loading"
MODEL_READY = "ready"
MODEL_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Filters:
    """What the filter bar restricts results to; the host turns it into the core's FileFilter."""

    kinds: frozenset[str] | None = None  # {"image"}, {"document"} or None for all
    folders: tuple[Path, ...] | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


@dataclass(frozen=True)
class Query:
    """One request for results: a text query, a similar-to file, or (neither) recent files."""

    text: str = ""
    similar_to: Path | None = None
    filters: Filters = Filters()
    limit: int = 200
    show_all: bool = False  # include hits below the relevance cutoff

    @property
    def is_recent(self) -> bool:
        return not self.text.strip() and self.similar_to is None


@dataclass(frozen=True)
class Item:
    """One file in the results grid."""

    path: Path
    kind: str  # "image" or "document"
    size: int
    modified: datetime
    thumb_key: str  # hex key of its thumbnail in the cache (the content fingerprint when known)
    indexed: bool = True
    taken_at: datetime | None = None
    width: int | None = None
    height: int | None = None
    camera: str | None = None
    title: str | None = None
    page_count: int | None = None
    score: float | None = None
    relevant: bool = True
    match: str = BY_MEANING
    page: int | None = None
    passage: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date(self) -> datetime:
        """When it was taken (EXIF) or else last modified."""
        return self.taken_at or self.modified


@dataclass(frozen=True)
class QueryResult:
    """The answer to a ``Query``."""

    query: Query
    items: tuple[Item, ...] = ()
    hidden: int = 0  # more hits below the relevance cutoff (see Query.show_all)
    cutoff: float | None = None
    semantic: bool = True  # False: the model was not ready, only file-name matches were used
    notice: str | None = None  # something the user should know about these results
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class IndexProgress:
    """Where an indexing run stands."""

    phase: str  # "scanning", "loading model", "indexing", "saving", "done"
    done: int = 0
    total: int = 0
    failed: int = 0
    rate: float = 0.0
    eta_s: float | None = None
    current: Path | None = None


@dataclass(frozen=True)
class IndexOutcome:
    """What an indexing run did."""

    new: int = 0
    changed: int = 0
    removed: int = 0
    embedded: int = 0
    failed: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    failures: tuple[tuple[Path, str], ...] = ()
    offline_folders: tuple[Path, ...] = ()


@dataclass(frozen=True)
class FolderInfo:
    """A watched folder."""

    path: Path
    paused: bool = False
    online: bool = True


@dataclass(frozen=True)
class LibraryInfo:
    """What the library holds, for the status bar and the empty state."""

    data_dir: Path
    model: str
    folders: tuple[FolderInfo, ...] = ()
    indexed: int = 0
    pending: int = 0
    failed: int = 0
    offline: int = 0


@dataclass(frozen=True)
class Failure:
    """A file that could not be indexed, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ModelState:
    """Whether the model can answer text queries yet."""

    state: str  # MODEL_LOADING, MODEL_READY or MODEL_UNAVAILABLE
    model: str
    message: str = ""
    load_s: float | None = None


@dataclass(frozen=True)
class Forgotten:
    """The result of removing files from the index."""

    paths: tuple[Path, ...] = field(default_factory=tuple)
    vectors: int = 0
