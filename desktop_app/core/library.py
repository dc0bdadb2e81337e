"""The facade the GUI and the CLI both use: folders, indexing, search, status."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.tags import (
    TagVocabulary,
    normalise_tag,
    prompts,
    threshold_for,
    vocabulary_labels,
    vocabulary_version,
)
from desktop_app.core.embedding.text_encoder import (
    NumpyTextEncoder,
    load_numpy_text_encoder,
    write_manifest,
)
from desktop_app.core.embedding.weights import DownloadCallback
from desktop_app.core.errors import (
    ExtractionError,
    IndexMismatchError,
    LumenError,
    ModelUnavailableError,
)
from desktop_app.core.extractors import extract
from desktop_app.core.extractors.ocr import OcrEngine, load_ocr_engine
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.indexing.model_switch import SwitchSummary, reembed
from desktop_app.core.indexing.pipeline import (
    SAVE_EVERY_S,
    ChangeCallback,
    Indexer,
    IndexSummary,
    Progress,
)
from desktop_app.core.indexing.priority import QueryPriority
from desktop_app.core.indexing.writer_lock import LibraryBusyError, WriterLock
from desktop_app.core.models import ModelSpec, get_model_spec
from desktop_app.core.people.search_hook import people_query, people_results
from desktop_app.core.people.service import People
from desktop_app.core.query.duplicates import DUPLICATE_COSINE, DuplicateGroup, find_duplicates
from desktop_app.core.query.pairs import pair_up, same_shot
from desktop_app.core.query.search import (
    MatchReason,
    ParsedQuery,
    SearchHit,
    SearchResults,
    SearchService,
    combine,
    found_terms,
    parse_query,
)
from desktop_app.core.records import LibraryStatus, Tag
from desktop_app.core.storage.catalog import INDEXED, Catalog, FileFilter, FileRecord, Folder
from desktop_app.core.storage.exclusions import Exclusions, normalise
from desktop_app.core.storage.vector_index import IndexFileError, VectorIndex

__all__ = ["Library", "LibraryStatus", "default_embedder_loader"]

log = logging.getLogger(__name__)

EmbedderLoader = Callable[[Settings], Embedder]
EXCLUSIONS_RECHECK_S = 0.5  # how stale a running index run's view of the exclusions may be
SWITCH_KEY = "switching_to"  # catalog meta: "MODEL\tSPACE" while a model switch is unfinished
HAND_OFF_POLL_S = 0.25  # how often a run handed to another process checks on it


def default_embedder_loader(
    settings: Settings, on_download: DownloadCallback | None = None
) -> Embedder:
    """Load the model the settings name (download or cache or local file).

    ``on_download`` hears a download's progress (bind it with ``functools.partial``).
    """
    return load_embedder(
        settings.model,
        settings.weights,
        settings.model_cache_dir,
        settings.device,
        on_download,
        int8=settings.int8,
    )


# Files a batch of watched changes looks at for faces at most (the rest: at the next batch or
# index run), so that a library indexed before faces existed does not hold up new files.
FACES_PER_BATCH = 64


class Library:
    """One Lumen library (a data dir): its catalog, vector index and model.

    Methods may be called from any thread; indexing runs are serialised (one writer).
    """

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        embedder_loader: EmbedderLoader = default_embedder_loader,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self._embedder_loader = embedder_loader
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._fast_text: NumpyTextEncoder | None = None
        self._fast_text_tried = False
        self._old_embedder: Embedder | None = None  # the previous model, while switching
        self._switching: Progress | None = None  # how a switch to another model stands
        self._ocr: OcrEngine | None = None
        self._write_lock = threading.Lock()  # one indexing run at a time
        self._store_lock = threading.Lock()  # a catalog write and its index update, together
        self.priority = QueryPriority()  # queries go first: indexing waits while one runs
        self._excluded: tuple[str, Exclusions] | None = None
        self._excluded_checked_at = 0.0
        self._writer = WriterLock(settings.data_dir)  # one indexing process per data dir
        self._claimed = False
        self._stale = False  # another process may have indexed since this one gave up writing
        self._saved_at = time.monotonic()
        self._space = catalog.get_meta("space") or ""
        self._vocabulary: TagVocabulary | None = None
        dim = int(catalog.get_meta("dim") or 0)
        self._index = self._open_index(dim) if dim else VectorIndex(1)
        self._search = SearchService(catalog, self._index, self._space)

    @classmethod
    def open(
        cls, settings: Settings, embedder_loader: EmbedderLoader = default_embedder_loader
    ) -> Library:
        """Open (creating if needed) the library in ``settings.data_dir``."""
        make_private(settings.data_dir)
        catalog = Catalog.open(settings.catalog_path)
        return cls(settings, catalog, embedder_loader)

    def close(self) -> None:
        """Save the index and release the catalog (and the writer lock, if this held it)."""
        with self._write_lock:
            if self._space:
                self._save_index()
            self.catalog.close()
            self._writer.release()

    def claim_writer(self, holder: str | None = None) -> None:
        """Become this data dir's one indexing process (until ``close``).

        Raises ``LibraryBusyError`` naming the process that already is; ``index`` and
        ``update_paths`` claim it themselves. ``holder`` is what others are told ("lumen watch").
        """
        if holder:
            self._writer.holder = holder
        self._writer.acquire()
        self._claimed = True
        if self._stale:  # what another writer added meanwhile is in the catalog: take it in
            self._stale = False
            self._catch_up()

    def release_writer(self) -> None:
        """Stop being the indexing process until the next ``index``/``update_paths`` (the
        window does, paused): another Lumen may index meanwhile, instead of waiting."""
        with self._write_lock:
            if not self._claimed:
                return
            if self._space:
                self._save_index()  # this copy is the newest one
            self._writer.release()
            self._claimed = False
            self._stale = True

    @property
    def is_writer(self) -> bool:
        """Whether this process is the data dir's indexing process now."""
        return self._writer.held

    def name_writer(self, holder: str) -> None:
        """What other processes are told while this one is the writer ("the Lumen window")."""
        self._writer.holder = holder

    def set_following(self, on: bool) -> None:
        """Say whether a folder watcher follows changes here (``FolderWatcher`` calls it): other
        processes then hand their indexing to this one instead of waiting for it to end."""
        self._writer.set_watching(on)

    def writer_follows_changes(self) -> bool:
        """Whether the process that is the writer follows file changes (see ``set_following``)."""
        return self._writer.holder_watches()

    def describe_writer(self) -> str:
        """Who is the writer now, in words (``lumen watch (pid 12)``)."""
        info = self._writer.holder_info()
        if not info:
            return "another Lumen"
        return f"{info.get('holder', 'another Lumen')} (pid {info.get('pid', '?')})"

    def rescan_wanted(self) -> bool:
        """Whether another process handed a full run to this one, the writer, and awaits it."""
        if not self._writer.held:
            return False
        return self.catalog.rescan_asked() > self.catalog.rescan_done()[0]

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- model ----------------------------------------------------------------------------

    @property
    def embedder_loaded(self) -> bool:
        return self._embedder is not None

    def embedder(self) -> Embedder:
        """The model, loaded on first use (raises ModelUnavailableError with advice)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self._embedder_loader(self.settings)
                self._note_text_encoder(self._embedder)
            return self._embedder

    def _note_text_encoder(self, embedder: Embedder) -> None:
        """Let later processes encode this model's queries without torch (see text_encoder)."""
        if embedder.weights_path is None:
            return
        try:
            write_manifest(self.settings.data_dir, embedder, embedder.weights_path)
        except Exception:  # an optimisation only: never a reason to fail loading the model
            log.exception("Could not check the numpy text encoder")
        embedder.release_text_tower()  # (queries take the numpy path; batches load it again)
        self._fast_text = None
        self._fast_text_tried = False

    @property
    def queries_ready(self) -> bool:
        """Whether a text query can be answered by meaning without waiting for a model load."""
        return self._embedder is not None or (
            self._fast_text is not None and self._fast_text.space == self._space
        )

    def warm_queries(self) -> str:
        """Make text queries quick: the numpy text encoder where this library has one (no torch),
        else the model (its text tower; the image tower waits for the first image). Runs a few
        queries through it and returns the model's key."""
        encoder = self._query_encoder()
        for text in ("a photo", "kids on a beach at sunset", "receipt"):
            encoder.encode_text(text)
        return encoder.spec.key if isinstance(encoder, Embedder) else self.settings.model

    def _query_encoder(self) -> NumpyTextEncoder | Embedder:
        """What encodes a query: the numpy text tower when this library has one (no torch, no
        waiting for the image tower), else the model. While a switch to another model runs,
        the model the library was built with (its index is the one that answers)."""
        with self._embedder_lock:
            if not self._fast_text_tried:
                self._fast_text_tried = True
                built_with = self._built_with()
                self._fast_text = load_numpy_text_encoder(
                    self.settings.data_dir, built_with.model, built_with.weights, self._space
                )
            fast = self._fast_text
        if fast is not None and fast.space == self._space:
            return fast
        return self._space_embedder()

    def _built_with(self) -> Settings:
        """The settings with the model and weights file the library's vectors were made with
        (the settings themselves unless they name another model, whose switch is pending)."""
        if not self._model_changed():
            return self.settings
        model = self.catalog.get_meta("model") or self.settings.model
        weights = self.catalog.get_meta("weights")
        if weights is None:  # (a library from before this was recorded)
            return self.settings.replace(model=model)
        return self.settings.replace(model=model, weights=Path(weights) if weights else None)

    def _space_embedder(self) -> Embedder:
        """The model of the library's vector space: the current one, or during a switch to
        another model the one the library was built with (loaded beside it)."""
        embedder = self._embedder
        if embedder is None and not (self._space and self._model_changed()):
            embedder = self.embedder()  # (a search before the switch: only the old one loads)
        if embedder is not None and (embedder.space == self._space or not self._space):
            return embedder
        with self._embedder_lock:
            old = self._old_embedder
            if old is None or old.space != self._space:
                old = self._old_embedder = self._embedder_loader(self._built_with())
        return old

    def _adopt_space(self, embedder: Embedder) -> None:
        """Make the embedder's vector space the library's; vectors of another model are dropped."""
        if embedder.space == self._space:
            return
        if self._space:
            n = self.catalog.drop_other_spaces(embedder.space)
            log.warning("Model changed to %s: %d files will be re-embedded", embedder.spec.key, n)
        self._space = embedder.space
        self.catalog.set_meta("space", embedder.space)
        self.catalog.set_meta("model", embedder.spec.key)
        self.catalog.set_meta("weights", str(embedder.weights_path or ""))
        self.catalog.set_meta("dim", str(embedder.dim))
        self._index = VectorIndex(embedder.dim)
        self._search = SearchService(self.catalog, self._index, self._space)
        self._reconcile()

    # -- index file -----------------------------------------------------------------------

    def _open_index(self, dim: int) -> VectorIndex:
        try:
            index = VectorIndex.load(self.settings.index_path, dim)
        except IndexFileError as exc:
            log.warning("Rebuilding the vector index from the catalog: %s", exc)
            index = VectorIndex(dim)
        self._index = index
        self._reconcile()
        return index

    def _reconcile(self) -> None:
        """Make the index hold exactly the catalog's vectors (the catalog wins)."""
        catalog_ids = self.catalog.vector_ids(self._space)
        index_ids = self._index.ids()
        missing = np.setdiff1d(catalog_ids, index_ids)
        orphans = np.setdiff1d(index_ids, catalog_ids)
        if len(orphans):
            log.info("Dropping %d index entries the catalog does not know", len(orphans))
            self._index.remove(orphans.tolist())
        for start in range(0, len(missing), 10_000):
            chunk = missing[start : start + 10_000]
            self._index.add(chunk, self.catalog.vectors(chunk.tolist(), self._index.dim))
        if len(missing):
            log.info("Restored %d vectors from the catalog into the index", len(missing))
        requeued = self.catalog.indexed_without_vectors(self._space)
        if requeued:
            log.info("%d files have no vectors and will be embedded again", requeued)
        if self._index.needs_compaction():
            self._index.compact()
        if len(missing) or len(orphans) or requeued:
            self._save_index()

    def _save_index(self) -> None:
        """Save the index file, unless another process is the writer (its copy is newer)."""
        self._saved_at = time.monotonic()
        if self._stale:
            log.debug("Not saving the index: another process may have written a newer one")
            return
        if not self._writer.try_acquire():
            log.debug("Not saving the index: %s is the writer", self._writer.describe_holder())
            return
        try:
            self._index.save(self.settings.index_path)
        except OSError as exc:
            log.error("Could not save the vector index (it will be rebuilt on next start): %s", exc)
        finally:
            if not self._claimed:
                self._writer.release()

    # -- folders --------------------------------------------------------------------------

    def add_folder(self, path: Path) -> Folder:
        """Watch a folder (its files are indexed by the next ``index`` run)."""
        path = path.expanduser().resolve()
        if not path.is_dir():
            raise LumenError(f"{path} is not a folder")
        for existing in self.catalog.folders():
            if path.is_relative_to(existing.path):
                return existing
        folder = self.catalog.add_folder(path)
        # A parent added after its subfolders replaces them.
        for existing in self.catalog.folders():
            if existing.path != path and existing.path.is_relative_to(path):
                self.catalog.remove_folder_keep_files(existing.id, folder.id)
        return folder

    def remove_folder(self, path: Path) -> int:
        """Stop watching a folder and forget its files; returns how many vectors went."""
        return self._drop(self.catalog.remove_folder, path.expanduser().resolve())

    def _drop(self, remove: Callable[[Path], list[int]], path: Path) -> int:
        """Remove catalog rows for ``path`` and their vectors from the index, at once.

        Does not wait for a running index run: its own writes are serialised with this one
        (``_store_lock``), it skips files that are gone, and it saves the index when it ends.
        """
        with self._store_lock:
            removed = remove(path)
            self._index.remove(removed)
        if removed and self._write_lock.acquire(blocking=False):
            try:
                self._save_index()
            finally:
                self._write_lock.release()
        return len(removed)

    # -- exclusions -----------------------------------------------------------------------

    def exclusions(self) -> list[str]:
        """Patterns and paths never indexed (``Exclusions`` says how they match)."""
        return self.catalog.exclusions()

    def exclude(self, pattern: str) -> int:
        """Never read what ``pattern`` matches again; its files leave results now.

        A path (``/x/y``, ``~/x``, ``./x``) excludes that file or folder; a name (``node_modules``,
        ``*.tmp``) any file or folder so named. Returns how many vectors went.
        """
        pattern = normalise(pattern)
        self.catalog.add_exclusion(pattern)
        self._excluded = None
        matcher = Exclusions.of([pattern])
        return self._drop(lambda _p: self.catalog.forget_matching(matcher.excludes), Path())

    def include(self, pattern: str) -> bool:
        """Stop excluding ``pattern`` (its files come back at the next scan); False if unknown."""
        self._excluded = None
        return self.catalog.remove_exclusion(normalise(pattern)) or self.catalog.remove_exclusion(
            pattern
        )

    def current_exclusions(self) -> Exclusions:
        """The exclusions now (re-read when another process changed them; cheap to call often)."""
        now = time.monotonic()
        cached = self._excluded
        if cached is not None and now - self._excluded_checked_at < EXCLUSIONS_RECHECK_S:
            return cached[1]
        self._excluded_checked_at = now
        version = self.catalog.exclusions_version()
        if cached is None or cached[0] != version:
            always = [self.settings.data_dir, self.settings.model_cache_dir]
            cached = (version, Exclusions.of(self.catalog.exclusions(), always))
            self._excluded = cached
        return cached[1]

    def folders(self) -> list[Folder]:
        return self.catalog.folders()

    def set_folder_paused(self, path: Path, paused: bool) -> None:
        """Pause (skip in indexing runs) or resume a watched folder; its indexed files stay."""
        path = path.expanduser().resolve()
        for folder in self.catalog.folders():
            if folder.path == path:
                self.catalog.set_folder_state(folder.id, paused=paused)
                return
        raise LumenError(f"{path} is not a watched folder")

    def forget(self, path: Path) -> int:
        """Remove a file or everything under a path from the index for good (it is excluded).

        Returns how many vectors went. ``include`` undoes the exclusion.
        """
        path = Path(os.path.normpath(path.expanduser().absolute()))
        self.catalog.add_exclusion(str(path))
        self._excluded = None
        return self._drop(self.catalog.forget_path, path)

    # -- indexing -------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path] | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        on_change: ChangeCallback | None = None,
        *,
        hand_off: bool = False,
    ) -> IndexSummary:
        """Index ``paths`` (added as folders) or every watched folder; only new/changed files work.

        ``on_change`` hears which files appeared, moved or went (see ``FileChanges``).

        Only one process indexes a data dir. Another one's call raises ``LibraryBusyError``,
        or with ``hand_off`` hands the run to the process that is indexing: ``paths`` are added
        as folders and, when that process follows changes (``lumen watch``, the window), it
        runs it and this call returns its figures; otherwise this call waits for it to end and
        then runs itself. Meanwhile ``progress`` hears phase "waiting" with a ``note`` saying
        for whom; ``cancel`` stops waiting (the handed-over run still happens).
        """
        if hand_off:
            handed = self._hand_off(paths, progress, cancel)
            if handed is not None:
                return handed
        self.claim_writer()
        ticket = self.catalog.rescan_asked() if not paths else 0  # before the folders are read
        known_before = {f.id for f in self.catalog.folders()}
        folders = [self.add_folder(p) for p in paths] if paths else self.catalog.folders()
        folders = [f for f in self.catalog.folders() if f.id in {x.id for x in folders}]
        with self._write_lock:
            indexer = self._indexer(on_change)
            try:
                switched = self._switch_model(progress, cancel) if self._model_changed() else None
                if switched is not None and switched.cancelled:
                    return IndexSummary(embedded=switched.embedded, cancelled=True)
                if switched is not None:
                    self._embedder_for_indexing()
                summary = indexer.run([f for f in folders if not f.paused], progress, cancel)
                if switched is not None:  # every file embedded again counts
                    summary.embedded += switched.embedded
                    summary.embed_s += switched.elapsed_s
                if not (cancel and cancel.is_set()):
                    self._tag_pending(cancel)
                self._faces_pending(cancel, progress)  # people (issue 23): after the vectors
            except ModelUnavailableError:
                for folder in folders:  # leave the library as it was before this call
                    if folder.id not in known_before:
                        self.catalog.remove_folder(folder.path)
                self._answer_hand_off(ticket, None, "the model is not available")
                raise
            except Exception as exc:
                self._answer_hand_off(ticket, None, str(exc))
                raise
            self._save_index()  # (a folder that came back was set online by the scan)
        if not summary.cancelled:
            self._answer_hand_off(ticket, summary)
        return summary

    def _answer_hand_off(self, ticket: int, summary: IndexSummary | None, error: str = "") -> None:
        """Tell processes that handed their run to this one that a full run covered it."""
        if not ticket:
            return
        figures = _summary_json(summary) if summary is not None else json.dumps({"error": error})
        try:
            self.catalog.mark_rescan_done(ticket, figures)
        except LumenError as exc:  # (a full disk): they go on waiting; this run's error matters
            log.warning("Could not tell the waiting process that the run ended: %s", exc)

    def _hand_off(
        self,
        paths: Sequence[Path] | None,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
    ) -> IndexSummary | None:
        """Have the writer process do this run and return its figures; None when this process
        may write (it was free, or became free while waiting)."""
        try:
            self.claim_writer()
            return None
        except LibraryBusyError:
            pass
        for path in paths or ():
            self.add_folder(path)  # (a watcher starts watching it within seconds)
        ticket = self.catalog.ask_rescan()
        shown = ""
        while True:
            done, figures = self.catalog.rescan_done()
            if done >= ticket:
                self._catch_up()
                return _summary_from_json(figures, self.describe_writer())
            try:
                self.claim_writer()  # the writer ended: run here, as if it had been free
                return None
            except LibraryBusyError:
                pass
            if cancel is not None and cancel.is_set():
                return IndexSummary(cancelled=True)
            who = self.describe_writer()
            if self.writer_follows_changes():
                note = f"Handed to {who}, which is updating this library; waiting for it to finish"
            else:
                note = f"Waiting for {who} to finish updating this library; this run starts then"
            if progress is not None and note != shown:
                progress(Progress("waiting", note=note))
                shown = note
            if cancel is not None:
                cancel.wait(HAND_OFF_POLL_S)
            else:
                time.sleep(HAND_OFF_POLL_S)

    def _catch_up(self) -> None:
        """Take in the vectors another process wrote (the catalog has them; this index not)."""
        space = self.catalog.get_meta("space") or ""
        with self._store_lock:
            if space != self._space:
                self._space = space
                self._index = self._open_index(int(self.catalog.get_meta("dim") or 0))
                self._search = SearchService(self.catalog, self._index, self._space)
            elif space:
                self._reconcile()

    def update_paths(
        self,
        paths: Iterable[Path],
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        on_change: ChangeCallback | None = None,
    ) -> IndexSummary:
        """Bring just ``paths`` up to date: files, or folders and what is below them.

        What the folder watcher calls with each settled batch of changed paths. Only those paths
        are looked at (a path that no longer exists stands for the files that were at or below
        it): new and changed files are embedded, touched ones are not, a vanished file whose
        content reappears elsewhere in the same call is a move and keeps its vector, and a folder
        found unreachable goes offline. Serialised with ``index`` (one writer). The index file is
        saved at most every ``SAVE_EVERY_S`` seconds and on ``close``, not after every call.
        """
        self.claim_writer()
        with self._write_lock:
            indexer = self._indexer(on_change)
            switched = self._switch_model(progress, cancel) if self._model_changed() else None
            if switched is not None and switched.cancelled:
                return IndexSummary(embedded=switched.embedded, cancelled=True)
            folders = [f for f in self.catalog.folders() if not f.paused]
            summary = indexer.run_paths(folders, paths, progress, cancel, save=False)
            if switched is not None:
                summary.embedded += switched.embedded
            if not (cancel and cancel.is_set()):
                self._tag_pending(cancel)
            # People (issue 23): after the vectors, a bounded share per batch of changes.
            self._faces_pending(cancel, None, FACES_PER_BATCH)
            if time.monotonic() - self._saved_at > SAVE_EVERY_S:
                self._save_index()
        return summary

    def _indexer(self, on_change: ChangeCallback | None) -> Indexer:
        """The pipeline for one run, writing to this library's catalog and current index."""
        return Indexer(
            self.catalog,
            lambda: self._index,
            self._embedder_for_indexing,
            self._save_index,
            batch_size=self.settings.batch_size,
            on_change=on_change,
            ocr=self._ocr_engine(),
            exclusions=self.current_exclusions,
            store_lock=self._store_lock,
            priority=self.priority,
        )

    def _model_changed(self) -> bool:
        """Whether the settings name another model or weights file than the library was built with."""
        if not self._space:
            return False
        if self._embedder is not None:
            return self._embedder.space != self._space
        if self.settings.model != self.catalog.get_meta("model"):
            return True
        weights = self.settings.weights
        return (
            weights is not None
            and weights.is_file()
            and fingerprint_file(weights)[:16] not in self._space
        )

    def _embedder_for_indexing(self) -> Embedder:
        embedder = self.embedder()
        self._adopt_space(embedder)
        self.settings.save()  # the model that indexed this library is the one later searches use
        if not embedder.image_tower_loaded:
            # The tag labels are encoded before the image tower loads, and the text tower let go
            # after: both towers are never resident at once (peak RSS; photos need no text).
            try:
                self._tag_vocabulary()
            except LumenError as exc:
                log.warning("Photos will not be tagged: %s", exc)
        return embedder

    def _switch_model(
        self, progress: Callable[[Progress], None] | None, cancel: threading.Event | None
    ) -> SwitchSummary | None:
        """Embed everything again with the settings' model while the old index answers, then
        adopt the new one (unless cancelled: the new vectors made so far are kept). None when
        there was nothing to switch."""
        embedder = self.embedder()
        if not self._space or embedder.space == self._space:
            return None
        old_model = self.catalog.get_meta("model")
        log.warning(
            "Model changed from %s to %s: embedding every file again", old_model, embedder.spec.key
        )

        self.catalog.set_meta(SWITCH_KEY, f"{embedder.spec.key}\t{embedder.space}")

        def report(p: Progress) -> None:
            p = dataclasses.replace(p, note=embedder.spec.key)
            self._switching = p
            if progress is not None:
                progress(p)

        try:
            index, summary = reembed(
                self.catalog,
                embedder,
                report,
                cancel or threading.Event(),
                batch_size=self.settings.batch_size,
                ocr=self._ocr_engine(),
                exclusions=self.current_exclusions,
            )
        finally:
            self._switching = None
        if summary.cancelled:
            return summary
        with self._store_lock:
            dropped = self.catalog.drop_vectors_outside(embedder.space)
            self._space = embedder.space
            self.catalog.set_meta("space", embedder.space)
            self.catalog.set_meta("model", embedder.spec.key)
            self.catalog.set_meta("weights", str(embedder.weights_path or ""))
            self.catalog.set_meta("dim", str(embedder.dim))
            self.catalog.set_meta(SWITCH_KEY, "")
            self._index = index
            self._search = SearchService(self.catalog, self._index, self._space)
            self._old_embedder = None
            self._fast_text, self._fast_text_tried = None, False
            self._vocabulary = None
            self._reconcile()  # files that could not be read again wait for the next run
        self._save_index()
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

    def model_switch(self) -> Progress | None:
        """How a running switch to another model stands (phase "re-embedding"), else None."""
        return self._switching

    def _ocr_engine(self) -> OcrEngine | None:
        """The OCR engine when ``settings.ocr`` is on (raises with install advice if missing)."""
        if not self.settings.ocr:
            return None
        with self._embedder_lock:
            if self._ocr is None:
                self._ocr = load_ocr_engine()
            return self._ocr

    # -- tags -----------------------------------------------------------------------------

    def _model_spec(self) -> ModelSpec:
        if self._embedder is not None:
            return self._embedder.spec
        return get_model_spec(self.catalog.get_meta("model") or self.settings.model)

    def _tag_vocabulary(self) -> TagVocabulary:
        """The tag labels' text vectors for this library's model (kept on disk once encoded)."""
        spec = self._model_spec()
        labels = vocabulary_labels(spec)
        version = vocabulary_version(spec, self._space, labels)
        if self._vocabulary is not None and self._vocabulary.version == version:
            return self._vocabulary
        cache = self.settings.data_dir / "tag_vectors" / f"{version}.npy"
        vectors: np.ndarray | None = None
        try:
            vectors = np.load(cache, allow_pickle=False)
        except (OSError, ValueError):
            vectors = None
        if vectors is None or vectors.shape[0] != len(labels):
            # A loaded model encodes the few hundred labels in one batch; the numpy query
            # encoder takes them one at a time (≈ 10 s for ViT-B-32 on 2 cores).
            loaded = self._embedder
            encoder: Embedder | NumpyTextEncoder = (
                loaded
                if loaded is not None and loaded.space == self._space
                else self._query_encoder()
            )
            self._check_space(encoder)
            texts = prompts(spec, labels)
            vectors = np.concatenate(
                [encoder.encode_texts(texts[i : i + 64]) for i in range(0, len(texts), 64)]
            ).astype(np.float32)
            if isinstance(encoder, Embedder):
                encoder.release_text_tower()
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, vectors, allow_pickle=False)
            except OSError as exc:
                log.warning("Could not keep the tag vectors in %s: %s", cache, exc)
        self._vocabulary = TagVocabulary(labels, vectors, threshold_for(spec), version)
        return self._vocabulary

    def _tag_pending(self, cancel: threading.Event | None = None) -> int:
        """Tag the photos and videos whose automatic tags are missing or stale; how many."""
        if not self._space:
            return 0
        try:
            vocabulary = self._tag_vocabulary()
        except LumenError as exc:  # tags wait for the model; indexing itself went fine
            log.warning("Photos were not tagged: %s", exc)
            return 0
        done = 0
        while not (cancel and cancel.is_set()):
            ids = self.catalog.files_to_tag(self._space, vocabulary.version)
            if not ids:
                break
            vectors = self.catalog.image_vectors(ids, self._space)
            tags = {f: vocabulary.tags(vectors[f]) if f in vectors else [] for f in ids}
            self.catalog.store_auto_tags(vocabulary.version, tags)
            done += len(ids)
        if done:
            log.info("Tagged %d files", done)
        return done

    # -- people (issue 23): faces found, grouped and named; see core/people ----------------

    @functools.cached_property
    def people(self) -> People:
        """The library's people (their tables are created on first use)."""
        return People(self.catalog.session)

    def _faces_pending(
        self,
        cancel: threading.Event | None,
        progress: Callable[[Progress], None] | None,
        max_files: int | None = None,
    ) -> None:
        """The face pass over what waits for it (or its first ``max_files``), after the
        vectors; a query goes first."""
        if cancel is not None and cancel.is_set():
            return

        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(Progress("faces", done, total))

        self.people.scan_pending_quietly(cancel, self.priority.checkpoint, report, max_files)

    def update_tags(self) -> int:
        """Tag the photos not tagged yet (``index`` does this itself); returns how many."""
        self.claim_writer()
        with self._write_lock:
            return self._tag_pending()

    def tags(self) -> list[tuple[str, int]]:
        """Every tag in use with how many files carry it, most used first."""
        return self.catalog.tag_counts()

    def file_tags(self, path: Path) -> list[Tag]:
        """A file's tags: the user's, then the automatic ones by score (raises if not indexed)."""
        record = self._indexed(path)
        return self.catalog.tags_of([record.id]).get(record.id, [])

    def set_tag(self, path: Path, tag: str, present: bool = True) -> bool:
        """Give a file a tag of the user's, or take one away (an automatic tag taken away stays
        away when the photo is tagged again). Returns whether anything changed."""
        name = normalise_tag(tag)
        if not name:
            raise LumenError("A tag needs at least one letter or digit")
        return self.catalog.set_user_tag(self._indexed(path).id, name, present)

    def _indexed(self, path: Path) -> FileRecord:
        record = self.file(path)
        if record is None:
            raise LumenError(f"{path} is not in the library")
        return record

    def _with_tags(self, results: SearchResults, terms: tuple[str, ...]) -> SearchResults:
        """Each hit with its tags, and the query's words or tag filters found among them."""
        tags = self.catalog.tags_of(h.file.id for h in results.hits)
        hits = []
        for hit in results.hits:
            names = tuple(t.name for t in tags.get(hit.file.id, []))
            found = tuple(t for t in terms if any(found_terms((t,), n) for n in names))
            why = dataclasses.replace(hit.why, in_tags=found) if found else hit.why
            hits.append(dataclasses.replace(hit, tags=names, why=why))
        return SearchResults(hits, results.hidden, results.cutoff)

    def _tagged(self, file_filter: FileFilter, k: int, terms: tuple[str, ...]) -> SearchResults:
        """``tag:beach`` alone: the files with those tags, surest first."""
        hits = [
            SearchHit(
                record,
                score or 0.0,
                "image",
                relevance=100.0,
                why=MatchReason(in_tags=terms),
            )
            for record, score in self.catalog.tagged_files(file_filter, k)
        ]
        return self._with_tags(SearchResults(hits, 0, None), terms)

    # -- search ---------------------------------------------------------------------------

    def search(
        self,
        text: str,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        like: Path | None = None,
    ) -> SearchResults:
        """Files that match ``text`` by meaning or by its exact words, best first.

        Words and "quoted phrases" found in a file's text, name or folder names lift it (a
        quoted phrase must be there, literally); document hits carry their best page and passage.
        ``-word`` leaves out what matches it, ``word:2`` weighs a part (see ``parse_query``), and
        ``like`` adds a picture (or document) to the query: "this photo, but at night".
        """
        # People (issue 23): person:NAME, -person:NAME and a person's name typed in the query.
        rest, people_filter, person_terms = people_query(self.people, text, file_filter)
        if person_terms.any:
            return people_results(
                self.people,
                person_terms,
                rest,
                people_filter,
                k,
                lambda q, f: self.search(q, k, f, show_all, like),
                self.catalog.recent_files,
            )
        parsed = parse_query(text)
        if parsed.tags or parsed.without_tags:
            file_filter = dataclasses.replace(
                file_filter or FileFilter(),
                tags=(file_filter.tags if file_filter else frozenset()) | set(parsed.tags),
                without_tags=(file_filter.without_tags if file_filter else frozenset())
                | set(parsed.without_tags),
            )
        if file_filter is not None and file_filter.tags and not (parsed.parts or like):
            return pair_up(self._tagged(file_filter, k, parsed.tags), self.catalog)
        if not (parsed.parts or like is not None) or not self._space:
            return SearchResults()
        with self.priority.query():  # indexing's threads wait meanwhile
            return self._search_by_meaning(parsed, k, file_filter, show_all, like)

    def _search_by_meaning(
        self,
        parsed: ParsedQuery,
        k: int,
        file_filter: FileFilter | None,
        show_all: bool,
        like: Path | None,
    ) -> SearchResults:
        encoder = self._query_encoder()
        self._check_space(encoder)
        parts = [(encoder.encode_text(t), w) for t, w in parsed.parts]
        exclude: frozenset[int] = frozenset()
        if like is not None:
            picture, _role, exclude = self._file_query(like)
            parts.insert(0, (picture, 1.0))
        negatives = [encoder.encode_text(t) for t in parsed.negatives]
        query = combine(parts, negatives)
        results = self._search.hybrid(
            query, parsed, k, file_filter, show_all, negatives, exclude_file_ids=exclude
        )
        return pair_up(self._with_tags(results, parsed.terms + parsed.tags), self.catalog)

    def duplicates(
        self,
        threshold: float = DUPLICATE_COSINE,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of photos that are the same picture (copies, edits, bursts), biggest first."""
        if not self._space:
            return []
        return find_duplicates(self.catalog, self._index, self._space, threshold, progress)

    def similar(
        self,
        path: Path,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        at_s: float | None = None,
    ) -> SearchResults:
        """Files that look like ``path``; an indexed file reuses its stored vector.

        For a video, ``at_s`` picks the frame nearest that time (else all its frames count).
        """
        if not self._space:
            return SearchResults()
        with self.priority.query():  # indexing's threads wait meanwhile
            query, role, exclude = self._file_query(path, at_s)
            # Looks are compared with looks: a photo's neighbours by their pixels, not their text.
            roles = frozenset({"image"}) if role == "image" else None
            record = self.catalog.file_by_path(path.expanduser().absolute())
            if record is not None:  # the other files of the same shot are not "similar" to it
                shot = self.catalog.files_named_like(record.path)
                exclude |= {r.id for r in shot if same_shot(record.path, r.path)}
            results = self._search.by_vector(query, k, file_filter, exclude, show_all, roles)
            return pair_up(self._with_tags(results, ()), self.catalog)

    def related_documents(
        self,
        path: Path,
        k: int = 10,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
    ) -> SearchResults:
        """Documents whose passages are closest to ``path`` (a photo: image → text retrieval).

        One hit per document, with the passage and page that matched best.
        """
        if not self._space:
            return SearchResults()
        query, _role, exclude = self._file_query(path)
        documents = dataclasses.replace(file_filter or FileFilter(), kinds=frozenset({"document"}))
        return self._search.by_vector(query, k, documents, exclude, show_all, frozenset({"text"}))

    def _file_query(
        self, path: Path, at_s: float | None = None
    ) -> tuple[np.ndarray, str, frozenset[int]]:
        """A file's query vector (its stored image vectors when indexed), its role, and its id.

        ``at_s``: of a video's frames, only the one nearest that time.
        """
        path = path.expanduser().absolute()
        record = self.catalog.file_by_path(path)
        if record is not None:
            stored = self.catalog.file_vectors(record.id, self._space)
            frames = [(owner, vec) for owner, vec in stored if owner.at_ms is not None]
            if at_s is not None and frames:
                _owner, nearest = min(frames, key=lambda f: abs((f[0].at_ms or 0) - at_s * 1000))
                return nearest, "image", frozenset({record.id})
            images = [vec for owner, vec in stored if owner.role == "image"]
            vectors = images or [vec for _, vec in stored]
            if vectors:
                role = "image" if images else "text"
                return _normalised(np.mean(vectors, axis=0)), role, frozenset({record.id})
        query, role = self._embed_file(path)
        return query, role, frozenset({record.id}) if record is not None else frozenset()

    def similar_to_vector(
        self, query: np.ndarray, k: int = 50, file_filter: FileFilter | None = None
    ) -> SearchResults:
        return self._search.by_vector(query, k, file_filter)

    def _embed_file(self, path: Path) -> tuple[np.ndarray, str]:
        embedder = self._space_embedder()
        self._check_space(embedder)
        try:
            extraction = extract(path, embedder.image_size)
        except OSError as exc:
            raise ExtractionError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if extraction.image is not None:
            return embedder.encode_images([extraction.image])[0], "image"
        if extraction.frames:  # a video: what its scenes look like, together
            frames = embedder.encode_images([f.image for f in extraction.frames])
            return _normalised(frames.mean(0)), "image"
        if extraction.passages:
            texts = [p.text for p in extraction.passages[:8]]
            return _normalised(embedder.encode_texts(texts).mean(0)), "text"
        raise ExtractionError(f"{path} has nothing to compare (no image, no text)")

    def _check_space(self, embedder: Embedder | NumpyTextEncoder) -> None:
        if embedder.space != self._space:
            key = embedder.spec.key if isinstance(embedder, Embedder) else self.settings.model
            raise IndexMismatchError(
                f"This library was indexed with another model ({self.catalog.get_meta('model')}); "
                f"the current model is {key}. Run `lumen index` to re-index with it."
            )

    def recent(self, k: int = 100, file_filter: FileFilter | None = None) -> list[FileRecord]:
        """Newest indexed files (what an empty query shows)."""
        return self.catalog.recent_files(k, file_filter)

    def find_by_name(
        self, words: Sequence[str], limit: int = 100, file_filter: FileFilter | None = None
    ) -> list[FileRecord]:
        """Indexed or not-yet-embedded files whose name holds every word (no model needed)."""
        return self.catalog.find_by_name(words, limit, file_filter)

    def file(self, path: Path) -> FileRecord | None:
        return self.catalog.file_by_path(path.expanduser().absolute())

    def status(self) -> LibraryStatus:
        counts = self.catalog.counts()
        return LibraryStatus(
            data_dir=self.settings.data_dir,
            model=self.catalog.get_meta("model") or self.settings.model,
            folders=self.catalog.folders(),
            indexed=counts.get(INDEXED, 0),
            pending=counts.get("pending", 0),
            failed=counts.get("failed", 0),
            offline=counts.get("offline", 0),
            vectors=counts.get("vectors", 0),
            index_size=len(self._index),
            kinds=self.catalog.indexed_kinds(),
            switching=self._switching or self._switch_on_disk(counts.get(INDEXED, 0)),
        )

    def _switch_on_disk(self, indexed: int) -> Progress | None:
        """A switch another process runs, or one interrupted (``lumen index`` goes on with it)."""
        switch = self.catalog.get_meta(SWITCH_KEY)
        if not switch:
            return None
        key, _, space = switch.partition("\t")
        left = len(self.catalog.files_without_space(space))
        return Progress("re-embedding", indexed - left, indexed, note=key)

    def failures(self) -> list[FileRecord]:
        return self.catalog.failed_files()


def _summary_json(summary: IndexSummary) -> str:
    figures = dataclasses.asdict(summary)
    figures["offline_folders"] = [str(p) for p in summary.offline_folders]
    figures["failures"] = [[str(p), reason] for p, reason in summary.failures]
    return json.dumps(figures)


def _summary_from_json(text: str, writer: str) -> IndexSummary:
    """The figures of a run another process did (see ``Library.index(hand_off=True)``)."""
    figures = json.loads(text)
    if "error" in figures:
        raise LumenError(f"{writer} could not finish updating this library: {figures['error']}")
    known = {f.name for f in dataclasses.fields(IndexSummary)}
    figures = {k: v for k, v in figures.items() if k in known}
    figures["offline_folders"] = [Path(p) for p in figures.get("offline_folders", [])]
    figures["failures"] = [(Path(p), reason) for p, reason in figures.get("failures", [])]
    return IndexSummary(**figures)


def make_private(data_dir: Path) -> None:
    """Create the data dir readable by its owner only (catalog, thumbnails, pasted images)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix" and data_dir.stat().st_uid == os.getuid():
            os.chmod(data_dir, 0o700)
    except OSError as exc:  # Catalog.open reports a data dir that cannot be used at all
        log.warning("Could not make %s private: %s", data_dir, exc.strerror or exc)


def _normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)
