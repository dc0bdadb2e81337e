"""HNSW parameter sweep: build time, query time, recall@10 against exact search, memory per item.

Run: python3 benchmarks/bench_hnsw_sweep.py [--n 50000] [--m 16 24 32 48] [--efc 100 200]

The issue's figure is at ``--n 1000000`` (1M clustered 512-d vectors: each build takes about
15 minutes per configuration on a 2-core machine, and the data + exact ground truth need ≈ 5 GB
of memory); the default size runs in a few minutes. Vectors are the same hard, clustered
synthetic ones as ``bench_search.py`` (CLIP-like: one shared direction, Zipf-sized clusters).
For every (M, ef_construction): build items/s on all cores, index bytes per item (the saved
graph file, which holds the vectors), and for each query beam ef: single-query latency p50/p95
(one thread, as the app asks) and recall@10. The last table names, per configuration, the
smallest ef that reaches recall@10 ≥ 0.95 and its p50.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import hnswlib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_search import clustered

K = 10
TARGET_RECALL = 0.95


def exact_top(base: np.ndarray, queries: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Indices of the true top-K (inner product) of each query, in chunks to bound memory."""
    out = np.empty((len(queries), K), dtype=np.int64)
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ base.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        out[start : start + chunk] = top
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000, help="vectors in the index")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--m", type=int, nargs="+", default=[16, 24, 32, 48])
    parser.add_argument("--efc", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--ef", type=int, nargs="+", default=[32, 64, 100, 128, 200, 300])
    parser.add_argument("--clusters", type=int, default=40, help="clusters per 100k vectors")
    parser.add_argument("--spread", type=float, default=2.0)
    args = parser.parse_args()
    n, nq = args.n, args.queries
    cores = os.cpu_count() or 1
    print(f"{n:,} × {args.dim} clustered vectors, {nq} held-out queries, k={K}, {cores} cores")
    print(f"load average at start {os.getloadavg()[0]:.1f} (other work skews all timings)")
    data = clustered(n + nq, args.dim, max(args.clusters * n // 100_000, 8), args.spread, 0)
    base, queries = np.ascontiguousarray(data[:n]), np.ascontiguousarray(data[n:])
    del data
    started = time.perf_counter()
    truth = exact_top(base, queries)
    exact_ms = 1000 * (time.perf_counter() - started) / nq
    print(f"exact search (numpy, all threads): {exact_ms:.1f} ms per query\n")
    rows: list[tuple[int, int, float, float, list[tuple[int, float, float, float]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in args.m:
            for efc in args.efc:
                index = hnswlib.Index(space="ip", dim=args.dim)
                index.init_index(max_elements=n, M=m, ef_construction=efc)
                started = time.perf_counter()
                index.add_items(base, np.arange(n), num_threads=cores)
                build = time.perf_counter() - started
                path = Path(tmp) / "index.bin"
                index.save_index(str(path))
                per_item = path.stat().st_size / n
                path.unlink()
                index.set_num_threads(1)
                sweep = []
                for ef in args.ef:
                    index.set_ef(max(ef, K))
                    times, hits = [], 0
                    for q, want in zip(queries, truth, strict=True):
                        t = time.perf_counter()
                        labels, _ = index.knn_query(q, k=K)
                        times.append(1000 * (time.perf_counter() - t))
                        hits += len(set(labels[0].tolist()) & set(want.tolist()))
                    times.sort()
                    sweep.append(
                        (
                            ef,
                            statistics.median(times),
                            times[int(0.95 * (len(times) - 1))],
                            hits / (K * nq),
                        )
                    )
                rows.append((m, efc, n / build, per_item, sweep))
                print(
                    f"  M={m} ef_construction={efc}: build {n / build:,.0f} items/s, "
                    f"{per_item / 1024:.2f} KB/item, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                del index
    print("\n| M | ef_c | build items/s | KB/item | ef | p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|---|")
    for m, efc, rate, per_item, sweep in rows:
        for ef, p50, p95, rec in sweep:
            print(
                f"| {m} | {efc} | {rate:,.0f} | {per_item / 1024:.2f} | {ef} | {p50:.2f} "
                f"| {p95:.2f} | {rec:.3f} |"
            )
    print(f"\nsmallest ef reaching recall@10 ≥ {TARGET_RECALL}:")
    print("| M | ef_c | ef | p50 ms | recall@10 |")
    print("|---|---|---|---|---|")
    for m, efc, _rate, _per_item, sweep in rows:
        enough = [s for s in sweep if s[3] >= TARGET_RECALL]
        if enough:
            ef, p50, _p95, rec = enough[0]
            print(f"| {m} | {efc} | {ef} | {p50:.2f} | {rec:.3f} |")
        else:
            print(f"| {m} | {efc} | none up to {args.ef[-1]} | — | {sweep[-1][3]:.3f} |")
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
