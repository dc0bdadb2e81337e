"""The vector index's own copy of the live vectors, and the exact-search arithmetic over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
RowArray = npt.NDArray[np.intp]

# Capacity headroom when storage must grow (hnswlib's resize_index reallocates and copies).
GROWTH_FACTOR: Final = 1.5
MIN_CAPACITY: Final = 64


class VectorStore:
    """The live vectors as rows of one contiguous float32 matrix, with an id → row map.

    hnswlib keeps its own copy, but reading vectors back out of it is slow (get_items builds a
    Python list per vector: ≈ 70–100 µs per item, 1k items ≈ 0.1 s), too slow for exact search
    over a filtered subset, so this copy (2 KB per 512-d item) serves exact search, filtered
    exact search, get_vectors and compaction.
    """

    def __init__(self, dim: int, capacity: int = MIN_CAPACITY) -> None:
        self._matrix: FloatArray = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self._ids: IdArray = np.empty(max(capacity, 1), dtype=np.int64)
        self._row_of: dict[int, int] = {}

    @classmethod
    def adopt(cls, ids: IdArray, vectors: FloatArray) -> VectorStore:
        """A store that takes over `vectors` (n, dim) as its rows, without copying."""
        store = cls(vectors.shape[1], 1)
        store._matrix, store._ids = vectors, ids
        store._row_of = dict(zip(ids.tolist(), range(len(ids)), strict=True))
        return store

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, vector_id: object) -> bool:
        return vector_id in self._row_of

    @property
    def matrix(self) -> FloatArray:
        """The live rows (a view, valid until the next change)."""
        return self._matrix[: len(self._row_of)]

    @property
    def ids(self) -> IdArray:
        """The id of each row of `matrix` (a view)."""
        return self._ids[: len(self._row_of)]

    def rows(self, ids: Sequence[int]) -> RowArray:
        """Row numbers of `ids`; KeyError for an id not present."""
        return np.fromiter(map(self._row_of.__getitem__, ids), dtype=np.intp, count=len(ids))

    def upsert(self, ids: IdArray, vectors: FloatArray) -> None:
        """Insert or overwrite rows; `ids` must be unique."""
        n = len(self._row_of)
        rows = np.empty(len(ids), dtype=np.intp)
        for i, vid in enumerate(ids.tolist()):
            row = self._row_of.get(vid)
            if row is None:
                row = self._row_of[vid] = n
                n += 1
            rows[i] = row
        if n > len(self._ids):
            self.reserve(max(n, int(len(self._ids) * GROWTH_FACTOR)))
        self._matrix[rows] = vectors
        self._ids[rows] = ids

    def reserve(self, capacity: int) -> None:
        """Reallocate to `capacity` rows (at least the live count)."""
        n = len(self._row_of)
        capacity = max(capacity, n, 1)
        kept = min(n, len(self._ids))  # during upsert, rows past the old capacity are new
        matrix = np.empty((capacity, self._matrix.shape[1]), dtype=np.float32)
        matrix[:kept] = self._matrix[:kept]
        ids = np.empty(capacity, dtype=np.int64)
        ids[:kept] = self._ids[:kept]
        self._matrix, self._ids = matrix, ids

    def shrink(self) -> None:
        """Give back memory when at most half of the allocated rows are in use."""
        if len(self._ids) > 2 * headroom(len(self._row_of)):
            self.reserve(headroom(len(self._row_of)))

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows (moving the last row into each hole); unknown ids are ignored."""
        for vid in ids:
            row = self._row_of.pop(vid, None)
            if row is None:
                continue
            last = len(self._row_of)
            if row != last:
                moved = int(self._ids[last])
                self._matrix[row] = self._matrix[last]
                self._ids[row] = moved
                self._row_of[moved] = row


def dot(matrix: FloatArray, query: FloatArray) -> FloatArray:
    """Inner products of every row with `query`, computed on the calling thread.

    Not `matrix @ query`: OpenBLAS spreads a large matrix-vector product over all its threads,
    and while the embedder keeps the cores busy that costs ≈ 8 ms per call even for 2k rows.
    """
    out: FloatArray = np.einsum("ij,j->i", matrix, query)
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
