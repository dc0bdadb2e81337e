"""The vector index's graph (usearch, int8 vectors) and the rows a save streams to disk."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import numpy.typing as npt

# usearch's compiled module carries its own copy of C++ runtime symbols that the loader makes
# unique process-wide: the first library to define one is used by all that load later. Loaded
# before libheif, it left libheif's HEVC encoder unable to open ("x265 encoder could not be
# opened"); libheif loaded first (4 ms) keeps both working.
with contextlib.suppress(ImportError):
    import _pillow_heif  # noqa: F401

from usearch.index import Index

from desktop_app.core.storage.vector_store import HalfArray, IdArray, RowArray


def new_graph(dim: int, m: int, ef_construction: int) -> Any:
    """An empty inner-product HNSW graph of `dim`-d int8 vectors, `m` links per node."""
    # expansion_search 1: the beam is set per query by the count asked for (usearch searches
    # with max(expansion, count)), so concurrent queries never race on an index-wide setting.
    return Index(
        ndim=dim,
        metric="ip",
        dtype="i8",
        connectivity=m,
        expansion_add=ef_construction,
        expansion_search=1,
    )


def add_to_graph(graph: Any, ids: IdArray, vectors: npt.NDArray[np.float32]) -> None:
    """Link ``vectors`` into ``graph`` under the catalog ids ``ids``, on one thread.

    usearch's concurrent add strands nodes (stored, yet never reached by a search:
    unum-cloud/USearch#735): 13 of 5,000 small-graph vectors could not find themselves with two
    threads, none with one. A photo no search reaches is worse than a slower build.
    """
    graph.add(graph_keys(ids), vectors, threads=1)


def graph_keys(ids: IdArray) -> npt.NDArray[np.uint64]:
    """Catalog vector ids (non-negative) as the graph's keys."""
    return np.ascontiguousarray(ids, dtype=np.uint64)


class Gathered:
    """Rows of ``matrix`` in the order ``rows``, read a slice at a time (for saving)."""

    def __init__(self, matrix: HalfArray, rows: RowArray) -> None:
        self._matrix, self._rows = matrix, rows
        self.shape = (len(rows), matrix.shape[1])

    def __getitem__(self, part: slice) -> HalfArray:
        return self._matrix[self._rows[part]]
