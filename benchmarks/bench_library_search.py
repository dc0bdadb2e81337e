"""Whole search path latency (index + catalog lookups + grouping + cutoff) at 10k and 100k files.

Run: python3 benchmarks/bench_library_search.py [--sizes 10000 100000]
Synthetic clustered 512-d vectors stand in for photos; the query is a perturbed library vector.
"first query, new filter" asks each query with a filter never seen before (the user just picked
it): now the best candidates are checked against it; "as before" first resolves the filter over
the whole catalog (what every new filter cost until issue 10), then searches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.query.search import SearchService
from desktop_app.core.storage.catalog import INDEXED, Catalog, FileFilter, FileRow, VectorRow
from desktop_app.core.storage.vector_index import VectorIndex

DIM = 512
SPACE = "bench"


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.normal(size=(max(8, n // 200), DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.normal(size=(n, DIM)).astype(
        np.float32
    )
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def insert_photos(catalog: Catalog, ids: range, vectors: np.ndarray) -> None:
    """Catalog rows for photos ``ids`` (0-based; file and vector ids are one more), half of
    them in /photos/a and half in /photos/b, each with its vector of ``vectors``."""
    with catalog.session() as s:
        s.execute(
            insert(FileRow),
            [
                {
                    "id": i + 1,
                    "path": f"/photos/{'ab'[i % 2]}/img_{i:07d}.jpg",
                    "name": f"img_{i:07d}.jpg",
                    "size": 1000 + i,
                    "mtime_ns": 1_600_000_000_000_000_000 + i * 10**9,
                    "fingerprint": f"{i:032x}",
                    "kind": "image",
                    "status": INDEXED,
                    "added_at": 0.0,
                }
                for i in ids
            ],
        )
        s.execute(
            insert(VectorRow),
            [
                {
                    "id": i + 1,
                    "file_id": i + 1,
                    "space": SPACE,
                    "role": "image",
                    "embedding": vectors[i].tobytes(),
                }
                for i in ids
            ],
        )


def build(n: int, folder: Path) -> tuple[Catalog, VectorIndex, np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = clustered(n, rng)
    catalog = Catalog.open(folder / "catalog.sqlite3")
    started = time.perf_counter()
    insert_photos(catalog, range(n), vectors)
    index = VectorIndex(DIM)
    index.add(np.arange(1, n + 1, dtype=np.int64), vectors)
    print(f"  built {n} files in {time.perf_counter() - started:.1f} s")
    return catalog, index, vectors


def measure(service: SearchService, queries: np.ndarray, **kw: object) -> tuple[float, float]:
    service.by_vector(queries[0], **kw)  # warm the background sample
    times = []
    for q in queries:
        started = time.perf_counter()
        service.by_vector(q, **kw)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    for n in args.sizes:
        print(f"{n} files:")
        with tempfile.TemporaryDirectory() as tmp:
            catalog, index, vectors = build(n, Path(tmp))
            service = SearchService(catalog, index, SPACE)
            rng = np.random.default_rng(1)
            queries = vectors[rng.integers(0, n, args.queries)] + 0.05 * rng.normal(
                size=(args.queries, DIM)
            )
            queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
            for label, kw in (
                ("k=50", {"k": 50}),
                ("k=50 show_all", {"k": 50, "show_all": True}),
                (
                    "k=50 folder filter (50%)",
                    {"k": 50, "file_filter": FileFilter(folders=(Path("/photos/a"),))},
                ),
            ):
                median, p95 = measure(service, queries, **kw)
                print(f"  {label:28} median {median:6.2f} ms   p95 {p95:6.2f} ms")
            for label, resolve in (
                ("first query, new filter", False),
                ("  as before (resolve it)", True),
            ):
                times = []
                for number, q in enumerate(queries):
                    new = FileFilter(
                        folders=(Path("/photos/a"),),
                        date_to=datetime(2030, 1, 1) + timedelta(seconds=number + 1000 * resolve),
                    )
                    started = time.perf_counter()
                    if resolve:
                        catalog.allowed_vector_ids(SPACE, new)
                    service.by_vector(q, k=50, file_filter=new)
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
                print(f"  {label:28} median {median:6.2f} ms   p95 {p95:6.2f} ms")
            print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
            catalog.close()


if __name__ == "__main__":
    main()
