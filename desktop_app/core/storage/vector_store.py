"""The vector index's own copy of the live vectors, and the exact-search arithmetic over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numkong
import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
HalfArray = npt.NDArray[np.float16]
RowArray = npt.NDArray[np.intp]

# The store keeps vectors as float16, as the catalog does: at 1M 512-d vectors 1 GB, not 2 GB.
STORED: Final = np.float16
# Rows converted to float32 at a time by `dot` (a 4 MB temporary at 512-d).
DOT_CHUNK: Final = 2048

# Capacity headroom when storage must grow (the graph and the store reallocate and copy).
GROWTH_FACTOR: Final = 1.5
MIN_CAPACITY: Final = 64


@dataclass(frozen=True)
class IdLookup:
    """Sorted live ids with their store rows, for vectorised membership tests."""

    ids: IdArray
    rows: RowArray

    @classmethod
    def of(cls, ids: IdArray) -> IdLookup:
        """The lookup of a store's ids (a loaded index's rows are in id order: no sort)."""
        if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
            order = np.arange(len(ids), dtype=np.intp)
            sorted_ids = ids.view()
        else:
            order = np.argsort(ids, kind="stable").astype(np.intp)
            sorted_ids = ids[order]
        sorted_ids.flags.writeable = False
        return cls(sorted_ids, order)


def checked_batch(
    ids: npt.ArrayLike, vectors: npt.ArrayLike, dim: int
) -> tuple[IdArray, FloatArray]:
    """``ids`` as int64 and ``vectors`` as contiguous float32 (n, dim), or a ValueError that
    says what is wrong with them."""
    id_in = np.asarray(ids)
    if id_in.ndim != 1 or (id_in.size and not np.issubdtype(id_in.dtype, np.integer)):
        raise ValueError("ids must be a 1-d array of integers")
    id_arr = id_in.astype(np.int64)
    vec_arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if vec_arr.shape != (len(id_arr), dim):
        raise ValueError(f"vectors must have shape ({len(id_arr)}, {dim}), got {vec_arr.shape}")
    if id_arr.size and id_arr.min() < 0:
        raise ValueError("vector ids must be non-negative")
    if not np.isfinite(vec_arr).all():
        raise ValueError("vectors contain NaN or infinity")
    return id_arr, vec_arr


def sorted_positions(
    sorted_ids: IdArray, wanted: IdArray
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Where each of ``wanted`` is in ``sorted_ids`` (sorted, unique; not empty), and which of
    them are there at all, all at once."""
    pos = np.searchsorted(sorted_ids, wanted)
    pos[pos == len(sorted_ids)] = 0
    hit: npt.NDArray[np.bool_] = sorted_ids[pos] == wanted
    return pos, hit


def in_sorted(sorted_ids: IdArray, wanted: IdArray) -> npt.NDArray[np.bool_]:
    """Which of ``wanted`` are among ``sorted_ids`` (sorted, unique)."""
    if len(sorted_ids) == 0:
        return np.zeros(len(wanted), dtype=bool)
    return sorted_positions(sorted_ids, wanted)[1]


class AllowedIds:
    """An `allowed` filter resolved to live ids and store rows, kept for the next query.

    The GUI repeats a filter across queries (the user types; the date range stays), and
    resolving 30k allowed ids costs a few ms; valid while `lookup` is the current one.
    """

    def __init__(self, key: bytes, lookup: IdLookup, ids: IdArray, rows: RowArray) -> None:
        self.key, self.lookup, self.ids, self.rows = key, lookup, ids, rows
        self._members: set[int] | None = None

    def allows(self, found: IdArray) -> npt.NDArray[np.bool_]:
        """Which of ``found`` are among the allowed ids."""
        return in_sorted(self.ids, found)


