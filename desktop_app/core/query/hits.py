"""A ranked candidate becomes a result row: its 0–100 relevance, why it matched, the cutoff."""

from __future__ import annotations

import math
from dataclasses import dataclass

from desktop_app.core.query.query_text import MatchReason, SearchHit, SearchResults, found_terms
from desktop_app.core.records import FileRecord, KeywordHit

# A file's best vector scores on its modality's scale; Z_CUTOFF is the default cutoff in
# standard deviations above the mean (see ``search``).
Z_CUTOFF = 2.0
# The calibrated relevance shown to users, 0–100: RELEVANCE_CUTOFF is the relevance cutoff for
# every kind of file. A vector hit's relevance is a logistic of how many standard deviations it
# stands above (or below) its modality's cutoff: RELEVANCE_SLOPE per deviation, so one deviation
# above the cutoff reads ~82, two ~95, one below ~18.
RELEVANCE_CUTOFF = 50.0
RELEVANCE_SLOPE = 1.5
# A file whose vector is at least this similar to the query is the same picture (a copy, a
# resized or recompressed version): always relevant, and above everything that merely resembles.
NEAR_IDENTICAL = 0.95
# A keyword hit (every word of the query is in the file) is relevant whatever its vector says:
# its keyword evidence is worth KEYWORD_TOP for the best keyword hit, easing towards the cutoff
# for later ones; it is combined with the vector evidence as independent evidence (noisy-or).
KEYWORD_TOP = 0.8
KEYWORD_EASE = 10


@dataclass
class Candidate:
    """A file's best vector for a query: raw cosine, and calibrated against its modality."""

    file_id: int
    vector_id: int
    score: float
    z: float
    role: str
    page: int | None
    passage: str | None
    at_ms: int | None = None

    @property
    def at_s(self) -> float | None:
        return None if self.at_ms is None else self.at_ms / 1000


def vector_relevance(candidate: Candidate, cutoffs: dict[str, float] | None) -> float:
    """0–100: how far a vector hit stands above its modality's cutoff (50 is at the cutoff).

    Too few vectors to calibrate: everything is shown, ordered by raw similarity. A near-identical
    vector (a copy of the query picture) scores 99–100, above anything that merely resembles it.
    """
    if candidate.score >= NEAR_IDENTICAL:
        return 99.0 + min(1.0, (candidate.score - NEAR_IDENTICAL) / (1.0 - NEAR_IDENTICAL))
    if cutoffs is None:
        return RELEVANCE_CUTOFF + (99.0 - RELEVANCE_CUTOFF) * max(0.0, candidate.score)
    margin = candidate.z - cutoffs.get(candidate.role, Z_CUTOFF)
    return 99.0 / (1.0 + math.exp(-RELEVANCE_SLOPE * margin))


def keyword_evidence(rank: int) -> float:
    """The chance a keyword hit is what was meant, from its rank among keyword hits (≥ 0.5)."""
    return 0.5 + (KEYWORD_TOP - 0.5) / (1.0 + (rank - 1) / KEYWORD_EASE)


def result_row(
    file: FileRecord,
    c: Candidate,
    relevance: float,
    terms: tuple[str, ...],
    keyword: KeywordHit | None,
) -> SearchHit:
    """A result row; a keyword hit in the file's text shows the passage holding the words."""
    role, page, passage = c.role, c.page, c.passage
    if keyword is not None and keyword.snippet:
        role, page, passage = "text", keyword.page, keyword.snippet
    why = reason(file, terms, passage, role, c.score, keyword is not None)
    relevant = relevance >= RELEVANCE_CUTOFF or keyword is not None
    at_s = c.at_s if role == "image" else None  # a video frame: when it is seen
    return SearchHit(file, c.score, role, page, passage, relevant, relevance, why, at_s)


def reason(
    file: FileRecord,
    terms: tuple[str, ...],
    passage: str | None,
    role: str,
    similarity: float,
    keyword: bool,
) -> MatchReason:
    """Why a file matched: the query's words in its name, folders or passage, and its score."""
    name = f"{file.path.name} {file.title or ''}"
    folders = " ".join(file.path.parent.parts[-4:])
    return MatchReason(
        in_name=found_terms(terms, name),
        in_folder=found_terms(terms, folders),
        in_text=found_terms(terms, passage or ""),
        text_source=None if not passage else "ocr" if file.kind == "image" else "passage",
        similarity=similarity,
        role=role,
        keyword=keyword,
    )


def shown_results(hits: list[SearchHit], show_all: bool, cutoff: float | None) -> SearchResults:
    """Hits are ordered by relevance, so the relevant ones are a prefix of the full list."""
    relevant = [h for h in hits if h.relevant]
    if not relevant and hits:  # never an empty page when something matched at all
        relevant = hits[:1]
    shown = hits if show_all else relevant
    return SearchResults(hits=shown, hidden=len(hits) - len(relevant), cutoff=cutoff)
