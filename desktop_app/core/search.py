"""Ranked search over the vector index: by vector, grouped per file, filtered, with a relevance cutoff."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.catalog import INDEXED, Catalog, FileFilter, FileRecord
from desktop_app.core.vector_index import VectorIndex

log = logging.getLogger(__name__)

BACKGROUND_SAMPLE = 2000
# A hit is relevant when it stands out from the library's score distribution for this query
# (Z_CUTOFF standard deviations above its mean) and keeps at least RELATIVE_CUTOFF of the best
# hit's margin over that mean. Both adapt to the model's score scale and to the query.
Z_CUTOFF = 2.0
RELATIVE_CUTOFF = 0.5


@dataclass(frozen=True)
class SearchHit:
    """One file in the results, with the vector of it that matched best."""

    file: FileRecord
    score: float
    role: str  # "image" or "text"
    page: int | None = None
    passage: str | None = None
    relevant: bool = True  # above the adaptive relevance cutoff


@dataclass
class SearchResults:
    """Ranked hits; ``hidden`` more were found below the relevance cutoff (see ``show_all``)."""

    hits: list[SearchHit] = field(default_factory=list)
    hidden: int = 0
    cutoff: float | None = None


class SearchService:
    """Turns a query vector into ranked files. Reads only; safe to call from any thread."""

    def __init__(self, catalog: Catalog, index: VectorIndex, space: str) -> None:
        self._catalog = catalog
        self._index = index
        self._space = space
        self._background: tuple[int, np.ndarray] | None = None

    def by_vector(
        self,
        query: np.ndarray,
        k: int = 50,
        file_filter: FileFilter | None = None,
        exclude_file_ids: frozenset[int] = frozenset(),
        show_all: bool = False,
    ) -> SearchResults:
        """The ``k`` best files for ``query`` (a normalised vector), best first."""
        if len(self._index) == 0 or k <= 0:
            return SearchResults()
        allowed = None
        if file_filter is not None and not file_filter.is_empty:
            allowed = self._catalog.allowed_vector_ids(self._space, file_filter)
            if len(allowed) == 0:
                return SearchResults()
        hits = self._top_files(query, k, allowed, exclude_file_ids)
        cutoff = self._cutoff(query, [h.score for h in hits])
        marked = [
            SearchHit(h.file, h.score, h.role, h.page, h.passage, cutoff is None or h.score >= cutoff)
            for h in hits
        ]
        relevant = [h for h in marked if h.relevant]
        if not relevant and marked:  # never an empty page when something matched at all
            relevant = marked[:1]
        shown = marked if show_all else relevant
        return SearchResults(hits=shown, hidden=len(marked) - len(relevant), cutoff=cutoff)

    def _top_files(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        exclude_file_ids: frozenset[int],
    ) -> list[SearchHit]:
        """Fetch vectors until ``k`` distinct, visible files are found (or the index runs out)."""
        total = len(self._index) if allowed is None else len(allowed)
        fetch = min(total, k * 3 + 16)
        while True:
            ids, scores = self._index.search(query, fetch, allowed=allowed)
            best: dict[int, tuple[float, int]] = {}
            owners = self._catalog.owners([int(i) for i in ids])
            for vid, score in zip(ids.tolist(), scores.tolist(), strict=True):
                owner = owners.get(vid)
                if owner is None or owner.file_id in exclude_file_ids:
                    continue
                if owner.file_id not in best or score > best[owner.file_id][0]:
                    best[owner.file_id] = (score, vid)
            files = self._catalog.files_by_ids(best)
            visible = {fid: v for fid, v in best.items() if fid in files and files[fid].status == INDEXED}
            if len(visible) >= k or fetch >= total:
                break
            fetch = min(total, fetch * 4)
        ranked = sorted(visible.items(), key=lambda item: -item[1][0])[:k]
        return [
            SearchHit(
                files[fid], float(score), owners[vid].role, owners[vid].page, owners[vid].passage
            )
            for fid, (score, vid) in ranked
        ]

    def _cutoff(self, query: np.ndarray, scores: list[float]) -> float | None:
        """The adaptive relevance threshold for this query, or None when too few items to judge."""
        background = self._background_sample()
        if background is None or not scores:
            return None
        sample_scores = background @ query
        mean = float(sample_scores.mean())
        std = float(sample_scores.std()) or 1e-6
        best = max(scores)
        return max(mean + Z_CUTOFF * std, mean + RELATIVE_CUTOFF * (best - mean))

    def _background_sample(self) -> np.ndarray | None:
        """A random sample of the library's vectors, refreshed when the library grows or shrinks."""
        size = len(self._index)
        if size < 8:
            return None
        if self._background is not None:
            sampled_at, matrix = self._background
            if 0.8 * sampled_at <= size <= 1.25 * sampled_at:
                return matrix
        ids = self._index.ids()
        if len(ids) > BACKGROUND_SAMPLE:
            ids = np.random.default_rng(0).choice(ids, BACKGROUND_SAMPLE, replace=False)
        matrix = self._index.get_vectors(ids.tolist())
        self._background = (size, matrix)
        return matrix
