"""The search policy's part of query understanding: understood parts become filters, a filter
that leaves nothing falls back (and says so), and results can be ordered by date taken.

``QueryPolicy.search_understood`` (``Library.search_understood``) is the one entry point for the
CLI and the window (through the host); the parsing itself is ``core.understanding``'s.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import TYPE_CHECKING

from desktop_app.core.query.results import QueryResults, Searcher, recent_files, search_files
from desktop_app.core.records import FileFilter
from desktop_app.core.superseded import stop_if_superseded
from desktop_app.core.understanding.geodata import country_names
from desktop_app.core.understanding.parse import understand
from desktop_app.core.understanding.places import Gazetteer, KnownPlace
from desktop_app.core.understanding.records import BY_DATE, Understood, taken_or_modified

if TYPE_CHECKING:
    from pathlib import Path

    from desktop_app.core.storage.catalog import Catalog


# Seconds a gazetteer is used without asking whether another process changed the places.
RECHECK_S = 5.0


class PlaceNames:
    """The gazetteer a query is read with: every country, and the library's own cities and
    regions (with their file counts); rebuilt only when the places table changes."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._countries: dict[str, str] | None = None
        self._cached: tuple[tuple[int, int], Gazetteer] | None = None
        self._checked: tuple[int, float] | None = None  # (write count, monotonic time)

    def gazetteer(self) -> Gazetteer:
        """The current gazetteer, checked against the places table when this process wrote
        since, or ``RECHECK_S`` after the last check (another process's writes: the check
        counts every place, ~10 ms a query at 100k photos)."""
        now, writes = time.monotonic(), self._catalog.write_count
        checked = self._checked
        if (
            self._cached is not None
            and checked is not None
            and checked[0] == writes
            and now - checked[1] < RECHECK_S
        ):
            return self._cached[1]
        stamp = self._catalog.places_stamp()
        self._checked = (writes, now)
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        if self._countries is None:
            self._countries = country_names()
        counts = self._catalog.place_counts()
        by_country: dict[str, int] = {}
        known: list[KnownPlace] = []
        for c in counts:
            by_country[c.country_code] = by_country.get(c.country_code, 0) + c.files
            if c.city:
                label = f"{c.city}, {c.country}"
                key = f"{c.country_code}|{c.region or ''}|{c.city}"
                known.append(KnownPlace(key, c.city, label, "city", c.files))
            if c.region:
                label = f"{c.region}, {c.country}"
                known.append(
                    KnownPlace(f"{c.country_code}|{c.region}", c.region, label, "region", c.files)
                )
        known += [
            KnownPlace(code, name, name, "country", by_country.get(code, 0))
            for code, name in self._countries.items()
        ]
        gazetteer = Gazetteer(known).with_aliases()
        self._cached = (stamp, gazetteer)
        return gazetteer


def narrowed(file_filter: FileFilter | None, understood: Understood) -> FileFilter:
    """``file_filter`` further restricted by what the query names (an explicit option wins)."""
    base = file_filter or FileFilter()
    changes: dict[str, object] = {}
    if understood.date is not None:
        start, end = understood.date.start, understood.date.end
        changes["date_from"] = max(start, base.date_from) if base.date_from else start
        changes["date_to"] = min(end, base.date_to) if base.date_to else end
    if understood.kind is not None and not base.kinds:
        changes["kinds"] = understood.kind.kinds
    if understood.place is not None and not base.place:
        changes["place"] = understood.place.key
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def search_understood(
    searcher: Searcher,
    gazetteer: Gazetteer,
    text: str,
    limit: int,
    file_filter: FileFilter | None = None,
    show_all: bool = False,
    *,
    like: Path | None = None,
    load_model: bool = True,
    sort: str = "relevance",
    literal: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> QueryResults:
    """Files for a typed query whose dates, places and kinds are filters (see ``understand``),
    the place names read with ``gazetteer``.

    ``literal`` names understood parts the user took back (a removed chip): they are searched
    as words. When the filters leave nothing, the query is run as typed and ``notice`` says so.
    ``sort="date"`` orders the relevant results newest first (files without a capture date by
    their modification time).
    """
    understood = understand(text, gazetteer, now, literal)
    if not understood.any:
        results = search_files(
            searcher, text, limit, file_filter, show_all, like=like, load_model=load_model
        )
    else:
        narrow = narrowed(file_filter, understood)
        if understood.rest.strip() or like is not None:
            results = search_files(
                searcher, understood.rest, limit, narrow, show_all, like=like, load_model=load_model
            )
        else:  # only filters ("July 2023", "videos in Japan"): the newest files that pass them
            results = recent_files(searcher, limit, narrow)
        if not results.files:
            stop_if_superseded()
            fallback = search_files(
                searcher, text, limit, file_filter, show_all, like=like, load_model=load_model
            )
            notice = f"Nothing matched {_filters(understood)}; showing results for the whole query."
            results = dataclasses.replace(fallback, notice=notice)
    results = dataclasses.replace(results, understood=understood)
    return by_date(results) if sort == BY_DATE else results


def by_date(results: QueryResults) -> QueryResults:
    """The results newest first by date taken (or modified, when a file has no capture date)."""
    files = sorted(results.files, key=lambda f: taken_or_modified(f.file)[0], reverse=True)
    return dataclasses.replace(results, files=tuple(files))


def _filters(understood: Understood) -> str:
    bits = []
    if understood.kind:
        bits.append(understood.kind.label)
    if understood.date:
        bits.append(f"taken {understood.date.label}")
    if understood.place:
        bits.append(f"in {understood.place.label}")
    return " ".join(bits) if bits else "the filters"
