"""Switching a library to another model without a gap: every file is embedded again in the new
model's vector space, into a second index, while the old index keeps answering searches.

Vectors of both spaces live in the catalog side by side until the new space is complete; then the
library adopts it (``Library``) and the old space's vectors go. An interrupted switch keeps the
new vectors made so far: the next run goes on from there.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.indexing.passages import PassageSplitter
from desktop_app.core.indexing.prepare import embed_batch, prepare_file
from desktop_app.core.records import Progress
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.exclusions import Exclusions
from desktop_app.core.storage.vector_index import VectorIndex

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder
    from desktop_app.core.extractors.ocr import OcrEngine

log = logging.getLogger(__name__)

REEMBEDDING = "re-embedding"  # the Progress phase of a model switch


@dataclass
class SwitchSummary:
    """How a model switch went: files embedded again, files that could not be, and time."""

    embedded: int = 0
    failed: int = 0
    total: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0


def reembed(
    catalog: Catalog,
    embedder: Embedder,
    progress: Callable[[Progress], None],
    cancel: threading.Event,
    *,
    batch_size: int = 32,
    workers: int = 2,
    ocr: OcrEngine | None = None,
    exclusions: Callable[[], Exclusions] = Exclusions,
    commit: Callable[[Callable[[], list[list[int]]]], list[list[int]]] = lambda write: write(),
) -> tuple[VectorIndex, SwitchSummary]:
    """Embed every indexed file that has no vector of ``embedder``'s space yet, in batches.

    Returns the new space's index (all its vectors in the catalog, those of earlier interrupted
    runs too) and the figures. Files that cannot be read now are counted and left for the next
    indexing run (which retries them with the new model). Nothing of the old space is touched.
    Each batch's vectors are stored through ``commit`` (the library's writer).
    """
    started = time.perf_counter()
    space = embedder.space
    index = VectorIndex(embedder.dim)
    done_ids = catalog.vector_ids(space)
    for start in range(0, len(done_ids), 10_000):
        chunk = done_ids[start : start + 10_000]
        index.add(chunk, catalog.vectors(chunk.tolist(), embedder.dim))
    todo = catalog.files_without_space(space)
    summary = SwitchSummary(total=len(todo))
    progress(Progress(REEMBEDDING, 0, len(todo)))
    splitter = PassageSplitter.for_tokenizer(embedder.tokenizer)
    with ThreadPoolExecutor(workers, thread_name_prefix="lumen-reembed") as pool:
        for start in range(0, len(todo), batch_size):
            if cancel.is_set():
                summary.cancelled = True
                break
            records = [
                r for r in todo[start : start + batch_size] if not exclusions().excludes(r.path)
            ]
            prepared = list(pool.map(lambda r: prepare_file(r, embedder, splitter, ocr), records))
            readable = [p for p in prepared if p.error is None]
            for item in prepared:
                if item.error is not None:
                    log.warning(
                        "Not embedded with the new model: %s: %s", item.record.path, item.error
                    )
            summary.failed += len(prepared) - len(readable)
            if readable:
                files = embed_batch(readable, embedder)
                ids = commit(functools.partial(catalog.add_space_vectors, space, files))
                new_ids = [vid for file_ids in ids for vid in file_ids]
                vectors = [
                    v.embedding for f, got in zip(files, ids, strict=True) if got for v in f.vectors
                ]
                if new_ids:
                    index.add(np.asarray(new_ids, dtype=np.int64), np.stack(vectors))
                summary.embedded += len(readable)
            done = min(start + batch_size, len(todo))
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = (len(todo) - done) / rate if rate > 0 else None
            current = records[-1].path if records else None
            progress(Progress(REEMBEDDING, done, len(todo), summary.failed, rate, eta, current))
    summary.elapsed_s = time.perf_counter() - started
    return index, summary
