"""Kinds of file named in a query: "videos of…", "screenshots", "pdfs about…", "raw photos"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop_app.core.records import PDF, RAW, SCREENSHOT
from desktop_app.core.understanding.records import KindPart

# Words naming a kind (longest first), with the label shown and the FileFilter kinds.
_KINDS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (r"raw (?:photos?|pictures?|images?|files?)|raws", "RAW photos", frozenset({RAW})),
    (r"screen ?shots?|screen captures?", "screenshots", frozenset({SCREENSHOT})),
    (r"pdfs?(?: files?| documents?)?", "PDFs", frozenset({PDF})),
    (r"videos?|clips?|movies?|footage", "videos", frozenset({"video"})),
    (r"documents?|docs", "documents", frozenset({"document"})),
    (r"photos?|pictures?|pics|images?", "photos", frozenset({"image"})),
)
# Words after a kind that belong to it: "videos of the kids", "pdfs about taxes".
_AFTER = r"(?P<after>\s+(?:of|about|showing|with|where|that)\b)?"
# Words after a kind that introduce another part of the query: "videos from Japan".
_LINK = re.compile(r"\s+(?:in|from|at|taken|during|on|near|since)\b", re.IGNORECASE)
# An article before a kind goes with it: "a photo of a dog" searches "a dog", not "a a dog".
_ARTICLE = r"(?:\b(?:a|an|the|some|my|our)\s+)?"
_PATTERNS = tuple(
    (
        re.compile(rf"{_ARTICLE}(?<![\w\-:\x01])(?:{words})(?![\w'’\-]){_AFTER}", re.IGNORECASE),
        label,
        kinds,
    )
    for words, label, kinds in _KINDS
)


@dataclass(frozen=True)
class Found:
    """A kind found in a query, with where it stands in the text."""

    part: KindPart
    start: int
    end: int


def find_kind(text: str, masked: str) -> Found | None:
    """The first kind in ``masked`` that is a filter: followed by "of"/"about"… or by nothing.

    A kind word that qualifies the next word is a subject: "video game", "photo booth".
    """
    for pattern, label, kinds in _PATTERNS:
        for m in pattern.finditer(masked):
            rest = masked[m.end() :]
            if not m["after"] and re.search(r"[^\W_]|\x01", rest) and not _LINK.match(rest):
                continue  # it qualifies the next word
            part = KindPart(text[m.start() : m.end()], label, kinds)
            return Found(part, m.start(), m.end())
    return None
