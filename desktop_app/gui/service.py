"""The window's requests answered with a ``Library``, in plain protocol values (no Qt).

Runs wherever the library lives: in the library host process (the default), or in the
window's own process for tests and ``--in-process``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop_app.core.catalog import INDEXED, FileFilter, FileRecord
from desktop_app.core.errors import IndexMismatchError, LumenError, ModelUnavailableError
from desktop_app.core.extractors import document_thumbnail
from desktop_app.core.extractors.images import open_for_display, read_image_metadata
from desktop_app.core.library import Library
from desktop_app.core.pipeline import FileChanges, IndexSummary, Progress
from desktop_app.core.search import SearchHit
from desktop_app.core.thumbnails import ThumbnailCache
from desktop_app.core.watcher import FolderWatcher
from desktop_app.gui.protocol import (
    BY_DATE,
    BY_MEANING,
    BY_NAME,
    MODEL_READY,
    MODEL_UNAVAILABLE,
    Col,
    Failure,
    Filters,
    FolderInfo,
    Forgotten,
    IndexOutcome,
    IndexProgress,
    ItemRow,
    LibraryInfo,
    ModelState,
    Query,
    QueryResult,
)

log = logging.getLogger(__name__)

_HEX = re.compile(r"[0-9a-fA-F]{2,128}")
_WORD_SPLIT = re.compile(r"[\s_\-.,;:/\\\"']+")
_WARM_UP_QUERIES = ("a photo", "a photo of a dog playing on the beach", "a scanned page")
NAME_MATCH_LIMIT = 200


class LibraryService:
    """Answers the window's requests; may be called from several threads, like ``Library``."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._warm_lock = threading.Lock()
        self._model_state: ModelState | None = None
        size = library.settings.thumbnail_size
        self._thumbnails = ThumbnailCache(library.settings.thumbnail_dir / str(size), size)
        self._watch_lock = threading.Lock()
        self._watcher: FolderWatcher | None = None
        self._closed = False

    # -- reads ----------------------------------------------------------------------------

    def info(self) -> LibraryInfo:
        status = self.library.status()
        return LibraryInfo(
            data_dir=status.data_dir,
            model=status.model,
            folders=tuple(FolderInfo(f.path, f.paused, f.online) for f in status.folders),
            indexed=status.indexed,
            pending=status.pending,
            failed=status.failed,
            offline=status.offline,
        )

    def failures(self) -> tuple[Failure, ...]:
        return tuple(Failure(r.path, r.error or "unknown reason") for r in self.library.failures())

    def warm_model(self) -> ModelState:
        """Load the model and run a few queries through it, so the first real one is quick."""
        with self._warm_lock:
            if self._model_state is not None and self._model_state.state == MODEL_READY:
                return self._model_state
            started = time.perf_counter()
            key = self.library.settings.model
            try:
                embedder = self.library.embedder()
                for text in _WARM_UP_QUERIES:
                    embedder.encode_text(text)
            except LumenError as exc:
                return ModelState(MODEL_UNAVAILABLE, key, str(exc))
            self._model_state = ModelState(
                MODEL_READY, embedder.spec.key, load_s=time.perf_counter() - started
            )
            return self._model_state

    def query(self, query: Query) -> QueryResult:
        """Results for ``query``: by meaning when the model is ready, else by file name."""
        started = time.perf_counter()
        file_filter = _file_filter(query.filters)
        if query.similar_to is not None:
            results = self.library.similar(
                query.similar_to, query.limit, file_filter, show_all=query.show_all
            )
            hits = tuple(_hit_row(hit) for hit in results.hits)
            return QueryResult(
                query, hits, results.hidden, results.cutoff, elapsed_s=_since(started)
            )
        if query.is_recent:
            return QueryResult(query, self._recent(query, file_filter), elapsed_s=_since(started))
        text = query.text.strip()
        rows: list[ItemRow] = []
        hidden = 0
        cutoff: float | None = None
        notice: str | None = None
        semantic = self.library.embedder_loaded
        if semantic:
            try:
                results = self.library.search(text, query.limit, file_filter, query.show_all)
            except (IndexMismatchError, ModelUnavailableError) as exc:
                semantic, notice = False, str(exc)
            else:
                rows = [_hit_row(hit) for hit in results.hits]
                hidden, cutoff = results.hidden, results.cutoff
        else:
            notice = "The model is still loading: showing files whose names match, for now."
        words = [w for w in _WORD_SPLIT.split(text.lower()) if len(w) >= 2]
        if words:
            seen = {row[Col.PATH] for row in rows}
            for record in self.library.find_by_name(words, NAME_MATCH_LIMIT, file_filter):
                # Files already embedded are found by meaning (and by name, in hybrid search).
                if str(record.path) not in seen and (not semantic or record.status != INDEXED):
                    rows.append(_row(record, match=BY_NAME))
        return QueryResult(
            query, tuple(rows), hidden, cutoff, semantic, notice, elapsed_s=_since(started)
        )

    def _recent(self, query: Query, file_filter: FileFilter | None) -> tuple[ItemRow, ...]:
        rows = [_row(r, match=BY_DATE) for r in self.library.recent(query.limit, file_filter)]
        if len(rows) < query.limit and self.library.status().pending:
            # First run: files not embedded yet show too, so the window is never empty.
            seen = {row[Col.PATH] for row in rows}
            for record in self.library.find_by_name([], query.limit - len(rows), file_filter):
                if str(record.path) not in seen:
                    rows.append(_row(record, match=BY_DATE))
        return tuple(rows)

    # -- pictures -------------------------------------------------------------------------

    def thumbnails(self, wanted: Sequence[tuple[Path, str, str]]) -> list[str | None]:
        """Cached thumbnail files for (path, thumb_key, kind) triples, made when missing."""
        made: list[str | None] = []
        for path, key, kind in wanted:
            render = document_thumbnail if kind in ("document", "video") else None
            try:
                thumbnail = self._thumbnails.get(path, key, render)
            except (OSError, ValueError) as exc:
                log.info("no thumbnail for %s: %s", path, exc)
                thumbnail = None
            made.append(str(thumbnail) if thumbnail is not None else None)
        return made

    def picture(self, path: Path, kind: str, max_side: int) -> tuple[bytes | None, dict[str, Any]]:
        """A preview of ``path`` encoded as JPEG (PNG when transparent), and its EXIF details."""
        details: dict[str, Any] = {}
        try:
            if kind in ("document", "video"):  # a video shows a frame a tenth of the way in
                image = document_thumbnail(path, max_side)
            else:
                image = open_for_display(path, max_side)
                details = dict(read_image_metadata(path))
        except LumenError as exc:
            return None, {"error": str(exc)}
        except OSError as exc:
            return None, {"error": f"cannot read {path.name}: {exc.strerror or exc}"}
        buffer = io.BytesIO()
        if image.mode == "RGBA":
            image.save(buffer, format="PNG", compress_level=1)
        else:
            image.convert("RGB").save(buffer, format="JPEG", quality=90)
        return buffer.getvalue(), details

    # -- writes ---------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path] | None,
        progress: Callable[[IndexProgress], None],
        cancel: threading.Event,
        on_change: Callable[[tuple[Path, ...]], None] | None = None,
    ) -> IndexOutcome:
        """Add ``paths`` as folders (if given) and index new or changed files."""

        def report(p: Progress) -> None:
            progress(IndexProgress(p.phase, p.done, p.total, p.failed, p.rate, p.eta_s, p.current))

        def changed(changes: FileChanges) -> None:
            if on_change is not None:
                on_change(changed_paths(changes))

        summary = self.library.index(list(paths) if paths else None, report, cancel, changed)
        return _outcome(summary)

    def add_folder(self, path: Path) -> FolderInfo:
        folder = self.library.add_folder(path)
        return FolderInfo(folder.path, folder.paused, folder.online)

    def remove_folder(self, path: Path) -> int:
        return self.library.remove_folder(path)

    def set_folder_paused(self, path: Path, paused: bool) -> None:
        self.library.set_folder_paused(path, paused)

    def set_watching(self, on: bool, on_change: Callable[[tuple[Path, ...]], None]) -> bool:
        """Follow changes in the watched folders as they happen (the core's FolderWatcher), or stop.

        ``on_change`` hears the paths whose results changed, from the watcher's thread.
        """
        with self._watch_lock:
            if on and self._watcher is None and not self._closed:
                watcher = FolderWatcher(
                    self.library, on_change=lambda changes: on_change(changed_paths(changes))
                )
                watcher.start(reconcile=False)  # the window has just run a full index itself
                self._watcher = watcher
            elif not on and self._watcher is not None:
                self._watcher.stop()
                self._watcher = None
            return self._watcher is not None

    def close(self) -> None:
        """Stop following changes (a batch in progress is cancelled; finished files are kept)."""
        with self._watch_lock:
            self._closed = True
            if self._watcher is not None:
                self._watcher.stop()
                self._watcher = None

    def forget(self, paths: Sequence[Path]) -> Forgotten:
        vectors = sum(self.library.forget(path) for path in paths)
        return Forgotten(tuple(paths), vectors)


