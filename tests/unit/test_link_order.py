"""A bulk of vectors is linked region by region: neighbours one after another, every vector
still found, the graph's answers those of a graph linked in stored order."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.storage import link_order, vector_graph
from desktop_app.core.storage.vector_index import VectorIndex
from tests.support.vectors import clustered, exact_top, sparse_ids, unit_vectors

N = 4_000
CLUSTERS = 12


@pytest.fixture
def small_bulks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Order bulks as small as the tests' (the app orders from 20,000 vectors on)."""
    monkeypatch.setattr(link_order, "ORDER_FROM", 1_000)
    monkeypatch.setattr(link_order, "PER_REGION", 200)


def _separated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vectors in ``CLUSTERS`` tight, well-apart clusters, and each one's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, 64))
    labels = rng.integers(0, CLUSTERS, n)
    vecs = centres[labels] + 0.05 * rng.standard_normal((n, 64))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs.astype(np.float16), labels


@pytest.mark.usefixtures("small_bulks")
def test_the_order_puts_each_cluster_together_and_keeps_every_vector() -> None:
    vecs, labels = _separated(N)
    order = link_order.locality_order(vecs)
    assert sorted(order.tolist()) == list(range(N))  # each vector once
    runs = 1 + int(np.count_nonzero(np.diff(labels[order])))
    assert runs <= 2 * CLUSTERS  # in stored order: ≈ N runs


def test_a_small_bulk_keeps_its_stored_order() -> None:
    vecs = unit_vectors(500).astype(np.float16)
    assert link_order.locality_order(vecs).tolist() == list(range(500))


@pytest.mark.usefixtures("small_bulks")
def test_the_order_is_the_same_each_time() -> None:
    vecs = clustered(N).astype(np.float16)
    assert link_order.locality_order(vecs).tolist() == link_order.locality_order(vecs).tolist()


@pytest.mark.usefixtures("small_bulks")
def test_a_graph_rebuilt_region_by_region_finds_every_vector_and_the_nearest_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Linked on one thread, the graph is the same on every run (usearch's concurrent linking
    # is not: its recall here moved between 0.946 and 0.968).
    monkeypatch.setattr(vector_graph, "LINK_THREADS", 1)
    vecs = clustered(N, dim=32)
    ids = sparse_ids(N)
    graph = vector_graph.rebuild(32, 16, 100, ids, vecs.astype(np.float16), beam=64)
    assert len(graph) == N
    assert not len(vector_graph.missed(graph, ids, vecs.astype(np.float16), beam=64))
    row_of = {int(vid): row for row, vid in enumerate(ids)}
    hits = 0
    for q in unit_vectors(50, seed=3):
        keys = np.asarray(graph.search(q, 64).keys, dtype=np.int64)
        top = keys[np.argsort(-(vecs[[row_of[int(k)] for k in keys]] @ q))][:10]
        hits += len(set(top.tolist()) & set(exact_top(ids, vecs, q, 10).tolist()))
    assert hits >= 0.95 * 500


@pytest.mark.usefixtures("small_bulks")
def test_a_bulk_added_at_once_is_found_by_its_ids_whatever_order_it_was_linked_in() -> None:
    vecs, ids = clustered(N, dim=32), sparse_ids(N)
    index = VectorIndex(32, exact_threshold=0)
    index.add(ids, vecs)
    assert [index.search(v, 1)[0][0] for v in vecs[:300]] == ids[:300].tolist()
    fresh = unit_vectors(10, dim=32, seed=9)
    index.add(ids[:10], fresh)  # replaced vectors: the new ones answer
    assert [index.search(v, 1)[0][0] for v in fresh] == ids[:10].tolist()
