"""A search for a few files (the window's first page) ranks first what a search for more would."""

from __future__ import annotations

import numpy as np

from desktop_app.core.query.fetch_sizes import BEAM_FILES, FetchSizes, search_within
from desktop_app.core.storage.vector_index import VectorIndex
from tests.support.vectors import clustered, exact_top, sparse_ids

N, DIM, QUERIES = 4000, 64, 40


def _graph_index() -> tuple[VectorIndex, np.ndarray, np.ndarray, np.ndarray]:
    """A graph searched with a narrow beam of its own (ef 16), and held-out queries."""
    vecs = clustered(N + QUERIES, DIM, seed=7)
    ids = sparse_ids(N, seed=8)
    index = VectorIndex(DIM, exact_threshold=0, ef_search=16, ef_filtered=16)
    index.add(ids, vecs[:N])
    return index, ids, vecs[:N], vecs[N:]


def _recall(found: list[list[int]], exact: list[list[int]]) -> float:
    return sum(len(set(f) & set(e)) for f, e in zip(found, exact, strict=True)) / sum(
        map(len, exact)
    )


def test_a_search_for_ten_looks_as_wide_as_one_for_two_hundred() -> None:
    index, ids, vecs, queries = _graph_index()
    narrow, wide, exact = [], [], []
    for q in queries:
        top = index.search(q, 10, wide_as=200)[0].tolist()
        assert top == index.search(q, 200)[0].tolist()[:10]  # the same first ten
        wide.append(top)
        narrow.append(index.search(q, 10)[0].tolist())
        exact.append(exact_top(ids, vecs, q, 10).tolist())
    # Why: a narrow beam of its own misses more of the true best ten.
    assert _recall(narrow, exact) < _recall(wide, exact)
    assert _recall(wide, exact) >= 0.95


def test_a_filtered_search_for_few_ranks_first_what_one_for_more_does() -> None:
    index, ids, _vecs, queries = _graph_index()
    rng = np.random.default_rng(3)
    most = np.sort(rng.choice(ids, size=int(0.8 * N), replace=False))  # dropped after a search
    some = np.sort(rng.choice(ids, size=int(0.3 * N), replace=False))  # the index filters
    for allowed in (most, some):
        for q in queries[:10]:
            few = search_within(index, q, 10, allowed, wide_as=200)[0]
            more = search_within(index, q, 200, allowed)[0]
            assert few.tolist() == more.tolist()[:10]
            assert np.isin(few, allowed).all()


class _Catalog:
    """As many indexed files as vectors: one vector a file."""

    def count_with_status(self, _status: str) -> int:
        return N


def test_fewer_files_than_the_beam_files_look_as_widely_as_them() -> None:
    index, *_ = _graph_index()
    sizes = FetchSizes(_Catalog(), index)  # type: ignore[arg-type]
    assert sizes.wide_as(60) == sizes.first(BEAM_FILES) > sizes.first(60)
    assert sizes.wide_as(BEAM_FILES) == sizes.wide_as(1000) == 0  # their own beam is as wide
