"""Retrieval quality on a captioned image set: recall@k and mAP, text→image and image→text.

A set is a file of (image, caption) pairs: a CSV or TSV with an image column and a caption column
(a header naming them, e.g. ``image,caption``, Flickr30k's ``image_name| comment_number| comment``,
or no header: image first, caption last), Flickr8k's ``name.jpg#0<TAB>caption`` token file, or a
COCO captions JSON (``images`` + ``annotations``). An image may have several captions and a
caption several images; each image path is taken relative to ``images`` or the file's folder.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.errors import ExtractionError, LumenError
from desktop_app.core.extractors import extract

log = logging.getLogger(__name__)

KS = (1, 5, 10)
_IMAGE_COLUMNS = ("image", "image_name", "file_name", "filename", "file", "path", "img")
_CAPTION_COLUMNS = ("caption", "comment", "text", "sentence", "description", "raw")
_FLICKR_SUFFIX = re.compile(r"#\d+$")
_CHUNK = 1024  # queries ranked at once


@dataclass(frozen=True)
class Pair:
    """One caption of one image."""

    image: Path
    caption: str


@dataclass(frozen=True)
class RetrievalScores:
    """Recall@k (a right answer in the top k) and mean average precision over the queries."""

    recall: dict[int, float]
    mean_average_precision: float
    queries: int


@dataclass(frozen=True)
class EvalReport:
    """Both directions, with the set's size and what could not be read."""

    text_to_image: RetrievalScores
    image_to_text: RetrievalScores
    images: int
    captions: int
    skipped_images: int


def load_pairs(path: Path, images: Path | None = None) -> list[Pair]:
    """The (image, caption) pairs of a captions file (see the module's docstring)."""
    base = images if images is not None else path.parent
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LumenError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = _coco_rows(raw, path) if path.suffix.lower() == ".json" else _table_rows(raw)
    pairs = [
        Pair(_resolve(base, _FLICKR_SUFFIX.sub("", image.strip())), " ".join(caption.split()))
        for image, caption in rows
        if image.strip() and caption.strip()
    ]
    if not pairs:
        raise LumenError(f"{path} holds no (image, caption) pairs")
    return pairs


