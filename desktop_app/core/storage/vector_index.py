"""Vector index: a usearch graph (int8) ranked by float16 rows; exact search for small
libraries; filtered search by allowed ids; deletions; atomic save; a mapped load."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.storage import link_order, vector_index_file
from desktop_app.core.storage.rwlock import RWLock
from desktop_app.core.storage.vector_graph import (
    Gathered,
    add_to_graph,
    graph_keys,
    missed,
    new_graph,
    rebuild,
    relink,
)
from desktop_app.core.storage.vector_index_file import IndexFileError, SavedRows
from desktop_app.core.storage.vector_store import (
    GROWTH_FACTOR,
    MIN_CAPACITY,
    STORED,
    AllowedIds,
    FloatArray,
    IdArray,
    IdLookup,
    RowArray,
    VectorStore,
    checked_batch,
    dot,
    empty_result,
    sorted_positions,
    top_k,
)
from desktop_app.core.storage.vector_tuning import (
    ADD_CHUNK,
    COMPACTION_THRESHOLD,
    EF_FILTERED,
    EF_GROWS_FROM,
    EF_SEARCH,
    EXACT_MAX_FLOATS,
    FILTER_BALANCE,
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    MAX_FILTER_FETCH,
    SCAN_CHUNK,
)

__all__ = ["GROWTH_FACTOR", "MIN_CAPACITY", "IndexFileError", "VectorIndex"]

_log = logging.getLogger(__name__)


class VectorIndex:
    """Nearest-neighbour index over L2-normalised vectors keyed by catalog vector ids.

    Scores are inner products (cosine similarity) of the stored float16 vectors. While the
    live vectors are few (`exact_threshold`), search is an exact matrix-vector product; beyond,
    an HNSW graph (usearch, int8) proposes a beam of candidates that the float16 rows rank.
    Filtered searches scan the allowed rows exactly when that is cheaper than a wider graph
    search. Removal only marks graph entries; `compact` rebuilds without them.

    Threads: any number of searches run concurrently; mutations are serialised and exclude
    searches only while they touch the graph (a long `add` lets searches in between chunks of
    `ADD_CHUNK` items; `compact` rebuilds aside and swaps).

    Memory: the graph (≈ 0.8 KB per 512-d item at M=32) and the float16 rows (1 KB). A loaded
    index is its file mapped (graph viewed, rows copy-on-write); the first change copies the
    graph into memory.

    Ids must be non-negative (usearch keys are unsigned 64-bit).
    """

    def __init__(
        self,
        dim: int,
        capacity: int = 1024,
        *,
        exact_threshold: int | None = None,
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = EF_SEARCH,
        ef_filtered: int = EF_FILTERED,
    ) -> None:
        """Create an empty index for `dim`-dimensional vectors with room for `capacity`.

        `exact_threshold` (live items searched exactly) defaults to EXACT_MAX_FLOATS // dim;
        tests pass 0 to force the graph path.
        """
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self._dim = dim
        self._exact_threshold = (
            EXACT_MAX_FLOATS // dim if exact_threshold is None else max(exact_threshold, 0)
        )
        self._ef_search = max(ef_search, 1)
        self._ef_filtered = max(ef_filtered, 1)
        self._m = m
        self._ef_construction = ef_construction
        self._graph: Any = new_graph(dim, m, ef_construction)
        self._viewed = False  # the graph is a read-only view of a saved file
        self._store = VectorStore(dim, max(capacity, MIN_CAPACITY))
        self._dead = 0  # graph entries removed or replaced, until `compact`
        self._graph_pending = False  # rows added unlinked: searched exactly until `compact`
        self._lookup_cache: IdLookup | None = None
        self._allowed_cache: AllowedIds | None = None
        self._rw = RWLock()
        self._writer = threading.Lock()  # one mutation at a time, held across a whole call

    # -- persistence --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: Path,
        dim: int,
        *,
        exact_threshold: int | None = None,
        ef_search: int = EF_SEARCH,
        ef_filtered: int = EF_FILTERED,
    ) -> VectorIndex:
        """Load an index saved by `save`; IndexFileError if missing, corrupt, written by
        another version or not `dim`-d. Nothing is copied: the file is mapped."""
        path = Path(path)
        started = time.perf_counter()
        loaded = vector_index_file.read(path, dim)
        index = cls(
            dim,
            MIN_CAPACITY,
            exact_threshold=exact_threshold,
            m=loaded.m,
            ef_construction=loaded.ef_construction,
            ef_search=ef_search,
            ef_filtered=ef_filtered,
        )
        try:
            index._graph.view(loaded.graph)
            count = len(index._graph)
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:
            raise IndexFileError(f"The vector index {path} cannot be read: {exc}") from exc
        if count != len(loaded.rows.ids) or index._graph.ndim != dim:
            raise IndexFileError(f"The vector index {path} does not match its metadata.")
        index._viewed = True
        if os.name != "posix":  # a mapped file cannot be replaced there: copy, let it go
            index._make_mutable()
        index._store = VectorStore.adopt(loaded.rows.ids, loaded.rows.vectors)
        index._dead = loaded.dead
        _log.info(
            "Loaded vector index %s: %d live, %d deleted, %.2f s",
            path,
            len(index._store),
            index._dead,
            time.perf_counter() - started,
        )
        return index

    def save(self, path: Path, link_progress: Callable[[int], None] | None = None) -> None:
        """Write the index to `path` and `path`.meta.json, each atomically (temp file + rename).
        Rows added unlinked are linked first (`compact`, telling `link_progress`).

        The metadata records the data file's length and CRC-32, so a crash between the two
        renames leaves a pair that `load` rejects (the index is then rebuilt from the catalog).
        Raises OSError when the files cannot be written (disk full, no permission).
        """
        path = Path(path)
        if self._graph_pending:  # the file holds a graph of every row
            self.compact(link_progress)
        started = time.perf_counter()

        def write_graph(tmp: str) -> dict[str, Any]:
            with self._rw.read():
                self._graph.save(tmp)
            return {
                "dim": self._dim,
                "M": self._m,
                "ef_construction": self._ef_construction,
                "dead": self._dead,
                "live_count": len(self._store),
            }

        def rows() -> SavedRows:
            # In id order, so that a loaded index needs no sort to find rows by id.
            lookup = self._lookup()
            return SavedRows(lookup.ids, Gathered(self._store.matrix, lookup.rows))  # type: ignore[arg-type]

        with self._writer:  # the graph and the rows saved are of the same moment
            live = vector_index_file.write(path, write_graph, rows)
        _log.info(
            "Saved vector index %s (%d live) in %.2f s", path, live, time.perf_counter() - started
        )

    # -- mutation (a removed entry's slot is reused by the next addition) ----------------------

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike, *, link: bool = True) -> None:
        """Add `vectors` (n, dim) under `ids` (n,), replacing the vector of an id already
        present or removed. Within one call, the last vector given for a repeated id wins.

        Without `link`, only the rows are stored (seconds for a million): every search is then
        exact until `compact` (or `save`, which compacts first) links them all at once.
        """
        id_arr, vec_arr = checked_batch(ids, vectors, self._dim)
        if len(id_arr) == 0:
            return
        # Keep the last occurrence of each id.
        _, last = np.unique(id_arr[::-1], return_index=True)
        if len(last) != len(id_arr):
            keep = np.sort(len(id_arr) - 1 - last)
            id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        if link and len(id_arr) >= link_order.ORDER_FROM:  # a bulk links faster so
            order = link_order.locality_order(vec_arr)
            id_arr, vec_arr = id_arr[order], vec_arr[order]
        with self._writer:
            self._make_mutable()
            for start in range(0, len(id_arr), ADD_CHUNK):
                with self._rw.write():
                    self._add_locked(
                        id_arr[start : start + ADD_CHUNK], vec_arr[start : start + ADD_CHUNK], link
                    )

    def _make_mutable(self) -> None:
        """Copy a viewed graph into memory before its first change (the writer's lock held)."""
        if self._viewed:
            started = time.perf_counter()
            graph = self._graph.copy()
            graph.expansion_add = self._ef_construction
            with self._rw.write():
                self._graph, self._viewed = graph, False
            _log.debug("Vector index graph copied in %.2f s", time.perf_counter() - started)

    def _add_locked(self, ids: IdArray, vectors: FloatArray, link: bool) -> None:
        present = [vid for vid in ids.tolist() if vid in self._store]
        if present:  # replaced: the old entry stays in the graph as a deleted waypoint
            self._graph.remove(graph_keys(np.asarray(present, dtype=np.int64)))
            self._dead += len(present)
        half = vectors.astype(STORED)
        if link:
            add_to_graph(self._graph, ids, half.astype(np.float32), self.beam(1))
            self._dead = max(self._dead - len(ids), 0)  # usearch reuses deleted entries' slots
        else:
            self._graph_pending = True
        self._store.upsert(ids, half)
        self._lookup_cache = None

    def remove(self, ids: Iterable[int]) -> None:
        """Hide `ids` from search (marked deleted until `compact`); unknown ids are ignored."""
        with self._writer:
            wanted = list(map(int, ids))
            gone = [vid for vid in wanted if vid in self._store] if wanted else []
            if not gone:
                return
            self._make_mutable()
            with self._rw.write():
                self._graph.remove(graph_keys(np.asarray(gone, dtype=np.int64)))
                self._dead += len(gone)
                self._store.remove(gone)
                self._lookup_cache = None

    def compact(self, progress: Callable[[int], None] | None = None) -> None:
        """Rebuild the graph without its deleted entries (and with the rows added unlinked);
        ids and vectors stay the same. ``progress`` hears how many rows are linked so far.

        Searches keep using the old graph during the rebuild; other mutations wait for it.
        """
        with self._writer:  # no mutation can happen, so the store is stable without the lock
            started = time.perf_counter()
            ids, rows = self._store.ids, self._store.matrix
            beam = self.beam(1)
            fresh = rebuild(
                self._dim, self._m, self._ef_construction, ids, rows, beam, progress=progress
            )
            with self._rw.write():
                dropped = self._dead
                self._graph, self._viewed, self._dead, self._graph_pending = fresh, False, 0, False
                self._store.shrink()
                self._lookup_cache = None
            _log.info(
                "Compacted the vector index: %d deleted entries dropped, %d live, %.2f s",
                dropped,
                len(ids),
                time.perf_counter() - started,
            )

    def recheck(self, ids: npt.ArrayLike) -> int:
        """Search each of ``ids`` for its own vector and link again those the graph misses
        (after a bulk of additions: later ones prune links of earlier ones); how many."""
        with self._writer:
            with self._rw.read():
                found, rows = self._resolve(np.asarray(ids, dtype=np.int64).reshape(-1))
                lost = missed(self._graph, found, Gathered(self._store.matrix, rows), self.beam(1))
            if len(lost) == 0:
                return 0
            self._make_mutable()
            vectors = self._store.matrix[rows[lost]].astype(np.float32)
            with self._rw.write():
                return relink(self._graph, graph_keys(found[lost]), vectors, self.beam(1), 1)

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live (not deleted) vectors."""
        return len(self._store)

    def __contains__(self, vector_id: int) -> bool:
        """Whether `vector_id` is live in the index."""
        with self._rw.read():
            return bool(self._resolve(np.asarray([vector_id], dtype=np.int64))[1].size)

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return self._dim

    @property
    def exact_threshold(self) -> int:
        """Live-item count up to which unfiltered search is exact."""
        return self._exact_threshold

    @property
    def capacity(self) -> int:
        """Graph entries allocated (grows automatically)."""
        return int(self._graph.capacity)

    @property
    def deleted_fraction(self) -> float:
        """Share of graph entries that are deleted and wait for `compact`."""
        total = len(self._store) + self._dead
        return self._dead / total if total else 0.0

    def needs_compaction(self) -> bool:
        """Whether enough entries are deleted that `compact` is worth its cost."""
        return self.deleted_fraction > COMPACTION_THRESHOLD

    def ids(self) -> IdArray:
        """The live ids, sorted (a read-only array)."""
        with self._rw.read():
            return self._lookup().ids

    def fingerprint(self) -> tuple[int, int, int]:
        """The live ids' count, largest and sum (see ``Catalog.vector_fingerprint``)."""
        with self._rw.read():
            ids = self._store.ids
            return len(ids), int(ids.max()) if len(ids) else 0, int(ids.sum())

    def _lookup(self) -> IdLookup:
        lookup = self._lookup_cache
        if lookup is None:  # under the read lock: two readers may both build it, harmlessly
            lookup = self._lookup_cache = IdLookup.of(self._store.ids)
        return lookup

    def _resolve(self, wanted: IdArray) -> tuple[IdArray, RowArray]:
        """The live ids among `wanted` (in its order) and their store rows."""
        lookup = self._lookup()
        if len(lookup.ids) == 0 or len(wanted) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.intp)
        pos, hit = sorted_positions(lookup.ids, wanted)
        return wanted[hit], lookup.rows[pos[hit]]

    def get_vectors(self, ids: Sequence[int]) -> FloatArray:
        """The stored vectors of `ids`, float32 (len(ids), dim); KeyError for an id not live."""
        wanted = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._rw.read():
            found, rows = self._resolve(wanted)
            if len(found) != len(wanted):
                missing = next(v for v in wanted.tolist() if v not in set(found.tolist()))
                raise KeyError(f"vector id {missing} is not in the index")
            out: FloatArray = self._store.matrix[rows].astype(np.float32)
            return out

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        allowed: npt.ArrayLike | None = None,
        *,
        ef: int | None = None,
        wide_as: int = 0,
    ) -> tuple[IdArray, FloatArray]:
        """The `k` live vectors most similar to `query` (dim,): (ids int64, scores float32),
        best first.

        `allowed` restricts results to those ids (ids not in the index are ignored); fewer
        than `k` results come back only when fewer items qualify. `ef` overrides the beam;
        `wide_as`: the graph is searched as widely as for that many results (the best few are
        then those a search for more would rank first).
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape != (self._dim,):
            raise ValueError(f"query must have {self._dim} values, got {q.shape[0]}")
        if k < 0:
            raise ValueError("k must be non-negative")
        with self._rw.read():
            n = len(self._store)
            if allowed is None:
                return self._search_all(q, min(k, n), ef, wide_as)
            subset = self._resolve_allowed(allowed)
            m = len(subset.ids)
            if m == n:
                return self._search_all(q, min(k, n), ef, wide_as)
            k = min(k, m)
            if k == 0:
                return empty_result()
            beam = max(ef or round(self._ef_filtered * self._growth()), 2 * max(k, wide_as))
            fetch = math.ceil(beam * n / m)
            if self._searches_exactly(n) or m * m <= FILTER_BALANCE * n or fetch > MAX_FILTER_FETCH:
                return self._exact(subset.ids, subset.rows, q, k)
            found = self._graph_search(q, k, min(fetch, n), subset)
            return found if found is not None else self._exact(subset.ids, subset.rows, q, k)

    def _searches_exactly(self, n: int) -> bool:
        return n <= self._exact_threshold or self._graph_pending

    @property
    def graph_pending(self) -> bool:
        """Whether rows were added without linking (searches are exact until `compact`)."""
        return self._graph_pending

    def beam(self, k: int) -> int:
        """The graph beam an unfiltered search for ``k`` results uses at the index's size."""
        return max(round(self._ef_search * self._growth()), 2 * k)

    def _growth(self) -> float:
        """How much wider than at EF_GROWS_FROM items a beam must be to find as much."""
        return math.sqrt(max(1.0, len(self._store) / EF_GROWS_FROM))

    def _search_all(
        self, q: FloatArray, k: int, ef: int | None, wide_as: int = 0
    ) -> tuple[IdArray, FloatArray]:
        n = len(self._store)
        if k == 0:
            return empty_result()
        if self._searches_exactly(n):
            return top_k(self._store.ids, dot(self._store.matrix, q), k)
        beam = ef or self.beam(max(k, wide_as))
        found = self._graph_search(q, k, min(max(beam, k), n), None)
        return found if found is not None else top_k(self._store.ids, dot(self._store.matrix, q), k)

    def _graph_search(
        self, q: FloatArray, k: int, beam: int, allowed: AllowedIds | None
    ) -> tuple[IdArray, FloatArray] | None:
        """The graph's `beam` candidates ranked by the stored rows (only `allowed` ones), or
        None when fewer than `k` qualify."""
        keys = np.asarray(self._graph.search(q, beam, threads=1).keys, dtype=np.int64)
        if allowed is not None:
            keys = keys[allowed.allows(keys)]
        found, rows = self._resolve(keys)
        if len(found) < k:
            _log.debug("The graph found %d of %d results; searching exactly", len(found), k)
            return None
        return top_k(found, dot(self._store.matrix[rows], q), k)

    def _resolve_allowed(self, allowed: npt.ArrayLike) -> AllowedIds:
        """The live ids among `allowed` (sorted, unique) and their store rows."""
        wanted = np.ascontiguousarray(np.asarray(allowed).reshape(-1), dtype=np.int64)
        key = hashlib.blake2b(wanted.data, digest_size=16).digest()
        lookup = self._lookup()
        cached = self._allowed_cache
        if cached is not None and cached.key == key and cached.lookup is lookup:
            return cached
        if len(wanted) > 1 and not bool(np.all(wanted[1:] > wanted[:-1])):
            wanted = np.unique(wanted)  # skipped for sorted input, e.g. ids from ORDER BY
        ids, rows = self._resolve(wanted)
        resolved = self._allowed_cache = AllowedIds(key, lookup, ids, rows)
        return resolved

    def _exact(
        self, ids: IdArray, rows: RowArray, q: FloatArray, k: int
    ) -> tuple[IdArray, FloatArray]:
        """Exact top-k among the given store rows."""
        matrix = self._store.matrix
        if 2 * len(rows) >= len(matrix):
            # Gathering scattered rows costs more per row than a sequential pass.
            return top_k(ids, dot(matrix, q)[rows], k)
        scores = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), SCAN_CHUNK):
            chunk = rows[start : start + SCAN_CHUNK]
            scores[start : start + len(chunk)] = dot(matrix[chunk], q)
        return top_k(ids, scores, k)
