"""What a query was understood to mean: frozen records the CLI and the window show as chips."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop_app.core.records import FileRecord

# The parts of a query that can be understood, by the name of their field in ``Understood``.
DATE = "date"
PLACE = "place"
KIND = "kind"
PERSON = "person"  # issue 23: a person's name typed as words (filled by the search policy)
PARTS = (DATE, PLACE, KIND)

# How results can be ordered.
BY_RELEVANCE = "relevance"
BY_DATE = "date"


@dataclass(frozen=True)
class DatePart:
    """A period named in the query ("July 2023", "last year"): files taken within it."""

    text: str  # as typed, e.g. "in July 2023"
    label: str  # for people, e.g. "July 2023"
    start: datetime  # the first moment of the period
    end: datetime  # its last moment (inclusive)


@dataclass(frozen=True)
class PlacePart:
    """A place named in the query: a country, a region or a city where files were taken."""

    text: str  # as typed, e.g. "in Lisbon"
    label: str  # "Lisbon, Portugal"
    key: str  # place key: "PT", "PT|Lisbon" (a region) or "PT|Lisbon|Lisbon" (a city)
    level: str  # "country", "region" or "city"


@dataclass(frozen=True)
class KindPart:
    """A kind of file named in the query ("videos of", "screenshots", "raw photos")."""

    text: str  # as typed
    label: str  # "videos"
    kinds: frozenset[str]  # FileFilter kinds: "image", "video", "document", "raw", "pdf", …


@dataclass(frozen=True)
class Understood:
    """A query split into filters and the rest, which is searched by meaning and words."""

    query: str  # as typed
    rest: str  # what is left for the search by meaning (quotes, -words, tag: kept)
    date: DatePart | None = None
    place: PlacePart | None = None
    kind: KindPart | None = None
    people: tuple[str, ...] = ()  # people recognised by their name typed in the query

    @property
    def any(self) -> bool:
        """Whether anything became a filter."""
        return bool(self.date or self.place or self.kind)

    def chips(self) -> tuple[tuple[str, str], ...]:
        """(part, label) for each understood part, e.g. ``("date", "📅 July 2023")``."""
        out = []
        if self.date:
            out.append((DATE, f"📅 {self.date.label}"))
        if self.place:
            out.append((PLACE, f"📍 {self.place.label}"))
        if self.kind:
            out.append((KIND, f"🗂 {self.kind.label}"))
        out.extend((PERSON, f"👤 {name}") for name in self.people)
        return tuple(out)

    def without(self, part: str) -> Understood:
        """The same query with ``part`` ("date", "place", "kind") no longer a filter."""
        if part == DATE:
            return replace(self, date=None)
        if part == PLACE:
            return replace(self, place=None)
        if part == PERSON:
            return replace(self, people=())
        return replace(self, kind=None)

    def describe(self) -> str:
        """One line: ``date July 2023 · place Lisbon, Portugal · "beach"``."""
        bits = []
        if self.date:
            bits.append(f"date {self.date.label}")
        if self.place:
            bits.append(f"place {self.place.label}")
        if self.kind:
            bits.append(f"kind {self.kind.label}")
        bits.extend(f"person {name}" for name in self.people)
        if self.rest.strip():
            bits.append(f"“{self.rest.strip()}”")
        return " · ".join(bits)

    def as_json(self) -> dict[str, object]:
        """The understood parts as plain values (``lumen search --json``)."""
        return {
            "rest": self.rest,
            "people": list(self.people),
            "date": None
            if self.date is None
            else {
                "label": self.date.label,
                "from": self.date.start.isoformat(),
                "to": self.date.end.isoformat(),
                "text": self.date.text,
            },
            "place": None
            if self.place is None
            else {
                "label": self.place.label,
                "key": self.place.key,
                "level": self.place.level,
                "text": self.place.text,
            },
            "kind": None
            if self.kind is None
            else {
                "label": self.kind.label,
                "kinds": sorted(self.kind.kinds),
                "text": self.kind.text,
            },
        }


@dataclass(frozen=True)
class Place:
    """Where a file was taken: its coordinates and the nearest city, its region and country."""

    latitude: float
    longitude: float
    city: str | None = None
    region: str | None = None
    country_code: str | None = None
    country: str | None = None

    @property
    def label(self) -> str:
        """For people: "Lisbon, Portugal", or the coordinates when no place is near."""
        names = [n for n in (self.city, self.country) if n]
        return ", ".join(names) if names else f"{self.latitude:.4f}, {self.longitude:.4f}"

    @property
    def key(self) -> str | None:
        """The city's place key ("PT|Lisbon|Lisbon"), or None when no place is near."""
        if not self.country_code:
            return None
        return "|".join((self.country_code, self.region or "", self.city or ""))


def taken_or_modified(file: FileRecord) -> tuple[datetime, bool]:
    """When a file was taken, and True; or when it was last modified, and False."""
    if file.taken_at is not None:
        return file.taken_at, True
    return datetime.fromtimestamp(file.mtime_ns / 1e9), False
