"""The vector index's graph (usearch, int8 vectors) and the rows a save streams to disk."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

# usearch's compiled module carries its own copy of C++ runtime symbols that the loader makes
# unique process-wide: the first library to define one is used by all that load later. Loaded
# before libheif, it left libheif's HEVC encoder unable to open ("x265 encoder could not be
# opened"); libheif loaded first (4 ms) keeps both working.
with contextlib.suppress(ImportError):
    import _pillow_heif  # noqa: F401

from usearch.index import Index

from desktop_app.core.storage.graph_reach import unreachable
from desktop_app.core.storage.link_order import locality_order
from desktop_app.core.storage.vector_store import HalfArray, IdArray, RowArray

_log = logging.getLogger(__name__)

# Threads that link new vectors into the graph (and search for them afterwards) when at least
# BULK come at once: a rebuild (compaction, a restore from the catalog, a model switch), which
# usually has the machine to itself. Indexing's batches are smaller and arrive while the image
# tower holds the cores; there two usearch threads linked no faster than one (50k vectors at
# load 2.3-3.2: 0.8-1.06x one thread's rate; 200k at load 2-4: 837 vs 839 items/s). Alone on
# the machine they were 2.25x faster at 100k (2,270 vs 1,010 items/s), 1.56x at 200k (1,329 vs
# 851), re-linking included (11-15 % of the time).
LINK_THREADS: Final = os.cpu_count() or 1
BULK: Final = 512
# Self-search beams tried before the full one: at 20k clustered 512-d vectors, 4 finds all but
# 3 % (0.12 of an insertion's cost), 16 all but 0.2 % (0.26); a full beam of 160 costs 1.2.
# A whole graph leaves more: of 200k linked region by region, 4 / 16 / 64 / 226 leave 31,652 /
# 13,430 / 3,062 / 231 (8.4 / 5.0 / 5.2 / 3.1 s on 2 cores); of a million, 4 / 16 / 64 / 128 /
# 256 / 506 leave 438k / 291k / 122k / 53k / 17k / 6.8k (39 / 55 / 98 / 75 / 61 / 46 s), which
# is why a rebuild reads its graph's links instead (``graph_reach``).
CHECK_BEAMS: Final = (4, 16, 64)
# Re-linking on one thread finds a stranded node at once; a node still not found after this
# many tries is one the graph cannot tell from its near-duplicates at that beam. A bulk is
# linked again on every core first (a whole graph's check can leave thousands).
RELINK_ROUNDS: Final = 3
# Vectors searched for themselves at a time by a whole graph's check (float32 copies: 16 MB).
CHECK_CHUNK: Final = 8192


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


def add_to_graph(graph: Any, ids: IdArray, vectors: npt.NDArray[np.float32], beam: int) -> int:
    """Link ``vectors`` into ``graph`` under the catalog ids ``ids`` (on every core for a bulk
    of them); those a search of their own vector with ``beam`` does not return are linked again
    on one thread. Returns how many were linked again.

    usearch's concurrent add strands nodes (stored, yet never reached by a search:
    unum-cloud/USearch#735): a node whose upper-level links are already published while its
    level-0 list is still empty becomes the seed of a concurrent insertion, which is linked to
    it alone and dropped when that list is formed. Two threads stranded 1-44 of 20,000 random
    32-d vectors (most while the graph was small) and 7 of 100,000 clustered 512-d ones. Only
    the nodes being added can be stranded so, and only they are searched for; this also finds
    those that one thread leaves beyond the beam (92 of the same 100,000 at beam 160).
    """
    keys = graph_keys(ids)
    threads = LINK_THREADS if len(keys) >= BULK else 1
    graph.add(keys, vectors, threads=threads)
    lost = unfound(graph, keys, vectors, beam, threads)
    return relink(graph, keys[lost], vectors[lost], beam, threads)


def relink(
    graph: Any,
    keys: npt.NDArray[np.uint64],
    vectors: npt.NDArray[np.float32],
    beam: int,
    threads: int,
) -> int:
    """Link ``keys`` (which a search of their own vector missed) into ``graph`` again until a
    search with ``beam`` finds them: a bulk first on ``threads`` threads, then on one thread;
    returns how many were linked again."""
    relinked, total, left = 0, len(keys), len(keys)
    for attempt in range(RELINK_ROUNDS):
        if left == 0:
            break
        graph.remove(keys)  # the slots are reused by the add, which links them anew
        graph.add(keys, vectors, threads=threads if attempt == 0 and left >= BULK else 1)
        relinked += len(keys)
        lost = unfound(graph, keys, vectors, beam, threads)
        keys, vectors, left = keys[lost], vectors[lost], len(lost)
    if relinked:
        _log.debug("%d of %d vectors linked again, %d still not found", relinked, total, left)
    return relinked


def missed(
    graph: Any,
    ids: IdArray,
    rows: HalfArray | Gathered,
    beam: int,
    chunk: int = CHECK_CHUNK,
    order: RowArray | None = None,
) -> npt.NDArray[np.intp]:
    """Positions of ``ids`` (whose float16 vectors are ``rows``, in order) that a search of their own
    vector with ``beam`` does not return, searched ``chunk`` at a time on every core, in the
    order of the positions ``order`` if given (``rows`` then an array).

    Indexing checks each batch as it is added (``add_to_graph``), but later insertions prune
    links, and a few vectors found then are lost by the end (at 100k-200k, 0.04-0.2 % of
    them): a restore's recheck searches everything once more; so does a rebuild whose graph's
    links cannot be read (a million on 2 cores: 376 s in the order they were linked, 449 s in
    stored order; the linking took 353-370 s).
    A narrower last beam costs more: at 64, 12 % of a million are missed and linked again.
    """
    keys = graph_keys(ids)
    lost = []
    for start in range(0, len(keys), chunk):
        if order is None:
            vectors = rows[start : start + chunk]
            positions = np.arange(start, min(start + chunk, len(keys)), dtype=np.intp)
        else:
            positions = order[start : start + chunk]
            vectors = rows[positions]  # type: ignore[index]
        found = unfound(graph, keys[positions], vectors.astype(np.float32), beam, LINK_THREADS)
        lost.append(positions[found])
    return np.concatenate(lost) if lost else np.empty(0, dtype=np.intp)


def rebuild(
    dim: int,
    m: int,
    ef_construction: int,
    ids: IdArray,
    rows: HalfArray,
    beam: int,
    chunk: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """A new graph of ``ids`` with float16 vectors ``rows``, built ``chunk`` (CHECK_CHUNK) at a
    time on every core, region by region (``locality_order``), telling ``progress`` how many
    are in; those no search can reach then (``graph_reach``) are linked again.

    Nothing is checked on the way: later insertions prune links of earlier ones, so only the
    whole graph tells which nodes it lost. Reading its links finds those in seconds, where
    searching every vector for itself took as long as the linking (1M: 376 s); what that search
    found besides (nodes reachable, yet beyond the beam of their own vector: 193 of 200k
    clustered vectors) changed recall@10 of 1,000 held-out queries by 0.0006 (0.9936 / 0.9942).
    """
    chunk = chunk or CHECK_CHUNK
    graph = new_graph(dim, m, ef_construction)
    started = time.perf_counter()
    order = locality_order(rows)
    ordered = time.perf_counter()
    for start in range(0, len(ids), chunk):
        part = order[start : start + chunk]
        graph.add(graph_keys(ids[part]), rows[part].astype(np.float32), threads=LINK_THREADS)
        if progress is not None:
            progress(min(start + chunk, len(ids)))
    linked = time.perf_counter()
    lost = _lost(graph, ids, rows, beam, chunk, order)
    checked = time.perf_counter()
    relinked = relink(
        graph, graph_keys(ids[lost]), rows[lost].astype(np.float32), beam, LINK_THREADS
    )
    _log.info(
        "Rebuilt the vector graph of %d vectors: ordered in %.1f s, linked in %.0f s, checked"
        " in %.1f s, %d unreachable and %d linked again in %.1f s",
        len(ids),
        ordered - started,
        linked - ordered,
        checked - linked,
        len(lost),
        relinked,
        time.perf_counter() - checked,
    )
    return graph


def _lost(
    graph: Any, ids: IdArray, rows: HalfArray, beam: int, chunk: int, order: RowArray
) -> npt.NDArray[np.intp]:
    """Positions of ``ids`` that no walk of the graph reaches, or (its links unreadable) that a
    search of their own vector misses."""
    keys = unreachable(graph)
    if keys is None:
        return missed(graph, ids, rows, beam, chunk, order)
    by_id = np.argsort(ids, kind="stable")
    return by_id[np.searchsorted(ids, keys.astype(np.int64), sorter=by_id)].astype(np.intp)


def unfound(
    graph: Any,
    keys: npt.NDArray[np.uint64],
    vectors: npt.NDArray[np.float32],
    beam: int,
    threads: int = 1,
) -> npt.NDArray[np.intp]:
    """Positions of the ``keys`` whose own vector a search with ``beam`` does not return.

    Narrow beams first (a few percent of a build): most vectors are found by them; only the
    rest are searched again, at last with the full beam (each like one insertion).
    """
    left = np.arange(len(keys), dtype=np.intp)
    for count in (*CHECK_BEAMS, beam):
        if len(left) == 0:
            break
        found = graph.search(vectors[left], count, threads=threads)
        got = np.asarray(found.keys).reshape(len(left), -1)
        counts = np.asarray(getattr(found, "counts", [got.shape[1]])).reshape(-1, 1)
        filled = np.arange(got.shape[1]) < counts  # rows are padded past their count
        left = left[~((got == keys[left, None]) & filled).any(axis=1)]
    return left


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
