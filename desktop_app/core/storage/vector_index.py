"""hnswlib wrapper: ids are catalog vector ids; exact search for small libraries; atomic save."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import hnswlib
import numpy as np
import numpy.typing as npt

from desktop_app.core.storage import vector_index_file
from desktop_app.core.storage.rwlock import RWLock
from desktop_app.core.storage.vector_index_file import IndexFileError
from desktop_app.core.storage.vector_store import (
    GROWTH_FACTOR,
    MIN_CAPACITY,
    AllowedIds,
    FloatArray,
    IdArray,
    IdLookup,
    RowArray,
    VectorStore,
    dot,
    empty_result,
    headroom,
    top_k,
)

__all__ = ["GROWTH_FACTOR", "MIN_CAPACITY", "IndexFileError", "VectorIndex"]

_log = logging.getLogger(__name__)

_SPACE: Final = "ip"

# ---------------------------------------------------------------------------------------------
# Tuning. Figures from benchmarks/bench_search.py on the team's 2-core EPYC (AVX2, no AVX-512),
# 512-d clustered synthetic vectors about as hard as those in MEASUREMENTS.md (at 100k, M=16
# gives recall@10 0.71 / 0.87 / 0.96 at ef 50 / 100 / 200), measured while other work kept the
# machine loaded (load average 5–7, as when the embedder is indexing): absolute times are
# pessimistic, ratios hold. Re-run the benchmark before changing any of these.
# ---------------------------------------------------------------------------------------------

# Exact search while the live vectors hold at most this many floats (10k items at 512-d, 6.7k
# at 768-d). An exact query reads every vector once, ≈ 0.2 µs per 512-d vector on one thread:
# 10k → 1.7 ms mean (p95 4 ms), 100k → 21 ms; HNSW takes 0.3 ms at 10k and 1.4 ms at 100k.
# Up to 10k, exactness costs ≈ 1.5 ms per query, well under the ≈ 25 ms of encoding the query.
EXACT_MAX_FLOATS: Final = 5_120_000

# HNSW graph degree and build beam. Recall@10 at 100k (ef_construction 200): M=16 needs
# ef ≈ 200 for 0.96 (1.3 ms); M=24 reaches 0.965 at ef 128; M=32 0.96–0.97 at ef 100
# (1.0–1.4 ms) for a ≈ 20% slower build; M=48 0.95 at ef 64 but builds at half M=32's
# speed. Links cost 8·M bytes per item beside the 2 KB vector (file: 2.3 KB per item at M=32).
# Build beam (issue 22): ef_construction 100 builds 1.46× faster than 200 (1,795 against 1,231
# items per CPU-second at M=32, 30k items) with the same recall@10 at 30k (0.967 / 0.968 at ef
# 100), but at 1M (bench_search_1m.py) recall@10 falls to 0.733 / 0.845 / 0.876 / 0.910 at ef
# 100 / 200 / 316 / 400 (0.845 / 0.945 / 0.985 at ef 100 / 200 / 316 with 200): kept at 200.
HNSW_M: Final = 32
HNSW_EF_CONSTRUCTION: Final = 200
# Query beam: ef = max(EF_SEARCH, 2k) up to EF_GROWS_FROM live items. M=32 at 100k: recall@10
# 0.77 / 0.92 / 0.96 / 0.985 / 0.996 at ef 32 / 64 / 100 / 128 / 200 (10k: 0.995 at ef 100).
EF_SEARCH: Final = 100
# Beyond, the same beam finds less of the true top 10, so it grows with the square root of the
# size (filtered searches' too). At 1M (benchmarks/bench_search_1m.py, quiet 2-core machine):
# recall@10 0.845 / 0.945 / 0.980 / 0.985 at ef 100 / 200 / 300 / 316 (the beam chosen there),
# p50 0.82 / 1.10 / 1.27 / 1.31 ms.
EF_GROWS_FROM: Final = 100_000
# Filtered HNSW queries (hnswlib's filter callback) explore until they hold ef *allowed*
# items, so the same beam gives the same or better recall (0.996 at 30% allowed, 1.0 at 5%
# and 10%).
EF_FILTERED: Final = 100
# Filtered search: the filter callback visits ≈ ef / s graph nodes (s = allowed share) with a
# Python call each, while an exact scan of the m allowed vectors gathers scattered rows at
# ≈ 0.5–1 µs each. At 100k: callback 47 / 8.3 / 7.0 / 2.3 ms at 1 / 5 / 10 / 30% allowed,
# exact scan 0.3 / 4.2 / 10.4 ms at 1 / 5 / 10%, crossing near m ≈ 7k. The callback's cost
# grows like n / m and the scan's like m, so the scan is chosen while m² ≤ FILTER_BALANCE · n
# (100k: m ≤ 7k; 1M: m ≤ 22k), and always while n ≤ exact_threshold.
FILTER_BALANCE: Final = 500

# Deleted entries stay in the graph (as waypoints, never returned) until `compact`. Median
# latency against the compacted graph of the same live items (30k, ef 100): × 1.12 / 1.09 /
# 1.30 / 2.4 / 4.3 with 10 / 20 / 30 / 50 / 70% deleted; recall@10 does not drop (0.97–0.99).
# Each deleted entry also keeps its 2.3 KB. At 25% the cost is still ≈ 1.1–1.3×, and a
# rebuild (≈ 1–3k items/s on 2 cores; searches keep running on the old graph) pays off.
COMPACTION_THRESHOLD: Final = 0.25

# Items per exclusive hnsw insertion: searches from other threads run between chunks, so a
# long `add` holds them back for at most one chunk (≈ 0.1–0.3 s).
ADD_CHUNK: Final = 256
# Rows streamed at a time while rebuilding.
SCAN_CHUNK: Final = 8192


class VectorIndex:
    """Nearest-neighbour index over L2-normalised float32 vectors keyed by catalog vector ids.

    Scores are inner products (cosine similarity). While the live vectors are few
    (`exact_threshold`), search is an exact matrix-vector product; beyond, an HNSW graph
    (hnswlib). Filtered searches scan the allowed vectors exactly when that is cheaper than
    a filtered graph walk. Removal only marks graph entries; `compact` rebuilds without them.

    Threads: any number of searches run concurrently; mutations are serialised and exclude
    searches only while they touch the graph (a long `add` lets searches in between chunks of
    `ADD_CHUNK` items; `compact` rebuilds aside and swaps).

    Memory: the graph (≈ 2.3 KB per 512-d item at M=32) plus a float32 copy of the live
    vectors (2 KB per item), because hnswlib cannot hand vectors back quickly. A loaded index's
    copy is the saved file mapped copy-on-write: the page cache's, until rows are read or moved.

    Ids must be non-negative (hnswlib labels are unsigned 64-bit).
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
        tests pass 0 to force the HNSW path.
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
        capacity = max(capacity, MIN_CAPACITY)
        self._hnsw: Any = self._new_hnsw(capacity)
        self._store = VectorStore(dim, capacity)
        self._deleted: set[int] = set()  # labels marked deleted in the graph
        self._lookup_cache: IdLookup | None = None
        self._allowed_cache: AllowedIds | None = None
        self._rw = RWLock()
        self._writer = threading.Lock()  # one mutation at a time, held across a whole call

    def _new_hnsw(self, capacity: int) -> Any:
        index = hnswlib.Index(space=_SPACE, dim=self._dim)
        index.init_index(max_elements=capacity, M=self._m, ef_construction=self._ef_construction)
        # Search effort is set per query by asking for max(ef, k) results (hnswlib searches
        # with max(ef_, k)), so concurrent queries never race on the index-wide ef_.
        index.set_ef(1)
        return index

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
        """Load an index saved by `save`; IndexFileError if missing, corrupt or not `dim`-d."""
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
        index._hnsw = loaded.graph
        index._store = VectorStore.adopt(loaded.saved.live_ids, loaded.saved.live_vectors)
        index._deleted = set(loaded.saved.deleted_ids.tolist())
        _log.info(
            "Loaded vector index %s: %d live, %d deleted, %.2f s",
            path,
            len(index._store),
            len(index._deleted),
            time.perf_counter() - started,
        )
        return index

    def save(self, path: Path) -> None:
        """Write the index to `path` and `path`.meta.json, each atomically (temp file + rename).

        The metadata records the graph file's length and CRC-32, so a crash between the two
        renames leaves a pair that `load` rejects (the index is then rebuilt from the catalog).
        Raises OSError when the files cannot be written (disk full, no permission).
        """
        path = Path(path)
        started = time.perf_counter()

        def write_graph(tmp: str) -> dict[str, Any]:
            with self._rw.read():
                self._hnsw.save_index(tmp)
                return {
                    "dim": self._dim,
                    "M": self._m,
                    "ef_construction": self._ef_construction,
                    "element_count": len(self._store) + len(self._deleted),
                    "live_count": len(self._store),
                }

        entries = vector_index_file.write(path, write_graph)
        _log.info(
            "Saved vector index %s (%d entries) in %.2f s",
            path,
            entries,
            time.perf_counter() - started,
        )

    # -- mutation -----------------------------------------------------------------------------

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Add `vectors` (n, dim) under `ids` (n,), replacing the vector of an id already
        present or removed. Within one call, the last vector given for a repeated id wins.
        """
        id_arr, vec_arr = self._check_batch(ids, vectors)
        if len(id_arr) == 0:
            return
        # Keep the last occurrence of each id (hnswlib would race on duplicates in one batch).
        _, last = np.unique(id_arr[::-1], return_index=True)
        if len(last) != len(id_arr):
            keep = np.sort(len(id_arr) - 1 - last)
            id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        with self._writer:
            for start in range(0, len(id_arr), ADD_CHUNK):
                with self._rw.write():
                    self._add_locked(
                        id_arr[start : start + ADD_CHUNK], vec_arr[start : start + ADD_CHUNK]
                    )

    def _check_batch(
        self, ids: npt.ArrayLike, vectors: npt.ArrayLike
    ) -> tuple[IdArray, FloatArray]:
        id_in = np.asarray(ids)
        if id_in.ndim != 1 or (id_in.size and not np.issubdtype(id_in.dtype, np.integer)):
            raise ValueError("ids must be a 1-d array of integers")
        id_arr = id_in.astype(np.int64)
        vec_arr = np.ascontiguousarray(vectors, dtype=np.float32)
        if vec_arr.shape != (len(id_arr), self._dim):
            raise ValueError(
                f"vectors must have shape ({len(id_arr)}, {self._dim}), got {vec_arr.shape}"
            )
        if id_arr.size and id_arr.min() < 0:
            raise ValueError("vector ids must be non-negative")
        if not np.isfinite(vec_arr).all():
            raise ValueError("vectors contain NaN or infinity")
        return id_arr, vec_arr

    def _add_locked(self, ids: IdArray, vectors: FloatArray) -> None:
        id_list = ids.tolist()
        new = sum(1 for v in id_list if v not in self._store and v not in self._deleted)
        needed = int(self._hnsw.element_count) + new
        capacity = int(self._hnsw.get_max_elements())
        if needed > capacity:
            grown = max(needed, int(capacity * GROWTH_FACTOR))
            _log.debug("Growing the vector index from %d to %d entries", capacity, grown)
            self._hnsw.resize_index(grown)
        # hnswlib 0.8 (without allow_replace_deleted): an existing label, deleted or not, is
        # unmarked and its vector updated in place.
        self._hnsw.add_items(vectors, ids.astype(np.uint64))
        self._deleted.difference_update(id_list)
        self._store.upsert(ids, vectors)
        self._lookup_cache = None

    def remove(self, ids: Iterable[int]) -> None:
        """Hide `ids` from search (marked deleted until `compact`); unknown ids are ignored."""
        with self._writer, self._rw.write():
            gone = [vid for vid in map(int, ids) if vid in self._store]
            for vid in gone:
                self._hnsw.mark_deleted(vid)
                self._deleted.add(vid)
            if gone:
                self._store.remove(gone)
                self._lookup_cache = None

    def compact(self) -> None:
        """Rebuild the graph without its deleted entries; ids and vectors stay the same.

        Searches keep using the old graph during the rebuild; other mutations wait for it.
        """
        with self._writer:  # no mutation can happen, so the store is stable without the lock
            started = time.perf_counter()
            ids, vectors = self._store.ids, self._store.matrix
            fresh = self._new_hnsw(headroom(len(ids)))
            for start in range(0, len(ids), SCAN_CHUNK):
                fresh.add_items(
                    vectors[start : start + SCAN_CHUNK],
                    ids[start : start + SCAN_CHUNK].astype(np.uint64),
                )
            with self._rw.write():
                dropped = len(self._deleted)
                self._hnsw = fresh
                self._deleted = set()
                self._store.shrink()
                self._lookup_cache = None
            _log.info(
                "Compacted the vector index: %d deleted entries dropped, %d live, %.2f s",
                dropped,
                len(ids),
                time.perf_counter() - started,
            )

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live (not deleted) vectors."""
        return len(self._store)

    def __contains__(self, vector_id: int) -> bool:
        """Whether `vector_id` is live in the index."""
        # No lock: a dict lookup is atomic under the GIL.
        return vector_id in self._store

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
        return int(self._hnsw.get_max_elements())

    @property
    def deleted_fraction(self) -> float:
        """Share of graph entries that are deleted and wait for `compact`."""
        total = len(self._store) + len(self._deleted)
        return len(self._deleted) / total if total else 0.0

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
        if lookup is None:
            # Built under the read lock: two readers may both build it, harmlessly.
            order = np.argsort(self._store.ids, kind="stable")
            ids = self._store.ids[order]
            ids.flags.writeable = False
            lookup = self._lookup_cache = IdLookup(ids, order.astype(np.intp))
        return lookup

    def get_vectors(self, ids: Sequence[int]) -> FloatArray:
        """The stored vectors of `ids`, float32 (len(ids), dim); KeyError for an id not live."""
        id_list = np.asarray(ids, dtype=np.int64).reshape(-1).tolist()
        with self._rw.read():
            try:
                rows = self._store.rows(id_list)
            except KeyError as exc:
                raise KeyError(f"vector id {exc.args[0]} is not in the index") from None
            return self._store.matrix[rows]

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        allowed: npt.ArrayLike | None = None,
        *,
        ef: int | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """The `k` live vectors most similar to `query` (dim,): (ids int64, scores float32),
        best first.

        `allowed` restricts results to those ids (ids not in the index are ignored); fewer
        than `k` results come back only when fewer items qualify. `ef` overrides the HNSW beam.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape != (self._dim,):
            raise ValueError(f"query must have {self._dim} values, got {q.shape[0]}")
        if k < 0:
            raise ValueError("k must be non-negative")
        with self._rw.read():
            n = len(self._store)
            if allowed is None:
                return self._search_all(q, min(k, n), ef)
            subset = self._resolve_allowed(allowed)
            m = len(subset.ids)
            if m == n:
                return self._search_all(q, min(k, n), ef)
            k = min(k, m)
            if k == 0:
                return empty_result()
            if n <= self._exact_threshold or m * m <= FILTER_BALANCE * n:
                return self._exact(subset.ids, subset.rows, q, k)
            beam = max(ef or round(self._ef_filtered * self._growth()), 2 * k)
            found = self._hnsw_search(q, k, min(beam, m), subset.members())
            return found if found is not None else self._exact(subset.ids, subset.rows, q, k)

    def beam(self, k: int) -> int:
        """The HNSW beam an unfiltered search for ``k`` results uses at the index's size."""
        return max(round(self._ef_search * self._growth()), 2 * k)

    def _growth(self) -> float:
        """How much wider than at EF_GROWS_FROM items a beam must be to find as much."""
        return math.sqrt(max(1.0, len(self._store) / EF_GROWS_FROM))

    def _search_all(self, q: FloatArray, k: int, ef: int | None) -> tuple[IdArray, FloatArray]:
        n = len(self._store)
        if k == 0:
            return empty_result()
        if n <= self._exact_threshold:
            return top_k(self._store.ids, dot(self._store.matrix, q), k)
        found = self._hnsw_search(q, k, min(ef or self.beam(k), n), None)
        return found if found is not None else top_k(self._store.ids, dot(self._store.matrix, q), k)

    def _hnsw_search(
        self, q: FloatArray, k: int, beam: int, allowed: set[int] | None
    ) -> tuple[IdArray, FloatArray] | None:
        """HNSW top-k with a beam of `beam` (≥ k), or None when hnswlib finds too few."""
        filt: Callable[[int], bool] | None = None if allowed is None else allowed.__contains__
        try:
            labels, distances = self._hnsw.knn_query(q, k=max(beam, k), num_threads=1, filter=filt)
        except RuntimeError:
            _log.debug("HNSW returned fewer than %d results; searching exactly", beam)
            return None
        return labels[0, :k].astype(np.int64), (1.0 - distances[0, :k]).astype(np.float32)

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
        if len(lookup.ids) == 0 or len(wanted) == 0:
            ids, rows = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.intp)
        else:
            pos = np.searchsorted(lookup.ids, wanted)
            pos[pos == len(lookup.ids)] = 0
            hit = lookup.ids[pos] == wanted
            ids, rows = wanted[hit], lookup.rows[pos[hit]]
        resolved = self._allowed_cache = AllowedIds(key, lookup, ids, rows)
        return resolved

    def _exact(
        self, ids: IdArray, rows: RowArray, q: FloatArray, k: int
    ) -> tuple[IdArray, FloatArray]:
        """Exact top-k among the given store rows."""
        matrix = self._store.matrix
        if 2 * len(rows) >= len(matrix):
            # Gathering scattered rows costs ≈ 0.5 µs each, a sequential pass ≈ 0.2 µs per row.
            return top_k(ids, dot(matrix, q)[rows], k)
        scores = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), SCAN_CHUNK):
            chunk = rows[start : start + SCAN_CHUNK]
            scores[start : start + len(chunk)] = dot(matrix[chunk], q)
        return top_k(ids, scores, k)
