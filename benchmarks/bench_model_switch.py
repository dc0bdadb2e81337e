"""The cost of switching a library to another model, and searches answering meanwhile.

Run: python3 -m benchmarks.bench_model_switch [--photos 48] [--cache DIR]

A library of camera-like 12-MP JPEGs is indexed with ViT-B-32 (laion2b), then switched to
ViT-B-32 (openai weights: another vector space) by ``Library.index`` with the new model, as
``lumen --model … index`` does. Both models have random full-size weights in the real cache
layout (HF_HUB_OFFLINE=1: speed is real, vectors meaningless). While the switch runs, another
thread searches every 0.2 s: how many searches answered, with how many hits, and their latency.
Prints files/s of the switch and the time it implies for 10,000 photos.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

from benchmarks.bench_embed import write_photos
from benchmarks.fake_model_cache import make_fake_cache
from desktop_app.config import Settings
from desktop_app.core.indexing.model_switch import REEMBEDDING
from desktop_app.core.library import Library
from desktop_app.core.records import Progress

OLD, NEW = "ViT-B-32/laion2b_s34b_b79k", "ViT-B-32/openai"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.mkdtemp()) / "models")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    write_photos(work / "photos", args.photos)
    make_fake_cache(args.cache, "ViT-B-32", "laion2b_s34b_b79k")
    make_fake_cache(args.cache, "ViT-B-32", "openai")
    settings = Settings(data_dir=work / "data", model=OLD, model_cache_dir=args.cache, device="cpu")
    with Library.open(settings) as library:
        started = time.perf_counter()
        library.index([work / "photos"])
        print(f"indexed {args.photos} photos with {OLD} in {time.perf_counter() - started:.1f} s")

    latencies: list[float] = []
    hits: list[int] = []
    switching = threading.Event()
    finished = threading.Event()
    marks: dict[str, float] = {}

    def progress(p: Progress) -> None:
        if p.phase == REEMBEDDING:
            marks.setdefault("first", time.perf_counter())
            marks["last"] = time.perf_counter()
            marks["done"] = p.done
            switching.set()

    with Library.open(settings.replace(model=NEW)) as library:
        library.search("a photo")  # the old model's text tower, loaded before the clock starts

        def search_meanwhile() -> None:
            switching.wait()
            while not finished.is_set():
                started = time.perf_counter()
                found = library.search("kids on a beach at sunset", show_all=True)
                latencies.append(time.perf_counter() - started)
                hits.append(len(found.hits))
                finished.wait(0.2)

        searcher = threading.Thread(target=search_meanwhile)
        searcher.start()
        started = time.perf_counter()
        library.index(progress=progress)
        total = time.perf_counter() - started
        finished.set()
        searcher.join()
        model = library.status().model
    reembed_s = marks["last"] - marks["first"]
    rate = marks["done"] / reembed_s if reembed_s > 0 else float("nan")
    print(f"switched to {model}: {total:.1f} s in all (model load included)")
    print(f"re-embedding: {marks['done']} files in {reembed_s:.1f} s = {rate:.2f} files/s")
    print(f"10,000 photos at that rate: {10_000 / rate / 60:.0f} min")
    if latencies:
        print(
            f"searches during the switch: {len(latencies)}, each with {min(hits)}–{max(hits)} "
            f"hits; latency median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
