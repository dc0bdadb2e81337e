"""HNSW parameter sweep: build rate, query time, recall@10 against exact search, file per item.

Run: python3 benchmarks/bench_hnsw_sweep.py [--n 100000] [--m 16 32] [--efc 100 200]
     [--dtype i8 f16] [--build lumen one rebuild] [--hnswlib 200] [--data latent]

The graph Lumen uses (usearch, ``VectorIndex``'s storage) for every (dtype, M, ef_construction)
and way of building it (``--build``: "lumen" is Lumen's own ``add_to_graph`` in chunks of
``ADD_CHUNK``: every core, then the vectors a search of themselves misses linked again; "one"
links on one thread and checks nothing; "rebuild" is ``vector_graph.rebuild``, as compaction
and a restore build, which also searches every vector once more at the end): build items/s
(wall, and per CPU-second of all its threads, which other work on the machine skews less), the
share of the build spent searching vectors for themselves, how many were linked again, how
many of all the vectors a search of themselves at Lumen's beam still misses ("lost"), the saved
file's bytes per item, and for each query beam ef the single-query latency p50/p95 (one
thread, as the app asks) and recall@10, the int8 graph's candidates ranked by float16 rows as
``VectorIndex`` ranks them ("ranked") and as the graph returns them ("graph"). ``--hnswlib
EFC`` adds the previous index (hnswlib, float32), if installed, as a baseline in the same run.
Vectors (``--data``) are the hard, clustered ones of ``bench_search.py`` (CLIP-like: one shared
direction, Zipf-sized clusters, near-ties decided by noise) or its ``latent`` ones (continuous, no
clusters: where an index that partitions the space fails). Settings must hold on both.
Issue 22's 1M row is measured by ``bench_search_1m.py``; this sweep at 100k–200k is where the
settings are chosen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_search import clustered, latent
from desktop_app.core.storage import vector_graph
from desktop_app.core.storage.vector_tuning import ADD_CHUNK, EF_GROWS_FROM, EF_SEARCH

K = 10


def exact_top(base: np.ndarray, queries: np.ndarray, chunk: int = 64) -> list[set[int]]:
    """The true top-K (inner product) of each query, in chunks to bound memory."""
    out: list[set[int]] = []
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ base.T
        out += [set(row.tolist()) for row in np.argpartition(-scores, K, axis=1)[:, :K]]
    return out


def sweep(
    search: Callable[[np.ndarray, int], np.ndarray],
    queries: np.ndarray,
    truth: list[set[int]],
    beams: list[int],
) -> list[tuple[int, float, float, float]]:
    """(ef, p50 ms, p95 ms, recall@10) for each beam."""
    out = []
    for ef in beams:
        times, hits = [], 0
        for q, want in zip(queries, truth, strict=True):
            t = time.perf_counter()
            found = search(q, ef)
            times.append(1000 * (time.perf_counter() - t))
            hits += len(want & set(found.tolist()))
        times.sort()
        out.append(
            (
                ef,
                statistics.median(times),
                times[int(0.95 * (len(times) - 1))],
                hits / (K * len(queries)),
            )
        )
    return out


def lumen_beam(size: int) -> int:
    """The beam of Lumen's unfiltered search for one result at ``size`` vectors."""
    return max(round(EF_SEARCH * max(1.0, size / EF_GROWS_FROM) ** 0.5), 2)


