"""A lost vector index at a large library: how long until searches answer, and until the graph is
whole again.

    python benchmarks/bench_restore.py [--n 1000000] [--workdir DIR] [--link-now] [--no-save]

Builds (once; kept in ``--workdir``) a catalog of ``n`` photos with the clustered 512-d vectors of
``bench_search.py`` and no index file, as after a lost or damaged ``vectors.hnsw``. Then, as
Lumen opens it (``Store.open``: the catalog wins, missing vectors are copied in):
- seconds until the store is open and answers (a reader: ``lumen search``, the window's host);
- single-query p50/p95 and recall@10 while the graph waits (exact search over the rows);
- seconds for the writer's next save, which links every row into the graph and writes the file.
- single-query p50/p95 and recall@10 through the graph that save linked.
``--link-now`` restores as Lumen did before rows-first (every row linked while opening), for
the "before" figure; at 1M that takes tens of minutes. ``--stored-order`` links the rows in the
catalog's order, as Lumen did before it linked them region by region (``link_order``).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_library_search import SPACE, insert_photos  # noqa: E402
from benchmarks.bench_search import clustered  # noqa: E402
from benchmarks.bench_search_1m import HalfRows  # noqa: E402
from desktop_app.core.storage import link_order  # noqa: E402
from desktop_app.core.storage import store as store_module  # noqa: E402
from desktop_app.core.storage.catalog import Catalog  # noqa: E402
from desktop_app.core.storage.store import Store  # noqa: E402

DIM = 512
CHUNK = 50_000
QUERIES = 100


def build_catalog(n: int, vectors: np.ndarray, folder: Path) -> Path:
    """A catalog of ``n`` photos and their vectors (no index file), made once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.sqlite3"
    if (folder / "ready").exists():
        return path
    started = time.perf_counter()
    catalog = Catalog.open(path)
    for key, value in {"space": SPACE, "dim": str(DIM), "model": "bench"}.items():
        catalog.set_meta(key, value)
    rows = HalfRows(vectors)  # the catalog's own bytes (float16)
    for start in range(0, n, CHUNK):
        insert_photos(catalog, range(start, min(n, start + CHUNK)), rows)  # type: ignore[arg-type]
    catalog.close()
    (folder / "ready").touch()
    print(f"  catalog of {n:,} photos written in {time.perf_counter() - started:.0f} s")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--link-now", action="store_true", help="link while opening (before)")
    parser.add_argument("--no-save", action="store_true", help="skip the writer's save")
    parser.add_argument(
        "--stored-order", action="store_true", help="link in the catalog's order (before)"
    )
    args = parser.parse_args()
    graph_log = logging.getLogger("desktop_app.core.storage.vector_graph")
    graph_log.setLevel(logging.INFO)  # where the save's linking time goes
    graph_log.addHandler(logging.StreamHandler(sys.stdout))
    n = args.n
    folder = args.workdir or Path(tempfile.gettempdir()) / f"lumen-bench-restore-{n}"
    both = clustered(n + QUERIES, DIM, max(40 * n // 100_000, 8), 2.0, 0)
    vectors, queries = both[:n], both[n:]
    catalog_path = build_catalog(n, vectors, folder)
    index_path = folder / "vectors.hnsw"
    for stale in (index_path, index_path.with_name(index_path.name + ".meta.json")):
        stale.unlink(missing_ok=True)
    if args.link_now:
        store_module.LINK_LATER_FROM = n + 1
    catalog = Catalog.open(catalog_path)
    started = time.perf_counter()
    store = Store.open(catalog, index_path)
    opened = time.perf_counter() - started
    how = "every row linked while opening" if args.link_now else "rows first"
    print(f"{n:,} vectors, index file lost ({how}): store open and answering in {opened:.1f} s")
    half = vectors.astype(np.float16).astype(np.float32)  # the values the index holds
    truth = [set(np.argsort(-(half @ q))[:10].tolist()) for q in queries]
    del half
    print(f"  a query meanwhile {_queries(store, queries, truth)}")
    if not args.no_save:
        if args.stored_order:
            link_order.ORDER_FROM = n + 1
        started = time.perf_counter()
        store.save()
        took = time.perf_counter() - started
        order = "in stored order" if args.stored_order else "region by region"
        print(f"  the writer's save (links every row {order}, writes the file): {took:.0f} s")
        print(f"  a query afterwards {_queries(store, queries, truth)}")
    catalog.close()


def _queries(store: Store, queries: np.ndarray, truth: list[set[int]]) -> str:
    """Single-query latency and recall@10 of the store's index as it stands."""
    times, hits = [], 0
    for q, top in zip(queries, truth, strict=True):
        t = time.perf_counter()
        found = store.index.search(q, 10)[0] - 1  # vector ids are row numbers + 1
        times.append(1000 * (time.perf_counter() - t))
        hits += len(set(found.tolist()) & top)
    times.sort()
    how = "exact, graph pending" if store.index.graph_pending else "through the graph"
    return (
        f"({how}): p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms, recall@10 {hits / (10 * QUERIES):.3f}"
    )


if __name__ == "__main__":
    main()
