"""Ranked search: vectors calibrated per modality and keyword hits, one relevance 0–100 per file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from desktop_app.core.query.beside import QuerySteps
from desktop_app.core.query.calibration import BackgroundSamples, Calibration
from desktop_app.core.query.fetch_sizes import FETCH_PER_FILE_MAX, FetchSizes, search_within
from desktop_app.core.query.hits import (
    RELEVANCE_CUTOFF,
    Z_CUTOFF,
    Candidate,
    keyword_evidence,
    result_row,
    shown_results,
    vector_relevance,
)
from desktop_app.core.query.query_text import ParsedQuery, SearchResults, fts_string
from desktop_app.core.storage.catalog import (
    Catalog,
    FileFilter,
    KeywordHit,
    VectorOwner,
)
from desktop_app.core.storage.vector_index import VectorIndex
from desktop_app.core.storage.vector_store import in_sorted
from desktop_app.core.superseded import stop_if_superseded

log = logging.getLogger(__name__)

# A hit is relevant when it stands out from the library's score distribution for this query
# (Z_CUTOFF standard deviations above its mean) and keeps at least RELATIVE_CUTOFF of the best
# hit's margin over that mean. Both adapt to the model's score scale and to the query.
RELATIVE_CUTOFF = 0.5
# Keyword hits considered per query (one per file).
KEYWORD_CANDIDATES = 200
# Candidates checked against a new filter before the filter is resolved as a whole instead.
CHECKED_FETCH = 4096
# Modality-and-filter intersections kept (two modalities times a few filters).
KEPT_SUBSETS = 8
# Files looked at per negative term (``-people``): those it matches are left out.
NEGATIVE_CANDIDATES = 1000

__all__ = ["RELEVANCE_CUTOFF", "SearchService"]


class SearchService:
    """Turns a query vector into ranked files. Reads only; safe to call from any thread.

    Image vectors and text-passage vectors score on different scales (a text query is far more
    similar to any text than to any photo: the modality gap), so each modality is searched on
    its own and its scores are standardised against a sample of that modality before merging.
    A library of photos alone is ranked exactly as by raw cosine.
    """

    def __init__(
        self, catalog: Catalog, index: VectorIndex, space: str, steps: QuerySteps | None = None
    ) -> None:
        self._catalog = catalog
        self._steps = steps  # where a query's second modality is searched (None: in turn)
        self._index = index
        self._space = space
        self._samples = BackgroundSamples(catalog, index, space)  # each modality's scores
        self._fetch = FetchSizes(catalog, index)
        # (the index's live ids, each modality's vector ids among them)
        self._roles: tuple[np.ndarray, list[tuple[str, np.ndarray | None]]] | None = None
        # (a modality's ids, a filter's allowed ids, the ids of both), the newest first
        self._subsets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def by_vector(
        self,
        query: np.ndarray,
        k: int = 50,
        file_filter: FileFilter | None = None,
        exclude_file_ids: frozenset[int] = frozenset(),
        show_all: bool = False,
        roles: frozenset[str] | None = None,
        terms: tuple[str, ...] = (),
    ) -> SearchResults:
        """The ``k`` best files for ``query`` (a normalised vector), best first.

        ``roles`` limits the vectors compared: ``{"image"}`` for looks, ``{"text"}`` for passages.
        ``terms``: the query's words, looked for in each hit's name, folders and passage.
        """
        found = self._vector_candidates(query, k, file_filter, exclude_file_ids, roles)
        if found is None:
            return SearchResults()
        candidates, _calibrations, cutoffs = found
        scored = [(c, vector_relevance(c, cutoffs)) for c in candidates.values()]
        scored.sort(key=lambda item: (-item[1], -item[0].z))
        ranked = scored[:k]
        self._add_passages(c for c, _ in ranked)
        files = self._catalog.files_by_ids(c.file_id for c, _ in ranked)
        hits = [
            result_row(files[c.file_id], c, relevance, terms, None)
            for c, relevance in ranked
            if c.file_id in files
        ]
        return shown_results(hits, show_all, None if cutoffs is None else RELEVANCE_CUTOFF)

    def hybrid(
        self,
        query: np.ndarray,
        parsed: ParsedQuery,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        negatives: Sequence[np.ndarray] = (),
        exclude_file_ids: frozenset[int] = frozenset(),
        keyword_hits: Callable[[], list[KeywordHit]] | None = None,
    ) -> SearchResults:
        """Vector ranking combined with keyword hits, best first by relevance.

        Without keyword hits this is ``by_vector``. Files whose text, name or folders hold every
        word of the query are relevant whatever their vector score; with quoted phrases only
        such files are returned. ``negatives`` are the vectors of ``parsed.negatives``: files
        that hold a negative's words, or that would be relevant to it alone, are left out.
        ``keyword_hits``: the answer of ``keyword_hits(parsed, k, file_filter)``, asked for
        ahead (read here when not given).
        """
        exclude = exclude_file_ids | self._excluded(parsed, negatives, file_filter)
        words = keyword_hits() if keyword_hits else self.keyword_hits(parsed, k, file_filter)
        keyword = [h for h in words if h.file_id not in exclude]
        if not keyword:
            if parsed.phrases:
                return SearchResults()
            return self.by_vector(
                query, k, file_filter, exclude, show_all=show_all, terms=parsed.terms
            )
        stop_if_superseded()
        found = self._vector_candidates(query, k, file_filter, exclude, None)
        candidates, calibrations, cutoffs = found if found is not None else ({}, {}, None)
        keyword_ids = {h.file_id for h in keyword}
        if parsed.phrases:  # literal phrases: only files that contain them
            candidates = {f: c for f, c in candidates.items() if f in keyword_ids}
        stop_if_superseded()
        unscored = [h.file_id for h in keyword if h.file_id not in candidates]
        candidates.update(self._score_files(unscored, query, calibrations))
        keyword_rank = {h.file_id: rank for rank, h in enumerate(keyword, start=1)}
        by_file = {h.file_id: h for h in keyword}

        def relevance(c: Candidate) -> float:
            vector = vector_relevance(c, cutoffs) / 100.0
            rank = keyword_rank.get(c.file_id)
            if rank is None:
                return 100.0 * vector
            return 100.0 * (1.0 - (1.0 - vector) * (1.0 - keyword_evidence(rank)))

        scored = [(c, relevance(c)) for c in candidates.values()]
        scored.sort(key=lambda item: (-item[1], -item[0].z))
        ranked = scored[:k]
        # Snippets for the keyword hits ranked alone (a common word's mostly rank below the page)
        shown_words = [by_file[c.file_id] for c, _ in ranked if c.file_id in by_file]
        by_file.update(
            (h.file_id, h) for h in self._catalog.keyword_snippets(parsed.match or "", shown_words)
        )
        self._add_passages(
            c for c, _ in ranked if c.file_id not in by_file or not by_file[c.file_id].snippet
        )
        files = self._catalog.files_by_ids(c.file_id for c, _ in ranked)
        hits = [
            result_row(files[c.file_id], c, value, parsed.terms, by_file.get(c.file_id))
            for c, value in ranked
            if c.file_id in files
        ]
        return shown_results(hits, show_all, RELEVANCE_CUTOFF)

    def keyword_hits(
        self, parsed: ParsedQuery, k: int, file_filter: FileFilter | None
    ) -> list[KeywordHit]:
        """The files whose words match the query's (the keyword half of ``hybrid``); needs no
        query vector, so it runs while the text tower encodes the query; snippets not cut yet."""
        if parsed.match is None or k <= 0:
            return []
        return self._catalog.keyword_search(
            parsed.match, max(k, KEYWORD_CANDIDATES), file_filter, snippets=False
        )

    def _add_passages(self, candidates: Iterable[Candidate]) -> None:
        """The passage text of the candidates shown (read only for them: a candidate's owner is
        read without it); a picture's vectors have none (a photo's 200 were read for nothing)."""
        wanted = {c.vector_id: c for c in candidates if c.role != "image"}
        for vid, passage in self._catalog.vector_passages(list(wanted)).items():
            wanted[vid].passage = passage

    def _excluded(
        self, parsed: ParsedQuery, negatives: Sequence[np.ndarray], file_filter: FileFilter | None
    ) -> frozenset[int]:
        """Files a negative term matches: by its words, or as a relevant hit of it alone."""
        out: set[int] = set()
        for text, vector in zip(parsed.negatives, negatives, strict=True):
            words = self._catalog.keyword_search(
                fts_string(text), NEGATIVE_CANDIDATES, file_filter, snippets=False
            )
            out.update(h.file_id for h in words)
            found = self._vector_candidates(
                vector, NEGATIVE_CANDIDATES, file_filter, frozenset(), None
            )
            if found is not None and found[2] is not None:
                cutoffs = found[2]
                out.update(
                    f
                    for f, c in found[0].items()
                    if vector_relevance(c, cutoffs) >= RELEVANCE_CUTOFF
                )
        return frozenset(out)

    # -- vectors --------------------------------------------------------------------------

    def _vector_candidates(
        self,
        query: np.ndarray,
        k: int,
        file_filter: FileFilter | None,
        exclude_file_ids: frozenset[int],
        roles: frozenset[str] | None,
    ) -> tuple[dict[int, Candidate], dict[str, Calibration], dict[str, float] | None] | None:
        """Each file's best vector among the top ``k`` files of every modality, calibrated;
        with the calibrations and each modality's relevance cutoff in standard deviations
        (None: too few vectors to judge). None when nothing can match.

        A modality's cutoff is relative to its own best hit, so a strong passage does not hide
        the photos that stand out among photos.
        """
        if len(self._index) == 0 or k <= 0:
            return None
        allowed = None
        check: FileFilter | None = None  # a filter checked on the candidates themselves
        if file_filter is not None and not file_filter.is_empty:
            allowed = self._catalog.known_allowed_vector_ids(self._space, file_filter)
            if allowed is None:
                # A filter not resolved since the catalog last changed: resolving it costs a
                # scan of every file (0.1–0.4 s at 100k), checking the best candidates a few ms.
                check = file_filter
            elif len(allowed) == 0:
                return None
        groups = self._groups(roles)
        if not groups:
            return None
        calibrations: dict[str, Calibration] = {}
        for role, ids in groups:
            calibration = self._samples.calibration(role, ids, query)
            if calibration is None and ids is not None:  # too few of this kind to sample
                calibration = self._samples.calibration("all", None, query)
            if calibration is not None:
                calibrations[role] = calibration
        calibrated = len(calibrations) == len(groups)
        searches: list[tuple[str, np.ndarray | None]] = []
        for role, ids in groups:
            if allowed is None or ids is None:
                subset = ids if allowed is None else allowed
            else:
                subset = self._within(ids, allowed)
            if subset is None or len(subset):
                searches.append((role, subset))
        candidates: dict[int, Candidate] = {}
        best_z: dict[str, float] = {}
        for (role, _), top in zip(
            searches, self._top_files_each(query, k, searches, exclude_file_ids, check), strict=True
        ):
            for c in top:
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

    def _top_files_each(
        self,
        query: np.ndarray,
        k: int,
        searches: list[tuple[str, np.ndarray | None]],
        exclude_file_ids: frozenset[int],
        check: FileFilter | None,
    ) -> list[list[Candidate]]:
        """``_top_files`` of each (modality, allowed ids); two modalities side by side (each is
        a graph search and a few catalog reads, ~10 ms at 100k files: the second core's)."""
        if len(searches) < 2 or self._steps is None:
            return [
                self._top_files(query, k, ids, exclude_file_ids, check, r) for r, ids in searches
            ]
        (role, ids), rest = searches[0], searches[1:]
        first = self._steps.start(self._top_files, query, k, ids, exclude_file_ids, check, role)
        others = [self._top_files(query, k, i, exclude_file_ids, check, r) for r, i in rest]
        return [first.result(), *others]

    def _within(self, ids: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """The modality's vector ids ``ids`` that a filter allows, both sorted and unique;
        kept while both arrays are the same (the next keys typed with the same filter)."""
        for kept_ids, kept_allowed, subset in self._subsets:
            if kept_ids is ids and kept_allowed is allowed:
                return subset
        pos = np.searchsorted(ids, allowed)
        pos[pos == len(ids)] = 0
        subset = allowed[ids[pos] == allowed] if len(ids) else ids
        self._subsets = [(ids, allowed, subset), *self._subsets[: KEPT_SUBSETS - 1]]
        return subset

    def _groups(self, roles: frozenset[str] | None) -> list[tuple[str, np.ndarray | None]]:
        """The modalities to search, each with its vector ids (None: the whole index)."""
        # Kept while the index is the same array (a vector added or removed makes a new one).
        live = self._index.ids()
        if (cached := self._roles) is None or cached[0] is not live:  # (roles never change)
            cached = self._roles = (live, self._role_ids(live))
        groups = cached[1]
        if len(groups) == 1:  # photos only: one modality, searched as a whole
            return [] if roles is not None and "image" not in roles else [("image", None)]
        wanted = [(r, ids) for r, ids in groups if roles is None or r in roles]
        return [(r, ids) for r, ids in wanted if ids is not None and len(ids)]

    def _role_ids(self, live: np.ndarray) -> list[tuple[str, np.ndarray | None]]:
        """The index's vector ids of each modality (one group, the whole index: photos only)."""
        text_ids = self._catalog.role_vector_ids(self._space, "text")
        if len(text_ids) == 0:
            return [("image", None)]
        text_ids = np.intersect1d(text_ids, live, assume_unique=True)
        image_ids = np.setdiff1d(live, text_ids, assume_unique=True)
        return [("image", image_ids), ("text", text_ids)]

    def _top_files(
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        exclude_file_ids: frozenset[int],
        check: FileFilter | None = None,
        role: str = "all",
    ) -> list[Candidate]:
        """Fetch vectors until ``k`` distinct, visible files are found (or the index runs out).

        ``check``: only files that pass this filter count. While few pass, more candidates are
        fetched, up to ``CHECKED_FETCH``; a filter narrower than that is resolved to its
        vectors (kept by the catalog for the next query) and searched within.
        """
        total = len(self._index) if allowed is None else len(allowed)
        first, wide_as = self._fetch.first(k, role), self._fetch.wide_as(k, role)
        fetch = min(total, first if check is None else k * FETCH_PER_FILE_MAX + 16)
        while True:
            stop_if_superseded()
            if check is not None and fetch > CHECKED_FETCH:
                narrowed = self._catalog.allowed_vector_ids(self._space, check)
                allowed = narrowed if allowed is None else self._within(allowed, narrowed)
                check = None
                total = len(allowed)
                if total == 0:
                    return []
                fetch = min(total, first)
            ids, scores = search_within(self._index, query, fetch, allowed, wide_as)
            learn = check is None and len(ids) >= 2 * k  # vectors per file among the best
            visible, seen, owners = self._visible_best(
                ids, scores, len(ids) if learn else k, exclude_file_ids, check
            )
            if learn:
                self._fetch.learn(role, len(ids) / max(1, seen))
            if len(visible) >= k or fetch >= total:
                break
            # So few pass the filter that ``CHECKED_FETCH`` would not find ``k`` (none of 616
            # for a passage and "photos"): resolved at once, not after a wider search (~50 ms).
            narrow = check is not None and k * fetch > CHECKED_FETCH * len(visible)
            fetch = CHECKED_FETCH + 1 if narrow and 4 * fetch < total else min(total, fetch * 4)
        ranked = sorted(visible.items(), key=lambda item: -item[1][0])[:k]
        return [
            Candidate(fid, vid, float(score), float(score), o.role, o.page, o.passage, o.at_ms)
            for fid, (score, vid) in ranked
            for o in (owners[vid],)
        ]

    def _visible_best(
        self,
        ids: np.ndarray,
        scores: np.ndarray,
        wanted: int,
        exclude_file_ids: frozenset[int],
        check: FileFilter | None,
    ) -> tuple[dict[int, tuple[float, int]], int, dict[int, VectorOwner]]:
        """Each visible file's best (score, vector id) among ``ids`` (best first), in the order
        they come; how many files were seen; the owners read.

        The owners of the first ``wanted`` + 16 vectors are read, then of the rest only while
        fewer than ``wanted`` visible files are found: the best ``wanted`` files are the first
        to come (200 photos among 611 candidates read ~220 owners, not 611).
        """
        best: dict[int, tuple[float, int]] = {}  # every file seen
        visible: dict[int, tuple[float, int]] = {}
        owners: dict[int, VectorOwner] = {}
        id_list, score_list = ids.tolist(), scores.tolist()
        start, end = 0, min(len(id_list), wanted + 16)
        while start < end:
            found = self._catalog.vector_files(id_list[start:end])
            owners.update(found)
            new: dict[int, tuple[float, int]] = {}
            for vid, score in zip(id_list[start:end], score_list[start:end], strict=True):
                owner = found.get(vid)
                if owner is None or owner.file_id in exclude_file_ids:
                    continue
                fid = owner.file_id
                if fid in best and score <= best[fid][0]:
                    continue
                best[fid] = (score, vid)
                (visible if fid in visible else new)[fid] = (score, vid)
            shown = self._catalog.visible_file_ids(new, check)
            visible.update((fid, v) for fid, v in new.items() if fid in shown)
            if len(visible) >= wanted:
                break
            start, end = end, len(id_list)
        return visible, len(best), owners

    def _score_files(
        self, file_ids: Sequence[int], query: np.ndarray, calibrations: dict[str, Calibration]
    ) -> dict[int, Candidate]:
        """Each file's best vector for ``query``, for keyword hits the vector search did not
        reach: one catalog read for all of them, their vectors from the index."""
        if not file_ids:
            return {}
        rows = self._catalog.file_vector_roles(file_ids, self._space)
        # Which are live, all at once (asked one by one: ~20 µs each, ~15 ms for a common word).
        wanted = np.fromiter((vid for vid, _, _ in rows), dtype=np.int64, count=len(rows))
        live = in_sorted(self._index.ids(), wanted).tolist()
        rows = [r for r, keep in zip(rows, live, strict=True) if keep]
        if not rows:
            return {}
        scores = self._index.get_vectors([vid for vid, _, _ in rows]) @ query
        best: dict[int, tuple[float, float, int, str]] = {}  # file id -> z, score, vector, role
        for (vid, fid, role), score in zip(rows, scores.tolist(), strict=True):
            calibration = calibrations.get(role) or calibrations.get("image")
            z = calibration.z(score) if calibration is not None else score
            if fid not in best or z > best[fid][0]:
                best[fid] = (z, score, vid, role)
        owners = self._catalog.vector_files([vid for _, _, vid, _ in best.values()])
        out = {}
        for fid, (z, score, vid, role) in best.items():
            o = owners.get(vid)
            page, passage, at_ms = (o.page, o.passage, o.at_ms) if o is not None else (None,) * 3
            out[fid] = Candidate(fid, vid, float(score), float(z), role, page, passage, at_ms)
        return out
