"""The window's calls answered with a ``Library``: the core's policy, in pipe-ready values.

Runs wherever the library lives: in the library host process (the default), or in the
caller's own process for tests and ``--in-process``. What a query shows is decided by the core
(``core.results``), the same functions ``lumen search`` uses; this only packs the answer.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from desktop_app.core.embedding.heatmap import HeatMap, heat_map
from desktop_app.core.embedding.weights import DownloadControl
from desktop_app.core.errors import LumenError
from desktop_app.core.extractors import document_thumbnail
from desktop_app.core.extractors.images import open_for_display, read_image_metadata
from desktop_app.core.extractors.video import frame_strip, video_frame
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.library import Library
from desktop_app.core.query import results
from desktop_app.core.query.query_text import parse_query
from desktop_app.core.records import (
    INDEXED,
    OFFLINE,
    FileChanges,
    Folder,
    IndexSummary,
    LibraryStatus,
    Progress,
)
from desktop_app.core.superseded import stop_if_superseded
from desktop_app.core.thumbnails import Renderer, ThumbnailCache
from desktop_app.core.understanding.records import Place
from desktop_app.host.people_calls import PeopleCalls
from desktop_app.host.protocol import (
    MODEL_READY,
    MODEL_UNAVAILABLE,
    DuplicateRows,
    Failure,
    ItemRow,
    ModelState,
    Query,
    QueryResult,
)
from desktop_app.host.warm_up import SearchWarmUp

log = logging.getLogger(__name__)


ChangeSink = Callable[[FileChanges], None]


class LibraryService(PeopleCalls):
    """Answers the window's calls; may be called from several threads, like ``Library``.

    ``downloads``: the control the library's model loader reports a weights download to (see
    ``serve.open_service``); ``cancel_download`` stops that download through it.
    """

    def __init__(self, library: Library, downloads: DownloadControl | None = None) -> None:
        self.library = library
        library.name_writer("the Lumen window")  # what `lumen index` is told while this writes
        self.downloads = downloads
        self._warm_lock = threading.Lock()
        self._model_state: ModelState | None = None
        size = library.settings.thumbnail_size
        self._thumbnails = ThumbnailCache(library.settings.thumbnail_dir / str(size), size)
        self._watch_lock = threading.Lock()
        self._watcher: FolderWatcher | None = None
        self._closed = False
        self._warm_up = SearchWarmUp(library)

    # -- reads ----------------------------------------------------------------------------

    def info(self) -> LibraryStatus:
        """The library's status (counts of files, kinds, folders). Background work: read after
        each index run, when the user may be typing, it waits while a query runs."""
        with self.library.priority.background():
            return self.library.status()

    def failures(self) -> tuple[Failure, ...]:
        return tuple(Failure(r.path, r.error or "unknown reason") for r in self.library.failures())

    def warm_model(self) -> ModelState:
        """Load the model and run a few queries through it, so the first real one is quick.

        Downloads the weights if needed (an earlier cancelled download is tried again).
        """
        if self.downloads is not None:
            self.downloads.allow()
        with self._warm_lock:
            if self._model_state is not None and self._model_state.state == MODEL_READY:
                return self._model_state
            started = time.perf_counter()
            key = self.library.settings.model
            try:
                # The torch-free text encoder when the library has one: queries are answered
                # by meaning at once; the image model loads when something needs it.
                key = self.library.warm_queries()
            except LumenError as exc:
                return ModelState(MODEL_UNAVAILABLE, key, str(exc))
            self._model_state = ModelState(MODEL_READY, key, load_s=time.perf_counter() - started)
            self._warm_up.start()  # the search's caches, read ahead in the background
            return self._model_state

    def cancel_download(self) -> None:
        """Stop a download of the model's weights in progress (the call loading it then fails)."""
        if self.downloads is not None:
            self.downloads.cancel()

    def query(self, query: Query) -> QueryResult:
        """Results for ``query``: by meaning when the model is ready, else by file name.

        A search's page past the first (``offset`` rows shown) holds its best ``offset +
        limit`` files, the rows shown among them: a wider search may rank a file first that the
        first page missed, and the window adds the rows it lacks.
        """
        started = time.perf_counter()
        found = self._found(query)
        stop_if_superseded()
        places = self.library.catalog.places_of(f.file.id for f in found.files)
        return QueryResult(
            query,
            tuple(_row(f, place=places.get(f.file.id)) for f in found.files),
            found.hidden,
            found.cutoff,
            found.semantic,
            found.notice,
            elapsed_s=time.perf_counter() - started,
            understood=found.understood,
        )

    def _found(self, query: Query) -> results.QueryResults:
        file_filter = None if query.filters.is_empty else query.filters
        best = query.offset + query.limit  # a search's page: its best files up to its end
        if query.similar_to is not None and query.text.strip():
            return results.search_files(  # "this photo, but at night"
                self.library,
                query.text,
                best,
                file_filter,
                query.show_all,
                like=query.similar_to,
            )
        if query.similar_to is not None:
            return results.similar_files(
                self.library,
                query.similar_to,
                best,
                file_filter,
                query.show_all,
                query.similar_at,
            )
        if query.is_recent:
            return results.recent_files(self.library, query.limit, file_filter, query.offset)
        return self.library.search_understood(  # dates, places and kinds become filters
            query.text,
            best,
            file_filter,
            query.show_all,
            load_model=self.library.queries_ready,
            literal=query.literal,
        )

    def heat_map(self, path: Path, text: str) -> HeatMap:
        """Where the photo ``path`` matches the query ``text`` (its words searched by meaning)."""
        started = time.perf_counter()
        words = parse_query(self.library.understand(text).rest).text
        if not any(ch.isalnum() for ch in words):
            raise LumenError("Type what to look for first: the heat-map shows where it is.")
        embedder = self.library.embedder()
        found = heat_map(embedder, open_for_display(path, 1024), embedder.encode_text(words))
        return dataclasses.replace(found, elapsed_s=time.perf_counter() - started)

    def places(self) -> tuple[tuple[str, str, int], ...]:
        """(place key, label, files) of each country, then its cities, most files first."""
        out: list[tuple[str, str, int]] = []
        counts = self.library.catalog.place_counts()  # grouped by country
        for c in counts:
            if not out or out[-1][0].split("|")[0] != c.country_code:
                total = sum(x.files for x in counts if x.country_code == c.country_code)
                out.append((c.country_code, c.country, total))
            if c.city:
                key = f"{c.country_code}|{c.region or ''}|{c.city}"
                out.append((key, f"{c.city}, {c.country}", c.files))
        return tuple(out)

    def duplicates(self) -> tuple[DuplicateRows, ...]:
        """Groups of photos that are the same picture, biggest first."""
        return tuple(
            DuplicateRows(
                group.similarity,
                tuple(
                    _row(results.ResultFile(r, results.thumb_key(r), results.BY_DATE))
                    for r in group.files
                ),
            )
            for group in self.library.duplicates()
        )

    def rows(self, paths: Sequence[Path]) -> tuple[ItemRow | None, ...]:
        """Each file's current details (size, dates, thumbnail key, indexed, tags, place),
        unranked."""
        records = [self.library.file(path) for path in paths]
        places = self.library.catalog.places_of(r.id for r in records if r is not None)
        found: list[ItemRow | None] = []
        for record in records:
            if record is None or record.status == OFFLINE:
                found.append(None)
            else:
                shown = results.ResultFile(record, results.thumb_key(record), results.BY_DATE)
                tags = tuple(t.name for t in self.library.tagging.of(record))
                found.append(_row(shown, tags, places.get(record.id)))
        return tuple(found)

    # -- pictures -------------------------------------------------------------------------

    def thumbnails(self, wanted: Sequence[tuple[Path, str, str, float | None]]) -> list[str | None]:
        """Cached thumbnail files for (path, thumb_key, kind, at_s), made when missing.

        A video's thumbnail is its frame at ``at_s`` (the moment a search matched), else a frame
        a tenth of the way in.
        """
        made: list[str | None] = []
        priority = self.library.priority
        for path, key, kind, at_s in wanted:
            with priority.background():  # a query being answered goes first (the GIL, the cores)
                priority.checkpoint()
            render: Renderer | None = None
            if kind == "video" and at_s is not None:
                render = functools.partial(_frame_at, at_s=at_s)
            elif kind in ("document", "video"):
                render = document_thumbnail
            try:
                thumbnail = self._thumbnails.get(path, key, render)
            except (OSError, ValueError) as exc:
                log.info("no thumbnail for %s: %s", path, exc)
                thumbnail = None
            made.append(str(thumbnail) if thumbnail is not None else None)
        return made

    def picture(
        self, path: Path, kind: str, max_side: int, at_s: float | None = None
    ) -> tuple[bytes | None, dict[str, Any]]:
        """A preview of ``path`` encoded as JPEG (PNG when transparent), and its EXIF details.

        A video shows its frame at ``at_s``, else a frame a tenth of the way in.
        """
        details: dict[str, Any] = {}
        try:
            if kind == "video" and at_s is not None:
                image = video_frame(path, at_s, max_side)
            elif kind in ("document", "video"):
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

    def video_strip(
        self, path: Path, count: int, max_side: int
    ) -> tuple[float | None, list[tuple[float, bytes]]]:
        """A video's duration and ``count`` frames spread over it, as (seconds, JPEG) pairs.

        Raises ``LumenError`` (a video that cannot be read) with the reason.
        """
        duration, frames = frame_strip(path, count, max_side)
        encoded = []
        for frame in frames:
            buffer = io.BytesIO()
            frame.image.save(buffer, format="JPEG", quality=85)
            encoded.append((frame.at_s, buffer.getvalue()))
        return duration, encoded

    # -- writes ---------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path] | None,
        progress: Callable[[Progress], None],
        cancel: threading.Event,
        on_change: ChangeSink | None = None,
    ) -> IndexSummary:
        """Add ``paths`` as folders (if given) and index new or changed files.

        When another Lumen (``lumen watch``) is indexing this library, the run is handed to it
        (or waits for it): ``progress`` hears phase "waiting" meanwhile. The run's writes let
        go of the kinds resolved ahead: they are resolved again in the background.
        """
        try:
            return self.library.index(
                list(paths) if paths else None, progress, cancel, on_change, hand_off=True
            )
        finally:
            self._warm_up.after_writes()

    def add_folder(self, path: Path) -> Folder:
        return self.library.add_folder(path)

    def remove_folder(self, path: Path) -> FileChanges:
        return self._edited(self.library.remove_folder(path))

    def set_folder_paused(self, path: Path, paused: bool) -> FileChanges:
        return self._edited(self.library.set_folder_paused(path, paused))

    def set_watching(self, on: bool, on_change: ChangeSink) -> bool:
        """Follow changes in the watched folders as they happen (the core's FolderWatcher), or stop.

        ``on_change`` hears what changed, from the watcher's thread; once its writes stop, the
        kinds resolved ahead are resolved again in the background. Stopping (the window
        paused) also stops being the library's writer until the next index run.
        """
        with self._watch_lock:
            if on and self._watcher is None and not self._closed:
                watcher = FolderWatcher(
                    self.library, on_change=on_change, on_settled=self._warm_up.after_writes
                )
                watcher.start(reconcile=False)  # the window has just run a full index itself
                self._watcher = watcher
            elif not on and self._watcher is not None:
                self._watcher.stop()
                self._watcher = None
                # Paused: let `lumen index` run meanwhile instead of waiting for the window.
                self.library.release_writer()
            return self._watcher is not None

    def close(self) -> None:
        """Stop following changes (a batch in progress is cancelled; finished files are kept)
        and stop a download of the model (closing must not wait for it)."""
        self.cancel_download()
        self._warm_up.close()
        with self._watch_lock:
            self._closed = True
            if self._watcher is not None:
                self._watcher.stop()
                self._watcher = None

    def exclusions(self) -> tuple[str, ...]:
        return tuple(self.library.exclusions())

    def exclude(self, pattern: str) -> FileChanges:
        return self._edited(self.library.exclude(pattern))

    def include(self, pattern: str) -> FileChanges:
        return self._edited(self.library.include(pattern))

    def forget(self, paths: Sequence[Path]) -> FileChanges:
        changes = FileChanges()
        for path in paths:
            changes += self.library.forget(path)
        return self._edited(changes)

    def set_tag(self, path: Path, tag: str, present: bool) -> FileChanges:
        """Give a file a tag of the user's, or take it away."""
        return self._edited(self.library.set_tag(path, tag, present))

    def _edited(self, changes: FileChanges) -> FileChanges:
        """After an edit (it wrote): the kinds resolved ahead again, in the background."""
        self._warm_up.after_writes()
        return changes


def _frame_at(path: Path, size: int, at_s: float) -> Image.Image:
    return video_frame(path, at_s, size)


def _row(
    found: results.ResultFile, tags: tuple[str, ...] = (), place: Place | None = None
) -> ItemRow:
    """A result as an ``ItemRow`` (see ``Col`` for the order); ``tags`` when it is no hit."""
    record, hit = found.file, found.hit
    modified = record.mtime_ns / 1e9
    taken = record.taken_at
    return (
        str(record.path),
        record.kind,
        record.size,
        modified,
        taken.timestamp() if taken is not None else modified,
        taken.isoformat() if taken is not None else None,
        found.thumb_key,
        record.status == INDEXED,
        record.width,
        record.height,
        record.camera,
        record.title,
        record.page_count,
        hit.relevance if hit is not None else None,  # 0–100, what results are ordered by
        found.relevant,
        found.match,
        hit.page if hit is not None else None,
        hit.passage if hit is not None else None,
        hit.at_s if hit is not None else None,
        record.duration_s,
        tuple(str(p) for p in hit.companions) if hit is not None else (),
        (hit.why.describe() or None) if hit is not None else None,
        hit.why.words if hit is not None else (),
        hit.tags if hit is not None else tags,
        place.label if place is not None else None,
    )
