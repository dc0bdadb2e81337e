"""Runs service calls on their lanes (anki's taskman): a reader pool, the one writer, the model
loader and the picture makers. The same code serves the host process and ``LocalBackend``.

The WRITE lane is the library's writer thread itself (``Writer.submit``): every edit runs
there, in order. Indexing and following changes run on a thread of their own beside it and hand
each of their writes to it, so an edit waits for one batch of a run at most."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from desktop_app.core.records import FileChanges
from desktop_app.core.superseded import cancellable, stop_if_superseded
from desktop_app.host.protocol import MEDIA, MODEL, READ, WRITE
from desktop_app.host.service import LibraryService

ProgressSink = Callable[[Any], None]
RUNS = frozenset({"index", "set_watching"})  # WRITE calls that run beside the writer thread
QUERIES = frozenset({"query"})  # READ calls a newer one may cancel (the window's typing)


class Dispatcher:
    """Runs ``LibraryService`` calls on the lane the client named for each."""

    def __init__(self, service: LibraryService, on_change: Callable[[FileChanges], None]):
        self.service = service
        self._on_change = on_change
        self._lanes: dict[str, ThreadPoolExecutor] = {
            READ: ThreadPoolExecutor(2, thread_name_prefix="lumen-read"),
            MODEL: ThreadPoolExecutor(1, thread_name_prefix="lumen-model"),
            MEDIA: ThreadPoolExecutor(2, thread_name_prefix="lumen-media"),
        }
        # Index runs and the folder watcher's control: long calls whose writes go to the writer.
        self._runs = ThreadPoolExecutor(1, thread_name_prefix="lumen-index")
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(
        self, rid: int, lane: str, method: str, args: tuple[Any, ...], progress: ProgressSink
    ) -> Future[Any]:
        """Start ``method(*args)`` on ``lane``; ValueError for an unknown call or lane."""
        function: Callable[..., Any] | None = getattr(self.service, method, None)
        known = lane == WRITE or lane in self._lanes
        if not known or function is None or method.startswith("_") or method == "close":
            raise ValueError(f"unknown library call {method!r} on lane {lane!r}")
        if lane == WRITE and method not in RUNS:
            return self.service.library.writer.submit(function, *args)
        executor = self._runs if lane == WRITE else self._lanes[lane]
        if method == "set_watching":
            return executor.submit(function, *args, self._on_change)
        if method in QUERIES:
            cancel = self._cancel_event(rid)
            future = executor.submit(_cancellable_call, cancel, function, *args)
        elif method == "index":
            cancel = self._cancel_event(rid)
            future = executor.submit(function, *args, progress, cancel, self._on_change)
        else:
            return executor.submit(function, *args)
        future.add_done_callback(lambda _f: self._forget_cancel(rid))
        return future

    def _cancel_event(self, rid: int) -> threading.Event:
        cancel = threading.Event()
        with self._lock:
            self._cancels[rid] = cancel
        return cancel

    def cancel(self, rid: int) -> None:
        """Stop the call ``rid`` at its next checkpoint (an index run, a superseded query)."""
        with self._lock:
            event = self._cancels.get(rid)
        if event is not None:
            event.set()

    def _forget_cancel(self, rid: int) -> None:
        with self._lock:
            self._cancels.pop(rid, None)

    def shutdown(self) -> None:
        """Stop indexing (finished files are kept) and wait for every lane to finish."""
        with self._lock:
            for event in self._cancels.values():
                event.set()
        self.service.close()
        for lane in (READ, MEDIA, MODEL):
            self._lanes[lane].shutdown(wait=True, cancel_futures=True)
        self._runs.shutdown(wait=True, cancel_futures=True)


def _cancellable_call(cancel: threading.Event, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` as a query that stops at its next step once ``cancel`` is set (at
    once when it was superseded while waiting for a thread)."""
    with cancellable(cancel):
        stop_if_superseded()
        return function(*args)
