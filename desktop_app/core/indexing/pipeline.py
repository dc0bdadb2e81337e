"""Scanner → extractors → embedder → catalog + vector index: batched, cancellable, with progress."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import Extraction, Passage, extract
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.indexing.passages import PassageSplitter
from desktop_app.core.indexing.priority import QueryPriority
from desktop_app.core.indexing.progress_rate import RateMeter
from desktop_app.core.indexing.scanner import Scanner, ScanResult, mount_point_key
from desktop_app.core.records import FileChanges, IndexSummary, Progress
from desktop_app.core.storage.catalog import (
    PENDING,
    Catalog,
    EmbeddedFile,
    FileRecord,
    Folder,
    NewText,
    NewVector,
)
from desktop_app.core.storage.exclusions import Exclusions
from desktop_app.core.storage.vector_index import VectorIndex

if TYPE_CHECKING:
    import torch

    from desktop_app.core.embedding.embedder import Embedder
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = ["ChangeCallback", "FileChanges", "IndexSummary", "Indexer", "Progress"]

log = logging.getLogger(__name__)

SAVE_EVERY_S = 30.0
TEXT_BATCH = 64
IMAGE_BATCH = 64  # pictures per image-tower call (a batch of videos holds many frames)
# Videos read ahead at most: each holds up to MAX_FRAMES prepared frames (~0.6 MB each).
VIDEOS_IN_FLIGHT = 6
# Decoding waits at most this long for the model to finish a batch (a slow batch of video
# frames must not stop reading the next files altogether).
MODEL_WAIT_S = 5.0
CANCEL_POLL_S = 0.1  # how often a wait for a file being read looks whether the run is cancelled


ChangeCallback = Callable[[FileChanges], None]

# Pictures per model call on a GPU: the model there is fast enough that small batches leave it
# waiting for launches; ViT-B-32 in fp16 needs well under 2 GB for 128 pictures.
GPU_BATCH = 128
MAX_DECODERS = 16


@dataclass(frozen=True)
class Plan:
    """How a run shares the machine between decoding and the model."""

    decoders: int
    batch_size: int
    decode_while_model_runs: bool


def plan_for(device: str, cores: int, batch_size: int, decoders: int | None = None) -> Plan:
    """On the CPU the model's threads use every core, so decoding waits while a batch runs
    (sharing them made each batch ~1.7x slower than the decoding it overlapped was worth, on 2
    cores) and a few decoders suffice. On a GPU the cores are free while it computes: every
    core decodes, all the time, and batches are larger (not measured: no GPU was at hand)."""
    if device == "cpu":
        return Plan(decoders or max(2, min(4, cores)), batch_size, False)
    return Plan(decoders or max(2, min(MAX_DECODERS, cores)), max(batch_size, GPU_BATCH), True)


@dataclass
class _Prepared:
    record: FileRecord
    extraction: Extraction | None
    pixels: torch.Tensor | None
    file_values: dict[str, Any]
    error: str | None = None
    vanished: bool = False
    chunks: list[Passage] = field(default_factory=list)  # passages cut to the text encoder's size
    frames: list[tuple[torch.Tensor, int]] = field(default_factory=list)  # a video's, with ms


PreparedFile = _Prepared  # one file read and preprocessed, ready for the model
ProgressCallback = Callable[[Progress], None]


class Indexer:
    """Runs indexing for a library. Call from one thread at a time (the single writer)."""

    def __init__(
        self,
        catalog: Catalog,
        get_index: Callable[[], VectorIndex],
        get_embedder: Callable[[], Embedder],
        save_index: Callable[[], None],
        workers: int | None = None,
        batch_size: int = 32,
        on_change: ChangeCallback | None = None,
        ocr: OcrEngine | None = None,
        exclusions: Callable[[], Exclusions] | None = None,
        store_lock: threading.Lock | None = None,
        priority: QueryPriority | None = None,
    ) -> None:
        self._catalog = catalog
        # The exclusions as they are now: asked again while a run goes on, so a file excluded
        # mid-run is not read.
        self._exclusions = exclusions or Exclusions
        # Held around each catalog write + index update pair, so a file forgotten while this
        # runs loses its vectors in both, whichever writes first.
        self._store_lock = store_lock or threading.Lock()
        # Queries go first: this run's threads wait at checkpoints while one runs.
        self._priority = priority or QueryPriority()
        self._on_change = on_change
        self._ocr = ocr  # recognises text in photos and scanned pages when given
        self._get_index = get_index  # the library swaps its index when the model changes
        self._get_embedder = get_embedder
        self._save_index = save_index
        self._workers = workers  # decoding threads; None: as many as the device wants
        self._batch_size = batch_size

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
        scan = Scanner(self._catalog, self._exclusions()).scan(
            folders,
            on_progress=lambda n: report(Progress("scanning", done=n)),
            is_cancelled=cancel.is_set,
        )
        return self._apply_and_embed(scan, started, report, cancel, save=True)

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
        if scan.new or scan.changed or self._catalog.counts().get(PENDING):
            # Load the model before writing anything, so a missing model leaves no half-done run.
            report(Progress("loading model"))
            self._get_embedder()
        self.apply_scan(scan, summary)
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
        removed_vectors = catalog.delete_files([r.id for r in scan.removed])
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
        if removed_vectors:
            self._get_index().remove(removed_vectors)
        self._report(
            FileChanges(
                moved=tuple((r.path, f.path) for r, f in scan.moved),
                removed=tuple(r.path for r in scan.removed),
                offline=tuple(f.path for f in scan.offline_folders if f.online),
                online=tuple(f.path for f in back),
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
        """Extract and embed every pending file, in batches, until done or cancelled.

        Files of offline folders wait (they cannot be read, and must not count as deleted).
        """
        offline = {f.id for f in self._catalog.folders() if not f.online}
        pending = [
            r for r in self._catalog.files_with_status(PENDING) if r.folder_id not in offline
        ]
        if not pending:
            return
        report(Progress("loading model", 0, len(pending)))
        embedder = self._get_embedder()
        if cancel.is_set():
            summary.cancelled = True
            return
        plan = plan_for(embedder.device, os.cpu_count() or 2, self._batch_size, self._workers)
        splitter = PassageSplitter.for_tokenizer(embedder.tokenizer)
        priority = self._priority
        _install_checkpoints(embedder)
        embedder.load_image_tower()  # start-up, not part of the rate reported while indexing
        started = time.perf_counter()
        last_save = started
        done = 0
        meter = RateMeter()
        queue: deque[Future[_Prepared]] = deque()
        todo = iter(pending)
        batch: list[_Prepared] = []
        # A batch handed to the model, whose vectors are stored once the next batch is queued.
        running: tuple[list[_Prepared], Future[_Vectors]] | None = None

        def background() -> None:
            priority.mark_background()
            _checkpoints.priority = priority
            _checkpoints.cancel = cancel  # the model stops at its next step once cancelled

        # On the CPU, decoding waits while the model runs (see ``plan_for``).
        model_idle = threading.Event()
        model_idle.set()

        def prepare(record: FileRecord) -> _Prepared:
            priority.checkpoint()  # a query runs: decode this file after it
            if not plan.decode_while_model_runs:
                model_idle.wait(MODEL_WAIT_S)
            if cancel.is_set():  # not read: the cores go to the stop (never stored, see below)
                return _Prepared(record, None, None, {}, "cancelled")
            return _prepare(record, embedder, splitter, self._ocr)

        def embed(batch: list[_Prepared]) -> _Vectors:
            model_idle.clear()
            try:
                return _embed_batch(batch, embedder)
            finally:
                model_idle.set()

        def store(finished: tuple[list[_Prepared], Future[_Vectors]]) -> None:
            nonlocal done, last_save
            items, vectors = finished
            self._store_batch(items, vectors.result(), embedder)
            summary.embedded += len(items)
            done += len(items)
            meter.add(done)
            rate, eta = meter.rate, meter.eta_s(len(pending) - done)
            report(
                Progress(
                    "indexing", done, len(pending), summary.failed, rate, eta, items[-1].record.path
                )
            )
            if time.perf_counter() - last_save > SAVE_EVERY_S:
                self._save_index()
                last_save = time.perf_counter()

        # Decoding threads keep prepared files ahead of the model; the model runs on its own
        # thread, so it starts the next batch the moment it finishes one, while this thread
        # stores the finished batch and gathers the one after.
        with (
            _decoders(plan.decoders, background, cancel) as pool,
            ThreadPoolExecutor(
                1, thread_name_prefix="lumen-model", initializer=background
            ) as model,
        ):
            queued_videos: set[Future[_Prepared]] = set()
            waiting: deque[FileRecord] = deque()

            def refill() -> None:
                while len(queue) < plan.batch_size * 2:
                    record = waiting.popleft() if waiting else next(todo, None)
                    if record is None:
                        return
                    if self._exclusions().excludes(record.path):
                        continue  # excluded since the run began: never read
                    if record.kind == "video" and len(queued_videos) >= VIDEOS_IN_FLIGHT:
                        waiting.appendleft(record)  # memory: read on when a video is taken
                        return
                    future = pool.submit(prepare, record)
                    queue.append(future)
                    if record.kind == "video":
                        queued_videos.add(future)

            try:
                refill()
                while queue and not cancel.is_set():
                    taken = queue.popleft()
                    queued_videos.discard(taken)
                    item = _result_unless_cancelled(taken, cancel)
                    if item is None or cancel.is_set():
                        break
                    refill()
                    if item.vanished:
                        summary.removed += 1
                        self._get_index().remove(self._catalog.delete_files([item.record.id]))
                        self._report(FileChanges(removed=(item.record.path,)))
                        done += 1
                    elif item.error is not None:
                        log.warning("Skipped %s: %s", item.record.path, item.error)
                        self._catalog.update_file(item.record.id, status="failed", error=item.error)
                        summary.failed += 1
                        summary.failures.append((item.record.path, item.error))
                        self._report(FileChanges(failed=((item.record.path, item.error),)))
                        done += 1
                    else:
                        batch.append(item)
                    frames = sum(len(b.frames) for b in batch)
                    if (
                        len(batch) >= plan.batch_size
                        or frames >= IMAGE_BATCH
                        or (not queue and batch)
                    ):
                        handed = (batch, model.submit(embed, batch))
                        batch = []
                        if running is not None:
                            store(running)  # the model works on ``handed`` meanwhile
                        running = handed
                if cancel.is_set():
                    # the files stored so far are kept; the batches not stored yet (the one
                    # the model works on included: storing it would delay the stop by seconds)
                    # stay pending for the next run
                    summary.cancelled = True
                    batch, running = [], None
                if running is not None:
                    store(running)
                    running = None
            except _Cancelled:  # the model stopped inside a batch: its files stay pending
                summary.cancelled = True
            finally:
                for future in queue:
                    future.cancel()
        summary.embed_s += time.perf_counter() - started
        if save:
            report(Progress("saving", done, len(pending), summary.failed))
            self._save_index()

    def _store_batch(self, batch: list[_Prepared], vectors: _Vectors, embedder: Embedder) -> None:
        """Write a batch's vectors and texts to the catalog and the vector index."""
        stored = _embedded_files(batch, vectors)
        with self._store_lock:
            ids_per_file, old_ids = self._catalog.store_embedded_files(embedder.space, stored)
            new_ids = [vid for ids in ids_per_file for vid in ids]
            new_vectors = [
                v.embedding
                for item, ids in zip(stored, ids_per_file, strict=True)
                if ids  # none: the file was forgotten while it was being embedded
                for v in item.vectors
            ]
            if old_ids:
                self._get_index().remove(old_ids)
            if new_ids:
                self._get_index().add(np.asarray(new_ids, dtype=np.int64), np.stack(new_vectors))
        self._report(FileChanges(indexed=tuple(item.record.path for item in batch)))


