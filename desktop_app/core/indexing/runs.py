"""Indexing runs of a library: a full run, a watcher's batch of paths, and a switch of model.

A run reads, decodes and embeds on its own threads (see ``pipeline``); each of its writes is an
operation of the library's one writer, so edits take their turn between batches. One run at a
time (``Writer.run_lock``); only the data dir's writer process runs them.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import ModelSlot
from desktop_app.core.embedding.tagging import Tagging
from desktop_app.core.errors import LumenError, ModelUnavailableError
from desktop_app.core.indexing.folders import Folders
from desktop_app.core.indexing.locate import locate_pending
from desktop_app.core.indexing.model_switch import SwitchSummary, reembed
from desktop_app.core.indexing.pipeline import SAVE_EVERY_S, ChangeCallback, Indexer
from desktop_app.core.indexing.writer import Writer
from desktop_app.core.people.service import People
from desktop_app.core.priority import QueryPriority
from desktop_app.core.progress_rate import RateMeter
from desktop_app.core.records import FileChanges, Folder, IndexSummary, Progress
from desktop_app.core.storage.store import Store
from desktop_app.core.storage.vector_index import VectorIndex
from desktop_app.core.understanding.geodata import Geocoder

__all__ = ["SWITCH_KEY", "IndexRuns"]

log = logging.getLogger(__name__)

SWITCH_KEY = "switching_to"  # catalog meta: "MODEL\tSPACE" while a model switch is unfinished
# Files a batch of watched changes looks at for faces at most (the rest: at the next batch or
# run), so that a library indexed before faces existed does not hold up new files.
FACES_PER_BATCH = 64
ProgressCallback = Callable[[Progress], None]


class IndexRuns:
    """Runs a library's indexing: what ``Library.index`` and ``update_paths`` do."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        writer: Writer,
        models: ModelSlot,
        tagging: Tagging,
        folders: Folders,
        priority: QueryPriority,
        people: People | None = None,
    ) -> None:
        self.settings = settings
        self._people = people  # the face pass after the vectors (issue 23)
        self._store = store
        self._writer = writer
        self._models = models
        self._tagging = tagging
        self._folders = folders
        self._priority = priority
        self._saved_at = time.monotonic()
        self.geocoder = Geocoder()  # where photos were taken; its data loads on the first GPS

    def index(
        self,
        paths: Sequence[Path] | None,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        on_change: ChangeCallback | None,
    ) -> IndexSummary:
        """A full run over ``paths`` (added as folders) or every watched folder."""
        writer, catalog = self._writer, self._store.catalog
        writer.claim()
        ticket = catalog.rescan_asked() if not paths else 0  # before the folders are read
        known_before = {f.id for f in catalog.folders()}
        added = [writer.run(functools.partial(self._folders.add, p))[0] for p in paths or ()]
        chosen = {f.id for f in added} if paths else None
        folders = [f for f in catalog.folders() if chosen is None or f.id in chosen]
        with writer.run_lock:
            try:
                summary = self._run(folders, progress, cancel, on_change)
            except ModelUnavailableError:
                for folder in folders:  # leave the library as it was before this call
                    if folder.id not in known_before:
                        writer.run(functools.partial(self._folders.remove, folder.path))
                writer.answer_hand_off(ticket, None, "the model is not available")
                raise
            except Exception as exc:
                writer.answer_hand_off(ticket, None, str(exc))
                raise
            writer.run(self.save)  # (a folder that came back was set online by the scan)
        if not summary.cancelled:
            writer.answer_hand_off(ticket, summary)
        return summary

    def _run(
        self,
        folders: list[Folder],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        on_change: ChangeCallback | None,
    ) -> IndexSummary:
        switched = self._switch_model(progress, cancel) if self._models.model_changed() else None
        if switched is not None and switched.cancelled:
            return IndexSummary(embedded=switched.embedded, cancelled=True)
        if switched is not None:
            self.embedder_for_indexing()
        live = [f for f in folders if not f.paused]
        summary = self._indexer(on_change).run(live, progress, cancel)
        if switched is not None:  # every file embedded again counts
            summary.embedded += switched.embedded
            summary.embed_s += switched.elapsed_s
        if not (cancel and cancel.is_set()):
            self._tag(cancel, on_change)
            self._locate(cancel, on_change)
        self._faces(cancel, progress, None)
        return summary

    def update_paths(
        self,
        paths: Iterable[Path],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        on_change: ChangeCallback | None,
    ) -> IndexSummary:
        """Bring just ``paths`` up to date (see ``Library.update_paths``)."""
        writer = self._writer
        writer.claim()
        with writer.run_lock:
            switched = (
                self._switch_model(progress, cancel) if self._models.model_changed() else None
            )
            if switched is not None and switched.cancelled:
                return IndexSummary(embedded=switched.embedded, cancelled=True)
            folders = [f for f in self._store.catalog.folders() if not f.paused]
            summary = self._indexer(on_change).run_paths(folders, paths, progress, cancel, False)
            if switched is not None:
                summary.embedded += switched.embedded
            if not (cancel and cancel.is_set()):
                self._tag(cancel, on_change)
                self._locate(cancel, on_change)
            self._faces(cancel, None, FACES_PER_BATCH)
            if time.monotonic() - self._saved_at > SAVE_EVERY_S:
                writer.run(self.save)
        return summary

    def update_tags(self) -> FileChanges:
        """Tag the photos not tagged yet (a run does this itself)."""
        self._writer.claim()
        with self._writer.run_lock:
            return self._tagging.tag_pending(None, self._writer.run)

    def _tag(self, cancel: threading.Event | None, on_change: ChangeCallback | None) -> None:
        changes = self._tagging.tag_pending(cancel, self._writer.run)
        if changes and on_change is not None:
            on_change(changes)

    def _locate(self, cancel: threading.Event | None, on_change: ChangeCallback | None) -> None:
        """Where the photos and videos not located yet were taken (GPS, offline place names)."""
        changes = locate_pending(self._store.catalog, self.geocoder, cancel, self._writer.run)
        if changes and on_change is not None:
            on_change(changes)

    def _faces(
        self,
        cancel: threading.Event | None,
        progress: ProgressCallback | None,
        max_files: int | None,
    ) -> None:
        """People (issue 23): the face pass over what waits for it (or its first
        ``max_files``), after the vectors; a query goes first, each write is the writer's."""
        if self._people is None or (cancel is not None and cancel.is_set()):
            return

        meter = RateMeter()

        def report(done: int, total: int) -> None:
            meter.add(done)
            if progress is not None:
                rate, left = meter.rate, meter.eta_s(total - done)
                progress(Progress("faces", done, total, rate=rate, eta_s=left))

        self._people.scan_pending_quietly(cancel, self._priority.checkpoint, report, max_files)

    def save(self) -> None:
        """Save the index file (when this process may: see ``Writer.save``)."""
        self._saved_at = time.monotonic()
        self._writer.save()

    def _indexer(self, on_change: ChangeCallback | None) -> Indexer:
        """The pipeline for one run, writing through this library's writer."""
        return Indexer(
            self._store,
            self.embedder_for_indexing,
            self.save,
            batch_size=self.settings.batch_size,
            on_change=on_change,
            ocr=self._models.ocr_engine(),
            exclusions=self._folders.current_exclusions,
            commit=self._writer.run,
            priority=self._priority,
        )

    def embedder_for_indexing(self, files: int | None = None) -> Embedder:
        """The model for a run that embeds ``files`` files (None: unknown; a few: the numpy
        one, see ``ModelSlot.embedder_for_run``), its vector space made the library's (other
        spaces' vectors dropped)."""
        if files and self._people is not None:
            self._people.load_model_soon()  # (faces are looked for after the vectors)
        embedder = self._models.embedder_for_run(files)
        self._writer.run(lambda: self._adopt_space(embedder))
        self.settings.save()  # the model that indexed this library is the one later searches use
        if not embedder.image_tower_loaded:
            # The tag labels are encoded before the image tower loads, and the text tower let go
            # after: both towers are never resident at once (peak RSS; photos need no text).
            try:
                self._tagging.vocabulary()
            except LumenError as exc:
                log.warning("Photos will not be tagged: %s", exc)
        self._models.note_image_encoder(embedder)  # (loads the image tower: the run needs it)
        return embedder

    def _adopt_space(self, embedder: Embedder) -> None:
        """Make the embedder's vector space the library's; vectors of another model are dropped."""
        store = self._store
        if embedder.space == store.space:
            return
        if store.space:
            n = store.catalog.drop_other_spaces(embedder.space)
            log.warning("Model changed to %s: %d files will be re-embedded", embedder.spec.key, n)
        store.adopt_space(embedder.space, _meta(embedder), VectorIndex(embedder.dim))

    def _switch_model(
        self, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> SwitchSummary | None:
        """Embed everything again with the settings' model while the old index answers, then
        adopt the new one (unless cancelled: the new vectors made so far are kept). None when
        there was nothing to switch."""
        embedder = self._models.embedder()
        store, catalog = self._store, self._store.catalog
        if not store.space or embedder.space == store.space:
            return None
        log.warning(
            "Model changed from %s to %s: embedding every file again",
            catalog.get_meta("model"),
            embedder.spec.key,
        )
        self._writer.run(
            lambda: catalog.set_meta(SWITCH_KEY, f"{embedder.spec.key}\t{embedder.space}")
        )
        summary, index = self._reembed(embedder, progress, cancel)
        if summary.cancelled:
            return summary
        dropped = self._writer.run(lambda: self._adopt_switched(embedder, index))
        self._models.switched()
        self._tagging.forget_vocabulary()
        self._writer.run(self.save)
        self.settings.save()
        log.info(
            "Switched to %s: %d files embedded again in %.0f s (%d failed); %d old vectors dropped",
            embedder.spec.key,
            summary.embedded,
            summary.elapsed_s,
            summary.failed,
            dropped,
        )
        return summary

    def _reembed(
        self, embedder: Embedder, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> tuple[SwitchSummary, VectorIndex]:
        def report(p: Progress) -> None:
            p = dataclasses.replace(p, note=embedder.spec.key)
            self._models.switching = p
            if progress is not None:
                progress(p)

        try:
            index, summary = reembed(
                self._store.catalog,
                embedder,
                report,
                cancel or threading.Event(),
                batch_size=self.settings.batch_size,
                ocr=self._models.ocr_engine(),
                exclusions=self._folders.current_exclusions,
                commit=self._writer.run,
            )
        finally:
            self._models.switching = None
        return summary, index

    def _adopt_switched(self, embedder: Embedder, index: VectorIndex) -> int:
        """The switch is complete: the new space is the library's, the old vectors go."""
        catalog = self._store.catalog
        with self._store.lock:
            dropped = catalog.drop_vectors_outside(embedder.space)
            self._store.adopt_space(embedder.space, {**_meta(embedder), SWITCH_KEY: ""}, index)
        return dropped


def _meta(embedder: Embedder) -> dict[str, str]:
    """What the catalog records of the model a library's vectors are made with."""
    return {
        "model": embedder.spec.key,
        "weights": str(embedder.weights_path or ""),
        "dim": str(embedder.dim),
    }
