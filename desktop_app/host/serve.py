"""The library host process: open the library, then serve calls from the pipe until told to stop."""

from __future__ import annotations

import functools
import logging
import multiprocessing.connection
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from desktop_app.config import Settings
from desktop_app.core.memory import limit_heap_growth
from desktop_app.host.protocol import CHANGES, DOWNLOAD, FATAL, READY, BackendError

if TYPE_CHECKING:
    from desktop_app.host.dispatcher import Dispatcher
    from desktop_app.host.service import LibraryService

log = logging.getLogger(__name__)

ProgressSink = Callable[[Any], None]


def host_main(
    conn: multiprocessing.connection.Connection, settings: Settings, log_level: int
) -> None:
    """The library host process: open the library, serve calls until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the window decides when this process stops
    limit_heap_growth()
    one_blas_thread()
    # No ``nice``: that made indexing give way to every program on a busy machine. The window's
    # queries go first through the library's QueryPriority (indexing waits while one runs).
    logging.basicConfig(level=log_level, format="lumen-library %(levelname)s: %(message)s")
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        try:
            with send_lock:
                conn.send(message)
        except (OSError, ValueError):
            pass  # the window went away; the main loop notices and stops

    from desktop_app.core.errors import LumenError
    from desktop_app.host.dispatcher import Dispatcher

    try:
        service = open_service(settings, lambda name, value: send(("event", name, value)))
    except LumenError as exc:
        send(("event", FATAL, str(exc)))
        return
    library = service.library
    dispatcher = Dispatcher(service, lambda changes: send(("event", CHANGES, changes)))
    send(("event", READY, service.info()))
    try:
        _serve(conn, dispatcher, send)
    finally:
        dispatcher.shutdown()
        library.close()
        conn.close()


def one_blas_thread() -> None:
    """numpy's BLAS on one thread, for the whole process (set once, from its main thread).

    A query multiplies small matrices (a 2,000-vector background sample by the query, a page
    of candidates' vectors): memory-bound work a second OpenBLAS thread cannot speed up, and on a
    busy 2-core machine the two wait for each other: a 2000×512 product took 1.4–10 ms on two
    threads against 0.5 ms on one. (A limit per query would be process-wide all the same, and
    OpenBLAS did not always take back a limit raised again from another thread.)
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def open_service(settings: Settings, on_event: Callable[[str, Any], None]) -> LibraryService:
    """The library of ``settings``, served; a download of the model's weights is reported as
    ``DOWNLOAD`` events (and can be cancelled with ``LibraryService.cancel_download``)."""
    from desktop_app.core.embedding.weights import DownloadControl
    from desktop_app.core.library import Library, default_embedder_loader
    from desktop_app.host.service import LibraryService

    downloads = DownloadControl(lambda progress: on_event(DOWNLOAD, progress))
    loader = functools.partial(default_embedder_loader, on_download=downloads)
    return LibraryService(Library.open(settings, loader), downloads)


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
        _, rid, lane, method, args = message
        progress = _progress_sender(rid, send)
        try:
            future = dispatcher.submit(rid, lane, method, args, progress)
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
    """The exception itself when it is a user-facing error that survives the pipe (pickled and
    rebuilt: an ``__init__`` that does not take its message back breaks the window's reader),
    else a BackendError."""
    from desktop_app.core.errors import LumenError

    if isinstance(exc, LumenError):
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            return BackendError(str(exc))
        return exc
    details = "".join(traceback.format_exception(exc))
    log.error("Library call failed:\n%s", details)
    return BackendError(f"{type(exc).__name__}: {exc}", details)
