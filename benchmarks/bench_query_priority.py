"""Queries while indexing: indexing speed and query latency, with and without query priority.

Run: python3 benchmarks/bench_query_priority.py [--photos 48] [--cache DIR] [--every 0.5]

One process, as in the library host: a thread indexes camera-like 12-MP JPEGs with ViT-B-32
(random full-size weights, HF_HUB_OFFLINE=1) while another asks a query every ``--every``
seconds (a user typing), through ``Library.search`` (the torch-free text encoder, as the
window's host answers). Rows:
- queries alone (an idle library): latency median and p95;
- indexing alone: images/s;
- both, queries first (``QueryPriority``: indexing waits at its checkpoints while a query runs);
- both, no priority (checkpoints let everything through; the pre-issue-10 host instead lowered
  the whole process with ``nice +5``, which also made indexing give way to every other program).
The load average is printed with every row: other work on a shared machine skews all of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402
from desktop_app.config import Settings  # noqa: E402
from desktop_app.core.embedding.embedder import Embedder, load_embedder  # noqa: E402
from desktop_app.core.library import Library  # noqa: E402

MODEL = "ViT-B-32/laion2b_s34b_b79k"
QUERIES = ("kids on a beach at sunset", "a red car", "receipt from the pharmacy", "my cat asleep")


def open_library(work: Path, name: str, embedder: Embedder, seed_photos: Path) -> Library:
    """A library that already holds a few photos (so queries search a real index)."""
    data = work / f"data-{name}"
    shutil.rmtree(data, ignore_errors=True)
    library = Library.open(Settings(data_dir=data, model=MODEL, device="cpu"), lambda _s: embedder)
    library.index([seed_photos])
    library.warm_queries()
    return library


def ask_queries(library: Library, every: float, stop: threading.Event) -> list[float]:
    """Latency of one query every ``every`` seconds until ``stop``."""
    latencies = []
    number = 0
    while not stop.is_set():
        started = time.perf_counter()
        library.search(QUERIES[number % len(QUERIES)])
        latencies.append(time.perf_counter() - started)
        number += 1
        stop.wait(every)
    return latencies


def run(
    library: Library, photos: Path, every: float, index: bool, query: bool, seconds: float = 8.0
) -> tuple[float | None, list[float]]:
    """Index ``photos`` and/or ask queries; images/s of the indexing and the query latencies."""
    stop = threading.Event()
    latencies: list[float] = []
    asker = threading.Thread(target=lambda: latencies.extend(ask_queries(library, every, stop)))
    if query:
        asker.start()
    rate = None
    if index:
        rate = library.index([photos]).files_per_second
    else:
        stop.wait(seconds)
    stop.set()
    if query:
        asker.join()
    return rate, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between queries")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    args = parser.parse_args()
    make_fake_cache(args.cache)
    print(f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_photos(work / "photos", args.photos)
        write_photos(work / "seed", 4)
        embedder = load_embedder(MODEL, None, args.cache, "cpu")
        embedder.load_image_tower()
        cases = [
            ("queries alone", False, True, True),
            ("indexing alone", True, False, True),
            ("both, queries first", True, True, True),
            ("both, no priority", True, True, False),
        ]
        for number, (name, index, query, first) in enumerate(cases):
            library = open_library(work, str(number), embedder, work / "seed")
            if not first:
                library.priority.max_wait_s = 0.0  # checkpoints never wait
            try:
                rate, latencies = run(library, work / "photos", args.every, index, query)
            finally:
                library.close()
            rows.append((name, rate, latencies, os.getloadavg()[0]))
            print(f"  done: {name} (load {rows[-1][3]:.1f})", flush=True)
    print(f"\n{args.photos} 12-MP JPEGs, ViT-B-32 fp32, a query every {args.every} s")
    print("| case | indexing img/s | queries | query median ms | query p95 ms | load |")
    print("|---|---|---|---|---|---|")
    for name, rate, latencies, load in rows:
        ordered = sorted(latencies)
        median = f"{1000 * statistics.median(ordered):.0f}" if ordered else "—"
        p95 = f"{1000 * ordered[int(0.95 * (len(ordered) - 1))]:.0f}" if ordered else "—"
        shown = f"{rate:.2f}" if rate is not None else "—"
        print(f"| {name} | {shown} | {len(ordered)} | {median} | {p95} | {load:.1f} |")


if __name__ == "__main__":
    main()
