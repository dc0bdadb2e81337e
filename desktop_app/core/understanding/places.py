"""Places named in a query ("in Japan", "from Paris", "Lisbon"), looked up in a gazetteer.

The gazetteer holds every country (GeoNames' names) and the cities and regions where the
library's files were taken, so reading a query never loads the world's cities. A place is a
filter when a preposition introduces it ("snow in Japan") or when it ends the query and the
library holds files taken there ("beach Lisbon"); a name that qualifies the next word ("Paris
Hilton", "jordan shoes"), follows a capitalised name ("Michael Jordan") or names a country the
library has never been to ("roast turkey") is a subject.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from desktop_app.core.understanding.records import PlacePart
from desktop_app.core.understanding.stopwords import is_stop_word

PREPOSITIONS = frozenset({"in", "from", "at", "near", "around", "to", "visiting"})
# Other names people give countries (GeoNames names them "United States", "United Kingdom", …).
ALIASES = {
    "usa": "US",
    "u.s.a": "US",
    "united states of america": "US",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "holland": "NL",
    "czechia": "CZ",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
}
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’.][^\W\d_]+)*")
_LEVELS = {"city": 0, "region": 1, "country": 2}
MAX_WORDS = 4


@dataclass(frozen=True)
class KnownPlace:
    """A place a query may name: its key, name, label and how many files were taken there."""

    key: str  # "PT", "PT|Lisbon", "PT|Lisbon|Lisbon"
    name: str  # "Lisbon"
    label: str  # "Lisbon, Portugal"
    level: str  # "city", "region", "country"
    files: int = 0


def fold(text: str) -> str:
    """Lower case without accents, words joined by one space: "São  Paulo" → "sao paulo"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("’", "'").replace("-", " ").split())


class Gazetteer:
    """Place names to places; among places of one name, the one with most files wins."""

    def __init__(self, places: Iterable[KnownPlace]) -> None:
        self._by_name: dict[str, KnownPlace] = {}
        for place in places:
            name = fold(place.name)
            if not name or is_stop_word(name):
                continue
            best = self._by_name.get(name)
            if best is None or (place.files, -_LEVELS[place.level]) > (
                best.files,
                -_LEVELS[best.level],
            ):
                self._by_name[name] = place

    def __len__(self) -> int:
        return len(self._by_name)

    def lookup(self, name: str) -> KnownPlace | None:
        """The place called ``name`` (any case, with or without accents), or None."""
        return self._by_name.get(fold(name))

    def with_aliases(self) -> Gazetteer:
        """This gazetteer plus the other names of countries it holds (UK, USA, …)."""
        countries = {p.key: p for p in self._by_name.values() if p.level == "country"}
        extra = [
            KnownPlace(code, alias, countries[code].label, "country", countries[code].files)
            for alias, code in ALIASES.items()
            if code in countries and alias not in self._by_name
        ]
        merged = Gazetteer(())
        merged._by_name = dict(self._by_name)
        merged._by_name.update({fold(p.name): p for p in extra})
        return merged


@dataclass(frozen=True)
class Found:
    """A place found in a query, with where it stands in the text."""

    part: PlacePart
    start: int
    end: int


def find_place(text: str, masked: str, gazetteer: Gazetteer) -> Found | None:
    """The first place in ``masked`` (``text`` with quotes etc. blanked) that is a filter."""
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(masked)]
    for i in range(len(words)):
        for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
            span = words[i : i + n]
            if any(
                re.search(r"[^\s'’.-]", masked[a[1] : b[0]]) for a, b in itertools.pairwise(span)
            ):
                continue  # words of a name are next to each other
            place = gazetteer.lookup(" ".join(w for _, _, w in span))
            if place is None:
                continue
            start, end = span[0][0], span[-1][1]
            found = _as_filter(text, masked, words, i, start, end, place)
            if found is not None:
                return found
            break  # a longer name that is no filter hides the shorter ones in it
    return None


def _as_filter(
    text: str,
    masked: str,
    words: list[tuple[int, int, str]],
    i: int,
    start: int,
    end: int,
    place: KnownPlace,
) -> Found | None:
    """The place as a filter, or None when the words read as a subject."""
    before = words[i - 1] if i > 0 else None
    if before is not None and before[2].casefold() == "the" and i > 1:
        before = words[i - 2]  # "in the Netherlands"
    adjacent = before is not None and not re.search(r"[^\s\w]|\x01", masked[before[1] : start])
    if adjacent and before is not None and before[2].casefold() in PREPOSITIONS:
        start = before[0]
    else:
        if re.search(r"[^\W_]|\x01", masked[end:]):
            return None  # "Paris Hilton", "jordan shoes": it qualifies what follows
        if before is not None and before[2][:1].isupper() and not is_stop_word(before[2]):
            return None  # "Michael Jordan": part of a name
        if place.files == 0:
            return None  # "roast turkey", "a red jersey": no file was taken there
    part = PlacePart(text[start:end], place.label, place.key, place.level)
    return Found(part, start, end)
