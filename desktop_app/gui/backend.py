"""Where the library lives: a host process (the default) or the window's own process.

Importing torch and creating the model hold the GIL for long stretches; in a thread of the
window's process that froze the event loop for up to ~1 s on a 2-core machine, while the same
work in another process cost the window at most ~70 ms (see the report in docs). So the app
runs the ``Library`` in a host process and talks to it through a pipe. ``LocalBackend`` keeps
it in-process, for tests and ``--in-process``. Both run calls on the same lanes (anki's
taskman): one writer, a small reader pool, and one lane that loads the model.

Nothing here imports Qt: the host process never loads it. Callbacks fire on backend threads.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop_app.config import Settings

if TYPE_CHECKING:
    from desktop_app.gui.service import LibraryService

log = logging.getLogger(__name__)

READS = frozenset({"info", "failures", "query", "add_folder", "set_folder_paused"})
WRITES = frozenset({"index", "remove_folder", "forget", "set_watching"})
MODEL = frozenset({"warm_model"})
MEDIA = frozenset({"thumbnails", "picture"})

# Events a backend reports, with their value.
READY = "ready"  # LibraryInfo: the library is open, calls may start
FATAL = "fatal"  # str: the library could not be opened
CHANGES = "changes"  # tuple[Path, ...]: files whose place in results changed (indexing, watcher)
DIED = "died"  # str: the host process stopped unexpectedly

HOST_NICENESS = 5

EventSink = Callable[[str, Any], None]
ProgressSink = Callable[[Any], None]


class BackendError(Exception):
    """The library host failed (a bug there, or it went away); ``details`` has the traceback."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class Job:
    """A call in flight: its future, and a way to ask it to stop (only indexing listens)."""

    def __init__(self, future: Future[Any], cancel: Callable[[], None]) -> None:
        self.future = future
        self._cancel = cancel

    def cancel(self) -> None:
        self._cancel()


class Backend(Protocol):
    """Runs ``LibraryService`` calls somewhere; every method is non-blocking and thread-safe."""

    def start(self) -> None: ...

    def call(self, method: str, *args: Any, progress: ProgressSink | None = None) -> Job: ...

    def close(self, timeout: float = 30.0) -> None: ...


class Dispatcher:
    """Runs service calls on their lanes; the same code serves both backends."""

    def __init__(self, service: LibraryService, on_change: Callable[[tuple[Path, ...]], None]):
        self.service = service
        self._on_change = on_change
        self._reads = ThreadPoolExecutor(2, thread_name_prefix="lumen-read")
        self._writes = ThreadPoolExecutor(1, thread_name_prefix="lumen-write")
        self._model = ThreadPoolExecutor(1, thread_name_prefix="lumen-model")
        self._media = ThreadPoolExecutor(2, thread_name_prefix="lumen-media")
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(
        self, rid: int, method: str, args: tuple[Any, ...], progress: ProgressSink
    ) -> Future[Any]:
        if method in READS:
            lane = self._reads
        elif method in WRITES:
            lane = self._writes
        elif method in MODEL:
            lane = self._model
        elif method in MEDIA:
            lane = self._media
        else:
            raise ValueError(f"unknown library call {method!r}")
        function: Callable[..., Any] = getattr(self.service, method)
        if method == "set_watching":
            return lane.submit(function, *args, self._on_change)
        if method != "index":
            return lane.submit(function, *args)
        cancel = threading.Event()
        with self._lock:
            self._cancels[rid] = cancel
        future = lane.submit(function, *args, progress, cancel, self._on_change)
        future.add_done_callback(lambda _f: self._forget_cancel(rid))
        return future

    def cancel(self, rid: int) -> None:
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
        for lane in (self._reads, self._media, self._model, self._writes):
            lane.shutdown(wait=True, cancel_futures=True)


class LocalBackend:
    """The library in this process, on worker threads (tests, ``--in-process``)."""

    def __init__(
        self,
        open_service: Callable[[], LibraryService],
        on_event: EventSink,
        close_library: bool = True,
    ) -> None:
        self._open_service = open_service
        self._on_event = on_event
        self._close_library = close_library
        self._dispatcher: Dispatcher | None = None
        self._ready = threading.Event()
        self._ids = itertools.count(1)
        self._opener: threading.Thread | None = None

    def start(self) -> None:
        self._opener = threading.Thread(target=self._open, name="lumen-open", daemon=True)
        self._opener.start()

    def _open(self) -> None:
        from desktop_app.core.errors import LumenError

        try:
            service = self._open_service()
            self._dispatcher = Dispatcher(service, lambda paths: self._on_event(CHANGES, paths))
            info = service.info()
        except LumenError as exc:
            self._on_event(FATAL, str(exc))
            return
        self._ready.set()
        self._on_event(READY, info)

    def call(self, method: str, *args: Any, progress: ProgressSink | None = None) -> Job:
        rid = next(self._ids)
        if not self._ready.is_set() or self._dispatcher is None:
            raise BackendError("The library is not open yet")
        future = self._dispatcher.submit(rid, method, args, progress or _ignore)
        dispatcher = self._dispatcher
        return Job(future, lambda: dispatcher.cancel(rid))

    def close(self, timeout: float = 30.0) -> None:
        if self._opener is not None:
            self._opener.join(timeout)
        if self._dispatcher is not None:
            self._dispatcher.shutdown()
            if self._close_library:
                self._dispatcher.service.library.close()


