"""The one writer of a library: one thread runs every mutation, one process holds the role.

In this process every write to the store (an indexing batch, a watcher batch, forget, exclude,
a folder, a tag, a model switch step) is an operation handed to ``Writer.run``, which runs it on
the writer's own thread, one at a time, and hands back its result (a ``FileChanges`` for the
public operations). Indexing itself (scanning, decoding, the model) runs elsewhere and hands
each write here, so a quick edit waits for one batch at most, never for a whole run.

Across processes, the role is the data dir's ``writer.lock`` (``WriterLock``): one process
indexes; another hands its run over (a rescan ticket in the catalog) or waits. Searches need
neither the thread nor the lock: reading never writes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from desktop_app.core.errors import LumenError
from desktop_app.core.indexing.writer_lock import LibraryBusyError, WriterLock
from desktop_app.core.records import IndexSummary, Progress
from desktop_app.core.storage.store import Store

__all__ = ["HAND_OFF_POLL_S", "Writer"]

log = logging.getLogger(__name__)

T = TypeVar("T")
HAND_OFF_POLL_S = 0.25  # how often a run handed to another process checks on it


class Writer:
    """Runs a library's mutations on one thread and holds the data dir's writer role."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self._store = store
        self.role = WriterLock(data_dir)  # one indexing process per data dir
        self._claimed = False
        self._stale = False  # another process may have indexed since this one gave up writing
        self.wrote = False  # this process changed the store (so it saves the index on close)
        self.run_lock = threading.Lock()  # one indexing run at a time (its writes come here)
        self._thread_id = 0
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix="lumen-writer", initializer=self._note_thread
        )

    def _note_thread(self) -> None:
        self._thread_id = threading.get_ident()

    # -- the one thread -------------------------------------------------------------------

    def run(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` on the writer's thread after those before it; its result.

        Called on the writer's thread itself (an operation that runs another), it runs at once.
        """
        if threading.get_ident() == self._thread_id:
            self.wrote = True
            return operation()
        return self.submit(operation).result()

    def submit(self, operation: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``operation(*args)`` for the writer's thread; its future (the host's writer lane)."""
        self.wrote = True
        return self._executor.submit(operation, *args)

    def save(self) -> None:
        """Save the index file, unless another process is the writer (its copy is newer)."""
        if self._stale:
            log.debug("Not saving the index: another process may have written a newer one")
            return
        if not self.role.try_acquire():
            log.debug("Not saving the index: %s is the writer", self.role.describe_holder())
            return
        try:
            self._store.save()
        finally:
            if not self._claimed:
                self.role.release()

    def close(self) -> None:
        """Finish the queued operations, save what this process wrote, give up the role."""
        with self.run_lock:
            self._executor.shutdown(wait=True)
            if self.wrote or self._claimed:
                self.save()
            self.role.release()

    # -- the role between processes -------------------------------------------------------

    def claim(self, holder: str | None = None) -> None:
        """Become the data dir's indexing process (``LibraryBusyError`` names who already is)."""
        if holder:
            self.role.holder = holder
        self.role.acquire()
        self._claimed = True
        self._store.catalog.upgrade()  # (a reader leaves these writes to the writer)
        self._store.requeue_unembedded()
        if self._stale:  # what another writer added meanwhile is in the catalog: take it in
            self._stale = False
            self._store.catch_up()

    def release(self) -> None:
        """Stop being the indexing process (saving first) until the next claim."""
        with self.run_lock:
            if not self._claimed:
                return
            self.save()  # this copy is the newest one
            self.role.release()
            self._claimed = False
            self._stale = True

    @property
    def claimed(self) -> bool:
        return self.role.held

    def describe(self) -> str:
        """Who is the writer now, in words (``lumen watch (pid 12)``)."""
        info = self.role.holder_info()
        if not info:
            return "another Lumen"
        return f"{info.get('holder', 'another Lumen')} (pid {info.get('pid', '?')})"

    def rescan_wanted(self) -> bool:
        """Whether another process handed a full run to this one, the writer, and awaits it."""
        if not self.role.held:
            return False
        catalog = self._store.catalog
        return catalog.rescan_asked() > catalog.rescan_done()[0]

    # -- handing a run to the writer process ----------------------------------------------

    def answer_hand_off(self, ticket: int, summary: IndexSummary | None, error: str = "") -> None:
        """Tell processes that handed their run to this one that a full run covered it."""
        if not ticket:
            return
        figures = summary_json(summary) if summary is not None else json.dumps({"error": error})
        try:
            self._store.catalog.mark_rescan_done(ticket, figures)
        except LumenError as exc:  # (a full disk): they go on waiting; this run's error matters
            log.warning("Could not tell the waiting process that the run ended: %s", exc)

    def hand_off(
        self,
        paths: Sequence[Path] | None,
        add_folder: Callable[[Path], object],
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
    ) -> IndexSummary | None:
        """Have the writer process do this run and return its figures; None when this process
        may write (it was free, or became free while waiting)."""
        try:
            self.claim()
            return None
        except LibraryBusyError:
            pass
        for path in paths or ():
            add_folder(path)  # (a watcher starts watching it within seconds)
        catalog = self._store.catalog
        ticket = catalog.ask_rescan()
        shown = ""
        while True:
            done, figures = catalog.rescan_done()
            if done >= ticket:
                self._store.catch_up()
                return summary_from_json(figures, self.describe())
            try:
                self.claim()  # the writer ended: run here, as if it had been free
                return None
            except LibraryBusyError:
                pass
            if cancel is not None and cancel.is_set():
                return IndexSummary(cancelled=True)
            note = self._waiting_note()
            if progress is not None and note != shown:
                progress(Progress("waiting", note=note))
                shown = note
            if cancel is not None:
                cancel.wait(HAND_OFF_POLL_S)
            else:
                time.sleep(HAND_OFF_POLL_S)

    def _waiting_note(self) -> str:
        who = self.describe()
        if self.role.holder_watches():
            return f"Handed to {who}, which is updating this library; waiting for it to finish"
        return f"Waiting for {who} to finish updating this library; this run starts then"


def summary_json(summary: IndexSummary) -> str:
    """A run's figures as the rescan ticket's answer."""
    figures = dataclasses.asdict(summary)
    figures["offline_folders"] = [str(p) for p in summary.offline_folders]
    figures["failures"] = [[str(p), reason] for p, reason in summary.failures]
    return json.dumps(figures)


def summary_from_json(text: str, writer: str) -> IndexSummary:
    """The figures of a run another process did (see ``Library.index(hand_off=True)``)."""
    figures = json.loads(text)
    if "error" in figures:
        raise LumenError(f"{writer} could not finish updating this library: {figures['error']}")
    known = {f.name for f in dataclasses.fields(IndexSummary)}
    figures = {k: v for k, v in figures.items() if k in known}
    figures["offline_folders"] = [Path(p) for p in figures.get("offline_folders", [])]
    figures["failures"] = [(Path(p), reason) for p, reason in figures.get("failures", [])]
    return IndexSummary(**figures)