# What the model made of a batch: its pictures and their vectors, its passages and theirs.
_Vectors = tuple[
    list[tuple[_Prepared, "torch.Tensor", int | None]],
    np.ndarray,
    list[tuple[_Prepared, Passage]],
    np.ndarray,
]

# The query gate of the thread running the model now (set on indexing's own threads only).
_checkpoints = threading.local()


class _Cancelled(Exception):
    """Raised on the model's thread at its next step once the run is cancelled."""


def _give_way_to_queries(*_args: object) -> None:
    priority: QueryPriority | None = getattr(_checkpoints, "priority", None)
    if priority is not None:
        priority.checkpoint()
    _stop_if_cancelled()


def _stop_if_cancelled(*_args: object) -> None:
    """Raise ``_Cancelled`` on an indexing thread whose run is cancelled (elsewhere: nothing)."""
    cancel: threading.Event | None = getattr(_checkpoints, "cancel", None)
    if cancel is not None and cancel.is_set():
        raise _Cancelled


def _result_unless_cancelled(
    future: Future[_Prepared], cancel: threading.Event
) -> _Prepared | None:
    """The file ``future`` prepares, or None once the run is cancelled (a long file is not
    waited for)."""
    while True:
        try:
            return future.result(timeout=CANCEL_POLL_S)
        except TimeoutError:
            if cancel.is_set():
                return None


