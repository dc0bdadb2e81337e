"""A graph's last check: vectors no search of themselves reaches are linked again."""

from __future__ import annotations

import numpy as np

from desktop_app.core.storage import vector_graph
from desktop_app.core.storage.vector_graph import graph_keys, missed, new_graph, rebuild, relink
from tests.support.vectors import DIM, build, clustered, finds_itself

BEAM = 160


def _graph_of(vecs: np.ndarray) -> tuple[object, np.ndarray, np.ndarray]:
    ids = np.arange(10, 10 + len(vecs), dtype=np.int64)
    rows = vecs.astype(np.float16)
    graph = new_graph(DIM, 32, 200)
    vector_graph.add_to_graph(graph, ids, rows.astype(np.float32), BEAM)
    return graph, ids, rows


def test_missed_names_exactly_the_vectors_no_search_reaches() -> None:
    graph, ids, rows = _graph_of(clustered(3000, DIM))
    assert len(missed(graph, ids, rows, BEAM, chunk=700)) == 0
    # A node taken out of the graph stands for a stranded one: stored, never returned.
    gone = np.array([3, 1234, 2999])
    graph.remove(graph_keys(ids[gone]))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(missed(graph, ids, rows, BEAM, chunk=700), gone)


def test_relinked_vectors_find_themselves_first() -> None:
    graph, ids, rows = _graph_of(clustered(3000, DIM))
    gone = np.array([0, 1500, 2998])
    graph.remove(graph_keys(ids[gone]))  # type: ignore[attr-defined]
    assert not any(finds_itself(graph, ids[gone], rows[gone], BEAM))
    assert relink(graph, graph_keys(ids[gone]), rows[gone].astype(np.float32), BEAM, 1) >= 3
    assert all(finds_itself(graph, ids, rows, BEAM))


def test_a_rebuilt_graph_finds_every_vector_first() -> None:
    vecs = clustered(5000, DIM)
    ids = np.arange(5000, dtype=np.int64) * 3
    rows = vecs.astype(np.float16)
    graph = rebuild(DIM, 32, 200, ids, rows, BEAM, chunk=1024)
    assert all(finds_itself(graph, ids, rows, BEAM))


def test_an_index_recheck_finds_a_photo_its_graph_had_lost() -> None:
    index, ids, vecs = build(3000, exact_threshold=0)
    lost = ids[[7, 2500]]
    index._graph.remove(graph_keys(lost))  # stranded: in the index's rows, not in its graph
    assert [index.search(vecs[i], 1)[0].tolist() for i in (7, 2500)] != [[lost[0]], [lost[1]]]
    assert index.recheck(ids) >= 2
    assert [index.search(vecs[i], 1)[0].tolist() for i in (7, 2500)] == [[lost[0]], [lost[1]]]
    assert index.recheck(ids) == 0  # nothing left to link