class ProcessBackend:
    """The library in a host process ("lumen-library"), reached through a pipe."""

    def __init__(self, settings: Settings, on_event: EventSink, log_level: int = logging.WARNING):
        self._settings = settings
        self._on_event = on_event
        self._log_level = log_level
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Future[Any], ProgressSink | None]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._conn: multiprocessing.connection.Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: threading.Thread | None = None
        self._closing = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=host_main,
            args=(child, self._settings, self._log_level),
            name="lumen-library",
            daemon=True,
        )
        self._process.start()
        child.close()
        self._reader = threading.Thread(target=self._read, name="lumen-host-reader", daemon=True)
        self._reader.start()

    def call(self, method: str, *args: Any, progress: ProgressSink | None = None) -> Job:
        rid = next(self._ids)
        future: Future[Any] = Future()
        with self._lock:
            self._pending[rid] = (future, progress)
        try:
            self._send(("call", rid, method, args))
        except (OSError, ValueError) as exc:
            with self._lock:
                self._pending.pop(rid, None)
            future.set_exception(BackendError(f"The library process is not running ({exc})"))
        return Job(future, lambda: self._send_quietly(("cancel", rid)))

    def close(self, timeout: float = 30.0) -> None:
        """Ask the host to stop (it saves its work), then wait for it."""
        self._closing = True
        self._send_quietly(("shutdown",))
        if self._reader is not None:
            self._reader.join(timeout)
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                log.warning("The library process did not stop in time; ending it")
                self._process.terminate()
                self._process.join(5)
        if self._conn is not None:
            self._conn.close()

    def _send(self, message: tuple[Any, ...]) -> None:
        if self._conn is None:
            raise OSError("not started")
        with self._send_lock:
            self._conn.send(message)

    def _send_quietly(self, message: tuple[Any, ...]) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._send(message)

    def _read(self) -> None:
        assert self._conn is not None
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # an answer that cannot be unpickled: a bug
                log.exception("Unreadable message from the library process")
                self._on_event(DIED, f"Unreadable message from the library process: {exc}")
                break
            self._dispatch(message)
        self._fail_pending()

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "event":
            self._on_event(message[1], message[2])
            return
        rid = message[1]
        with self._lock:
            entry = self._pending.get(rid) if kind == "progress" else self._pending.pop(rid, None)
        if entry is None:
            return
        future, progress = entry
        if kind == "progress":
            if progress is not None:
                progress(message[2])
        elif kind == "result":
            future.set_result(message[2])
        elif kind == "error":
            future.set_exception(message[2])

    def _fail_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        error = BackendError("The library process stopped")
        for future, _progress in pending.values():
            future.set_exception(error)
        if not self._closing:
            code = self._process.exitcode if self._process is not None else None
            if self._process is not None and code is None:
                self._process.join(2)
                code = self._process.exitcode
            self._on_event(DIED, f"The library process stopped unexpectedly (exit code {code}).")


def host_main(
    conn: multiprocessing.connection.Connection, settings: Settings, log_level: int
) -> None:
    """The library host process: open the library, serve calls until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the window decides when this process stops
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(HOST_NICENESS)  # indexing yields the CPU to the window (and to everything else)
    logging.basicConfig(level=log_level, format="lumen-library %(levelname)s: %(message)s")
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        try:
            with send_lock:
                conn.send(message)
        except (OSError, ValueError):
            pass  # the window went away; the main loop notices and stops

    from desktop_app.core.errors import LumenError
    from desktop_app.core.library import Library
    from desktop_app.gui.service import LibraryService

    try:
        library = Library.open(settings)
    except LumenError as exc:
        send(("event", FATAL, str(exc)))
        return
    service = LibraryService(library)
    dispatcher = Dispatcher(service, lambda paths: send(("event", CHANGES, paths)))
    send(("event", READY, service.info()))
    try:
        _serve(conn, dispatcher, send)
    finally:
        dispatcher.shutdown()
        library.close()
        conn.close()


def _serve(
    conn: multiprocessing.connection.Connection,
    dispatcher: Dispatcher,
    send: Callable[[tuple[Any, ...]], None],
) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the window is gone: stop, keeping what was indexed
        if message[0] == "shutdown":
            return
        if message[0] == "cancel":
            dispatcher.cancel(message[1])
            continue
        _, rid, method, args = message
        progress = _progress_sender(rid, send)
        try:
            future = dispatcher.submit(rid, method, args, progress)
        except Exception as exc:
            send(("error", rid, _portable(exc)))
            continue
        future.add_done_callback(_answerer(rid, send))


def _answerer(rid: int, send: Callable[[tuple[Any, ...]], None]) -> Callable[[Future[Any]], None]:
    return lambda future: _answer(rid, future, send)


def _progress_sender(rid: int, send: Callable[[tuple[Any, ...]], None]) -> ProgressSink:
    return lambda value: send(("progress", rid, value))


def _answer(rid: int, future: Future[Any], send: Callable[[tuple[Any, ...]], None]) -> None:
    if future.cancelled():
        send(("error", rid, BackendError("cancelled")))
        return
    exc = future.exception()
    if exc is None:
        send(("result", rid, future.result()))
    else:
        send(("error", rid, _portable(exc)))


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it pickles and is a user-facing error, else a BackendError."""
    from desktop_app.core.errors import LumenError

    if isinstance(exc, LumenError):
        try:
            pickle.dumps(exc)
        except Exception:
            return BackendError(str(exc))
        return exc
    details = "".join(traceback.format_exception(exc))
    log.error("Library call failed:\n%s", details)
    return BackendError(f"{type(exc).__name__}: {exc}", details)


def _ignore(_value: Any) -> None:
    pass
