"""Bridges from backend threads and Qt thread pools to signals on the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from desktop_app.core.errors import LumenError
from desktop_app.gui import backend as backend_events
from desktop_app.gui.backend import Backend, BackendError
from desktop_app.gui.protocol import (
    MODEL_LOADING,
    IndexOutcome,
    IndexProgress,
    LibraryInfo,
    ModelState,
    Query,
    QueryResult,
)

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


def describe(exc: BaseException) -> tuple[str, str]:
    """A message for the user and the technical details (empty for environment errors)."""
    if isinstance(exc, LumenError):
        return str(exc), ""
    if isinstance(exc, BackendError):
        return str(exc), exc.details
    return f"{type(exc).__name__}: {exc}", ""


class LibraryBridge(QObject):
    """The window's handle on the library. Call it on the GUI thread; its signals arrive there.

    Searches are latest-wins: while one runs, newer ones replace each other in a one-slot
    queue, and an answer to anything but the latest query is dropped (a generation counter).
    """

    ready = Signal(object)  # LibraryInfo
    fatal = Signal(str)  # the library could not be opened
    died = Signal(str)  # the library process stopped
    info_changed = Signal(object)  # LibraryInfo
    files_changed = Signal(object)  # tuple[Path, ...]: re-run the current query
    results = Signal(object)  # QueryResult of the latest query
    query_failed = Signal(object, str)  # Query, message
    model_state = Signal(object)  # ModelState
    index_started = Signal()
    index_progress = Signal(object)  # IndexProgress
    index_finished = Signal(object)  # IndexOutcome
    index_failed = Signal(str)
    error = Signal(str, str, str)  # title, message, details

    _event = Signal(str, object)
    _done = Signal(object, object)  # (callback, future)

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
        self._is_ready = False
        self._generation = 0
        self._search_running = False
        self._queued_search: tuple[int, Query] | None = None
        self._index_job: backend_events.Job | None = None
        self._index_again: list[Path] | bool | None = False
        self._closed = False

    # -- lifetime -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library (in the background); ``ready`` or ``fatal`` follows."""
        self._is_ready = False
        self._backend = self._make_backend(self._event.emit)
        self._backend.start()

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
        self._search_running = False
        self._queued_search = None
        self.start()

    @property
    def is_ready(self) -> bool:
        return self._is_ready and self._backend is not None

    @property
    def indexing(self) -> bool:
        return self._index_job is not None

    # -- calls ----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        *args: Any,
        done: Done | None = None,
        failed: Failed | None = None,
        title: str = "Lumen",
    ) -> None:
        """Run a library call off the GUI thread; ``done``/``failed`` run on the GUI thread."""
        if not self.is_ready:
            if failed is not None:
                failed(BackendError("The library is not open yet"))
            return
        assert self._backend is not None

        def finish(future: Future[Any]) -> None:
            exc = future.exception()
            if exc is None:
                if done is not None:
                    done(future.result())
            elif failed is not None:
                failed(exc)
            else:
                self.error.emit(title, *describe(exc))

        try:
            job = self._backend.call(method, *args)
        except BackendError as exc:
            finish(_failed_future(exc))
            return
        self._when_done(job.future, finish)

    def request(self, method: str, *args: Any) -> Future[Any] | None:
        """Start a library call from any thread and return its future (None when not open)."""
        backend = self._backend
        if backend is None or not self._is_ready:
            return None
        try:
            return backend.call(method, *args).future
        except BackendError:
            return None

    def refresh_info(self) -> None:
        self.call("info", done=self.info_changed.emit, failed=lambda _e: None)

    def search(self, query: Query) -> None:
        """Ask for ``query``'s results; older queries still waiting are dropped."""
        self._generation += 1
        if self._search_running:
            self._queued_search = (self._generation, query)
            return
        self._start_search(self._generation, query)

    def _start_search(self, generation: int, query: Query) -> None:
        if not self.is_ready or self._backend is None:
            return
        self._search_running = True
        try:
            job = self._backend.call("query", query)
        except BackendError as exc:
            self._search_running = False
            self.query_failed.emit(query, str(exc))
            return
        self._when_done(job.future, lambda f: self._search_done(generation, query, f))

    def _search_done(self, generation: int, query: Query, future: Future[Any]) -> None:
        self._search_running = False
        if self._queued_search is not None:
            queued, self._queued_search = self._queued_search, None
            self._start_search(*queued)
        if generation != self._generation or self._closed:
            return  # a newer query was asked for meanwhile
        exc = future.exception()
        if exc is None:
            result: QueryResult = future.result()
            self.results.emit(result)
        else:
            self.query_failed.emit(query, describe(exc)[0])

    def warm_model(self, model: str) -> None:
        """Load the model in the background; ``model_state`` reports loading, then the outcome."""
        self.model_state.emit(ModelState(MODEL_LOADING, model))
        self.call(
            "warm_model",
            done=self.model_state.emit,
            failed=lambda exc: self.error.emit("Model", *describe(exc)),
        )

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
        if not self.is_ready or self._backend is None:
            return
        self._index_again = False
        job = self._backend.call("index", paths, progress=lambda p: self._event.emit("progress", p))
        self._index_job = job
        self.index_started.emit()
        self._when_done(job.future, self._index_done)

    def cancel_indexing(self) -> None:
        """Stop the current run after the file in hand; what was finished is kept."""
        self._index_again = False
        if self._index_job is not None:
            self._index_job.cancel()

    def _index_done(self, future: Future[Any]) -> None:
        self._index_job = None
        exc = future.exception()
        if exc is None:
            outcome: IndexOutcome = future.result()
            self.index_finished.emit(outcome)
        else:
            self.index_failed.emit(describe(exc)[0])
        self.refresh_info()
        again = self._index_again
        if again is not False and not self._closed:
            self._index_again = False
            self.index(again if isinstance(again, list) else None)

    # -- plumbing -------------------------------------------------------------------------

    def _when_done(self, future: Future[Any], callback: Callable[[Future[Any]], None]) -> None:
        future.add_done_callback(lambda f: self._done.emit(callback, f))

    @Slot(object, object)
    def _on_done(self, callback: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        callback(future)

    @Slot(str, object)
    def _on_event(self, name: str, value: Any) -> None:
        if name == "progress":
            progress: IndexProgress = value
            self.index_progress.emit(progress)
        elif name == backend_events.READY:
            info: LibraryInfo = value
            self._is_ready = True
            self.ready.emit(info)
        elif name == backend_events.FATAL:
            self.fatal.emit(str(value))
        elif name == backend_events.CHANGES:
            self.files_changed.emit(value)
        elif name == backend_events.DIED and not self._closed:
            self._is_ready = False
            self._index_job = None
            self._search_running = False
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


Fetch = Callable[..., "Future[Any] | None"]
"""Starts a library call from any thread (``LibraryBridge.request``); None when not open."""

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
        self._queue: deque[tuple[str, Path, str]] = deque()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._draining = 0

    def request(self, key: str, path: Path, kind: str) -> None:
        """Ask for ``key``'s thumbnail; the latest requests are served first."""
        with self._lock:
            if key in self._queued:
                return
            self._queue.append((key, path, kind))
            self._queued.add(key)
            while len(self._queue) > self.MAX_QUEUE:
                dropped, _, _ = self._queue.popleft()
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
            for (key, _path, _kind), made in zip(batch, files, strict=True):
                with self._lock:
                    self._queued.discard(key)
                if made is not False:  # False: unknown (library busy or closed); asked again later
                    self.loaded.emit(key, QImage(made) if isinstance(made, str) else QImage())

    def _files(self, batch: list[tuple[str, Path, str]]) -> list[str | bool | None]:
        future = self._fetch("thumbnails", [(path, key, kind) for key, path, kind in batch])
        try:
            made: list[str | None] = future.result(FETCH_TIMEOUT_S) if future else []
        except Exception as exc:  # the host went away or a bug there: do not mark files as bad
            log.info("Thumbnails not available: %s", exc)
            made = []
        return list(made) if len(made) == len(batch) else [False] * len(batch)


class PreviewLoader(QObject):
    """Loads one large picture (and EXIF details) at a time; a newer request replaces older ones."""

    loaded = Signal(int, QImage, object)  # ticket, image, dict of extra details

    def __init__(self, fetch: Fetch) -> None:
        super().__init__()
        self._fetch = fetch
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._ticket = 0

    def load(self, path: Path, kind: str, max_side: int) -> int:
        self._ticket += 1
        ticket = self._ticket
        self._pool.clear()  # a preview asked for before this one is no longer wanted
        self._pool.start(_Drain(lambda: self._work(ticket, path, kind, max_side)))
        return ticket

    def wait(self, msecs: int = 10_000) -> bool:
        self._pool.clear()
        return self._pool.waitForDone(msecs)

    def _work(self, ticket: int, path: Path, kind: str, max_side: int) -> None:
        future = self._fetch("picture", path, kind, max_side)
        data: bytes | None = None
        details: dict[str, Any] = {}
        try:
            if future is None:
                details["error"] = "The library is not open"
            else:
                data, details = future.result(FETCH_TIMEOUT_S)
        except Exception as exc:
            details = {"error": describe(exc)[0]}
        image = QImage.fromData(data) if data else QImage()
        self.loaded.emit(ticket, image, details)
