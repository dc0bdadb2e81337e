"""Keep a library in step with its watched folders: watchdog events, settled and batched."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.exc import OperationalError
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from desktop_app.core.errors import LumenError, ModelUnavailableError
from desktop_app.core.extractors import kind_for_path
from desktop_app.core.indexing.coalescer import Coalescer
from desktop_app.core.indexing.inotify_limits import (
    inotify_watch_limit_reached,
    limit_advice,
    uses_inotify,
)
from desktop_app.core.indexing.pipeline import ChangeCallback, IndexSummary
from desktop_app.core.indexing.scanner import is_ignored_name
from desktop_app.core.indexing.watch_timing import DEFAULT_RECONCILE_EVERY_S, DEFAULT_SETTLE_S
from desktop_app.core.indexing.writer_lock import LibraryBusyError
from desktop_app.core.records import Folder, Progress
from desktop_app.core.storage.catalog import Catalog

R = TypeVar("R")


class Followed(Protocol):
    """What the watcher needs of a library (``Library`` is one; this module is below it)."""

    catalog: Catalog

    def update_paths(
        self,
        paths: Iterable[Path],
        progress: Callable[[Progress], None] | None = ...,
        cancel: threading.Event | None = ...,
        on_change: ChangeCallback | None = ...,
    ) -> IndexSummary: ...

    def index(
        self,
        paths: Sequence[Path] | None = ...,
        progress: Callable[[Progress], None] | None = ...,
        cancel: threading.Event | None = ...,
        on_change: ChangeCallback | None = ...,
    ) -> IndexSummary: ...

    def rescan_wanted(self) -> bool: ...

    def folders(self) -> list[Folder]: ...

    def set_following(self, on: bool) -> None: ...


log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL_S = 30.0  # for folders that inotify cannot watch (each poll stats all)
DEFAULT_RECHECK_S = 2.0  # how often folder roots are checked (gone, back, added, removed)
# How long ``start`` waits for the first watches (a huge tree takes a while to watch).
WATCHES_READY_S = 30.0

# What the watcher listens to; opens and reads (the indexer's own among them) are left out.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
    FileMovedEvent,
    DirMovedEvent,
]
_INOTIFY_OVERFLOW_LOGGER = "watchdog.observers.inotify_c"


class _EventHandler(FileSystemEventHandler):
    """Turns one watched folder's events into dirty paths (runs on the observer's thread)."""

    def __init__(self, root: Path, coalescer: Coalescer, wake: threading.Event) -> None:
        self._root = root
        self._coalescer = coalescer
        self._wake = wake

    def dispatch(self, event: FileSystemEvent) -> None:
        if not isinstance(event, tuple(EVENTS)):
            return
        src = self._relevant(event.src_path, event.is_directory)
        dest = self._relevant(event.dest_path, event.is_directory) if event.dest_path else None
        if src is not None and dest is not None:
            self._coalescer.add_move(src, dest)
        else:
            path = src if src is not None else dest
            if path is None:
                return
            self._coalescer.add(path)
        self._wake.set()

    def _relevant(self, raw: bytes | str, is_directory: bool) -> Path | None:
        """The path, unless Lumen ignores it (hidden, temporary, unsupported, outside the root)."""
        path = Path(os.fsdecode(raw))
        if not path.is_relative_to(self._root):
            return None
        if any(map(is_ignored_name, path.relative_to(self._root).parts)):
            return None
        if not is_directory and kind_for_path(path) is None:
            return None
        return path


class _OverflowListener(logging.Handler):
    """Hears watchdog's warning that the kernel dropped events, and asks for a rescan."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()


@dataclass
class _Watch:
    identity: tuple[int, int]  # (st_dev, st_ino) of the folder when it was scheduled
    watch: ObservedWatch
    observer: BaseObserver


