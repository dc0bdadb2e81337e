"""Ranked search: vectors calibrated per modality, fused with keyword hits, grouped per file."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.catalog import Catalog, FileFilter, FileRecord, KeywordHit
from desktop_app.core.vector_index import VectorIndex

log = logging.getLogger(__name__)

BACKGROUND_SAMPLE = 2000
MIN_BACKGROUND = 8  # fewer vectors than this say nothing about a score distribution
SAMPLE_PASSAGES_PER_FILE = 4
# A hit is relevant when it stands out from the library's score distribution for this query
# (Z_CUTOFF standard deviations above its mean) and keeps at least RELATIVE_CUTOFF of the best
# hit's margin over that mean. Both adapt to the model's score scale and to the query.
Z_CUTOFF = 2.0
RELATIVE_CUTOFF = 0.5
# Reciprocal rank fusion of the vector and keyword rankings: score = Σ 1 / (RRF_K + rank).
# 60 is the constant of Cormack et al. (2009): one list's top ranks do not swamp the other.
RRF_K = 60
# Keyword hits considered per query (one per file).
KEYWORD_CANDIDATES = 200
# Words of a query sent to the keyword index at most.
MAX_QUERY_TERMS = 32

_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True)
class SearchHit:
    """One file in the results, with the vector of it that matched best."""

    file: FileRecord
    score: float
    role: str  # "image" or "text"
    page: int | None = None
    passage: str | None = None
    relevant: bool = True  # above the adaptive relevance cutoff, or the query's words are in it


@dataclass
class SearchResults:
    """Ranked hits; ``hidden`` more were found below the relevance cutoff (see ``show_all``)."""

    hits: list[SearchHit] = field(default_factory=list)
    hidden: int = 0
    cutoff: float | None = None


@dataclass(frozen=True)
class ParsedQuery:
    """A query typed by a user, split for the two rankings."""

    text: str  # what the text tower embeds: the query without quote marks
    match: str | None  # FTS5 expression requiring every word and quoted phrase, or None
    phrases: tuple[str, ...] = ()  # quoted phrases: results must contain each one literally


def parse_query(query: str) -> ParsedQuery:
    """Words and "quoted phrases" of ``query``; every one must occur for a keyword hit.

    Each word is sent as an FTS5 string, so punctuation and operators are taken literally: an
    invoice number like 2023-0147 must appear as those tokens, next to each other.
    """
    phrases = tuple(p.strip() for p in _QUOTED.findall(query) if _has_token(p))
    rest = _QUOTED.sub(" ", query).replace('"', " ")
    words = [w for w in rest.split() if _has_token(w)]
    terms = [_fts_string(t) for t in [*phrases, *words][:MAX_QUERY_TERMS]]
    text = " ".join(query.replace('"', " ").split())
    return ParsedQuery(text, " ".join(terms) or None, phrases)


def _has_token(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _fts_string(text: str) -> str:
    return '"' + " ".join(text.split()).replace('"', '""') + '"'


@dataclass
class _Candidate:
    """A file's best vector for a query: raw cosine, and calibrated against its modality."""

    file_id: int
    vector_id: int
    score: float
    z: float
    role: str
    page: int | None
    passage: str | None


@dataclass(frozen=True)
class _Calibration:
    """Mean and spread of one modality's scores for one query (its background distribution)."""

    mean: float
    std: float

    def z(self, score: float) -> float:
        return (score - self.mean) / self.std


