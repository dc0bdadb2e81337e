"""Benchmark VectorIndex: build, exact vs HNSW latency, recall, filters, deletions, compaction."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.storage import vector_index as vi
from desktop_app.core.storage import vector_tuning as tuning
from desktop_app.core.storage.vector_index import VectorIndex

Floats = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
K = 10


def clustered(n: int, dim: int, clusters: int, spread: float, seed: int) -> Floats:
    """Unit vectors in Zipf-sized clusters around a shared direction (like CLIP embeddings).

    Each vector is 0.8·common + centre + spread·noise/√dim, normalised: nearest neighbours
    sit at cosine ≈ 0.3–0.4 among hundreds of near-ties, which is hard for a graph index.
    """
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim).astype(np.float32)
    common /= np.linalg.norm(common)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.5
    labels = rng.choice(clusters, size=n, p=weights / weights.sum())
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):  # bounded temporaries
        part = labels[start : start + 20_000]
        noise = rng.standard_normal((len(part), dim)).astype(np.float32)
        block = 0.8 * common + centres[part] + spread * noise / np.sqrt(dim)
        out[start : start + len(part)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def latent(n: int, dim: int, rank: int = 32, seed: int = 0) -> Floats:
    """Unit vectors with no clusters: a shared direction plus a random map of a ``rank``-d
    Gaussian, plus a little full-dimensional noise (a continuous low-dimensional manifold).

    The opposite case to ``clustered``: graphs find neighbours easily here, while an index that
    partitions the space (k-means lists) needs to read a large share of it.
    """
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim).astype(np.float32)
    common /= np.linalg.norm(common)
    basis = rng.standard_normal((dim, rank)).astype(np.float32) / np.sqrt(dim)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):  # bounded temporaries
        size = min(20_000, n - start)
        block = 0.8 * common + rng.standard_normal((size, rank)).astype(np.float32) @ basis.T
        block += 0.3 * rng.standard_normal((size, dim)).astype(np.float32) / np.sqrt(dim)
        out[start : start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def ground_truth(
    base: Floats, ids: Ids, queries: Floats, mask: npt.NDArray[np.bool_] | None
) -> Ids:
    scores = queries @ base.T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :K]
    return ids[top]


def timed(
    fn: Callable[[Floats], tuple[Ids, Floats]], queries: Floats
) -> tuple[list[Ids], npt.NDArray[np.float64]]:
    fn(queries[0])  # warm
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        found, _ = fn(q)
        times.append(time.perf_counter() - t)
        results.append(found)
    return results, np.array(times) * 1e3


def searcher(
    index: VectorIndex, allowed: Ids | None, ef: int | None
) -> Callable[[Floats], tuple[Ids, Floats]]:
    return partial(_search, index, allowed, ef)


def _search(
    index: VectorIndex, allowed: Ids | None, ef: int | None, q: Floats
) -> tuple[Ids, Floats]:
    return index.search(q, K, allowed, ef=ef)


def recall(found: list[Ids], truth: Ids) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (K * len(found))


def report_short(found: list[Ids]) -> None:
    short = sum(len(f) < K for f in found)
    if short:
        print(f"    !! {short} queries returned fewer than {K}")


def row(label: str, times: npt.NDArray[np.float64], rec: float | None = None) -> None:
    r = f"  recall@10 {rec:.3f}" if rec is not None else ""
    print(f"  {label:<44} mean {times.mean():6.2f} ms  p95 {np.percentile(times, 95):6.2f} ms{r}")


def bench_size(n: int, args: argparse.Namespace, tmp: Path) -> None:
    dim, nq = args.dim, args.queries
    data = clustered(n + nq, dim, max(args.clusters * n // 100_000, 8), args.spread, args.seed)
    base, queries = data[:n], data[n:]
    rng = np.random.default_rng(args.seed + 1)
    ids = rng.choice(50 * n, size=n, replace=False).astype(np.int64)  # sparse, like row ids
    truth = ground_truth(base, ids, queries, None)
    load = os.getloadavg()[0]
    print(f"\n== {n:,} × {dim} clustered vectors, {nq} held-out queries, k={K} ==")
    print(f"(1-min load average {load:.1f} on {os.cpu_count()} CPUs: other work skews timings)")

    index = VectorIndex(dim, exact_threshold=0)  # force the HNSW path
    t = time.perf_counter()
    index.add(ids, base)
    build = time.perf_counter() - t
    print(
        f"build (HNSW M={tuning.HNSW_M}, ef_construction={tuning.HNSW_EF_CONSTRUCTION}): "
        f"{build:.1f} s, {n / build:,.0f} items/s"
    )
    path = tmp / f"bench-{n}.hnsw"
    t = time.perf_counter()
    index.save(path)
    save_s = time.perf_counter() - t
    t = time.perf_counter()
    exact = VectorIndex.load(path, dim, exact_threshold=n)  # same data, exact path
    load_s = time.perf_counter() - t
    size_mb = path.stat().st_size / 1e6
    print(f"save {save_s:.2f} s, load (+ dense copy) {load_s:.2f} s, file {size_mb:.0f} MB")
    default = VectorIndex.load(path, dim)
    mode = "exact" if n <= default.exact_threshold else "HNSW"
    print(f"default config: N_EXACT = {default.exact_threshold:,} → {mode} path at this size")

    print("unfiltered:")
    mat = np.ascontiguousarray(base)

    def blas(q: Floats) -> tuple[Ids, Floats]:
        scores = mat @ q
        top = np.argpartition(-scores, K)[:K]
        return ids[top], scores[top]

    _, t_blas = timed(blas, queries)
    row("numpy X @ q, BLAS threads (reference)", t_blas)
    found, t_exact = timed(searcher(exact, None, None), queries)
    row("exact path (single-threaded einsum)", t_exact, recall(found, truth))
    found, t_hnsw = timed(searcher(index, None, None), queries)
    row(f"HNSW path, ef=max({tuning.EF_SEARCH}, 2k)", t_hnsw, recall(found, truth))
    print("  HNSW ef sweep:")
    for ef in (16, 32, 64, 100, 128, 200):
        found, times = timed(searcher(index, None, ef), queries)
        row(f"  ef={ef}", times, recall(found, truth))

    print("filtered (random allowed subsets; k results always came back unless noted):")
    balance = tuning.FILTER_BALANCE
    for fraction in (0.01, 0.05, 0.1, 0.3):
        allowed = rng.choice(ids, size=max(int(n * fraction), K), replace=False)
        ftruth = ground_truth(base, ids, queries, np.isin(ids, allowed))
        m = len(allowed)
        chosen = "exact" if n <= default.exact_threshold or m * m <= balance * n else "HNSW"
        found, times = timed(searcher(default, allowed, None), queries)
        row(f"{fraction:>4.0%} allowed, default config ({chosen})", times, recall(found, ftruth))
        report_short(found)
        setattr(vi, "FILTER_BALANCE", 0)  # noqa: B010 (force the filtered graph search)
        try:
            few = max(nq // 4, 1)
            found, times = timed(searcher(index, allowed, None), queries[:few])
        finally:
            setattr(vi, "FILTER_BALANCE", balance)  # noqa: B010
        row(
            f"{fraction:>4.0%} allowed, forced HNSW filter callback",
            times,
            recall(found, ftruth[:few]),
        )
        report_short(found)

    print("after deletions (HNSW path, ef default; deleted entries stay in the graph):")
    order = rng.permutation(n)
    removed = 0
    for fraction in (0.1, 0.3, 0.5):
        upto = int(n * fraction)
        index.remove(ids[order[removed:upto]])
        removed = upto
        live = np.ones(n, dtype=bool)
        live[order[:upto]] = False
        dtruth = ground_truth(base, ids, queries, live)
        found, times = timed(searcher(index, None, None), queries)
        row(
            f"{fraction:.0%} deleted (needs_compaction={index.needs_compaction()})",
            times,
            recall(found, dtruth),
        )
    t = time.perf_counter()
    index.compact()
    compact_s = time.perf_counter() - t
    found, times = timed(searcher(index, None, None), queries)
    row(f"after compact() ({compact_s:.1f} s, {len(index):,} live)", times, recall(found, dtruth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=40, help="clusters per 100k vectors")
    parser.add_argument("--spread", type=float, default=2.0, help="noise scale within a cluster")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.processor()}")
    print(f"clusters per 100k: {args.clusters}, spread {args.spread}, seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            bench_size(n, args, Path(tmp))


if __name__ == "__main__":
    main()
