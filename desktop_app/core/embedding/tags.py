"""Automatic tags: each photo's best labels from a built-in vocabulary, by zero-shot similarity.

Every label of the vocabulary is embedded once as text ("a photo of a beach."); a photo's image
vector is compared with all of them, and the labels that stand out *for that photo* become its
tags: a label's score is how many standard deviations its similarity lies above the photo's mean
similarity to the whole vocabulary (so a model's overall score scale and a photo's general
"photo-ness" cancel out, and a photo's tags do not change as the library grows). A label is a
tag when its score reaches ``TAG_THRESHOLD`` (measured by ``benchmarks/bench_tags.py``), at most
``MAX_TAGS`` per photo.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core.models import ModelSpec

# Standard deviations above the photo's mean similarity to the vocabulary that a label needs to
# be a tag, for models without a measured threshold of their own (``ModelSpec.tag_threshold``).
# PROVISIONAL: `python3 -m benchmarks.bench_tags` measures it (best F0.5: precision counts twice
# as much as recall) for the tiny model on generated photos; no labelled set of real photos and no
# real weights were at hand to measure it for the real models' everyday vocabulary, so this value
# (a label ≈ 3 deviations above a 350-label vocabulary) awaits `bench_tags --model … --weights …
# --labels FILE` on real data.
TAG_THRESHOLD = 3.0
MAX_TAGS = 5


# The built-in vocabulary: a few hundred everyday concepts, one per line in tag_words.txt.
TAG_WORDS_FILE = Path(__file__).parent / "tag_words.txt"


def everyday_tags() -> tuple[str, ...]:
    """The built-in vocabulary (beach, receipt, cat, screenshot, document, food, snow, …)."""
    lines = TAG_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(dict.fromkeys(w.strip() for w in lines if w.strip() and not w.startswith("#")))


@dataclass(frozen=True)
class TagVocabulary:
    """Labels and their text vectors (one row per label, L2-normalised) for one vector space."""

    labels: tuple[str, ...]
    vectors: np.ndarray
    threshold: float
    version: str  # changes with the model, the labels, the prompt and the threshold

    def tags(self, image_vectors: np.ndarray) -> list[tuple[str, float]]:
        """A file's tags from its image vectors (a photo's one, a video's frames), best first."""
        return choose_tags(label_scores(image_vectors, self.vectors), self.labels, self.threshold)


def vocabulary_labels(spec: ModelSpec) -> tuple[str, ...]:
    """The labels a model tags with: its own list, else the everyday vocabulary."""
    words = spec.tag_words if spec.tag_words is not None else everyday_tags()
    return tuple(dict.fromkeys(normalise_tag(w) for w in words))


def threshold_for(spec: ModelSpec) -> float:
    """The score a label needs to be one of a photo's tags with this model."""
    return spec.tag_threshold if spec.tag_threshold is not None else TAG_THRESHOLD


def prompts(spec: ModelSpec, labels: Sequence[str]) -> list[str]:
    """The texts embedded for the labels (``a photo of a beach.``-like, per model)."""
    return [spec.tag_prompt.format(label) for label in labels]


def vocabulary_version(spec: ModelSpec, space: str, labels: Sequence[str]) -> str:
    """A short key naming what tags were computed with (tagging again when it changes)."""
    digest = hashlib.sha256()
    for part in (space, spec.tag_prompt, f"{threshold_for(spec)}:{MAX_TAGS}", *labels):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def label_scores(image_vectors: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """Each label's score for each image: standard deviations above that image's mean similarity
    to the whole vocabulary. ``image_vectors`` (N, dim), ``label_vectors`` (L, dim) → (N, L)."""
    similarity = np.atleast_2d(image_vectors) @ label_vectors.T
    mean = similarity.mean(axis=1, keepdims=True)
    std = similarity.std(axis=1, keepdims=True)
    scores: np.ndarray = ((similarity - mean) / np.maximum(std, 1e-6)).astype(np.float32)
    return scores


def choose_tags(
    scores: np.ndarray, labels: Sequence[str], threshold: float
) -> list[tuple[str, float]]:
    """A file's tags from its label scores (one row per image vector of the file; a video's
    frames each count): the labels at or above ``threshold``, best first, at most ``MAX_TAGS``."""
    best = np.atleast_2d(scores).max(axis=0)
    order = np.argsort(-best, kind="stable")[:MAX_TAGS]
    return [(labels[i], float(best[i])) for i in order if best[i] >= threshold]


def normalise_tag(tag: str) -> str:
    """A tag as stored and matched: lower case, single spaces (``"Ice  Cream"`` → ``ice cream``)."""
    return " ".join(tag.casefold().split())
