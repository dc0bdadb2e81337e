"""What a query shows, decided once for the CLI and the window alike.

Files ranked by meaning (and by their words, see ``search``), then files whose names match
that cannot be found by meaning yet (not embedded, or the model is not loaded), and for an
empty query the newest files, with not-yet-embedded ones on a first run. Each file carries the
key of its thumbnail, so a view can show its picture without asking again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from desktop_app.core.errors import IndexMismatchError, ModelUnavailableError
from desktop_app.core.records import FileFilter, FileRecord
from desktop_app.core.superseded import stop_if_superseded
from desktop_app.core.understanding.stopwords import is_stop_word

if TYPE_CHECKING:  # (the window imports this module's names: it must not load the catalog)
    from desktop_app.core.query.query_text import SearchHit, SearchResults
    from desktop_app.core.understanding.records import Understood

# How a file got into the results.
BY_MEANING = "meaning"
BY_NAME = "name"
BY_DATE = "recent"

NAME_MATCH_LIMIT = 200
RECENT_CHUNK = 2_000  # the newest files read this many at a time (a checkpoint between)
MODEL_LOADING_NOTICE = "The model is still loading: showing files whose names match, for now."

_HEX = re.compile(r"[0-9a-fA-F]{2,128}")
_WEIGHT = re.compile(r":\d+(\.\d*)?$")  # "part:weight" in a combined query
_WORD_SPLIT = re.compile(r"[\s_\-.,;:/\\\"']+")


class Searcher(Protocol):
    """What answers the queries below: ``QueryPolicy`` (or ``Library``, which delegates to it)."""

    @property
    def queries_ready(self) -> bool: ...

    def search(
        self,
        text: str,
        k: int = ...,
        file_filter: FileFilter | None = ...,
        show_all: bool = ...,
        like: Path | None = ...,
    ) -> SearchResults: ...

    def similar(
        self,
        path: Path,
        k: int = ...,
        file_filter: FileFilter | None = ...,
        show_all: bool = ...,
        at_s: float | None = ...,
    ) -> SearchResults: ...

    def related_documents(
        self,
        path: Path,
        k: int = ...,
        file_filter: FileFilter | None = ...,
        show_all: bool = ...,
    ) -> SearchResults: ...

    def recent(
        self,
        k: int = ...,
        file_filter: FileFilter | None = ...,
        *,
        offset: int = ...,
        pending: bool = ...,
    ) -> list[FileRecord]: ...

    def find_by_name(
        self,
        words: Sequence[str],
        limit: int = ...,
        file_filter: FileFilter | None = ...,
        *,
        pending_only: bool = ...,
    ) -> list[FileRecord]: ...

    def has_pending(self) -> bool: ...


@dataclass(frozen=True)
class ResultFile:
    """One file in the results, and why it is there."""

    file: FileRecord
    thumb_key: str  # hex key of its thumbnail in the cache (the content fingerprint when known)
    match: str = BY_MEANING
    hit: SearchHit | None = None  # how it matched, for files found by meaning and words

    @property
    def relevant(self) -> bool:
        """Above the relevance cutoff (a file found by name or date always is)."""
        return self.hit.relevant if self.hit is not None else True


@dataclass(frozen=True)
class QueryResults:
    """Files for one query, best first."""

    files: tuple[ResultFile, ...] = ()
    hidden: int = 0  # more hits below the relevance cutoff (ask again with show_all)
    cutoff: float | None = None
    semantic: bool = True  # False: meaning was not used (model not loaded or unusable)
    notice: str | None = None  # something the user should know about these results
    understood: Understood | None = None  # issue 21: the dates, places, kinds read as filters


def search_files(
    library: Searcher,
    text: str,
    limit: int,
    file_filter: FileFilter | None = None,
    show_all: bool = False,
    *,
    like: Path | None = None,
    load_model: bool = True,
) -> QueryResults:
    """Files for a typed query: by meaning and words, then by name what meaning cannot find.

    ``load_model=False`` (the window while the model loads) answers by file name alone.
    """
    text = text.strip()
    files: list[ResultFile] = []
    hidden, cutoff, notice = 0, None, None
    semantic = load_model or library.queries_ready
    if semantic:
        try:
            found = library.search(text, limit, file_filter, show_all, like=like)
        except (IndexMismatchError, ModelUnavailableError) as exc:
            semantic, notice = False, str(exc)
        else:
            files = [_from_hit(hit) for hit in found.hits]
            hidden, cutoff = found.hidden, found.cutoff
    else:
        notice = MODEL_LOADING_NOTICE
    wanted = " ".join(
        _WEIGHT.sub("", t)
        for t in text.lower().split()
        if not t.startswith(("-", "tag:", "person:"))  # negatives and filters are no file names
    )
    words = [w for w in _WORD_SPLIT.split(wanted) if len(w) >= 2 and not is_stop_word(w)]
    if words:
        seen = {f.file.path for f in files}
        # Files already embedded are found by meaning (and by name, in hybrid search): with
        # meaning, only those waiting to be embedded are looked up (a name scan of every file
        # cost 40 ms a query at 100k files).
        named = library.find_by_name(words, NAME_MATCH_LIMIT, file_filter, pending_only=semantic)
        for record in named:
            if record.path not in seen:
                files.append(ResultFile(record, thumb_key(record), BY_NAME))
    return QueryResults(tuple(files), hidden, cutoff, semantic, notice)


def similar_files(
    library: Searcher,
    path: Path,
    limit: int,
    file_filter: FileFilter | None = None,
    show_all: bool = False,
    at_s: float | None = None,
) -> QueryResults:
    """Files that look like ``path`` (a video at ``at_s`` seconds)."""
    return _from_results(library.similar(path, limit, file_filter, show_all=show_all, at_s=at_s))


def related_documents(
    library: Searcher,
    path: Path,
    limit: int,
    file_filter: FileFilter | None = None,
    show_all: bool = False,
) -> QueryResults:
    """Documents whose passages are closest to ``path``."""
    return _from_results(library.related_documents(path, limit, file_filter, show_all=show_all))


def recent_files(
    library: Searcher, limit: int, file_filter: FileFilter | None = None, offset: int = 0
) -> QueryResults:
    """The newest files (an empty query): ``limit`` of them from position ``offset`` on (a
    page of the listing); on a first run, files not embedded yet follow the indexed ones.

    Read ``RECENT_CHUNK`` rows at a time: a newer query stops a long listing between them.
    """
    pending = library.has_pending()
    records: list[FileRecord] = []
    while len(records) < limit:
        stop_if_superseded()
        wanted = min(RECENT_CHUNK, limit - len(records))
        page = library.recent(wanted, file_filter, offset=offset + len(records), pending=pending)
        records += page
        if len(page) < wanted:
            break
    return QueryResults(tuple(ResultFile(r, thumb_key(r), BY_DATE) for r in records))


def thumb_key(record: FileRecord, at_s: float | None = None) -> str:
    """The key of a file's thumbnail: its content fingerprint, or a stamp of path/size/mtime.

    A video hit's thumbnail is the frame that matched: ``at_s`` gives it a key of its own.
    """
    if record.fingerprint and _HEX.fullmatch(record.fingerprint):
        key = record.fingerprint.lower()
    else:  # not fingerprinted yet (just found): a key that changes whenever the file does
        stamp = f"{record.path}|{record.size}|{record.mtime_ns}".encode()
        key = hashlib.blake2b(stamp, digest_size=16).hexdigest()
    if at_s is None:
        return key
    return hashlib.blake2b(f"{key}@{round(at_s * 1000)}".encode(), digest_size=16).hexdigest()


def _from_hit(hit: SearchHit) -> ResultFile:
    at_s = hit.at_s if hit.file.kind == "video" else None
    return ResultFile(hit.file, thumb_key(hit.file, at_s), BY_MEANING, hit)


def _from_results(found: SearchResults) -> QueryResults:
    return QueryResults(tuple(_from_hit(h) for h in found.hits), found.hidden, found.cutoff)