@contextmanager
def _decoders(
    workers: int, initializer: Callable[[], None], cancel: threading.Event
) -> Iterator[ThreadPoolExecutor]:
    """The decoding threads; a cancelled run does not wait for the files still being read
    (nothing of theirs is written)."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="lumen-extract", initializer=initializer)
    try:
        yield pool
    finally:
        pool.shutdown(wait=not cancel.is_set(), cancel_futures=True)


def _install_checkpoints(embedder: Embedder) -> None:
    """Give way to queries before each step of the image tower's blocks (attention, each
    MLP layer, the norms): a query waits at most for the step that is running.

    Only indexing's threads ever wait there: on any other thread (a query embedding a picture
    for "find similar") the hook returns at once. Installed once per model. Both towers' blocks
    also stop a cancelled run's batch (Ctrl-C stops within a block, not a batch of passages).
    """
    model = embedder.model
    if getattr(model, "_lumen_checkpoints", False):
        return
    blocks = getattr(getattr(getattr(model, "visual", None), "transformer", None), "resblocks", [])
    for block in blocks:
        # the block's parts, and inside them the innermost modules (the MLP's layers one by
        # one); int8 quantisation may swap those layers later, the parts stay
        steps = [block, *block.children()]
        steps += [m for m in block.modules() if not next(m.children(), None)]
        for step in steps:
            step.register_forward_pre_hook(_give_way_to_queries)
    for block in getattr(getattr(model, "transformer", None), "resblocks", []):
        for step in (block, *block.children()):  # attention, MLP: a few per block
            step.register_forward_pre_hook(_stop_if_cancelled)
    model._lumen_checkpoints = True


def _embed_batch(batch: list[_Prepared], embedder: Embedder) -> _Vectors:
    """The model's step for a batch (on the model thread): every picture's and passage's vector."""
    import torch

    # Every picture to embed: a photo's or a document page's, and each frame of a video.
    pictures: list[tuple[_Prepared, torch.Tensor, int | None]] = []
    for item in batch:
        if item.pixels is not None:
            pictures.append((item, item.pixels, None))
        pictures += [(item, pixels, at_ms) for pixels, at_ms in item.frames]
    image_vectors = []
    for start in range(0, len(pictures), IMAGE_BATCH):
        _stop_if_cancelled()
        stack = torch.stack([pixels for _, pixels, _ in pictures[start : start + IMAGE_BATCH]])
        image_vectors.append(embedder.encode_prepared(stack))
    passages = [(item, passage) for item in batch for passage in item.chunks]
    text_vectors = []
    for start in range(0, len(passages), TEXT_BATCH):
        _stop_if_cancelled()
        texts = [p.text for _, p in passages[start : start + TEXT_BATCH]]
        text_vectors.append(embedder.encode_texts(texts))
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    return (
        pictures,
        np.concatenate(image_vectors) if image_vectors else empty,
        passages,
        np.concatenate(text_vectors) if text_vectors else empty,
    )


