"""A query as typed, and what a search answers: its parts, words and tag filters; ranked hits
and why each matched. Plain values, shared by the ranking (``search``) and the policy."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.embedding.tags import normalise_tag
from desktop_app.core.records import FileRecord
from desktop_app.core.understanding.stopwords import is_stop_word

__all__ = [
    "MatchReason",
    "ParsedQuery",
    "SearchHit",
    "SearchResults",
    "combine",
    "found_terms",
    "fts_string",
    "has_token",
    "parse_query",
    "tokens",
]

# A negative term also pulls the query vector away from it, with this weight.
NEGATIVE_WEIGHT = 0.5
# Words of a query sent to the keyword index at most.
MAX_QUERY_TERMS = 32

_QUOTED = re.compile(r'"([^"]*)"')
_TOKEN = re.compile(r"[^\W_]+")  # the keyword index's tokens: letters and digits


def describe_people(names: Sequence[str]) -> str:
    """``Ann is in it``, ``Ann and Bo are in it`` (a hit's people, see core/people)."""
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is in it"
    return f"{', '.join(names[:-1])} and {names[-1]} are in it"


@dataclass(frozen=True)
class MatchReason:
    """Why a hit matched: the query's words found in it, and its similarity by meaning.

    ``in_name``, ``in_folder`` and ``in_text`` are the query's words (or quoted phrases) found in
    the file's name or title, in its folder names, and in the passage shown (the document's text,
    or for a photo the text recognised in it: ``text_source`` says which). ``similarity`` is the
    raw cosine of the matching vector: for ``role == "image"`` how much the picture looks like
    the query, for ``"text"`` how close the passage's meaning is.
    """

    in_name: tuple[str, ...] = ()
    in_folder: tuple[str, ...] = ()
    in_text: tuple[str, ...] = ()
    in_tags: tuple[str, ...] = ()  # query words (or ``tag:`` filters) among the file's tags
    text_source: str | None = None  # "passage" (a document's text) or "ocr" (read off a photo)
    similarity: float | None = None
    role: str | None = None
    keyword: bool = False  # every word of the query was found (a keyword hit)
    people: tuple[str, ...] = ()  # the people the query named who are in it (core/people)
    person_terms: tuple[str, ...] = ()  # the query's parts that named them, as typed

    @property
    def words(self) -> tuple[str, ...]:
        """Every query word found anywhere in the file, once."""
        return tuple(dict.fromkeys((*self.in_name, *self.in_folder, *self.in_text, *self.in_tags)))

    def describe(self) -> str:
        """One line for people, e.g. ``words "invoice" in the text (page 2); looks like it 0.31``."""
        parts = []
        for words, where in (
            (self.in_name, "name"),
            (self.in_folder, "folder"),
            (self.in_text, "recognised text" if self.text_source == "ocr" else "text"),
            (self.in_tags, "tags"),
        ):
            if words:
                quoted = ", ".join(f"“{w}”" for w in words)
                parts.append(f"{quoted} in the {where}")
        if self.people:
            parts.insert(0, describe_people(self.people))
        if self.similarity is not None:
            what = "looks like the query" if self.role == "image" else "close in meaning"
            parts.append(f"{what} (similarity {self.similarity:.2f})")
        return "; ".join(parts)


@dataclass(frozen=True)
class SearchHit:
    """One file in the results, with the vector of it that matched best.

    ``relevance`` (0–100) orders the results and the cutoff applies to it: a hit is ``relevant``
    when it reaches ``RELEVANCE_CUTOFF``, whatever its kind. ``score`` is the raw cosine of the
    matching vector, which is not comparable between photos and passages.
    """

    file: FileRecord
    score: float
    role: str  # "image" or "text"
    page: int | None = None
    passage: str | None = None
    relevant: bool = True  # relevance reaches the cutoff (or the query's words are in it)
    relevance: float = 100.0
    why: MatchReason = field(default_factory=MatchReason)
    at_s: float | None = None  # a video hit: the time of the frame that matched
    # Other files of the same shot (its RAW or JPEG, a Live Photo's video); see core.pairs.
    companions: tuple[Path, ...] = ()
    tags: tuple[str, ...] = ()  # the file's tags (automatic and the user's), surest first


@dataclass
class SearchResults:
    """Ranked hits; ``hidden`` more were found below the relevance cutoff (see ``show_all``)."""

    hits: list[SearchHit] = field(default_factory=list)
    hidden: int = 0
    cutoff: float | None = None  # the relevance a hit needs to be shown (None: too few to judge)


@dataclass(frozen=True)
class ParsedQuery:
    """A query typed by a user, split for the two rankings.

    Syntax: words and "quoted phrases" (a phrase must appear literally for a keyword hit);
    ``-word`` or ``-"a phrase"`` leaves out what matches it; ``word:2`` or ``"a phrase":0.5``
    weighs a part (default 1). ``dog:2 snow`` looks for snow and, twice as much, dog.
    ``tag:beach`` or ``tag:"ice cream"`` keeps only files with that tag, ``-tag:people`` leaves out
    those with it.
    """

    text: str  # the unweighted positive part, without quote marks (embedded as one text)
    match: str | None  # FTS5 expression requiring every positive term, excluding negatives
    phrases: tuple[str, ...] = ()  # quoted phrases: results must contain each one literally
    terms: tuple[
        str, ...
    ] = ()  # the positive phrases and words, as typed (to say which were found)
    parts: tuple[tuple[str, float], ...] = ()  # texts to embed with their weights (text first)
    negatives: tuple[str, ...] = ()  # what results must not match (by words or by meaning)
    tags: tuple[str, ...] = ()  # ``tag:beach``: only files with these tags
    without_tags: tuple[str, ...] = ()  # ``-tag:people``: no file with these tags


_TAG = re.compile(r'(?:(?<=\s)|^)(?P<neg>-)?tag:(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))')
_PART = re.compile(
    r'(?P<neg>-)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+?))'
    r"(?::(?P<weight>\d(?:\.\d+)?))?(?=\s|\"|$)"
)


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases", ``-negatives`` and ``part:weight`` of ``query``.

    Each positive word or phrase must occur for a keyword hit, and no negative may. Terms are
    sent as FTS5 strings, so punctuation and operators are taken literally: an invoice number
    like 2023-0147 must appear as those tokens, next to each other.
    """
    if query.count('"') % 2:  # an unclosed quote is not a phrase
        head, _, tail = query.rpartition('"')
        query = head + " " + tail
    tags: list[str] = []
    without_tags: list[str] = []
    for m in _TAG.finditer(query):
        tag = normalise_tag(m["phrase"] if m["phrase"] is not None else m["word"])
        if tag:
            (without_tags if m["neg"] else tags).append(tag)
    query = _TAG.sub(" ", query)
    plain: list[str] = []
    phrases: list[str] = []
    words: list[str] = []
    weighted: list[tuple[str, float]] = []
    negatives: list[str] = []
    for m in _PART.finditer(query):
        piece = " ".join((m["phrase"] if m["phrase"] is not None else m["word"]).split())
        is_phrase = m["phrase"] is not None
        if m["neg"] and has_token(piece):
            negatives.append(piece)
            continue
        if m["neg"]:  # a lone "-": an ordinary character
            piece = "-" + piece
        if m["weight"] is not None and has_token(piece):
            weighted.append((piece, float(m["weight"])))
        elif piece:
            plain.append(piece)
        # A weighted phrase lifts, it is not required literally; a word that carries no
        # meaning ("a", "on", "the") is neither required nor a reason (issue 21).
        if has_token(piece) and (is_phrase or not all(map(is_stop_word, tokens(piece)))):
            (phrases if is_phrase and m["weight"] is None else words).append(piece)
    typed = [*phrases, *words][:MAX_QUERY_TERMS]
    text = " ".join(plain)
    required = " ".join(fts_string(t) for t in typed)
    excluded = "".join(f" NOT {fts_string(n)}" for n in negatives[:MAX_QUERY_TERMS])
    match = required + excluded if required else None
    parts = ([(text, 1.0)] if has_token(text) else []) + [p for p in weighted if p[1] > 0]
    return ParsedQuery(
        text,
        match,
        tuple(phrases),
        tuple(typed),
        tuple(parts),
        tuple(negatives),
        tuple(dict.fromkeys(tags)),
        tuple(dict.fromkeys(without_tags)),
    )


def has_token(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def fts_string(text: str) -> str:
    return '"' + " ".join(text.split()).replace('"', '""') + '"'


@functools.lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[str, ...]:
    """Words as the keyword index sees them: letters and digits, case and accents folded.

    Remembered: every search asks it of the query's words and of each hit's name and folders.
    """
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return tuple(_TOKEN.findall(plain))


def found_terms(terms: tuple[str, ...], text: str) -> tuple[str, ...]:
    """The terms (words or phrases) of a query that occur in ``text`` as whole words, in order."""
    if not terms or not text:
        return ()
    haystack = tokens(text)
    if not haystack:
        return ()
    found = []
    for term in terms:
        needle = tokens(term)
        n = len(needle)
        if n == 1:
            if needle[0] in haystack:
                found.append(term)
        elif n and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1)):
            found.append(term)
    return tuple(found)


def combine(
    parts: Sequence[tuple[np.ndarray, float]], negatives: Sequence[np.ndarray]
) -> np.ndarray:
    """One query vector: the weighted sum of the parts, pulled away from the negatives."""
    total = np.zeros_like(parts[0][0], dtype=np.float32)
    for vector, weight in parts:
        total += weight * vector
    for vector in negatives:
        total -= NEGATIVE_WEIGHT * vector
    norm = float(np.linalg.norm(total))
    return (total / norm).astype(np.float32) if norm > 0 else parts[0][0].astype(np.float32)
