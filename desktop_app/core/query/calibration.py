"""Each modality's score distribution for a query, from a sample of its vectors kept between
queries: what ``search`` standardises a vector's score against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.vector_index import VectorIndex

BACKGROUND_SAMPLE = 2000
MIN_BACKGROUND = 8  # fewer vectors than this say nothing about a score distribution
SAMPLE_PASSAGES_PER_FILE = 4

__all__ = ["BackgroundSamples", "Calibration"]


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of one modality's scores for one query (its background distribution)."""

    mean: float
    std: float

    def z(self, score: float) -> float:
        """How many standard deviations ``score`` stands above the mean."""
        return (score - self.mean) / self.std


class BackgroundSamples:
    """A random sample of each modality's vectors, kept while its size stays within 25 %."""

    def __init__(self, catalog: Catalog, index: VectorIndex, space: str) -> None:
        self._catalog = catalog
        self._index = index
        self._space = space
        self._kept: dict[str, tuple[int, np.ndarray]] = {}

    def calibration(
        self, role: str, ids: np.ndarray | None, query: np.ndarray
    ) -> Calibration | None:
        """This query's score distribution over a sample of one modality (its vector ids
        ``ids``, None: the whole index); None when it has too few vectors."""
        background = self._sample(role, ids)
        if background is None:
            return None
        sample_scores = background @ query
        return Calibration(float(sample_scores.mean()), float(sample_scores.std()) or 1e-6)

    def _sample(self, role: str, ids: np.ndarray | None) -> np.ndarray | None:
        """A random sample of one modality's vectors, refreshed when it grows or shrinks.

        Passages are sampled at most ``SAMPLE_PASSAGES_PER_FILE`` per document, so one long file
        of near-identical passages cannot make the background look narrow and every other
        passage look like an outlier.
        """
        size = len(self._index) if ids is None else len(ids)
        cached = self._kept.get(role)
        if cached is not None:
            sampled_at, matrix = cached
            if 0.8 * sampled_at <= size <= 1.25 * sampled_at:
                return matrix if len(matrix) >= MIN_BACKGROUND else None
        pool = self._index.ids() if ids is None else ids
        if role == "text":
            spread = self._catalog.first_vectors_per_file(
                self._space, "text", SAMPLE_PASSAGES_PER_FILE
            )
            pool = np.intersect1d(pool, spread)
        if len(pool) > BACKGROUND_SAMPLE:
            pool = np.random.default_rng(0).choice(pool, BACKGROUND_SAMPLE, replace=False)
        matrix = self._index.get_vectors(pool.tolist())
        self._kept[role] = (size, matrix)
        return matrix if len(matrix) >= MIN_BACKGROUND else None
