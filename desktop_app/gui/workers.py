"""Bridges from backend threads and Qt thread pools to signals on the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from desktop_app.core.errors import LumenError
from desktop_app.core.records import readable
from desktop_app.gui.search_lane import SearchLane
from desktop_app.host import protocol as events
from desktop_app.host.client import Backend, BackendError, Call, LibraryClient
from desktop_app.host.protocol import (
    MODEL_LOADING,
    FileChanges,
    IndexSummary,
    LibraryStatus,
    ModelState,
    Progress,
    Query,
    QueryResult,
)

R = TypeVar("R")

log = logging.getLogger(__name__)

Failed = Callable[[BaseException], None]


def describe(exc: BaseException) -> tuple[str, str]:
    """A message for the user and the technical details (empty for environment errors)."""
    if isinstance(exc, LumenError):  # (paths in it may hold bytes that are not UTF-8)
        return readable(str(exc)), ""
    if isinstance(exc, BackendError):
        return readable(str(exc)), readable(exc.details)
    return readable(f"{type(exc).__name__}: {exc}"), ""


class LibraryBridge(QObject):
    """The window's handle on the library. Call it on the GUI thread; its signals arrive there.

    Searches are latest-wins (``SearchLane``): the newest is sent at once and the older ones
    told to stop; faster typing waits in a one-slot queue, and an answer to anything but the
    latest query is dropped (a generation counter).
    """

    ready = Signal(object)  # LibraryStatus
    fatal = Signal(str)  # the library could not be opened
    died = Signal(str)  # the library process stopped
    info_changed = Signal(object)  # LibraryStatus
    files_changed = Signal(object)  # FileChanges: what changed in the library
    results = Signal(object)  # QueryResult of the latest query
    query_failed = Signal(object, str)  # Query, message
    model_state = Signal(object)  # ModelState
    download = Signal(object)  # DownloadProgress: the model's weights are being downloaded
    index_started = Signal()
    index_progress = Signal(object)  # Progress
    index_finished = Signal(object)  # IndexSummary
    index_failed = Signal(str)
    error = Signal(str, str, str)  # title, message, details

    # Both carry the generation of the backend they came from: what a closed backend still
    # delivers (its queued events, its calls failed by the close) is dropped, not shown.
    _event = Signal(int, str, object)  # (generation, name, value)
    _done = Signal(int, object, object)  # (generation, callback, future)

    def __init__(
        self, make_backend: Callable[[Callable[[str, Any], None]], Backend], watch: bool = False
    ) -> None:
        """``watch``: follow file changes in the folders between indexing runs (the app does)."""
        super().__init__()
        self.watch = watch
        self._event.connect(self._on_event)
        self._done.connect(self._on_done)
        self._make_backend = make_backend
        self._backend: Backend | None = None
        self._backend_generation = 0
        self._is_ready = False
        self._searches = SearchLane(lambda: self.client, self._search_sent, self.query_failed.emit)
        self._index_job: Call[IndexSummary] | None = None
        self._index_again: list[Path] | bool | None = False
        self._index_when_open: list[Path] | None = None  # folders given before the library opened
        self._closed = False

    # -- lifetime -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library (in the background); ``ready`` or ``fatal`` follows."""
        self._is_ready = False
        self._backend_generation += 1
        self._backend = self._make_backend(self._event_sink(self._backend_generation))
        self._backend.start()

    def _event_sink(self, generation: int) -> Callable[[str, Any], None]:
        return lambda name, value: self._event.emit(generation, name, value)

    def close(self, timeout: float = 30.0) -> None:
        """Stop indexing (finished files are kept), save and release the library."""
        self._closed = True
        if self._index_job is not None:
            self._index_job.cancel()
        if self._backend is not None:
            self._backend.close(timeout)
            self._backend = None
        self._is_ready = False

    def restart(self) -> None:
        """Close and open again, e.g. with new settings (the factory reads them)."""
        self.close()
        self._closed = False
        self._index_job = None
        self._searches.reset()
        self.start()

    @property
    def is_ready(self) -> bool:
        return self._is_ready and self._backend is not None

    @property
    def indexing(self) -> bool:
        return self._index_job is not None

    # -- calls ----------------------------------------------------------------------------

    @property
    def client(self) -> LibraryClient | None:
        """The typed client, from any thread; None while the library is not open."""
        backend = self._backend
        return LibraryClient(backend) if backend is not None and self._is_ready else None

    def run(
        self,
        start: Callable[[LibraryClient], Call[R]],
        done: Callable[[R], None] | None = None,
        failed: Failed | None = None,
        title: str = "Lumen",
    ) -> None:
        """Start a library call (``lambda c: c.remove_folder(path)``) off the GUI thread.

        ``done`` gets its typed result, ``failed`` its error, both on the GUI thread; with no
        ``failed``, an error is reported to the user under ``title``.
        """

        def finish(future: Future[R]) -> None:
            exc = future.exception()
            if exc is None:
                if done is not None:
                    done(future.result())
            elif failed is not None:
                failed(exc)
            else:
                self.error.emit(title, *describe(exc))

        client = self.client
        try:
            if client is None:
                raise BackendError("The library is not open yet")
            call = start(client)
        except BackendError as exc:
            finish(_failed_future(exc))
            return
        self._when_done(call.future, finish)

    def refresh_info(self) -> None:
        self.run(lambda c: c.info(), done=self.info_changed.emit, failed=lambda _e: None)

    @property
    def searching(self) -> bool:
        """Whether a search is being answered or waits for its turn."""
        return self._searches.busy

    def search(self, query: Query) -> None:
        """Ask for ``query``'s results; older queries still waiting are dropped."""
        self._searches.ask(query)

    def _search_sent(self, generation: int, query: Query, future: Future[QueryResult]) -> None:
        self._when_done(future, lambda f: self._search_done(generation, query, f))

    def _search_done(self, generation: int, query: Query, future: Future[QueryResult]) -> None:
        if generation != self._searches.generation or self._closed:
            return  # a newer query was asked for meanwhile
        exc = future.exception()
        if exc is None:
            self.results.emit(future.result())
        else:
            self.query_failed.emit(query, describe(exc)[0])

    def warm_model(self, model: str) -> None:
        """Load the model in the background; ``model_state`` reports loading, then the outcome."""
        self.model_state.emit(ModelState(MODEL_LOADING, model))
        self.run(
            lambda c: c.warm_model(),
            done=self.model_state.emit,
            failed=lambda exc: self.error.emit("Model", *describe(exc)),
        )

    def cancel_download(self) -> None:
        """Stop the model's download; ``model_state`` then says it is unavailable, and why."""
        self.run(lambda c: c.cancel_download(), failed=lambda exc: log.info("%s", exc))

    def index(self, paths: list[Path] | None = None) -> None:
        """Index ``paths`` (added as folders) or all folders; queued after a run in progress."""
        if self._index_job is not None:
            if paths is None or self._index_again is None:
                self._index_again = None  # everything
            elif isinstance(self._index_again, list):
                self._index_again += paths
            else:
                self._index_again = list(paths)
            return
        client = self.client
        if client is None:
            if paths:  # (e.g. `lumen-gui ~/Pictures`: the folder comes before the library opens)
                self._index_when_open = (self._index_when_open or []) + list(paths)
            return
        self._index_again = False
        try:
            progress = self._event_sink(self._backend_generation)
            call = client.index(paths, progress=lambda p: progress("progress", p))
        except BackendError as exc:
            self.index_failed.emit(str(exc))
            return
        self._index_job = call
        self.index_started.emit()
        self._when_done(call.future, self._index_done)

    def cancel_indexing(self) -> None:
        """Stop the current run after the file in hand; what was finished is kept."""
        self._index_again = False
        if self._index_job is not None:
            self._index_job.cancel()

    def _index_done(self, future: Future[IndexSummary]) -> None:
        self._index_job = None
        exc = future.exception()
        if exc is None:
            self.index_finished.emit(future.result())
        else:
            self.index_failed.emit(describe(exc)[0])
        self.refresh_info()
        again = self._index_again
        if again is not False and not self._closed:
            self._index_again = False
            self.index(again if isinstance(again, list) else None)

    # -- plumbing -------------------------------------------------------------------------

    def _when_done(self, future: Future[R], callback: Callable[[Future[R]], None]) -> None:
        generation = self._backend_generation
        future.add_done_callback(lambda f: self._done.emit(generation, callback, f))

    def _current(self, generation: int) -> bool:
        """Whether something from backend ``generation`` still matters (it is open, not replaced)."""
        return not self._closed and generation == self._backend_generation

    @Slot(int, object, object)
    def _on_done(
        self, generation: int, callback: Callable[[Future[Any]], None], future: Future[Any]
    ) -> None:
        if self._current(generation):
            callback(future)

    @Slot(int, str, object)
    def _on_event(self, generation: int, name: str, value: Any) -> None:
        if not self._current(generation):
            return  # e.g. "ready" from a host that was told to stop while it was opening
        if name == "progress":
            progress: Progress = value
            self.index_progress.emit(progress)
        elif name == events.READY:
            info: LibraryStatus = value
            self._is_ready = True
            self.ready.emit(info)
            waiting, self._index_when_open = self._index_when_open, None
            if waiting:
                self.index(waiting)
        elif name == events.FATAL:
            self.fatal.emit(str(value))
        elif name == events.DOWNLOAD:
            self.download.emit(value)
        elif name == events.CHANGES:
            changes: FileChanges = value
            self.files_changed.emit(changes)
        elif name == events.DIED:
            self._is_ready = False
            self._index_job = None
            self._searches.reset()
            self.died.emit(str(value))