def _embedded_files(batch: Sequence[_Prepared], vectors: _Vectors) -> list[EmbeddedFile]:
    """Each file of a batch with its vectors and the text its keyword index holds."""
    pictures, picture_vectors, passages, passage_vectors = vectors
    vectors_of: dict[int, list[NewVector]] = {id(item): [] for item in batch}
    for (item, _, at_ms), vector in zip(pictures, picture_vectors, strict=True):
        vectors_of[id(item)].append(NewVector("image", vector, page=None, at_ms=at_ms))
    for (item, passage), vector in zip(passages, passage_vectors, strict=True):
        vectors_of[id(item)].append(NewVector("text", vector, passage.page, passage.text))
    return [
        EmbeddedFile(
            item.record.id,
            vectors_of[id(item)],
            # the text the keyword index holds for this file
            [
                NewText(p.text, p.page)
                for p in (item.extraction.passages if item.extraction else [])
            ],
            item.file_values,
        )
        for item in batch
    ]


def embed_batch(batch: Sequence[PreparedFile], embedder: Embedder) -> list[EmbeddedFile]:
    """The vectors (and keyword-index text) of a batch of prepared files, in order (a model
    switch stores them beside the old model's)."""
    return _embedded_files(batch, _embed_batch(list(batch), embedder))


