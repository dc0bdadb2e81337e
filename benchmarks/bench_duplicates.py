"""How similar an edited copy stays to its original, against how similar distinct photos get.

Chooses the near-duplicate threshold (``desktop_app.core.query.duplicates.DUPLICATE_COSINE``): for each
edit (resize, recompress, crop, brightness) the share of copies at or above each threshold, and the
share of pairs of distinct photos (different captions) and of look-alike photos (same caption,
another seed: a different shot of the same thing) that reach it. Run from the repository root::

    python3 -m benchmarks.bench_duplicates            # the tiny test model
    python3 -m benchmarks.bench_duplicates --model ViT-B-32/laion2b_s34b_b79k --weights FILE
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from desktop_app.core.embedding.embedder import load_embedder
from tests.support.shapes import all_captions, render

REPO = Path(__file__).resolve().parent.parent
THRESHOLDS = (0.85, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _crop(image: Image.Image, keep: float) -> Image.Image:
    w, h = image.size
    dw, dh = round(w * (1 - keep) / 2), round(h * (1 - keep) / 2)
    return image.crop((dw, dh, w - dw, h - dh))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resize 50%": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    "jpeg q=40": lambda im: _jpeg(im, 40),
    "crop 90%": lambda im: _crop(im, 0.9),
    "crop 80%": lambda im: _crop(im, 0.8),
    "brightness +30%": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    "brightness -30%": lambda im: ImageEnhance.Brightness(im).enhance(0.7),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lumen-tiny")
    parser.add_argument(
        "--weights", type=Path, default=REPO / "tests/fixtures/lumen-tiny.safetensors"
    )
    parser.add_argument("--seeds", type=int, default=3, help="photos per caption")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        embedder = load_embedder(args.model, args.weights, Path(cache), "cpu")
        captions = all_captions()
        originals = [
            _jpeg(render(c, (320, 240), seed=5000 + s), 92)
            for c in captions
            for s in range(args.seeds)
        ]
        labels = np.repeat(np.arange(len(captions)), args.seeds)
        base = embedder.encode_images(originals)
        print(f"model {args.model}: {len(originals)} photos, {len(captions)} captions\n")
        header = f"{'pairs':<28}{'n':>7}{'min':>7}" + "".join(f"{t:>7.2f}" for t in THRESHOLDS)
        print(header + "   (share of pairs at or above each threshold)")
        for name, edit in EDITS.items():
            edited = embedder.encode_images([edit(im) for im in originals])
            cos = np.sum(base * edited, axis=1)
            _row(f"copy, {name}", cos)
        sims = base @ base.T
        upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
        same = labels[:, None] == labels[None, :]
        _row("distinct (other caption)", sims[upper & ~same])
        _row("look-alike (same caption)", sims[upper & same])


def _row(name: str, cos: np.ndarray) -> None:
    if len(cos) == 0:  # (--seeds 1: no look-alikes)
        print(f"{name:<28}{0:>7}   (no pairs)")
        return
    shares = "".join(f"{float(np.mean(cos >= t)):>7.3f}" for t in THRESHOLDS)
    print(f"{name:<28}{len(cos):>7}{float(cos.min()):>7.3f}{shares}")


if __name__ == "__main__":
    main()
