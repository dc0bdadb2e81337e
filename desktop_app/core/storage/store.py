"""The catalog and the vector index as one unit under one lock: open, reconcile, save, catch up.

The catalog is the source of truth; the index file is a cache of its vectors that is rebuilt
or completed from it. Every write that touches both (a file forgotten, a batch embedded) is one
method here, run under ``lock``, so a reader never sees a vector without its row or the reverse.
Reading never writes: opening reconciles in memory only, and ``save`` is the writer's to call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from desktop_app.core.records import EmbeddedFile
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.restore_progress import RestoreProgress
from desktop_app.core.storage.vector_graph import BULK
from desktop_app.core.storage.vector_index import IndexFileError, VectorIndex

__all__ = ["Store"]

log = logging.getLogger(__name__)

RESTORE_CHUNK = 2_000  # vectors copied into the index at once (a second or so; progress between)
# A restore of at least this many vectors stores their rows only (a million in seconds, where
# linking them into the graph takes tens of minutes on two cores): searches are exact until the
# writer's next save links them all at once, aside, while searches go on.
LINK_LATER_FROM = 50_000


class Store:
    """One library's catalog and vector index, kept in step.

    ``index`` and ``space`` may be replaced (a model switch, another process's run): read them
    through the store each time, never keep them.
    """

    def __init__(self, catalog: Catalog, index_path: Path) -> None:
        self.catalog = catalog
        self.index_path = index_path
        self.lock = threading.RLock()  # a catalog write and its index update, together
        self.space = catalog.get_meta("space") or ""
        self.dirty = False  # the index in memory differs from its file
        dim = int(catalog.get_meta("dim") or 0)
        self.index = self._load(dim) if dim else VectorIndex(1)

    @classmethod
    def open(cls, catalog: Catalog, index_path: Path) -> Store:
        """The store of ``catalog`` with its index file (reconciled in memory, nothing written)."""
        return cls(catalog, index_path)

    def _load(self, dim: int) -> VectorIndex:
        try:
            index = VectorIndex.load(self.index_path, dim)
        except IndexFileError as exc:
            log.warning(
                "Rebuilding the vector index from the catalog: %s It is saved again by the next "
                "'lumen index', 'lumen watch' or the open window; searches rebuild it until then.",
                exc,
            )
            index = VectorIndex(dim)
            self.dirty = True
        self.index = index
        self.reconcile()
        return index

    def __len__(self) -> int:
        return len(self.index)

    # -- keeping catalog and index in step ------------------------------------------------

    def reconcile(self, *, requeue: bool = False) -> bool:
        """Make the index hold exactly the catalog's vectors (the catalog wins).

        Vectors the catalog does not know are dropped and the catalog's vectors the index lacks
        are copied in; when both hold the same ids (vector ids are never reused, so their
        count, largest and sum say it), nothing more is read. Returns whether the index
        changed; it is saved by the writer, not here. Only with ``requeue`` (the writer's) are
        indexed files without any vector set pending, to be embedded again by the next run:
        a reader writes nothing.
        """
        with self.lock:
            changed = False
            if self.catalog.vector_fingerprint(self.space) != self.index.fingerprint():
                changed = self._copy_differences()
            if requeue:
                self.requeue_unembedded()
            if self.index.needs_compaction():
                self.index.compact()
            self.dirty |= changed
            return changed

    def _copy_differences(self) -> bool:
        catalog_ids = self.catalog.vector_ids(self.space)
        index_ids = self.index.ids()
        missing = np.setdiff1d(catalog_ids, index_ids)
        orphans = np.setdiff1d(index_ids, catalog_ids)
        if len(orphans):
            log.info("Dropping %d index entries the catalog does not know", len(orphans))
            self.index.remove(orphans.tolist())
        progress = RestoreProgress(len(missing))
        link = len(missing) < LINK_LATER_FROM
        for start in range(0, len(missing), RESTORE_CHUNK):
            chunk = missing[start : start + RESTORE_CHUNK]
            vectors = self.catalog.vectors(chunk.tolist(), self.index.dim)
            self.index.add(chunk, vectors, link=link)
            progress.update(start + len(chunk))
        if link and len(missing) >= BULK:
            # later chunks prune links of earlier ones: search all again
            log.info("Checking that each of the %d restored vectors can be found", len(missing))
            self.index.recheck(missing)
        if len(missing):
            later = "" if link else " (searched exactly until the next save links them)"
            log.info("Restored %d vectors from the catalog into the index%s", len(missing), later)
        return bool(len(missing) or len(orphans))

    def requeue_unembedded(self) -> None:
        """Set indexed files without any vector pending (the writer's: it writes the catalog)."""
        with self.lock:
            if not self.space:
                return
            requeued = self.catalog.indexed_without_vectors(self.space)
            if requeued:
                log.info("%d files have no vectors and will be embedded again", requeued)

    def catch_up(self) -> None:
        """Take in what another process wrote (the catalog has it; this index not yet)."""
        space = self.catalog.get_meta("space") or ""
        with self.lock:
            if space != self.space:
                self.space = space
                self._load(int(self.catalog.get_meta("dim") or 0))
            elif space:
                self.reconcile()

    def save(self) -> bool:
        """Write the index file (atomically) when it differs from memory; whether it was written.

        Only the writer calls this: a reader's store never touches the disk.
        """
        with self.lock:
            if not self.dirty or not self.space:
                return False
            # Rows a large restore stored first are linked by the save, a line every few seconds.
            linking = RestoreProgress(len(self.index), doing="Linking the restored vectors")
            try:
                self.index.save(self.index_path, linking.update)
            except OSError as exc:
                log.error("Could not save the vector index (rebuilt on next start): %s", exc)
                return False
            self.dirty = False
            return True

    # -- writes that touch both -----------------------------------------------------------

    def drop(self, remove: Callable[[Catalog], list[int]]) -> list[int]:
        """Run a catalog removal that returns vector ids, and take those out of the index."""
        with self.lock:
            removed = remove(self.catalog)
            if removed:
                self.index.remove(removed)
                self.dirty = True
            return removed

    def delete_files(self, file_ids: Sequence[int]) -> list[int]:
        """Forget files (rows and vectors, in the catalog and the index); the vector ids gone."""
        if not file_ids:
            return []
        return self.drop(lambda catalog: catalog.delete_files(list(file_ids)))

    def store_embedded(self, space: str, files: Sequence[EmbeddedFile]) -> list[list[int]]:
        """Store a batch of files' new vectors (their old ones go); each file's new vector ids.

        A file forgotten while it was embedded gets none (it stays forgotten).
        """
        with self.lock:
            ids_per_file, old_ids = self.catalog.store_embedded_files(space, files)
            new_ids = [vid for ids in ids_per_file for vid in ids]
            new_vectors = [
                v.embedding
                for item, ids in zip(files, ids_per_file, strict=True)
                if ids
                for v in item.vectors
            ]
            if old_ids:
                self.index.remove(old_ids)
            if new_ids:
                self.index.add(np.asarray(new_ids, dtype=np.int64), np.stack(new_vectors))
            self.dirty |= bool(old_ids or new_ids)
            return ids_per_file

    def adopt_space(self, space: str, meta: dict[str, str], index: VectorIndex) -> None:
        """Make ``space`` the library's (``meta``: model, weights, dim …) with ``index``
        holding its vectors, then reconcile (files without vectors wait for the next run)."""
        with self.lock:
            self.space = space
            for key, value in {"space": space, **meta}.items():
                self.catalog.set_meta(key, value)
            self.index = index
            self.dirty = True
            self.reconcile(requeue=True)