class VectorStore:
    """The live vectors as rows of one float16 matrix, with an id → row map.

    The graph keeps its vectors quantised to int8, good enough to find candidates but not to
    rank them, so this copy ranks the graph's candidates and serves exact search, filtered
    exact search, get_vectors and compaction. A loaded index's rows are a copy-on-write view
    of the saved file (``adopt``): they cost memory only once read, and only pages written
    are copied.
    """

    def __init__(self, dim: int, capacity: int = MIN_CAPACITY) -> None:
        self._matrix: HalfArray = np.empty((max(capacity, 1), dim), dtype=STORED)
        self._ids: IdArray = np.empty(max(capacity, 1), dtype=np.int64)
        self._n = 0
        self._map: dict[int, int] | None = {}

    @classmethod
    def adopt(cls, ids: IdArray, vectors: HalfArray) -> VectorStore:
        """A store that takes over `vectors` (n, dim) as its rows, without copying (a view of
        a mapped file is fine: rows are written only when they change)."""
        store = cls(vectors.shape[1], 1)
        store._matrix, store._ids, store._n = vectors, ids, len(ids)
        store._map = None  # built on first need: at 1M items, 0.3 s and 100 MB
        return store

    @property
    def _row_of(self) -> dict[int, int]:
        if self._map is None:
            self._map = dict(zip(self._ids[: self._n].tolist(), range(self._n), strict=True))
        return self._map

    def __len__(self) -> int:
        return self._n

    def __contains__(self, vector_id: object) -> bool:
        return vector_id in self._row_of

    @property
    def matrix(self) -> HalfArray:
        """The live rows (a view, valid until the next change)."""
        return self._matrix[: self._n]

    @property
    def ids(self) -> IdArray:
        """The id of each row of `matrix` (a view)."""
        return self._ids[: self._n]

    def rows(self, ids: Sequence[int]) -> RowArray:
        """Row numbers of `ids`; KeyError for an id not present."""
        row_of = self._row_of
        return np.fromiter(map(row_of.__getitem__, ids), dtype=np.intp, count=len(ids))

    def upsert(self, ids: IdArray, vectors: HalfArray) -> None:
        """Insert or overwrite rows; `ids` must be unique."""
        row_of = self._row_of
        n = self._n
        rows = np.empty(len(ids), dtype=np.intp)
        for i, vid in enumerate(ids.tolist()):
            row = row_of.get(vid)
            if row is None:
                row = row_of[vid] = n
                n += 1
            rows[i] = row
        if n > len(self._ids):
            self.reserve(max(n, int(len(self._ids) * GROWTH_FACTOR)))
        self._n = n
        self._matrix[rows] = vectors
        self._ids[rows] = ids

    def reserve(self, capacity: int) -> None:
        """Reallocate to `capacity` rows (at least the live count)."""
        n = len(self._row_of)
        capacity = max(capacity, n, 1)
        kept = min(n, len(self._ids))  # during upsert, rows past the old capacity are new
        matrix = np.empty((capacity, self._matrix.shape[1]), dtype=STORED)
        matrix[:kept] = self._matrix[:kept]
        ids = np.empty(capacity, dtype=np.int64)
        ids[:kept] = self._ids[:kept]
        self._matrix, self._ids = matrix, ids

    def shrink(self) -> None:
        """Give back memory when at most half of the allocated rows are in use."""
        if len(self._ids) > 2 * headroom(self._n):
            self.reserve(headroom(self._n))

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows (moving the last row into each hole); unknown ids are ignored."""
        row_of = self._row_of
        for vid in ids:
            row = row_of.pop(vid, None)
            if row is None:
                continue
            self._n -= 1
            last = self._n
            if row != last:
                moved = int(self._ids[last])
                self._matrix[row] = self._matrix[last]
                self._ids[row] = moved
                row_of[moved] = row


def dot(matrix: HalfArray | FloatArray, query: FloatArray) -> FloatArray:
    """Inner products of every row with `query` (float32), computed on the calling thread.

    Not `matrix @ query`: OpenBLAS spreads a large matrix-vector product over all its threads,
    and while the embedder keeps the cores busy that costs ≈ 8 ms per call even for 2k rows.
    Float16 rows are widened a chunk at a time (numpy has no float16 arithmetic of its own).
    """
    if matrix.dtype == np.float16 and len(matrix):
        # numkong (usearch's own kernels) reads float16 rows with the CPU's conversion
        # instructions: ~15× quicker than numpy's widening, which was most of a search of a few
        # thousand files. The query is rounded to float16 too: scores move by ~1e-4 at most.
        half_query = np.ascontiguousarray(query, dtype=np.float16)[None, :]
        scores = numkong.cdist(matrix, half_query, metric="dot", threads=1, out_dtype="float32")
        return np.asarray(scores, dtype=np.float32).reshape(-1)
    out: FloatArray = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), DOT_CHUNK):
        chunk = matrix[start : start + DOT_CHUNK].astype(np.float32, copy=False)
        np.einsum("ij,j->i", chunk, query, out=out[start : start + len(chunk)])
    return out


def top_k(ids: IdArray, scores: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
    """The `k` best (highest score) ids, best first."""
    if k <= 0 or len(scores) == 0:
        return empty_result()
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = part[np.argsort(-scores[part], kind="stable")]
    return ids[order].astype(np.int64), scores[order].astype(np.float32)


def empty_result() -> tuple[IdArray, FloatArray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)


def headroom(n: int) -> int:
    return max(int(n * GROWTH_FACTOR), MIN_CAPACITY)
