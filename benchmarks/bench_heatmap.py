"""What a heat-map costs ("Where it matches" in the preview): one batch of GRID² + 1 pictures
through the image tower, for the photo shown only.

    python -m benchmarks.bench_heatmap [--model lumen-tiny --weights FILE] [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from desktop_app.core.embedding.embedder import load_embedder
from desktop_app.core.embedding.heatmap import GRID, heat_map
from tests.support.shapes import caption_for_text, render

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="lumen-tiny")
    parser.add_argument(
        "--weights", type=Path, default=REPO / "tests/fixtures/lumen-tiny.safetensors"
    )
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        embedder = load_embedder(args.model, args.weights, Path(cache), "cpu")
        embedder.load_image_tower()
        text = "a red circle on the left"
        picture = render(caption_for_text(text), (1024, 768), seed=3)
        query = embedder.encode_text(text)
        heat_map(embedder, picture, query)  # warm
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            heat_map(embedder, picture, query)
            times.append(time.perf_counter() - started)
        times.sort()
        print(
            f"{args.model}: heat-map of one 1024x768 photo ({GRID}x{GRID} cells, {GRID * GRID + 1} "
            f"pictures in one batch): median {statistics.median(times) * 1e3:.0f} ms, "
            f"max {times[-1] * 1e3:.0f} ms over {args.runs} runs"
        )


if __name__ == "__main__":
    main()
