"""Vectors and small indexes for the vector-index tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from desktop_app.core.storage.vector_index import VectorIndex

DIM = 32


def unit_vectors(n: int, dim: int = DIM, seed: int = 0) -> npt.NDArray[np.float32]:
    """Unit vectors as the catalog and the index store them (float16 values, so a stored
    vector reads back equal; its length is 1 within ≈ 1e-3)."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float16).astype(np.float32)


def clustered(n: int, dim: int = 64, clusters: int = 10, seed: int = 0) -> npt.NDArray[np.float32]:
    """Unit vectors around a few centres sharing a common direction (like image embeddings)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim)
    centres = rng.standard_normal((clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    common /= np.linalg.norm(common)
    labels = rng.integers(0, clusters, n)
    v = 0.8 * common + centres[labels] + 1.5 * rng.standard_normal((n, dim)) / np.sqrt(dim)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = v.astype(np.float16).astype(np.float32)
    return out


def sparse_ids(n: int, seed: int = 1) -> npt.NDArray[np.int64]:
    """Distinct, non-dense catalog-like ids."""
    rng = np.random.default_rng(seed)
    return rng.choice(10_000_000, size=n, replace=False).astype(np.int64)


def exact_top(
    ids: npt.NDArray[np.int64], vecs: npt.NDArray[np.float32], q: npt.NDArray[np.float32], k: int
) -> npt.NDArray[np.int64]:
    order = np.argsort(-(vecs @ q), kind="stable")[:k]
    return ids[order]


def build(
    n: int, exact_threshold: int | None = None, seed: int = 0
) -> tuple[VectorIndex, npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    index = VectorIndex(DIM, exact_threshold=exact_threshold)
    ids, vecs = sparse_ids(n, seed + 1), unit_vectors(n, seed=seed)
    index.add(ids, vecs)
    return index, ids, vecs


def finds_itself(graph: Any, keys: npt.ArrayLike, vecs: npt.ArrayLike, beam: int) -> list[bool]:
    """Whether a search of each vector in ``vecs`` with ``beam`` returns its own key."""
    rows = np.asarray(vecs, dtype=np.float32)
    found = np.asarray(graph.search(rows, beam).keys).reshape(len(rows), -1)
    return [
        bool(key in row) for key, row in zip(np.asarray(keys).tolist(), found.tolist(), strict=True)
    ]
