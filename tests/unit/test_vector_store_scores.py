"""The exact scores of the index's float16 rows: what ranks a small library's search."""

from __future__ import annotations

import numpy as np

from desktop_app.core.storage.vector_store import dot


def _unit_rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, 512))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_float16_rows_score_as_float32_arithmetic_would() -> None:
    rows = _unit_rows(3000, 1)
    query = _unit_rows(1, 2)[0]
    half = rows.astype(np.float16)
    scores = dot(half, query)
    exact = half.astype(np.float32) @ query
    assert scores.dtype == np.float32 and scores.shape == (3000,)
    assert np.abs(scores - exact).max() < 1e-3
    assert list(np.argsort(-scores)[:20]) == list(np.argsort(-exact)[:20])


def test_a_row_scores_the_same_alone_in_a_slice_and_in_any_order() -> None:
    half = _unit_rows(50, 3).astype(np.float16)
    query = _unit_rows(1, 4)[0]
    whole = dot(half, query)
    assert np.array_equal(dot(half[10:20], query), whole[10:20])
    assert np.array_equal(dot(half[[7, 3, 40]], query), whole[[7, 3, 40]])


def test_no_rows_no_scores() -> None:
    assert dot(np.empty((0, 512), dtype=np.float16), _unit_rows(1, 5)[0]).shape == (0,)
    assert dot(np.empty((0, 512), dtype=np.float32), _unit_rows(1, 5)[0]).shape == (0,)