class FolderWatcher:
    """Keeps a library's index in step with its watched folders while it runs.

    File-system events go through a ``Coalescer`` (a file is read only once its size and mtime
    have settled) to ``Library.update_paths`` in batches, from one worker thread: it reads and
    embeds there, and hands each write to the library's one writer (``Writer.run``), so its
    batches take turns with every other mutation instead of writing on a thread of their own.
    That thread also runs a full reconciliation (``Library.index``) at start, on
    ``reconcile_now``, after the kernel drops events, and every ``reconcile_every_s`` seconds,
    and every ``recheck_s`` seconds it checks folder roots: a folder that vanished (unmounted
    drive, network share gone) goes offline, its files hidden but kept; when it comes back, or
    when a folder is added to the library, it is watched and reconciled. Folders that inotify
    cannot watch (``fs.inotify.max_user_watches`` reached) are polled every ``poll_interval_s``.

    ``on_change(FileChanges)`` is called on the worker thread (named ``lumen-watch``) or the
    library's writer thread, never on the caller's, each time files become searchable, move,
    vanish or fail, or a folder goes offline or comes back; a GUI should hop to its own thread
    and apply the changes to what it shows.
    ``on_reconciled(IndexSummary)`` is called on the same thread after each full rescan.
    ``on_settled()`` is called on the worker thread once batches or rescans have run and no
    change waits any more: a place for work that should follow the writes, not each of them.
    """

    def __init__(
        self,
        library: Followed,
        *,
        settle_s: float = DEFAULT_SETTLE_S,
        reconcile_every_s: float | None = DEFAULT_RECONCILE_EVERY_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        recheck_s: float = DEFAULT_RECHECK_S,
        on_change: ChangeCallback | None = None,
        on_reconciled: Callable[[IndexSummary], None] | None = None,
        on_settled: Callable[[], None] | None = None,
        observer_factory: Callable[[], BaseObserver] = Observer,
    ) -> None:
        self._library = library
        self._coalescer = Coalescer(settle_s)
        self._reconcile_every_s = reconcile_every_s or None
        self._poll_interval_s = poll_interval_s
        self._recheck_s = recheck_s
        self._on_change = on_change
        self._on_reconciled = on_reconciled
        self._on_settled = on_settled
        self._unsettled = False  # a batch or rescan ran since on_settled was last called
        self._observer_factory = observer_factory
        self._observer: BaseObserver | None = None
        self._poller: BaseObserver | None = None
        self._watches: dict[Path, _Watch] = {}
        self._polling: set[Path] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._watching = threading.Event()  # the folders' first watches are in place
        self._cancel = threading.Event()
        self._reconcile_requested = threading.Event()
        self._busy = False
        self._told_busy = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._overflow = _OverflowListener(self.reconcile_now)

    # -- control --------------------------------------------------------------------------

    def start(self, reconcile: bool = True) -> None:
        """Watch every (unpaused) folder of the library; ``reconcile``: rescan them all first."""
        if self._thread is not None:
            raise RuntimeError("FolderWatcher already started")
        try:
            self._observer = self._observer_factory()
            self._observer.start()
        except OSError as exc:
            self._observer = None
            log.warning(
                "Cannot watch folders for changes (%s)%s; looking for changes every %g s instead",
                exc.strerror or exc,
                limit_advice(exc),
                self._poll_interval_s,
            )
        logging.getLogger(_INOTIFY_OVERFLOW_LOGGER).addHandler(self._overflow)
        self._library.set_following(True)  # others now hand their indexing to this process
        self._busy = True
        if reconcile:
            self._reconcile_requested.set()
        self._thread = threading.Thread(target=self._run, name="lumen-watch", daemon=True)
        self._thread.start()
        # Return once the folders are watched: a change made right after must not be missed
        # (with ``reconcile=False`` nothing else would see it before the next rescan).
        if not self._watching.wait(WATCHES_READY_S):
            log.warning("Watching the folders takes long; changes meanwhile wait for a rescan")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; a batch or rescan in progress is cancelled (finished files are kept)."""
        self._stopping.set()
        self._cancel.set()
        self._wake.set()
        for observer in (self._observer, self._poller):
            if observer is not None:
                observer.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        for observer in (self._observer, self._poller):
            if observer is not None:
                with contextlib.suppress(RuntimeError):
                    observer.join(timeout)
        logging.getLogger(_INOTIFY_OVERFLOW_LOGGER).removeHandler(self._overflow)
        self._library.set_following(False)

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reconcile_now(self) -> None:
        """Ask for a full rescan of every folder (done soon, on the worker thread)."""
        self._reconcile_requested.set()
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is dirty or being processed; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle:
                return True
            self._stopping.wait(0.02)
        return self.idle

    # -- state ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def idle(self) -> bool:
        """Nothing dirty, nothing being processed, no rescan asked for."""
        return not (self._busy or len(self._coalescer) or self._reconcile_requested.is_set())

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the watcher (e.g. ModelUnavailableError), if one did."""
        return self._error

    @property
    def watched_folders(self) -> list[Path]:
        return sorted(self._watches.copy())

    @property
    def polling_folders(self) -> list[Path]:
        """Folders watched by periodic polling because inotify could not watch them."""
        return sorted(self._polling & set(self._watches.copy()))

    # -- worker thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            try:
                self._sync_folders(initial=True)
            finally:
                self._watching.set()
            next_reconcile = self._next_reconcile()
            next_check = time.monotonic() + self._recheck_s
            while not self._stopping.is_set():
                self._busy = False
                self._settle()
                now = time.monotonic()
                waits = [next_check - now, self._coalescer.next_due()]
                if next_reconcile is not None:
                    waits.append(next_reconcile - now)
                if not self._reconcile_requested.is_set():
                    self._wake.wait(max(0.0, min(w for w in waits if w is not None)))
                self._wake.clear()
                if self._stopping.is_set():
                    break
                self._busy = True
                now = time.monotonic()
                if self._reconcile_requested.is_set() or (
                    next_reconcile is not None and now >= next_reconcile
                ):
                    self._reconcile_requested.clear()
                    self._reconcile(None)
                    next_reconcile = self._next_reconcile()
                if now >= next_check:
                    if self._library.rescan_wanted():  # another process handed its run here
                        self._reconcile_requested.set()
                    self._call(lambda: self._sync_folders(initial=False))
                    next_check = time.monotonic() + self._recheck_s
                batch = self._coalescer.take_ready()
                if batch:
                    self._update(batch)
        except _Fatal:
            pass
        except Exception as exc:  # a bug: say so, and stop rather than half-work
            log.exception("The folder watcher stopped")
            self._error = exc
        finally:
            self._busy = False

    def _settle(self) -> None:
        """Tell ``on_settled`` once the writes have stopped (nothing waits to be indexed)."""
        if not self._unsettled or len(self._coalescer) or self._on_settled is None:
            return
        self._unsettled = False
        try:
            self._on_settled()
        except Exception:
            log.exception("The on_settled callback failed")

    def _next_reconcile(self) -> float | None:
        if self._reconcile_every_s is None:
            return None
        return time.monotonic() + self._reconcile_every_s

    def _update(self, paths: list[Path]) -> None:
        log.debug("Updating %d changed paths", len(paths))
        self._unsettled = True
        self._call(lambda: self._library.update_paths(paths, None, self._cancel, self._on_change))

    def _reconcile(self, folders: list[Path] | None) -> None:
        log.info("Rescanning %s", ", ".join(map(str, folders)) if folders else "all folders")
        self._unsettled = True
        summary = self._call(
            lambda: self._library.index(folders, None, self._cancel, self._on_change)
        )
        if summary is not None and self._on_reconciled is not None:
            try:
                self._on_reconciled(summary)
            except Exception:
                log.exception("The on_reconciled callback failed")

    def _call(self, work: Callable[[], R]) -> R | None:
        """Run one library call; environment errors are logged and the watcher goes on."""
        try:
            return work()
        except ModelUnavailableError as exc:  # nothing can be indexed until the user acts
            log.error("%s", exc)
            self._error = exc
            self._stopping.set()
            raise _Fatal from exc
        except LibraryBusyError as exc:  # another process indexes (and watches) this library
            if not self._told_busy:
                log.info("Not indexing here: %s", exc)
                self._told_busy = True
        except (OSError, LumenError) as exc:  # disk full, folder vanished meanwhile …
            log.error("Could not update the index: %s", exc)
        except OperationalError as exc:  # SQLite after opening: locked too long, disk trouble
            log.error("Could not update the index: %s", self._library.catalog.data_dir_error(exc))
        return None

    # -- folders --------------------------------------------------------------------------

    def _sync_folders(self, initial: bool) -> None:
        """Match the watches to the library's folders and to what is mounted now."""
        folders = {f.path: f for f in self._library.folders() if not f.paused}
        for path in [p for p in self._watches if p not in folders]:
            self._unwatch(path)
        for path, folder in folders.items():
            identity = _identity(path)
            current = self._watches.get(path)
            if current is not None and current.identity == identity:
                continue
            if current is not None:  # gone, or another file system mounted there
                self._unwatch(path)
            if identity is None:
                if folder.online:
                    log.warning("Folder %s is gone; its files are hidden until it is back", path)
                    self._update([path])  # marks it offline; nothing is deleted
                continue
            self._watch(path, identity)
            if initial:
                continue
            if self._reconcile_requested.is_set() or self._library.rescan_wanted():
                self._reconcile_requested.set()  # handed over by another process: one full run
            else:  # back again, remounted, or newly added: catch up with it
                self._reconcile([path])

    def _watch(self, path: Path, identity: tuple[int, int]) -> None:
        handler = _EventHandler(path, self._coalescer, self._wake)
        if self._observer is not None and path not in self._polling:
            try:
                watch = self._observer.schedule(
                    handler, str(path), recursive=True, event_filter=EVENTS
                )
            except OSError as exc:
                log.warning(
                    "Cannot watch %s for changes (%s)%s; looking for changes in it every %g s",
                    path,
                    exc.strerror or exc,
                    limit_advice(exc),
                    self._poll_interval_s,
                )
            else:
                if not uses_inotify(self._observer) or not inotify_watch_limit_reached(path):
                    self._watches[path] = _Watch(identity, watch, self._observer)
                    return
                self._observer.unschedule(watch)
                log.warning(
                    "Not every subfolder of %s could be watched for changes: the limit on "
                    "inotify watches is reached%s; looking for changes in it every %g s",
                    path,
                    limit_advice(OSError(errno.ENOSPC, "")),
                    self._poll_interval_s,
                )
        self._polling.add(path)
        if self._poller is None:
            self._poller = PollingObserver(timeout=self._poll_interval_s)
            self._poller.start()
        watch = self._poller.schedule(handler, str(path), recursive=True, event_filter=EVENTS)
        self._watches[path] = _Watch(identity, watch, self._poller)

    def _unwatch(self, path: Path) -> None:
        current = self._watches.pop(path)
        with contextlib.suppress(KeyError, OSError, RuntimeError):
            current.observer.unschedule(current.watch)


class _Fatal(Exception):
    """Raised inside the worker to stop it after an error it recorded."""


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None