def usearch_config(
    base: np.ndarray, dtype: str, m: int, efc: int, build: str, tmp: Path
) -> tuple[str, dict[str, Callable[[np.ndarray, int], np.ndarray]]]:
    """Build figures, and the searches to sweep (ranked and graph alone)."""
    index = vector_graph.new_graph(base.shape[1], m, efc)
    if dtype != "i8":  # the same graph of other vectors
        index = Index(ndim=base.shape[1], metric="ip", dtype=dtype, connectivity=m)
        index.expansion_add, index.expansion_search = efc, 1
    keys = np.arange(len(base), dtype=np.int64)
    checking = [0.0]
    unfound = vector_graph.unfound

    def timed_unfound(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return unfound(*args)
        finally:
            checking[0] += time.perf_counter() - started

    vector_graph.unfound = timed_unfound  # type: ignore[assignment]
    relinked = 0
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if build == "rebuild":
            relink = vector_graph.relink
            counts: list[int] = []

            def counted(*args: Any) -> int:
                counts.append(relink(*args))
                return counts[-1]

            vector_graph.relink = counted  # type: ignore[assignment]
            try:
                index = vector_graph.rebuild(
                    base.shape[1], m, efc, keys, base.astype(np.float16), lumen_beam(len(base))
                )
            finally:
                vector_graph.relink = relink  # type: ignore[assignment]
            relinked = sum(counts)
        for start in range(0, len(base), ADD_CHUNK) if build != "rebuild" else ():
            part = slice(start, start + ADD_CHUNK)
            if build == "one":
                index.add(vector_graph.graph_keys(keys[part]), base[part], threads=1)
            else:
                beam = lumen_beam(start + ADD_CHUNK)
                relinked += vector_graph.add_to_graph(index, keys[part], base[part], beam)
    finally:
        vector_graph.unfound = unfound  # type: ignore[assignment]
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    lost = len(unfound(index, keys.astype(np.uint64), base, lumen_beam(len(base)), 2))
    figures = (
        f"{build} | {len(base) / took:,.0f} | {len(base) / cpu:,.0f} | {checking[0] / took:.0%} "
        f"| {relinked} | {lost}"
    )
    index.save(str(tmp / "index.bin"))
    per_item = (tmp / "index.bin").stat().st_size / len(base)
    half = base.astype(np.float16)

    def ranked(q: np.ndarray, ef: int) -> np.ndarray:
        keys = np.asarray(index.search(q, ef, threads=1).keys, dtype=np.int64)
        scores = half[keys].astype(np.float32) @ q
        return keys[np.argsort(-scores)[:K]]

    def graph(q: np.ndarray, ef: int) -> np.ndarray:
        return np.asarray(index.search(q, ef, threads=1).keys[:K], dtype=np.int64)

    return f"{figures} | {per_item:,.0f}", {"ranked": ranked, "graph": graph}


def hnswlib_config(
    base: np.ndarray, m: int, efc: int, tmp: Path
) -> tuple[str, dict[str, Callable[[np.ndarray, int], np.ndarray]]]:
    """The previous index (hnswlib, float32) with the same measurements."""
    import hnswlib  # optional: no longer a dependency

    index = hnswlib.Index(space="ip", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=m, ef_construction=efc)
    started = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=os.cpu_count() or 1)
    rate = len(base) / (time.perf_counter() - started)
    index.save_index(str(tmp / "index.bin"))
    per_item = (tmp / "index.bin").stat().st_size / len(base)
    index.set_ef(1)

    def search(q: np.ndarray, ef: int) -> np.ndarray:
        return np.asarray(index.knn_query(q, k=max(ef, K), num_threads=1)[0][0, :K], dtype=np.int64)

    return f"all cores | {rate:,.0f} | | | | | {per_item:,.0f}", {"hnswlib f32": search}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the index")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--m", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--efc", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--dtype", nargs="+", default=["i8"], help="usearch storage: i8, f16, f32")
    parser.add_argument(
        "--build", nargs="+", default=["lumen"], choices=["lumen", "one", "rebuild"]
    )
    parser.add_argument("--ef", type=int, nargs="+", default=[50, 100, 150, 200, 316, 400])
    parser.add_argument(
        "--hnswlib", type=int, nargs="*", help="add hnswlib at these ef_construction (M as --m)"
    )
    parser.add_argument(
        "--data",
        choices=["clustered", "latent"],
        default="clustered",
        help="clustered: near-ties decided by noise (hard for a graph); latent: continuous",
    )
    args = parser.parse_args()
    n = args.n
    print(f"{n:,} × {args.dim} {args.data} vectors, {args.queries} queries, {os.cpu_count()} cores")
    print(f"load average at start {os.getloadavg()[0]:.1f} (other work skews all timings)")
    if args.data == "latent":
        data = latent(n + args.queries, args.dim)
    else:
        data = clustered(n + args.queries, args.dim, max(40 * n // 100_000, 8), 2.0, 0)
    base, queries = np.ascontiguousarray(data[:n]), np.ascontiguousarray(data[n:])
    del data
    truth = exact_top(base, queries)
    print(
        "\n| graph | M | ef_c | build | items/s | items/CPU-s | checking | linked again | lost "
        "| bytes/item | search | ef | p50 ms | p95 ms | recall@10 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        configs = [
            (d, m, e, b) for d in args.dtype for m in args.m for e in args.efc for b in args.build
        ]
        configs += [("hnswlib", m, e, "") for m in args.m for e in args.hnswlib or []]
        for dtype, m, efc, build in configs:
            if dtype == "hnswlib":
                built, searches = hnswlib_config(base, m, efc, tmp)
            else:
                built, searches = usearch_config(base, dtype, m, efc, build, tmp)
            load = os.getloadavg()[0]
            for name, search in searches.items():
                for ef, p50, p95, recall in sweep(search, queries, truth, args.ef):
                    print(
                        f"| {dtype} | {m} | {efc} | {built} | {name} | {ef} "
                        f"| {p50:.2f} | {p95:.2f} | {recall:.3f} |",
                        flush=True,
                    )
            print(f"(load average after building and sweeping: {load:.1f})", flush=True)
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
