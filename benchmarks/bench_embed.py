"""Indexing speed (decode included) and query-encoding time, for the tiny model and ViT-B-32.

Run: python3 benchmarks/bench_embed.py [--photos 96] [--models tiny vitb32]
ViT-B-32 uses random full-size weights placed in the Hugging Face cache layout, loaded through
Lumen's real lookup with HF_HUB_OFFLINE=1 (speed is real, vectors are meaningless).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fake_model_cache import make_fake_cache
from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.library import Library

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"


def write_photos(folder: Path, count: int) -> None:
    """``count`` distinct 12-megapixel JPEGs (4000×3000, camera-like size)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    big = Image.fromarray(base).resize((4000, 3000), Image.Resampling.BICUBIC)
    for i in range(count):
        # A different corner patch per file keeps the fingerprints distinct.
        big.paste((i % 255, (i * 7) % 255, (i * 13) % 255), (0, 0, 64, 64))
        big.save(folder / f"photo_{i:04d}.jpg", quality=90)


def time_queries(embedder: Embedder, truncate: bool, repeats: int = 20) -> float:
    query = "kids on a beach at sunset"
    for _ in range(3):
        embedder.encode_texts([query], truncate=truncate)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        embedder.encode_texts([query], truncate=truncate)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench(name: str, embedder: Embedder, photos: Path, work: Path) -> None:
    settings = Settings(data_dir=work / f"data-{name}", model=embedder.spec.key, device="cpu")
    with Library.open(settings, lambda _s: embedder) as library:
        summary = library.index([photos])
    print(
        f"[{name}] indexed {summary.embedded} 12-MP JPEGs in {summary.embed_s:.1f} s: "
        f"{summary.files_per_second:.1f} photos/s (decode + preprocess + embed + store)"
    )
    full = time_queries(embedder, truncate=False)
    fast = time_queries(embedder, truncate=True)
    print(
        f"[{name}] text query encode: {full:.1f} ms full context, {fast:.1f} ms up to end-of-text"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument(
        "--models", nargs="+", default=["tiny", "vitb32"], choices=["tiny", "vitb32"]
    )
    parser.add_argument("--cache", type=Path, help="model cache dir (default: a temp dir)")
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        write_photos(work / "photos", args.photos)
        print(f"wrote {args.photos} photos in {time.perf_counter() - started:.1f} s")
        if "tiny" in args.models:
            bench(
                "lumen-tiny",
                load_embedder("lumen-tiny", TINY, work / "cache", "cpu"),
                work / "photos",
                work,
            )
        if "vitb32" in args.models:
            cache = args.cache or work / "cache"
            make_fake_cache(cache)
            started = time.perf_counter()
            embedder = load_embedder("ViT-B-32/laion2b_s34b_b79k", None, cache, "cpu")
            print(f"[ViT-B-32] found in cache and loaded in {time.perf_counter() - started:.1f} s")
            bench("ViT-B-32", embedder, work / "photos", work)
        shutil.rmtree(work / "photos")


if __name__ == "__main__":
    main()
