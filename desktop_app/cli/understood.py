"""What `lumen search` adds for query understanding (issue 21): the line saying how the query
was read, each result's date and place, and the same as ``--json`` fields."""

from __future__ import annotations

from typing import Any

from desktop_app.core.library import Library
from desktop_app.core.query.results import QueryResults
from desktop_app.core.understanding.records import BY_DATE, Place, taken_or_modified


def understood_line(results: QueryResults) -> str | None:
    """``understood: date July 2023 · place Lisbon, Portugal · “beach”`` (None: nothing was)."""
    u = results.understood
    return f"understood: {u.describe()}" if u is not None and u.any else None


def result_notes(library: Library, results: QueryResults, sort: str) -> dict[int, str]:
    """Per file id: when (with ``--sort date``) and where it was taken, for the listing."""
    places = library.catalog.places_of(f.file.id for f in results.files)
    notes: dict[int, str] = {}
    for found in results.files:
        bits = []
        if sort == BY_DATE:
            when, taken = taken_or_modified(found.file)
            day = when.strftime("%Y-%m-%d")
            bits.append(f"taken {day}" if taken else f"modified {day} (no capture date)")
        place = places.get(found.file.id)
        if place is not None:
            bits.append(f"in {place.label}")
        if bits:
            notes[found.file.id] = " · ".join(bits)
    return notes


def json_fields(results: QueryResults, sort: str) -> dict[str, Any]:
    """What ``lumen search --json`` adds: how the query was read and the order."""
    u = results.understood
    return {
        "understood": u.as_json() if u is not None else None,
        "sort": sort,
        "notice": results.notice,
    }


def result_json(library: Library, results: QueryResults) -> dict[int, dict[str, Any]]:
    """Per file id: its date (taken, or modified when it has no capture date) and place."""
    places = library.catalog.places_of(f.file.id for f in results.files)
    out: dict[int, dict[str, Any]] = {}
    for found in results.files:
        when, taken = taken_or_modified(found.file)
        out[found.file.id] = {
            "date": when.isoformat(),
            "date_source": "taken" if taken else "modified",
            "place": _place_json(places.get(found.file.id)),
        }
    return out


def _place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {
        "label": place.label,
        "city": place.city,
        "region": place.region,
        "country": place.country,
        "country_code": place.country_code,
        "latitude": place.latitude,
        "longitude": place.longitude,
    }