def _file_filter(filters: Filters) -> FileFilter | None:
    file_filter = FileFilter(filters.kinds, filters.folders, filters.date_from, filters.date_to)
    return None if file_filter.is_empty else file_filter


def _thumb_key(record: FileRecord) -> str:
    if record.fingerprint and _HEX.fullmatch(record.fingerprint):
        return record.fingerprint.lower()
    # Not fingerprinted yet (just found): a key that changes whenever the file does.
    stamp = f"{record.path}|{record.size}|{record.mtime_ns}".encode()
    return hashlib.blake2b(stamp, digest_size=16).hexdigest()


def _row(
    record: FileRecord,
    *,
    score: float | None = None,
    relevant: bool = True,
    match: str = BY_MEANING,
    page: int | None = None,
    passage: str | None = None,
) -> ItemRow:
    """A file as an ``ItemRow`` (see ``Col`` for the order)."""
    modified = record.mtime_ns / 1e9
    taken = record.taken_at
    return (
        str(record.path),
        record.kind,
        record.size,
        modified,
        taken.timestamp() if taken is not None else modified,
        taken.isoformat() if taken is not None else None,
        _thumb_key(record),
        record.status == INDEXED,
        record.width,
        record.height,
        record.camera,
        record.title,
        record.page_count,
        score,
        relevant,
        match,
        page,
        passage,
    )


def _hit_row(hit: SearchHit) -> ItemRow:
    return _row(
        hit.file,
        score=hit.relevance,  # 0–100, the value results are ordered and cut off by
        relevant=hit.relevant,
        match=BY_MEANING,
        page=hit.page,
        passage=hit.passage,
    )


def _outcome(summary: IndexSummary) -> IndexOutcome:
    return IndexOutcome(
        new=summary.new,
        changed=summary.changed,
        removed=summary.removed,
        embedded=summary.embedded,
        failed=summary.failed,
        cancelled=summary.cancelled,
        elapsed_s=summary.elapsed_s,
        failures=tuple(summary.failures),
        offline_folders=tuple(summary.offline_folders),
    )


def changed_paths(changes: FileChanges) -> tuple[Path, ...]:
    """Every path whose place in results changed (files, and folders gone offline or back)."""
    paths = [*changes.indexed, *changes.removed, *changes.offline, *changes.online]
    for old, new in changes.moved:
        paths += [old, new]
    return tuple(paths)


def _since(started: float) -> float:
    return time.perf_counter() - started