def prepare_file(
    record: FileRecord,
    embedder: Embedder,
    splitter: PassageSplitter | None = None,
    ocr: OcrEngine | None = None,
) -> PreparedFile:
    """Read and preprocess one file for the model (what indexing's decoding threads do)."""
    return _prepare(record, embedder, splitter, ocr)


def _prepare(
    record: FileRecord,
    embedder: Embedder,
    splitter: PassageSplitter | None = None,
    ocr: OcrEngine | None = None,
) -> _Prepared:
    """Worker-thread step: fingerprint, decode and preprocess one file, cut its text to size."""
    path = record.path
    try:
        st = path.stat()
        fingerprint = fingerprint_file(path)
        extraction = extract(path, embedder.image_size, ocr)
        pixels = embedder.prepare_image(extraction.image) if extraction.image is not None else None
        frames = [
            (embedder.prepare_image(f.image), round(f.at_s * 1000)) for f in extraction.frames
        ]
        chunks = splitter.split(extraction.passages) if splitter else extraction.passages
    except FileNotFoundError:
        return _Prepared(record, None, None, {}, "file vanished", vanished=True)
    except PermissionError:
        return _Prepared(record, None, None, {}, "permission denied")
    except ExtractionError as exc:
        if not path.exists():
            return _Prepared(record, None, None, {}, "file vanished", vanished=True)
        return _Prepared(record, None, None, {}, str(exc))
    except OSError as exc:
        return _Prepared(record, None, None, {}, f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # a bug in a decoder must not stop the run
        log.exception("Unexpected error while reading %s", path)
        return _Prepared(record, None, None, {}, f"unexpected error: {type(exc).__name__}: {exc}")
    if pixels is None and not frames and not extraction.passages:
        return _Prepared(record, None, None, {}, "nothing to index (no image and no text)")
    values: dict[str, Any] = {
        "fingerprint": fingerprint,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "width": extraction.width,
        "height": extraction.height,
        "taken_at": extraction.taken_at,
        "camera": extraction.camera,
        "title": extraction.title,
        "page_count": extraction.page_count,
        "duration_s": extraction.duration_s,
    }
    # The pictures are prepared tensors now: the decoded copies need not wait for the model.
    extraction.image, extraction.frames = None, []
    return _Prepared(record, extraction, pixels, values, chunks=chunks, frames=frames)