def _failed_future(exc: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(exc)
    return future


class _Drain(QRunnable):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()


Fetch = Callable[[], LibraryClient | None]
"""The typed client, from any thread (``LibraryBridge.client``); None when not open."""

FETCH_TIMEOUT_S = 120.0


class ThumbnailLoader(QObject):
    """Thumbnails for the grid, newest requests first, in small batches.

    The library host makes (or finds) the cached thumbnail files; this only reads them, on
    its own small pool. ``loaded(key, image)`` arrives on the GUI thread; a null image means
    "this file has no picture".
    """

    loaded = Signal(str, QImage)

    MAX_QUEUE = 400  # requests beyond this (scrolled far past) are dropped, oldest first
    BATCH = 8

    def __init__(self, fetch: Fetch, threads: int = 2) -> None:
        super().__init__()
        self._fetch = fetch
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._queue: deque[tuple[str, Path, str, float | None]] = deque()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._draining = 0

    def request(self, key: str, path: Path, kind: str, at_s: float | None = None) -> None:
        """Ask for ``key``'s thumbnail (a video's frame at ``at_s`` when given); the latest
        requests are served first.
        """
        with self._lock:
            if key in self._queued:
                return
            self._queue.append((key, path, kind, at_s))
            self._queued.add(key)
            while len(self._queue) > self.MAX_QUEUE:
                dropped, _, _, _ = self._queue.popleft()
                self._queued.discard(dropped)
            start = self._draining < self._pool.maxThreadCount()
            if start:
                self._draining += 1
        if start:
            self._pool.start(_Drain(self._drain))

    def forget_queue(self) -> None:
        """Drop requests not started yet (the results they were for are gone)."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()

    def wait(self, msecs: int = 10_000) -> bool:
        self.forget_queue()
        return self._pool.waitForDone(msecs)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining -= 1
                    return
                batch = [self._queue.pop() for _ in range(min(self.BATCH, len(self._queue)))]
            files = self._files(batch)
            for (key, _path, _kind, _at), made in zip(batch, files, strict=True):
                with self._lock:
                    self._queued.discard(key)
                if made is not False:  # False: unknown (library busy or closed); asked again later
                    self.loaded.emit(key, QImage(made) if isinstance(made, str) else QImage())

    def _files(self, batch: list[tuple[str, Path, str, float | None]]) -> list[str | bool | None]:
        client = self._fetch()
        try:
            wanted = [(path, key, kind, at_s) for key, path, kind, at_s in batch]
            made = client.thumbnails(wanted).result(FETCH_TIMEOUT_S) if client else []
        except Exception as exc:  # the host went away or a bug there: do not mark files as bad
            log.info("Thumbnails not available: %s", exc)
            made = []
        return list(made) if len(made) == len(batch) else [False] * len(batch)
