"""A rebuilt graph's nodes that no search can reach are found from its own links and linked
again; a graph whose saved form cannot be read is checked by searching instead."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from desktop_app.core.storage import graph_reach, vector_graph
from desktop_app.core.storage.graph_reach import KEY_BYTES, LEVEL_BYTES, SLOT_BYTES
from desktop_app.core.storage.vector_graph import graph_keys, new_graph
from tests.support.vectors import DIM, clustered, finds_itself, sparse_ids

BEAM = 160
N = 3_000


def _graph(n: int = N) -> tuple[Any, np.ndarray, np.ndarray]:
    vecs = clustered(n, DIM)
    ids = sparse_ids(n)
    graph = new_graph(DIM, 16, 100)
    vector_graph.add_to_graph(graph, ids, vecs, BEAM)
    return graph, ids, vecs


def _cut_off(saved: bytearray, slots: set[int]) -> bytearray:
    """``saved`` with every link into ``slots`` dropped, except those between them."""
    where = graph_reach.layout(saved)
    cut = bytearray(saved)
    for start in where.node_starts.tolist():
        count_at = start + KEY_BYTES + LEVEL_BYTES
        count = int.from_bytes(saved[count_at : count_at + SLOT_BYTES], "little")
        first = count_at + SLOT_BYTES
        listed = np.frombuffer(saved, "<u4", count, first)
        own = int(np.flatnonzero(where.node_starts == start)[0])
        kept = listed if own in slots else listed[~np.isin(listed, list(slots))]
        cut[count_at : count_at + SLOT_BYTES] = len(kept).to_bytes(SLOT_BYTES, "little")
        cut[first : first + SLOT_BYTES * len(kept)] = kept.astype("<u4").tobytes()
    return cut


def test_the_links_read_back_are_the_graphs_own() -> None:
    graph, ids, vecs = _graph()
    links = graph_reach.base_links(graph.save())
    assert sorted(links.keys.tolist()) == sorted(ids.tolist())
    assert len(links.starts) == N + 1 and links.starts[-1] == len(links.neighbours)
    row_of = {int(vid): row for row, vid in enumerate(ids)}
    rows = vecs[[row_of[int(k)] for k in links.keys]]
    # A node's neighbours are near it: closer than the graph's nodes are on average.
    near = [
        float(np.mean(rows[links.neighbours[links.starts[i] : links.starts[i + 1]]] @ rows[i]))
        for i in range(0, N, 7)
    ]
    assert np.mean(near) > float(np.mean(rows @ rows.mean(axis=0))) + 0.1
    assert graph_reach.reached(links).all()  # a fresh graph reaches every node


def test_a_node_and_an_island_no_link_leads_to_are_named_and_nothing_else() -> None:
    graph, ids, vecs = _graph()
    saved = graph.save()
    keys = graph_reach.base_links(saved).keys
    # Nodes on the base level alone (a node on upper levels is reached through them too).
    starts = graph_reach.layout(saved).node_starts.tolist()
    base_only = [i for i, at in enumerate(starts) if saved[at + KEY_BYTES] == 0]
    links = graph_reach.base_links(saved)
    lone, first = base_only[5], base_only[100]
    listed = links.neighbours[links.starts[first] : links.starts[first + 1]].tolist()
    island = [first, next(n for n in listed if n in base_only and n != lone)]
    cut = new_graph(DIM, 16, 100)
    cut.load(_cut_off(saved, {lone, *island}))
    lost = keys[[lone, *island]]
    named = graph_reach.unreachable(cut)
    # The island's second node has a link to it: an in-degree count would not see it.
    assert set(lost.tolist()) <= set(named.tolist())
    row_of = {int(vid): row for row, vid in enumerate(ids)}
    rows = vecs[[row_of[int(k)] for k in named]]
    # Anything else named was reached only through the nodes cut off: a search that walks the
    # whole graph (a beam as wide as it) does not find it either.
    assert not any(finds_itself(cut, named, rows, N))
    vector_graph.relink(cut, named, rows, BEAM, 1)
    assert all(finds_itself(cut, named, rows, BEAM))
    assert len(graph_reach.unreachable(cut)) == 0


def test_an_empty_graph_has_nothing_to_reach(caplog: pytest.LogCaptureFixture) -> None:
    # All files removed, then compacted: nothing to link again, and nothing to warn about.
    graph = vector_graph.rebuild(DIM, 16, 100, sparse_ids(0), np.empty((0, DIM), np.float16), BEAM)
    assert len(graph) == 0
    assert len(graph_reach.unreachable(graph)) == 0
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_saved_form_it_cannot_read_gives_no_answer() -> None:
    class Unreadable:
        def save(self) -> bytes:
            return b"not a usearch graph at all"

        def __len__(self) -> int:
            return 3

    assert graph_reach.unreachable(Unreadable()) is None


def test_a_rebuild_checks_by_search_when_the_links_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searched: list[int] = []
    real_missed = vector_graph.missed

    def missed(*args: Any, **kwargs: Any) -> np.ndarray:
        searched.append(len(args[1]))
        return real_missed(*args, **kwargs)

    monkeypatch.setattr(vector_graph, "unreachable", lambda graph: None)
    monkeypatch.setattr(vector_graph, "missed", missed)
    vecs, ids = clustered(2_000, DIM), sparse_ids(2_000)
    graph = vector_graph.rebuild(DIM, 16, 100, ids, vecs.astype(np.float16), BEAM)
    assert searched == [2_000]
    assert all(finds_itself(graph, graph_keys(ids), vecs, BEAM))


def test_a_rebuild_links_again_the_nodes_its_graph_cannot_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vecs, ids = clustered(N, DIM), sparse_ids(N)  # ids unsorted: found by key, not by place
    removed = graph_keys(ids[[3, 1500, 2999]])
    named: list[np.ndarray] = []

    def unreachable(graph: Any) -> np.ndarray:
        named.append(np.concatenate([graph_reach.unreachable(graph), removed]))
        graph.remove(removed)  # stored, yet no search returns them
        return named[-1]

    monkeypatch.setattr(vector_graph, "unreachable", unreachable)
    graph = vector_graph.rebuild(DIM, 16, 100, ids, vecs.astype(np.float16), BEAM)
    row_of = {int(vid): row for row, vid in enumerate(ids)}
    lost = named[0]
    assert all(finds_itself(graph, lost, vecs[[row_of[int(k)] for k in lost]], BEAM))
    assert len(graph) == N