class SearchService:
    """Turns a query vector into ranked files. Reads only; safe to call from any thread.

    Image vectors and text-passage vectors score on different scales (a text query is far more
    similar to any text than to any photo: the modality gap), so each modality is searched on
    its own and its scores are standardised against a sample of that modality before merging.
    A library of photos alone is ranked exactly as by raw cosine.
    """

    def __init__(self, catalog: Catalog, index: VectorIndex, space: str) -> None:
        self._catalog = catalog
        self._index = index
        self._space = space
        self._background: dict[str, tuple[int, np.ndarray]] = {}

    def by_vector(
        self,
        query: np.ndarray,
        k: int = 50,
        file_filter: FileFilter | None = None,
        exclude_file_ids: frozenset[int] = frozenset(),
        show_all: bool = False,
        roles: frozenset[str] | None = None,
    ) -> SearchResults:
        """The ``k`` best files for ``query`` (a normalised vector), best first.

        ``roles`` limits the vectors compared: ``{"image"}`` for looks, ``{"text"}`` for passages.
        """
        found = self._vector_candidates(query, k, file_filter, exclude_file_ids, roles)
        if found is None:
            return SearchResults()
        candidates, calibrations, cutoffs = found
        ranked = sorted(candidates.values(), key=lambda c: -c.z)[:k]
        files = self._catalog.files_by_ids(c.file_id for c in ranked)
        hits = [
            SearchHit(files[c.file_id], c.score, c.role, c.page, c.passage, _passes(c, cutoffs))
            for c in ranked
            if c.file_id in files
        ]
        # Relevant first, so the page shown without show_all is a prefix of the full list.
        hits.sort(key=lambda h: not h.relevant)
        return _results(hits, show_all, _raw_cutoff(calibrations, cutoffs))

    def hybrid(
        self,
        query: np.ndarray,
        parsed: ParsedQuery,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
    ) -> SearchResults:
        """Vector ranking fused with keyword hits (reciprocal rank fusion), best first.

        Without keyword hits this is ``by_vector``. Files whose text, name or folders hold every
        word of the query are relevant whatever their vector score; with quoted phrases only
        such files are returned.
        """
        keyword: list[KeywordHit] = []
        if parsed.match is not None and k > 0:
            keyword = self._catalog.keyword_search(
                parsed.match, max(k, KEYWORD_CANDIDATES), file_filter
            )
        if not keyword:
            if parsed.phrases:
                return SearchResults()
            return self.by_vector(query, k, file_filter, show_all=show_all)
        found = self._vector_candidates(query, k, file_filter, frozenset(), None)
        candidates, calibrations, cutoffs = found if found is not None else ({}, {}, None)
        if parsed.phrases:  # literal phrases: only files that contain them
            candidates = {f: c for f, c in candidates.items() if f in {h.file_id for h in keyword}}
        for hit in keyword:
            if hit.file_id not in candidates:
                scored = self._score_file(hit.file_id, query, calibrations)
                if scored is not None:
                    candidates[hit.file_id] = scored
        vector_rank = {
            c.file_id: rank
            for rank, c in enumerate(sorted(candidates.values(), key=lambda c: -c.z), start=1)
        }
        keyword_rank = {h.file_id: rank for rank, h in enumerate(keyword, start=1)}
        by_file = {h.file_id: h for h in keyword}

        def fused(c: _Candidate) -> float:
            score = 1.0 / (RRF_K + vector_rank[c.file_id])
            if c.file_id in keyword_rank:
                score += 1.0 / (RRF_K + keyword_rank[c.file_id])
            return score

        def relevant(c: _Candidate) -> bool:
            return c.file_id in by_file or _passes(c, cutoffs)

        # Relevant files first (so the page shown without show_all is a prefix of the full list).
        ranked = sorted(candidates.values(), key=lambda c: (not relevant(c), -fused(c)))[:k]
        files = self._catalog.files_by_ids(c.file_id for c in ranked)
        hits: list[SearchHit] = []
        for c in ranked:
            if c.file_id not in files:
                continue
            words = by_file.get(c.file_id)
            if words is not None and words.snippet:  # show where the words are
                hits.append(SearchHit(files[c.file_id], c.score, "text", words.page, words.snippet))
            else:
                hits.append(
                    SearchHit(files[c.file_id], c.score, c.role, c.page, c.passage, relevant(c))
                )
        return _results(hits, show_all, _raw_cutoff(calibrations, cutoffs))

    # -- vectors --------------------------------------------------------------------------

    def _vector_candidates(
        self,
        query: np.ndarray,
        k: int,
        file_filter: FileFilter | None,
        exclude_file_ids: frozenset[int],
        roles: frozenset[str] | None,
    ) -> tuple[dict[int, _Candidate], dict[str, _Calibration], dict[str, float] | None] | None:
        """Each file's best vector among the top ``k`` files of every modality, calibrated;
        with the calibrations and each modality's relevance cutoff in standard deviations
        (None: too few vectors to judge). None when nothing can match.

        A modality's cutoff is relative to its own best hit, so a strong passage does not hide
        the photos that stand out among photos.
        """
        if len(self._index) == 0 or k <= 0:
            return None
        allowed = None
        if file_filter is not None and not file_filter.is_empty:
            allowed = self._catalog.allowed_vector_ids(self._space, file_filter)
            if len(allowed) == 0:
                return None
        groups = self._groups(roles)
        if not groups:
            return None
        calibrations: dict[str, _Calibration] = {}
        for role, ids in groups:
            calibration = self._calibration(role, ids, query)
            if calibration is None and ids is not None:  # too few of this kind to sample
                calibration = self._calibration("all", None, query)
            if calibration is not None:
                calibrations[role] = calibration
        calibrated = len(calibrations) == len(groups)
        candidates: dict[int, _Candidate] = {}
        best_z: dict[str, float] = {}
        for role, ids in groups:
            if allowed is None or ids is None:
                subset = ids if allowed is None else allowed
            else:
                subset = np.intersect1d(ids, allowed)
            if subset is not None and len(subset) == 0:
                continue
            for c in self._top_files(query, k, subset, exclude_file_ids):
                c.z = calibrations[role].z(c.score) if calibrated else c.score
                best_z[role] = max(best_z.get(role, c.z), c.z)
                best = candidates.get(c.file_id)
                if best is None or c.z > best.z:
                    candidates[c.file_id] = c
        if not candidates:
            return None
        if not calibrated:
            return candidates, {}, None
        cutoffs = {role: max(Z_CUTOFF, RELATIVE_CUTOFF * z) for role, z in best_z.items()}
        return candidates, calibrations, cutoffs

    def _groups(self, roles: frozenset[str] | None) -> list[tuple[str, np.ndarray | None]]:
        """The modalities to search, each with its vector ids (None: the whole index)."""
        text_ids = self._catalog.role_vector_ids(self._space, "text")
        if len(text_ids) == 0:  # photos only: one modality, searched as a whole
            return [] if roles is not None and "image" not in roles else [("image", None)]
        live = self._index.ids()
        text_ids = np.intersect1d(text_ids, live, assume_unique=True)
        image_ids = np.setdiff1d(live, text_ids, assume_unique=True)
        groups: list[tuple[str, np.ndarray | None]] = [("image", image_ids), ("text", text_ids)]
        wanted = [(r, ids) for r, ids in groups if roles is None or r in roles]
        return [(r, ids) for r, ids in wanted if ids is not None and len(ids)]

    def _top_files(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        exclude_file_ids: frozenset[int],
    ) -> list[_Candidate]:
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
            shown = self._catalog.visible_file_ids(best)
            visible = {fid: v for fid, v in best.items() if fid in shown}
            if len(visible) >= k or fetch >= total:
                break
            fetch = min(total, fetch * 4)
        ranked = sorted(visible.items(), key=lambda item: -item[1][0])[:k]
        return [
            _Candidate(fid, vid, float(score), float(score), o.role, o.page, o.passage)
            for fid, (score, vid) in ranked
            for o in (owners[vid],)
        ]

    def _score_file(
        self, file_id: int, query: np.ndarray, calibrations: dict[str, _Calibration]
    ) -> _Candidate | None:
        """A file's best vector for ``query``, for a keyword hit the vector search did not reach."""
        best: _Candidate | None = None
        for owner, vector in self._catalog.file_vectors(file_id, self._space):
            score = float(vector @ query)
            calibration = calibrations.get(owner.role) or calibrations.get("image")
            z = calibration.z(score) if calibration is not None else score
            if best is None or z > best.z:
                best = _Candidate(
                    file_id, owner.vector_id, score, z, owner.role, owner.page, owner.passage
                )
        return best

    def _calibration(
        self, role: str, ids: np.ndarray | None, query: np.ndarray
    ) -> _Calibration | None:
        """This query's score distribution over a sample of one modality (None: too few vectors)."""
        background = self._background_sample(role, ids)
        if background is None:
            return None
        sample_scores = background @ query
        return _Calibration(float(sample_scores.mean()), float(sample_scores.std()) or 1e-6)

    def _background_sample(self, role: str, ids: np.ndarray | None) -> np.ndarray | None:
        """A random sample of one modality's vectors, refreshed when it grows or shrinks.

        Passages are sampled at most ``SAMPLE_PASSAGES_PER_FILE`` per document, so one long file
        of near-identical passages cannot make the background look narrow and every other
        passage look like an outlier.
        """
        size = len(self._index) if ids is None else len(ids)
        cached = self._background.get(role)
        if cached is not None:
            sampled_at, matrix = cached
            if 0.8 * sampled_at <= size <= 1.25 * sampled_at:
                return matrix if len(matrix) >= MIN_BACKGROUND else None
        pool = self._index.ids() if ids is None else ids
        if role == "text":
            spread = self._catalog.spread_vector_ids(self._space, "text", SAMPLE_PASSAGES_PER_FILE)
            pool = np.intersect1d(pool, spread)
        if len(pool) > BACKGROUND_SAMPLE:
            pool = np.random.default_rng(0).choice(pool, BACKGROUND_SAMPLE, replace=False)
        matrix = self._index.get_vectors(pool.tolist())
        self._background[role] = (size, matrix)
        return matrix if len(matrix) >= MIN_BACKGROUND else None


def _passes(candidate: _Candidate, cutoffs: dict[str, float] | None) -> bool:
    """Whether a vector hit stands out enough among its modality to be shown by default."""
    return cutoffs is None or candidate.z >= cutoffs.get(candidate.role, Z_CUTOFF)


def _raw_cutoff(
    calibrations: dict[str, _Calibration], cutoffs: dict[str, float] | None
) -> float | None:
    """The cutoff as a cosine score, on the scale of photos (or of text in a text-only search)."""
    if cutoffs is None or not calibrations:
        return None
    role = "image" if "image" in calibrations and "image" in cutoffs else next(iter(cutoffs))
    return calibrations[role].mean + cutoffs[role] * calibrations[role].std


def _results(hits: list[SearchHit], show_all: bool, cutoff: float | None) -> SearchResults:
    relevant = [h for h in hits if h.relevant]
    if not relevant and hits:  # never an empty page when something matched at all
        relevant = hits[:1]
    shown = hits if show_all else relevant
    return SearchResults(hits=shown, hidden=len(hits) - len(relevant), cutoff=cutoff)
