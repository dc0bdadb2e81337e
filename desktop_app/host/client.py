"""The window's typed handle on the library, and the backends that carry its calls.

``LibraryClient`` has one method per library call: typed arguments, a typed ``Call[R]``
(a future) back, and the lane the host runs it on declared beside it. Indexing runs on WRITE,
the one writer, and so do the edits (forget, exclude, remove or pause a folder, tags): each
returns the ``FileChanges`` it made, and takes effect between two batches of a running index.

Where the library lives: a host process (``ProcessBackend``, the default) or this process
(``LocalBackend``, for tests and ``--in-process``). Importing torch and creating the model hold
the GIL for long stretches; in a thread of the window's process that froze the event loop for
up to ~1 s on a 2-core machine, in another process it cost the window at most ~70 ms.

Nothing here imports Qt; callbacks fire on backend threads.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from desktop_app.config import Settings
from desktop_app.core.records import FileChanges, Folder, IndexSummary, LibraryStatus, Progress
from desktop_app.host.protocol import (
    CHANGES,
    DIED,
    FATAL,
    MEDIA,
    MODEL,
    READ,
    READY,
    WRITE,
    BackendError,
    DuplicateRows,
    Failure,
    ItemRow,
    ModelState,
    PersonRow,
    PhotoFaces,
    Query,
    QueryResult,
)
from desktop_app.host.serve import host_main, open_service

if TYPE_CHECKING:
    from desktop_app.core.embedding.heatmap import HeatMap
    from desktop_app.host.dispatcher import Dispatcher
    from desktop_app.host.service import LibraryService

__all__ = ["BackendError", "Call", "LibraryClient", "LocalBackend", "ProcessBackend"]

log = logging.getLogger(__name__)

R = TypeVar("R")
EventSink = Callable[[str, Any], None]
ProgressSink = Callable[[Any], None]


class Call(Generic[R]):
    """A library call in flight: its typed future, and a way to ask it to stop (indexing listens)."""

    def __init__(self, future: Future[R], cancel: Callable[[], None]) -> None:
        self.future = future
        self._cancel = cancel

    def cancel(self) -> None:
        self._cancel()

    def result(self, timeout: float | None = None) -> R:
        """Wait for the answer (raises what the call raised)."""
        return self.future.result(timeout)


class Backend(Protocol):
    """Carries calls to a ``LibraryService``; every method is non-blocking and thread-safe."""

    def start(self) -> None: ...

    def call(
        self, lane: str, method: str, *args: Any, progress: ProgressSink | None = None
    ) -> Call[Any]: ...

    def close(self, timeout: float = 30.0) -> None: ...


class LibraryClient:
    """One typed method per library call; each names the lane the host runs it on.

    Thread-safe: the window calls it from the GUI thread and from its picture loaders.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    # -- reads ----------------------------------------------------------------------------

    def info(self) -> Call[LibraryStatus]:
        return self._backend.call(READ, "info")

    def failures(self) -> Call[tuple[Failure, ...]]:
        return self._backend.call(READ, "failures")

    def exclusions(self) -> Call[tuple[str, ...]]:
        """What is never indexed: folder and file paths, and name patterns (``node_modules``)."""
        return self._backend.call(READ, "exclusions")

    def query(self, query: Query) -> Call[QueryResult]:
        return self._backend.call(READ, "query", query)

    def heat_map(self, path: Path, text: str) -> Call[HeatMap]:
        """Where the photo ``path`` matches ``text``: computed now, for this photo only."""
        return self._backend.call(MEDIA, "heat_map", path, text)

    def places(self) -> Call[tuple[tuple[str, str, int], ...]]:
        """(place key, label, files): each country where files were taken, then its cities."""
        return self._backend.call(READ, "places")

    def duplicates(self) -> Call[tuple[DuplicateRows, ...]]:
        """Groups of photos that are the same picture (copies, edits, bursts), biggest first.

        Not on the read lane: on a large library it takes a while, and searches must not wait.
        """
        return self._backend.call(MEDIA, "duplicates")

    def people(self, everyone: bool = False) -> Call[tuple[PersonRow, ...]]:
        """The people found in the photos, most photos first, each with a face picture
        (``everyone``: also the unnamed ones seen in one photo only).

        On the media lane: cutting the faces out of their photos takes a while.
        """
        return self._backend.call(MEDIA, "people", everyone)

    def name_person(self, person_id: int, name: str) -> Call[PersonRow]:
        return self._backend.call(WRITE, "name_person", person_id, name)

    def merge_people(self, into: int, others: Sequence[int]) -> Call[PersonRow]:
        return self._backend.call(WRITE, "merge_people", into, list(others))

    def faces_in_photo(self, path: Path) -> Call[PhotoFaces]:
        """Who is in the photo, with their boxes (in its full-size pixels)."""
        return self._backend.call(MEDIA, "faces_in_photo", path)

    def this_is(self, face_id: int, person_id: int | None, name: str = "") -> Call[PersonRow]:
        """The face shows ``person_id``, or the person called ``name`` (new if no one is)."""
        return self._backend.call(WRITE, "this_is", face_id, person_id, name)

    def not_this_person(self, face_id: int) -> Call[PersonRow]:
        """Take the face out of its person into a new unnamed one."""
        return self._backend.call(WRITE, "not_this_person", face_id)

    def face_recognition(self) -> Call[tuple[bool, int, int]]:
        """Whether face recognition is on, and the faces and people kept."""
        return self._backend.call(READ, "face_recognition")

    def set_face_recognition(self, on: bool) -> Call[int]:
        """Turn face recognition on, or off (deleting every face descriptor): faces deleted."""
        return self._backend.call(WRITE, "set_face_recognition", on)

    def rows(self, paths: Sequence[Path]) -> Call[tuple[ItemRow | None, ...]]:
        """Each file's current details as a row without a rank (None: not in the library)."""
        return self._backend.call(READ, "rows", list(paths))

    # -- model and pictures ---------------------------------------------------------------

    def warm_model(self) -> Call[ModelState]:
        """Load the model (downloading it if needed: ``DOWNLOAD`` events tell how far)."""
        return self._backend.call(MODEL, "warm_model")

    def cancel_download(self) -> Call[None]:
        """Stop a download of the model's weights (not on MODEL: the download holds that lane)."""
        return self._backend.call(READ, "cancel_download")

    def thumbnails(
        self, wanted: Sequence[tuple[Path, str, str, float | None]]
    ) -> Call[list[str | None]]:
        """Thumbnail files for (path, thumb_key, kind, at_s) (None: the file has no picture);
        a video's is its frame at ``at_s`` (the moment that matched) when given.
        """
        return self._backend.call(MEDIA, "thumbnails", list(wanted))

    def picture(
        self, path: Path, kind: str, max_side: int, at_s: float | None = None
    ) -> Call[tuple[bytes | None, dict[str, Any]]]:
        return self._backend.call(MEDIA, "picture", path, kind, max_side, at_s)

    def video_strip(
        self, path: Path, count: int, max_side: int
    ) -> Call[tuple[float | None, list[tuple[float, bytes]]]]:
        """A video's duration and ``count`` frames spread over it, as (seconds, JPEG) pairs."""
        return self._backend.call(MEDIA, "video_strip", path, count, max_side)

    # -- writes: all on the one writer lane -----------------------------------------------

    def index(
        self, paths: Sequence[Path] | None, progress: Callable[[Progress], None]
    ) -> Call[IndexSummary]:
        """Add ``paths`` as folders (if given) and index; ``progress`` hears from a host thread."""
        return self._backend.call(WRITE, "index", paths, progress=progress)

    def add_folder(self, path: Path) -> Call[Folder]:
        return self._backend.call(WRITE, "add_folder", path)

    def set_watching(self, on: bool) -> Call[bool]:
        return self._backend.call(WRITE, "set_watching", on)

    # -- edits: the writer's too, between two batches of a running index -----------------

    def remove_folder(self, path: Path) -> Call[FileChanges]:
        return self._backend.call(WRITE, "remove_folder", path)

    def set_folder_paused(self, path: Path, paused: bool) -> Call[FileChanges]:
        return self._backend.call(WRITE, "set_folder_paused", path, paused)

    def forget(self, paths: Sequence[Path]) -> Call[FileChanges]:
        """Take ``paths`` out of the index for good (they are excluded)."""
        return self._backend.call(WRITE, "forget", list(paths))

    def exclude(self, pattern: str) -> Call[FileChanges]:
        """Never index what ``pattern`` names (a path, or a name such as ``*.tmp``); its files
        leave results now."""
        return self._backend.call(WRITE, "exclude", pattern)

    def include(self, pattern: str) -> Call[FileChanges]:
        """Stop excluding ``pattern`` (its files come back at the next scan); empty if unknown."""
        return self._backend.call(WRITE, "include", pattern)

    def set_tag(self, path: Path, tag: str, present: bool = True) -> Call[FileChanges]:
        """Give a file a tag of the user's, or take it away; the row shows it at once."""
        return self._backend.call(WRITE, "set_tag", path, tag, present)


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

    @classmethod
    def for_settings(cls, settings: Settings, on_event: EventSink) -> LocalBackend:
        """The library of ``settings`` in this process (``lumen-gui --in-process``)."""

        return cls(lambda: open_service(settings, on_event), on_event)

    def start(self) -> None:
        self._opener = threading.Thread(target=self._open, name="lumen-open", daemon=True)
        self._opener.start()

    def _open(self) -> None:
        from desktop_app.core.errors import LumenError
        from desktop_app.host.dispatcher import Dispatcher

        try:
            service = self._open_service()
            self._dispatcher = Dispatcher(service, lambda changes: self._on_event(CHANGES, changes))
            info = service.info()
        except LumenError as exc:
            self._on_event(FATAL, str(exc))
            return
        self._ready.set()
        self._on_event(READY, info)

    def call(
        self, lane: str, method: str, *args: Any, progress: ProgressSink | None = None
    ) -> Call[Any]:
        rid = next(self._ids)
        if not self._ready.is_set() or self._dispatcher is None:
            raise BackendError("The library is not open yet")
        future = self._dispatcher.submit(rid, lane, method, args, progress or _ignore)
        dispatcher = self._dispatcher
        return Call(future, lambda: dispatcher.cancel(rid))

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

    def call(
        self, lane: str, method: str, *args: Any, progress: ProgressSink | None = None
    ) -> Call[Any]:
        rid = next(self._ids)
        future: Future[Any] = Future()
        with self._lock:
            self._pending[rid] = (future, progress)
        try:
            self._send(("call", rid, lane, method, args))
        except (OSError, ValueError) as exc:
            with self._lock:
                self._pending.pop(rid, None)
            future.set_exception(BackendError(f"The library process is not running ({exc})"))
        return Call(future, lambda: self._send_quietly(("cancel", rid)))

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


def _ignore(_value: Any) -> None:
    pass
