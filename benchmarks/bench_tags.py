"""Chooses the automatic-tag threshold: precision and recall of tags at each threshold.

Generated photos of coloured shapes (every caption, several render seeds) are scored against the
model's tag vocabulary (``desktop_app.core.embedding.tags``); a tag is right when the photo's caption names
it (its colour or its shape). For each threshold the table gives precision, recall, F0.5
(precision counts twice as much as recall: a wrong tag misleads, a missing one is only missing)
and tags per photo; the best F0.5 is marked. With ``--labels FILE`` (CSV rows ``image,tag``, one
row per tag a person gave the image; images relative to the file's folder) it measures a real
labelled set instead, e.g. COCO categories. Run from the repository root::

    python3 -m benchmarks.bench_tags            # the tiny test model
    python3 -m benchmarks.bench_tags --model ViT-B-32/laion2b_s34b_b79k --weights FILE --labels F
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.tags import (
    label_scores,
    normalise_tag,
    prompts,
    threshold_for,
    vocabulary_labels,
)
from tests.support.shapes import all_captions, render

REPO = Path(__file__).resolve().parent.parent
THRESHOLDS = tuple(round(0.25 * i, 2) for i in range(2, 21))


def _generated(embedder: Embedder, seeds: int) -> tuple[np.ndarray, list[set[str]]]:
    captions = all_captions()
    vectors, truth = [], []
    for seed in range(100, 100 + seeds):  # seeds the tiny model was not trained on
        vectors.append(embedder.encode_images([render(c, seed=seed) for c in captions]))
        truth += [{c.colour, c.shape} for c in captions]
    return np.concatenate(vectors), truth


def _labelled(embedder: Embedder, path: Path) -> tuple[np.ndarray, list[set[str]]]:
    wanted: dict[Path, set[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[0] != "image":
                wanted.setdefault(path.parent / row[0], set()).add(normalise_tag(row[1]))
    images = list(wanted)
    vectors = [
        embedder.encode_images([Image.open(p).convert("RGB") for p in images[i : i + 32]])
        for i in range(0, len(images), 32)
    ]
    return np.concatenate(vectors), [wanted[p] for p in images]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lumen-tiny")
    parser.add_argument(
        "--weights", type=Path, default=REPO / "tests/fixtures/lumen-tiny.safetensors"
    )
    parser.add_argument("--seeds", type=int, default=3, help="generated photos per caption")
    parser.add_argument("--labels", type=Path, help="a labelled set: CSV rows image,tag")
    args = parser.parse_args()
    embedder = load_embedder(args.model, args.weights, Path(tempfile.mkdtemp()), "cpu")
    labels = vocabulary_labels(embedder.spec)
    label_vectors = embedder.encode_texts(prompts(embedder.spec, labels))
    if args.labels:
        images, truth = _labelled(embedder, args.labels)
    else:
        images, truth = _generated(embedder, args.seeds)
    scores = label_scores(images, label_vectors)
    right = np.array([[label in t for label in labels] for t in truth])
    top = np.argsort(-scores, axis=1)[:, :5]  # at most MAX_TAGS per photo
    kept = np.zeros_like(right)
    np.put_along_axis(kept, top, True, axis=1)
    print(f"model {embedder.spec.key}: {len(images)} photos, vocabulary of {len(labels)} labels")
    print(f"now used: {threshold_for(embedder.spec)}\n")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'F0.5':>6} {'tags/photo':>10}")
    rows = []
    for threshold in THRESHOLDS:
        tagged = kept & (scores >= threshold)
        hits = int((tagged & right).sum())
        precision = hits / max(int(tagged.sum()), 1)
        recall = hits / max(int(right.sum()), 1)
        f05 = 1.25 * precision * recall / max(0.25 * precision + recall, 1e-9)
        rows.append((threshold, precision, recall, f05, tagged.sum() / len(images)))
    best = max(rows, key=lambda r: r[3])
    for threshold, precision, recall, f05, per_photo in rows:
        mark = "  <- best F0.5" if threshold == best[0] else ""
        print(f"{threshold:9.2f} {precision:9.3f} {recall:7.3f} {f05:6.3f} {per_photo:10.2f}{mark}")


if __name__ == "__main__":
    main()