def _resolve(base: Path, name: str) -> Path:
    candidate = Path(name).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _coco_rows(raw: str, path: Path) -> list[tuple[str, str]]:
    try:
        data = json.loads(raw)
        names = {int(i["id"]): str(i["file_name"]) for i in data["images"]}
        return [(names[int(a["image_id"])], str(a["caption"])) for a in data["annotations"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise LumenError(f"{path} is not a COCO captions file: {exc}") from exc


def _table_rows(raw: str) -> list[tuple[str, str]]:
    lines = [line for line in raw.splitlines() if line.strip()]
    if not lines:
        return []
    delimiter = max(("\t", "|", ","), key=lambda d: lines[0].count(d))
    cells = [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delimiter)]
    header = [c.lower() for c in cells[0]]
    image_col = next((header.index(c) for c in _IMAGE_COLUMNS if c in header), None)
    caption_col = next((header.index(c) for c in _CAPTION_COLUMNS if c in header), None)
    if image_col is not None and caption_col is not None:
        body = cells[1:]
    else:
        image_col, caption_col, body = 0, -1, cells
    return [(row[image_col], row[caption_col]) for row in body if len(row) >= 2]


def evaluate(
    embedder: Embedder,
    pairs: Sequence[Pair],
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Embed every image and caption once and rank each against all of the other kind."""
    image_paths = list(dict.fromkeys(p.image for p in pairs))
    vectors: dict[Path, np.ndarray] = {}
    for start in range(0, len(image_paths), batch_size):
        batch = image_paths[start : start + batch_size]
        loaded = []
        for path in batch:
            try:
                image = extract(path, embedder.image_size).image
            except (ExtractionError, OSError) as exc:
                log.warning("Skipping %s: %s", path, exc)
                continue
            if image is None:
                log.warning("Skipping %s: not an image", path)
                continue
            loaded.append((path, image))
        if loaded:
            encoded = embedder.encode_images([image for _, image in loaded])
            vectors.update(zip((p for p, _ in loaded), encoded, strict=True))
        if progress is not None:
            progress(min(start + batch_size, len(image_paths)), len(image_paths))
    kept = [p for p in pairs if p.image in vectors]
    if not kept:
        raise LumenError("none of the images could be read")
    images = [p for p in image_paths if p in vectors]
    captions = list(dict.fromkeys(p.caption for p in kept))
    image_index = {p: i for i, p in enumerate(images)}
    caption_index = {c: i for i, c in enumerate(captions)}
    truth = np.zeros((len(captions), len(images)), dtype=bool)
    for pair in kept:
        truth[caption_index[pair.caption], image_index[pair.image]] = True
    image_matrix = np.stack([vectors[p] for p in images])
    text_matrix = np.concatenate(
        [embedder.encode_texts(captions[i : i + 256]) for i in range(0, len(captions), 256)]
    )
    return EvalReport(
        text_to_image=retrieval_scores(text_matrix, image_matrix, truth),
        image_to_text=retrieval_scores(image_matrix, text_matrix, truth.T),
        images=len(images),
        captions=len(captions),
        skipped_images=len(image_paths) - len(images),
    )


def retrieval_scores(
    queries: np.ndarray, targets: np.ndarray, truth: np.ndarray, ks: Sequence[int] = KS
) -> RetrievalScores:
    """Recall@k and mAP of ranking ``targets`` by cosine for each query; ``truth[q, t]`` marks
    the right answers (a query without one is not counted)."""
    hits = {k: 0 for k in ks}
    ap_sum = 0.0
    counted = 0
    for start in range(0, len(queries), _CHUNK):
        scores = queries[start : start + _CHUNK] @ targets.T
        order = np.argsort(-scores, axis=1, kind="stable")
        relevant = np.take_along_axis(truth[start : start + _CHUNK], order, axis=1)
        for row in relevant:
            found = np.flatnonzero(row)
            if len(found) == 0:
                continue
            counted += 1
            for k in ks:
                hits[k] += bool(found[0] < k)
            ap_sum += float(np.mean(np.arange(1, len(found) + 1) / (found + 1)))
    if counted == 0:
        return RetrievalScores({k: 0.0 for k in ks}, 0.0, 0)
    return RetrievalScores({k: hits[k] / counted for k in ks}, ap_sum / counted, counted)


def report_table(report: EvalReport) -> str:
    """The report as a small text table."""
    lines = [
        f"{report.images} images, {report.captions} captions"
        + (f" ({report.skipped_images} images could not be read)" if report.skipped_images else ""),
        "",
        f"{'direction':<15}" + "".join(f"{'R@' + str(k):>8}" for k in KS) + f"{'mAP':>8}",
    ]
    for name, scores in (
        ("text → image", report.text_to_image),
        ("image → text", report.image_to_text),
    ):
        lines.append(
            f"{name:<15}"
            + "".join(f"{scores.recall[k]:>8.3f}" for k in KS)
            + f"{scores.mean_average_precision:>8.3f}"
        )
    return "\n".join(lines)


def report_json(report: EvalReport) -> dict[str, object]:
    """The report as plain data (for ``--json``)."""

    def scores(s: RetrievalScores) -> dict[str, object]:
        return {
            **{f"recall@{k}": round(v, 4) for k, v in s.recall.items()},
            "mAP": round(s.mean_average_precision, 4),
            "queries": s.queries,
        }

    return {
        "images": report.images,
        "captions": report.captions,
        "skipped_images": report.skipped_images,
        "text_to_image": scores(report.text_to_image),
        "image_to_text": scores(report.image_to_text),
    }
