"""One parser for the CLI and the window: a typed query split into date, place, kind and rest."""

from __future__ import annotations

import re
from datetime import datetime

from desktop_app.core.understanding import dates, kinds, places
from desktop_app.core.understanding.places import Gazetteer
from desktop_app.core.understanding.records import DATE, KIND, PLACE, Understood

# Parts of a query that are never read for dates, places or kinds: "quoted words" (kept
# literally), -negatives, tag:filters and weighted parts (word:2).
_OPAQUE = re.compile(r'-?"[^"]*"|(?<!\S)-\S+|\S+:\S*')
_BLANK = "\x01"
_EMPTY = Gazetteer(())


def understand(
    query: str,
    gazetteer: Gazetteer = _EMPTY,
    now: datetime | None = None,
    literal: frozenset[str] = frozenset(),
) -> Understood:
    """``query`` split into the filters it names and the rest, searched by meaning.

    ``literal`` names parts ("date", "place", "kind") to leave as words, as when the user
    removes a chip. Costs well under a millisecond (see benchmarks/bench_understanding.py).
    """
    now = now or datetime.now()
    masked = _OPAQUE.sub(lambda m: _BLANK * len(m.group()), query)
    spans: list[tuple[int, int]] = []
    date = place = kind = None
    if DATE not in literal:
        found_date = dates.find_period(query, masked, now)
        if found_date is not None:
            date = found_date.part
            masked = _blank(masked, found_date.start, found_date.end, spans)
    if PLACE not in literal:
        found_place = places.find_place(query, masked, gazetteer)
        if found_place is not None:
            place = found_place.part
            masked = _blank(masked, found_place.start, found_place.end, spans)
    if KIND not in literal:
        found_kind = kinds.find_kind(query, masked)
        if found_kind is not None:
            kind = found_kind.part
            masked = _blank(masked, found_kind.start, found_kind.end, spans)
    return Understood(query, _rest(query, spans), date, place, kind)


def _blank(masked: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """``masked`` with a found part blanked out (spaces: it reads as the end of the query)."""
    spans.append((start, end))
    return masked[:start] + " " * (end - start) + masked[end:]


def _rest(query: str, spans: list[tuple[int, int]]) -> str:
    """The query less the understood parts, with a dangling connective dropped."""
    out, at = [], 0
    for start, end in sorted(spans):
        out.append(query[at:start])
        at = end
    out.append(query[at:])
    rest = " ".join(" ".join(out).split())
    return re.sub(r"(?:^|\s+)(?:in|from|of|on|at|during|taken|about)$", "", rest).strip(" ,;")
