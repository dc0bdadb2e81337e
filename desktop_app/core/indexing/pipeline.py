"""Scanner → extractors → embedder → catalog + vector index: batched, cancellable, with progress."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from desktop_app.core.extractors.chatter import native_stderr_logged
from desktop_app.core.indexing.embed_pass import (
    GPU_BATCH,
    SAVE_EVERY_S,
    EmbedPass,
    Plan,
    plan_for,
)
from desktop_app.core.indexing.other_kinds import record_other_kinds
from desktop_app.core.indexing.pass_pace import DeepPassPace, FirstPassPace, Pace
from desktop_app.core.indexing.prepare import (
    BatchVectors,
    PreparedFile,
    embedded_files,
    install_checkpoints,
)
from desktop_app.core.indexing.scanner import Scanner, ScanResult, mount_point_key
from desktop_app.core.indexing.two_pass import DEEP_PHASE, first_part, rest_part
from desktop_app.core.priority import QueryPriority
from desktop_app.core.records import FileChanges, FileRecord, IndexSummary, Progress
from desktop_app.core.storage import deep_pending
from desktop_app.core.storage.catalog import (
    PENDING,
    Catalog,
    Folder,
)
from desktop_app.core.storage.exclusions import Exclusions
from desktop_app.core.storage.store import Store

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = [
    "GPU_BATCH",
    "SAVE_EVERY_S",
    "ChangeCallback",
    "FileChanges",
    "IndexSummary",
    "Indexer",
    "Plan",
    "Progress",
    "plan_for",
]

log = logging.getLogger(__name__)


ChangeCallback = Callable[[FileChanges], None]
T = TypeVar("T")
Commit = Callable[[Callable[[], T]], T]  # runs a write on the library's writer (``Writer.run``)


def _at_once(write: Callable[[], T]) -> T:
    return write()


ProgressCallback = Callable[[Progress], None]


class Indexer:
    """Runs indexing for a library. Call from one thread at a time (one run at a time).

    Reading, decoding and the model run on this run's own threads; every write to the store
    (the scan's findings, a batch's vectors, a failed or vanished file) is handed to ``commit``
    (the library's writer), so other writes (forget, a tag) take their turn between batches.
    """

    def __init__(
        self,
        store: Store,
        get_embedder: Callable[[int], Embedder],
        save_index: Callable[[], None],
        workers: int | None = None,
        batch_size: int = 32,
        on_change: ChangeCallback | None = None,
        ocr: OcrEngine | None = None,
        exclusions: Callable[[], Exclusions] | None = None,
        commit: Commit[Any] = _at_once,
        priority: QueryPriority | None = None,
    ) -> None:
        self._store = store
        self._catalog: Catalog = store.catalog
        # The exclusions as they are now: asked again while a run goes on, so a file excluded
        # mid-run is not read.
        self._exclusions = exclusions or Exclusions
        self._commit = commit
        # Queries go first: this run's threads wait at checkpoints while one runs.
        self._priority = priority or QueryPriority()
        self._on_change = on_change
        self._ocr = ocr  # recognises text in photos and scanned pages when given
        self._get_embedder = get_embedder
        self._save_index = save_index
        self._workers = workers  # decoding threads; None: as many as the device wants
        self._batch_size = batch_size

    @native_stderr_logged  # libtiff, LibRaw and FFmpeg write to fd 2: into the debug log
    def run(
        self,
        folders: Sequence[Folder],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexSummary:
        """Scan ``folders``, apply what changed, and embed every pending file."""
        started = time.perf_counter()
        cancel = cancel or threading.Event()
        report = progress or (lambda _p: None)
        report(Progress("scanning"))
        priority = self._priority

        def stop_or_give_way() -> bool:
            # The walk is a Python loop holding the GIL: the window's first queries, typed
            # while the start-up run scans a large folder, waited 0.5-1.1 s for it.
            priority.checkpoint()
            return cancel.is_set()

        with priority.background():
            scan = Scanner(self._catalog, self._exclusions()).scan(
                folders,
                on_progress=lambda n: report(Progress("scanning", done=n)),
                is_cancelled=stop_or_give_way,
            )
        if not cancel.is_set():  # what `lumen status` says of files Lumen does not read
            self._commit(lambda: record_other_kinds(self._catalog, scan.other_kinds))
        return self._apply_and_embed(scan, started, report, cancel, save=True)

    @native_stderr_logged
    def run_paths(
        self,
        folders: Sequence[Folder],
        paths: Iterable[Path],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        save: bool = True,
    ) -> IndexSummary:
        """Rescan only ``paths`` (inside ``folders``), apply what changed, embed every pending file.

        ``save=False`` leaves saving the index file to the caller (the catalog keeps the vectors,
        so nothing is lost if the process dies before the next save).
        """
        started = time.perf_counter()
        cancel = cancel or threading.Event()
        report = progress or (lambda _p: None)
        scan = Scanner(self._catalog, self._exclusions()).scan_paths(
            folders, paths, is_cancelled=cancel.is_set
        )
        return self._apply_and_embed(scan, started, report, cancel, save)

    def _apply_and_embed(
        self,
        scan: ScanResult,
        started: float,
        report: ProgressCallback,
        cancel: threading.Event,
        save: bool,
    ) -> IndexSummary:
        summary = IndexSummary()
        if cancel.is_set():
            summary.cancelled = True
            return summary
        waiting = len(scan.new) + len(scan.changed) + self._catalog.counts().get(PENDING, 0)
        waiting += deep_pending.waiting_count(self._catalog)[0]  # the second pass's documents
        if waiting:
            # Load the model before writing anything, so a missing model leaves no half-done run.
            report(Progress("loading model"))
            self._get_embedder(waiting)
        self._commit(lambda: self.apply_scan(scan, summary))
        self.embed_pending(summary, report, cancel, save=save)
        summary.elapsed_s = time.perf_counter() - started
        report(Progress("done", summary.embedded, summary.embedded, summary.failed))
        return summary

    def apply_scan(self, scan: ScanResult, summary: IndexSummary) -> None:
        """Write the scanner's findings to the catalog and drop vectors of deleted files."""
        catalog = self._catalog
        summary.seen += scan.seen
        summary.unchanged += scan.unchanged
        back = [f for f in scan.online_folders if not f.online]
        for returned in back:  # first, so that its changed files are embedded in this run
            catalog.set_folder_state(returned.id, online=True)
        for reachable in scan.online_folders:
            key = mount_point_key(reachable.path)
            if os.path.ismount(reachable.path) and not catalog.get_meta(key):
                catalog.set_meta(key, "1")
        for folder in scan.offline_folders:
            catalog.set_folder_state(folder.id, online=False)
            summary.offline_folders.append(folder.path)
        for path, reason in scan.unreadable:
            log.warning("Skipped %s: %s", path, reason)
            summary.failures.append((path, reason))
        removed_vectors = self._store.delete_files([r.id for r in scan.removed])
        summary.removed += len(scan.removed)
        for record, found in scan.moved:
            log.info("Moved: %s -> %s", record.path, found.path)
            catalog.update_file(
                record.id,
                path=found.path,
                folder_id=found.folder_id,
                size=found.size,
                mtime_ns=found.mtime_ns,
                inode=found.inode,
            )
        summary.moved += len(scan.moved)
        for record, found in scan.touched:
            catalog.update_file(record.id, mtime_ns=found.mtime_ns, inode=found.inode)
        summary.touched += len(scan.touched)
        for record, found in scan.changed:
            catalog.update_file(
                record.id,
                size=found.size,
                mtime_ns=found.mtime_ns,
                inode=found.inode,
                fingerprint=found.fingerprint or "",
                status=PENDING,
                error=None,
            )
        summary.changed += len(scan.changed)
        for found in scan.new:
            catalog.add_file(
                folder_id=found.folder_id,
                path=found.path,
                size=found.size,
                mtime_ns=found.mtime_ns,
                inode=found.inode,
                fingerprint=found.fingerprint or "",
                kind=found.kind,
            )
        summary.new += len(scan.new)
        for folder_id in {f.folder_id for f in scan.new} | {f.folder_id for _, f in scan.moved}:
            catalog.set_folder_state(folder_id, scanned=True)
        self._report(
            FileChanges(
                moved=tuple((r.path, f.path) for r, f in scan.moved),
                removed=tuple(r.path for r in scan.removed),
                offline=tuple(f.path for f in scan.offline_folders if f.online),
                online=tuple(f.path for f in back),
                vectors_removed=len(removed_vectors),
            )
        )

    def _report(self, changes: FileChanges) -> None:
        if self._on_change is not None and changes:
            try:
                self._on_change(changes)
            except Exception:  # a listener's bug must not stop indexing
                log.exception("The on_change callback failed")

    def embed_pending(
        self,
        summary: IndexSummary,
        report: ProgressCallback,
        cancel: threading.Event,
        save: bool = True,
    ) -> None:
        """Embed every pending file, then the rest of the documents' passages, in batches,
        until done or cancelled (``two_pass``: every file is findable after the first pass).

        Files of offline folders wait (they cannot be read, and must not count as deleted).
        """
        offline = {f.id for f in self._catalog.folders() if not f.online}
        pending = [
            r for r in self._catalog.files_with_status(PENDING) if r.folder_id not in offline
        ]
        waited = self._waiting(offline)  # left by an earlier run
        if not pending and not waited:
            return
        report(Progress("loading model", 0, len(pending)))
        embedder = self._get_embedder(len(pending) + len(waited))
        if cancel.is_set():
            summary.cancelled = True
            return
        install_checkpoints(embedder)
        embedder.load_image_tower()  # start-up, not part of the rate reported while indexing
        started = time.perf_counter()
        if pending:
            waiting_units = sum(units for _, units in waited)
            self._embed_pass(
                pending,
                embedder,
                summary,
                report,
                cancel,
                shape=first_part,
                pace=FirstPassPace(len(pending), waiting_units),
                store=lambda items, vectors: self._store_batch(items, vectors, embedder),
            )
        waiting = self._waiting(offline)
        if waiting and not cancel.is_set():
            self._deeper_pass(waiting, embedder, summary, report, cancel)
        summary.embed_s += time.perf_counter() - started
        if save:
            report(Progress("saving", summary.embedded, len(pending), summary.failed))
            self._commit(self._save_index)

    def _waiting(self, offline: set[int]) -> list[tuple[FileRecord, int]]:
        """Indexed documents waiting for their second pass (not those of offline folders)."""
        return [
            (r, units)
            for r, units in deep_pending.waiting_files(self._catalog)
            if r.folder_id not in offline
        ]

    def _deeper_pass(
        self,
        waiting: list[tuple[FileRecord, int]],
        embedder: Embedder,
        summary: IndexSummary,
        report: ProgressCallback,
        cancel: threading.Event,
    ) -> None:
        """The second pass: the rest of each waiting document's passages (and a PDF's cover)."""
        catalog, space = self._catalog, embedder.space
        deeper = IndexSummary()  # its files were counted as embedded by their first pass
        report(Progress(DEEP_PHASE, 0, len(waiting)))  # every file is findable from now on
        self._embed_pass(
            [r for r, _ in waiting],
            embedder,
            deeper,
            report,
            cancel,
            shape=lambda item: rest_part(
                item, deep_pending.stored_parts(catalog, item.record.id, space)
            ),
            pace=DeepPassPace({r.id: units for r, units in waiting}),
            store=lambda items, vectors: self._store_deeper(items, vectors, embedder),
            phase=DEEP_PHASE,
        )
        summary.failed += deeper.failed
        summary.failures += deeper.failures
        summary.removed += deeper.removed
        summary.cancelled |= deeper.cancelled

    def _embed_pass(
        self,
        files: list[FileRecord],
        embedder: Embedder,
        summary: IndexSummary,
        report: ProgressCallback,
        cancel: threading.Event,
        shape: Callable[[PreparedFile], None],
        pace: Pace,
        store: Callable[[list[PreparedFile], BatchVectors], None],
        phase: str = "indexing",
    ) -> None:
        plan = plan_for(embedder.device, os.cpu_count() or 2, self._batch_size, self._workers)
        EmbedPass(
            files,
            embedder,
            plan,
            self._ocr,
            self._priority,
            lambda path: self._exclusions().excludes(path),
            summary,
            report,
            cancel,
            store_batch=store,
            not_embedded=lambda item: self._commit(
                functools.partial(self._not_embedded, item, summary)
            ),
            save=lambda: self._commit(self._save_index),
            shape=shape,
            phase=phase,
            pace=pace,
        ).run()

    def _not_embedded(self, item: PreparedFile, summary: IndexSummary) -> None:
        """A file that vanished is forgotten; one that could not be read is marked failed."""
        if item.vanished:
            summary.removed += 1
            gone = self._store.delete_files([item.record.id])
            self._report(FileChanges(removed=(item.record.path,), vectors_removed=len(gone)))
            return
        error = item.error or "unknown reason"
        log.warning("Skipped %s: %s", item.record.path, error)
        self._catalog.update_file(item.record.id, status="failed", error=error)
        summary.failed += 1
        summary.failures.append((item.record.path, error))
        self._report(FileChanges(failed=((item.record.path, error),)))

    def _store_batch(
        self, batch: list[PreparedFile], vectors: BatchVectors, embedder: Embedder
    ) -> None:
        """Write a batch's vectors and texts to the catalog and the vector index (one writer
        operation: the store's lock covers both)."""
        stored = embedded_files(batch, vectors)
        # Which wait for a second pass is written first: a crash between the two writes
        # leaves a pending file (embedded again next run), never a file silently half done.
        ids = [item.record.id for item in batch]
        waiting = {item.record.id: item.deferred for item in batch if item.deferred}

        def write() -> list[list[int]]:
            deep_pending.set_waiting(self._catalog, ids, waiting)
            return self._store.store_embedded(embedder.space, stored)

        ids_per_file = self._commit(write)
        kept = [item.record for item, got in zip(batch, ids_per_file, strict=True) if got]
        self._report(
            FileChanges(
                added=tuple(r.path for r in kept if r.indexed_at is None),
                changed=tuple(r.path for r in kept if r.indexed_at is not None),
            )
        )

    def _store_deeper(
        self, batch: list[PreparedFile], vectors: BatchVectors, embedder: Embedder
    ) -> None:
        """Add a second-pass batch's vectors beside each file's first one (one writer
        operation); the files were findable already, so no change is reported."""
        stored = embedded_files(batch, vectors)
        self._commit(lambda: deep_pending.deepen(self._store, embedder.space, stored))
