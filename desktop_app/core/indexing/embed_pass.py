"""One pass over the pending files: decoders read ahead, the model runs on its own thread, and
each finished batch is stored (through the writer) while the model works on the next one."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.indexing.pass_pace import FilesPace, Pace
from desktop_app.core.indexing.passages import PassageSplitter
from desktop_app.core.indexing.prepare import (
    IMAGE_BATCH,
    BatchVectors,
    Cancelled,
    PreparedFile,
    model_step,
    prepare_file,
    set_checkpoint_priority,
)
from desktop_app.core.priority import QueryPriority
from desktop_app.core.records import FileRecord, IndexSummary, Progress

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = ["GPU_BATCH", "EmbedPass", "Plan", "plan_for"]

SAVE_EVERY_S = 30.0
# Videos read ahead at most: each holds up to MAX_FRAMES prepared frames (~0.6 MB each).
VIDEOS_IN_FLIGHT = 6
# Decoding waits at most this long for the model to finish a batch (a slow batch of video
# frames must not stop reading the next files altogether).
MODEL_WAIT_S = 5.0
CANCEL_POLL_S = 0.1  # how often a wait for a file being read looks whether the run is cancelled
# Pictures per model call on a GPU: the model there is fast enough that small batches leave it
# waiting for launches; ViT-B-32 in fp16 needs well under 2 GB for 128 pictures.
GPU_BATCH = 128
MAX_DECODERS = 16
# A batch is handed to the model once it holds this many vectors to make, whatever its files:
# a second pass's files have many passages each (32 files of ~8: a batch of 40 s on 2 cores,
# with no progress shown meanwhile); the first pass's and photos' have one each.
BATCH_VECTORS = 64

Handed = tuple[list[PreparedFile], "Future[BatchVectors]"]  # a batch and the model's answer


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
class EmbedPass:
    """Embeds ``pending`` in batches until done or cancelled; call ``run`` once."""

    pending: list[FileRecord]
    embedder: Embedder
    plan: Plan
    ocr: OcrEngine | None
    priority: QueryPriority
    excluded: Callable[[Path], bool]  # asked again per file: excluded mid-run is never read
    summary: IndexSummary
    report: Callable[[Progress], None]
    cancel: threading.Event
    store_batch: Callable[[list[PreparedFile], BatchVectors], None]
    not_embedded: Callable[[PreparedFile], None]  # vanished or unreadable
    save: Callable[[], None]
    # What of a prepared file this pass embeds (``two_pass``): on the decoding thread
    shape: Callable[[PreparedFile], None] | None = None
    phase: str = "indexing"  # what the progress reports call this pass
    pace: Pace | None = None  # files/s and time left (default: the files left at their pace)
    done: int = 0
    started: float = field(default_factory=time.perf_counter)
    _last_save: float = field(default_factory=time.perf_counter)
    _queue: deque[Future[PreparedFile]] = field(default_factory=deque)
    _videos: set[Future[PreparedFile]] = field(default_factory=set)
    _waiting: deque[FileRecord] = field(default_factory=deque)
    _batch: list[PreparedFile] = field(default_factory=list)
    _running: Handed | None = None  # handed to the model; stored once the next one is handed
    _model_idle: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._splitter = PassageSplitter.for_tokenizer(self.embedder.tokenizer)
        self._todo = iter(self.pending)
        self._model_idle.set()
        self._pace: Pace = self.pace or FilesPace(len(self.pending))

    def _background(self) -> None:
        self.priority.mark_background()
        set_checkpoint_priority(self.priority, self.cancel)

    def _prepare(self, record: FileRecord) -> PreparedFile:
        self.priority.checkpoint()  # a query runs: decode this file after it
        if not self.plan.decode_while_model_runs:  # on the CPU, decoding waits for the model
            self._model_idle.wait(MODEL_WAIT_S)
        if self.cancel.is_set():  # not read: the cores go to the stop (never stored, see run)
            return PreparedFile(record, None, None, {}, "cancelled")
        item = prepare_file(record, self.embedder, self._splitter, self.ocr)
        if self.shape is not None and item.error is None and not item.vanished:
            self.shape(item)
        return item

    def _embed(self, batch: list[PreparedFile]) -> BatchVectors:
        self._model_idle.clear()
        try:
            return model_step(batch, self.embedder)
        finally:
            self._model_idle.set()

    def run(self) -> None:
        """Decoding threads keep prepared files ahead of the model; the model runs on its own
        thread, so it starts the next batch the moment it finishes one, while this thread
        stores the finished batch and gathers the one after."""
        plan = self.plan
        with (
            _decoders(plan.decoders, self._background, self.cancel) as pool,
            ThreadPoolExecutor(
                1, thread_name_prefix="lumen-model", initializer=self._background
            ) as model,
        ):
            try:
                self._refill(pool)
                while self._queue and not self.cancel.is_set():
                    if not self._take(pool, model):
                        break
                if self.cancel.is_set():
                    # the files stored so far are kept; the batches not stored yet (the one
                    # the model works on included: storing it would delay the stop by seconds)
                    # stay pending for the next run
                    self.summary.cancelled = True
                    self._batch, self._running = [], None
                elif self._batch:
                    self._hand(model)
                if self._running is not None:
                    self._store(self._running)
                    self._running = None
            except Cancelled:  # the model stopped inside a batch: its files stay pending
                self.summary.cancelled = True
            finally:
                for future in self._queue:
                    future.cancel()

    def _take(self, pool: ThreadPoolExecutor, model: ThreadPoolExecutor) -> bool:
        """Take the next prepared file; hand a full batch to the model. False once the run is
        cancelled while waiting for the file (a long file is not waited for)."""
        taken = self._queue.popleft()
        self._videos.discard(taken)
        item = _result_unless_cancelled(taken, self.cancel)
        if item is None or self.cancel.is_set():  # a file not read for a cancelled run
            return False
        self._refill(pool)
        if item.vanished or item.error is not None:
            self.not_embedded(item)
            self.done += 1
        else:
            self._batch.append(item)
        frames = sum(len(b.frames) for b in self._batch)
        vectors = sum(b.units for b in self._batch)
        full = (
            len(self._batch) >= self.plan.batch_size
            or frames >= IMAGE_BATCH
            or vectors >= BATCH_VECTORS
        )
        if full or (not self._queue and self._batch):
            self._hand(model)
        return True

    def _hand(self, model: ThreadPoolExecutor) -> None:
        handed = (self._batch, model.submit(self._embed, self._batch))
        self._batch = []
        if self._running is not None:
            self._store(self._running)  # the model works on ``handed`` meanwhile
        self._running = handed

    def _refill(self, pool: ThreadPoolExecutor) -> None:
        while len(self._queue) < self.plan.batch_size * 2:
            record = self._waiting.popleft() if self._waiting else next(self._todo, None)
            if record is None:
                return
            if self.excluded(record.path):
                continue  # excluded since the run began: never read
            if record.kind == "video" and len(self._videos) >= VIDEOS_IN_FLIGHT:
                self._waiting.appendleft(record)  # memory: read on when a video is taken
                return
            future = pool.submit(self._prepare, record)
            self._queue.append(future)
            if record.kind == "video":
                self._videos.add(future)

    def _store(self, finished: Handed) -> None:
        items, vectors = finished
        self.store_batch(items, vectors.result())
        self.summary.embedded += len(items)
        self.done += len(items)
        total = len(self.pending)
        rate, eta = self._pace.after(self.done, items)
        path = items[-1].record.path
        self.report(Progress(self.phase, self.done, total, self.summary.failed, rate, eta, path))
        if time.perf_counter() - self._last_save > SAVE_EVERY_S:
            self.save()
            self._last_save = time.perf_counter()


def _result_unless_cancelled(
    future: Future[PreparedFile], cancel: threading.Event
) -> PreparedFile | None:
    """The file ``future`` prepares, or None once the run is cancelled."""
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
