"""Values the window and the library host exchange (no Qt, no SQLAlchemy, all picklable).

The core's own frozen records cross the pipe as they are (``FileFilter``, ``Folder``,
``LibraryStatus``, ``Progress``, ``IndexSummary``, ``FileChanges``); only results travel in a
compact form of their own (``ItemRow``), because unpickling thousands of dataclasses holds the
window's GIL (measured below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from desktop_app.core.query.results import BY_DATE, BY_MEANING, BY_NAME
from desktop_app.core.records import (
    DownloadProgress,
    FileChanges,
    FileFilter,
    Folder,
    IndexSummary,
    LibraryStatus,
    Progress,
)
from desktop_app.core.understanding.records import Understood

# The core's records that cross the pipe as they are.
__all__ = [
    "BY_DATE",
    "BY_MEANING",
    "BY_NAME",
    "DownloadProgress",
    "FileChanges",
    "FileFilter",
    "Folder",
    "IndexSummary",
    "LibraryStatus",
    "Progress",
]

# Lanes: where the host runs a call. WRITE is the library's one writer: every call that changes
# the catalog or the index runs on its thread and returns the ``FileChanges`` it made; indexing
# (``index``, and following changes) runs beside it and hands it each of its writes, so an edit
# waits for one batch at most, never for a whole run.
READ: Final = "read"
WRITE: Final = "write"
MODEL: Final = "model"
MEDIA: Final = "media"
LANES: Final = (READ, WRITE, MODEL, MEDIA)

# Events the host reports, with their value.
READY: Final = "ready"  # LibraryStatus: the library is open, calls may start
FATAL: Final = "fatal"  # str: the library could not be opened
CHANGES: Final = "changes"  # FileChanges: files whose place in results changed
DIED: Final = "died"  # str: the host process stopped unexpectedly
DOWNLOAD: Final = "download"  # DownloadProgress: the model's weights are being downloaded

# Model states.
MODEL_LOADING = "loading"
MODEL_READY = "ready"
MODEL_UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Query:
    """One request for results: a text query, a similar-to file, or (neither) recent files."""

    text: str = ""
    similar_to: Path | None = None
    similar_at: float | None = None  # similar_to is a video: look from its frame at this time
    filters: FileFilter = field(default_factory=FileFilter)
    limit: int = 200
    show_all: bool = False  # include hits below the relevance cutoff
    # Issue 21: understood parts the user took back (a removed chip): "date", "place", "kind".
    literal: frozenset[str] = frozenset()
    # Recent files: the page from this position of the listing on (the grid asks for the next
    # page as the user scrolls to the end of the rows it has).
    offset: int = 0

    @property
    def is_recent(self) -> bool:
        return not self.text.strip() and self.similar_to is None


ItemRow = tuple[Any, ...]
"""One result as plain values, in ``Col`` order: cheap to pickle and unpickle by the thousand.

