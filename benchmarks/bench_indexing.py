"""Indexing throughput against its bound, fp32, bf16 and int8, measured in one run.

Run: python3 benchmarks/bench_indexing.py [--photos 48] [--cache DIR] [--rounds 2]

For each precision, in the same process and run, interleaved (term, index, term, index, ...)
so that a machine whose load drifts weighs on both sides alike:
- decode: median seconds of the per-file work outside the model (fingerprint, decode with
  draft, EXIF, preprocess: the pipeline's own ``prepare_file``), one file at a time on one thread;
- model: images/s of the image tower on prepared batches of ``batch_size`` (warm);
- the bound ``1 / (decode_s / cores + 1 / model_rate)``: every core busy, no overhead;
- ``Library.index`` on camera-like 12-MP JPEGs, files/s once the model (both towers) is loaded.
The load average is printed with every figure: on a shared machine it says how far to trust it.
fp32 and int8 keep float32 products (``LUMEN_BF16=0``); bf16 uses bfloat16 products where the
CPU multiplies them natively (as Lumen does by default there; elsewhere it runs as fp32). bf16 and
int8 also report the cosine of their vectors to fp32 ones. ViT-B-32 has random full-size weights
(speed is real, vectors meaningless); HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402
from desktop_app.config import Settings  # noqa: E402
from desktop_app.core.embedding import bf16  # noqa: E402
from desktop_app.core.embedding.embedder import Embedder, load_embedder  # noqa: E402
from desktop_app.core.indexing.prepare import prepare_file  # noqa: E402
from desktop_app.core.library import Library  # noqa: E402
from desktop_app.core.records import FileRecord  # noqa: E402

MODEL = "ViT-B-32/laion2b_s34b_b79k"


def _record(path: Path) -> FileRecord:
    return FileRecord(
        0, 0, path, 0, 0, 0, "", "image", "pending", None, None, None, None, None, None, None, None
    )


def decode_seconds(embedder: Embedder, photos: list[Path], n: int = 12) -> float:
    times = []
    for path in photos[:n]:
        record = _record(path)
        started = time.perf_counter()
        item = prepare_file(record, embedder)
        times.append(time.perf_counter() - started)
        assert item.pixels is not None, item.error
    return statistics.median(times)


def model_rate(embedder: Embedder, photos: list[Path], batch: int, rounds: int = 3) -> float:
    import torch

    pixels = prepare_file(_record(photos[0]), embedder).pixels
    assert pixels is not None
    stacked = torch.stack([pixels] * batch)
    embedder.encode_prepared(stacked[:2])  # load + warm up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        embedder.encode_prepared(stacked)
        times.append(time.perf_counter() - started)
    return batch / statistics.median(times)


def index_rate(embedder: Embedder, photos: Path, work: Path, name: str) -> float:
    embedder.load_image_tower()  # start-up is not part of the rate
    settings = Settings(data_dir=work / f"data-{name}", model=MODEL, device="cpu")
    with Library.open(settings, lambda _s: embedder) as library:
        summary = library.index([photos])
    assert summary.failed == 0
    return summary.files_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16", "int8"])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats of each figure")
    args = parser.parse_args()
    import torch

    make_fake_cache(args.cache)
    cores = os.cpu_count() or 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cores} cores")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows = []
    vectors: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_photos(work / "photos", args.photos)
        photos = sorted((work / "photos").iterdir())
        for precision in args.precisions:
            os.environ[bf16.ENVIRONMENT] = "auto" if precision == "bf16" else "0"
            embedder = load_embedder(MODEL, None, args.cache, "cpu", int8=precision == "int8")
            decodes, models, rates = [], [], []
            for round_ in range(args.rounds):
                decodes.append(decode_seconds(embedder, photos))
                models.append(model_rate(embedder, photos, args.batch))
                rates.append(index_rate(embedder, work / "photos", work, f"{precision}{round_}"))
                print(
                    f"  {precision} round {round_ + 1}: decode {decodes[-1] * 1000:.0f} ms, "
                    f"model {models[-1]:.1f} img/s, index {rates[-1]:.2f} img/s, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            decodes.append(decode_seconds(embedder, photos))
            models.append(model_rate(embedder, photos, args.batch))
            decode = statistics.mean(decodes)
            model = statistics.mean(models)
            rate = statistics.mean(rates)
            bound = 1 / (decode / cores + 1 / model)
            from PIL import Image

            with Image.open(photos[0]) as im:
                im.draft("RGB", (224, 224))
                sample = [im.convert("RGB")]
            vectors[precision] = embedder.encode_images(sample * 2)
            rows.append((precision, decode, model, bound, rate))
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{args.photos} 12-MP JPEGs, ViT-B-32, batch {args.batch}, {cores} cores")
    print("| precision | decode ms | model img/s | bound img/s | `index` img/s | ratio |")
    print("|---|---|---|---|---|---|")
    for precision, decode, model, bound, rate in rows:
        print(
            f"| {precision} | {decode * 1000:.0f} | {model:.1f} | {bound:.1f} | {rate:.1f} "
            f"| {rate / bound:.2f} |"
        )
    models = {row[0]: row[2] for row in rows}
    for other in ("bf16", "int8"):
        if "fp32" in vectors and other in vectors:
            cosine = float(np.sum(vectors["fp32"][0] * vectors[other][0]))
            speed = models[other] / models["fp32"]
            print(f"{other}: model {speed:.2f}× fp32, cosine to fp32 vectors {cosine:.5f}")
    print(f"bfloat16 products here: {bf16.measured_speedup():.2f}× float32's (a tower's layer)")


if __name__ == "__main__":
    main()