(Ten thousand dataclasses holding Paths and datetimes took ~280 ms to unpickle, holding the
GIL the window needs; the same as tuples of str/float takes ~12 ms.)
"""


class Col:
    """Positions in an ``ItemRow``."""

    PATH = 0  # str
    KIND = 1
    SIZE = 2
    MODIFIED = 3  # POSIX seconds
    DATE = 4  # POSIX seconds: when taken (EXIF, read as local time), else modified; sorts by it
    TAKEN_AT = 5  # ISO text or None
    THUMB_KEY = 6
    INDEXED = 7
    WIDTH = 8
    HEIGHT = 9
    CAMERA = 10
    TITLE = 11
    PAGE_COUNT = 12
    SCORE = 13
    RELEVANT = 14
    MATCH = 15
    PAGE = 16
    PASSAGE = 17
    AT_S = 18  # a video hit: the time of the frame that matched (seconds)
    DURATION = 19  # a video's length in seconds
    COMPANIONS = 20  # tuple of str: the other files of the same shot (RAW+JPEG, Live Photo)
    WHY = 21  # str or None: why a hit matched, in words (MatchReason.describe)
    WORDS = 22  # tuple of str: the query's words found in it (to highlight)
    TAGS = 23  # tuple of str: its tags, automatic and the user's
    PLACE = 24  # str or None: where it was taken ("Lisbon, Portugal"), issue 21


@dataclass(frozen=True)
class Item:
    """One file in the results grid."""

    path: Path
    kind: str  # "image", "video" or "document"
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
    score: float | None = None  # relevance 0–100 of a search hit
    relevant: bool = True
    match: str = BY_MEANING
    page: int | None = None
    passage: str | None = None
    at_s: float | None = None  # a video hit: the moment that matched
    duration_s: float | None = None  # a video's length
    companions: tuple[Path, ...] = ()  # the other files of the same shot
    why: str | None = None  # why a hit matched, in words
    words: tuple[str, ...] = ()  # the query's words found in its name, folder, text or tags
    tags: tuple[str, ...] = ()
    place: str | None = None  # where it was taken ("Lisbon, Portugal")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date(self) -> datetime:
        """When it was taken (EXIF) or else last modified."""
        return self.taken_at or self.modified

    @classmethod
    def from_row(cls, row: ItemRow) -> Item:
        taken = row[Col.TAKEN_AT]
        return cls(
            path=Path(row[Col.PATH]),
            kind=row[Col.KIND],
            size=row[Col.SIZE],
            modified=datetime.fromtimestamp(row[Col.MODIFIED]),
            thumb_key=row[Col.THUMB_KEY],
            indexed=row[Col.INDEXED],
            taken_at=datetime.fromisoformat(taken) if taken else None,
            width=row[Col.WIDTH],
            height=row[Col.HEIGHT],
            camera=row[Col.CAMERA],
            title=row[Col.TITLE],
            page_count=row[Col.PAGE_COUNT],
            score=row[Col.SCORE],
            relevant=row[Col.RELEVANT],
            match=row[Col.MATCH],
            page=row[Col.PAGE],
            passage=row[Col.PASSAGE],
            at_s=row[Col.AT_S],
            duration_s=row[Col.DURATION],
            companions=tuple(Path(p) for p in row[Col.COMPANIONS]),
            why=row[Col.WHY],
            words=tuple(row[Col.WORDS] or ()),
            tags=tuple(row[Col.TAGS] or ()),
            place=row[Col.PLACE] if len(row) > Col.PLACE else None,
        )


@dataclass(frozen=True)
class QueryResult:
    """The answer to a ``Query``: its files as rows, best first."""

    query: Query
    rows: tuple[ItemRow, ...] = ()
    hidden: int = 0  # more hits below the relevance cutoff (see Query.show_all)
    cutoff: float | None = None
    semantic: bool = True  # False: the model was not ready, only file-name matches were used
    notice: str | None = None  # something the user should know about these results
    elapsed_s: float = 0.0
    understood: Understood | None = None  # issue 21: dates, places, kinds read as filters

    @property
    def items(self) -> tuple[Item, ...]:
        """The rows as Items (builds them all: for small results and tests)."""
        return tuple(Item.from_row(row) for row in self.rows)


@dataclass(frozen=True)
class PersonRow:
    """One person for the People view: their largest face as a small PNG (None: unreadable)."""

    id: int
    name: str | None
    photos: int
    face_png: bytes | None = None

    @property
    def label(self) -> str:
        return self.name or "unnamed"

    @property
    def query(self) -> str:
        """The query that finds their photos."""
        if self.name is None:
            return f"person:{self.id}"
        return f'person:"{self.name}"' if " " in self.name else f"person:{self.name}"


@dataclass(frozen=True)
class FaceRow:
    """One face in a photo: its box in the photo's full-size pixels, and whose it is."""

    id: int
    person_id: int | None
    name: str | None
    box: tuple[int, int, int, int]  # left, top, width, height
    at_s: float | None = None  # a video's frame time

    @property
    def label(self) -> str:
        return self.name or "unnamed"


@dataclass(frozen=True)
class PhotoFaces:
    """The faces in one file; ``width``: the picture width their boxes are measured in."""

    path: Path
    width: int | None
    faces: tuple[FaceRow, ...] = ()
    people: tuple[tuple[int, str], ...] = ()  # everyone named (id, name), for "This is…"


@dataclass(frozen=True)
class DuplicateRows:
    """Photos that are the same picture, as rows (biggest groups come first)."""

    similarity: float  # the lowest cosine of a photo to the one the group keeps (listed first)
    rows: tuple[ItemRow, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(Item.from_row(row) for row in self.rows)


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


class BackendError(Exception):
    """The library host failed (a bug there, or it went away); ``details`` has the traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        return (BackendError, (str(self), self.details))
