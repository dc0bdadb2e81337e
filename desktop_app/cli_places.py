"""`lumen places` (where files were taken, country → city) and what `lumen search` adds for
issue 21: the line saying how the query was read, ``--sort date|relevance``, each result's
date and place. Moves into ``desktop_app/cli/`` with the rest of the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from desktop_app.core.library import Library
from desktop_app.core.query.results import QueryResults
from desktop_app.core.storage import place_store
from desktop_app.core.understanding.records import BY_DATE, BY_RELEVANCE, taken_or_modified


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The ``places`` command."""
    p = sub.add_parser(
        "places", parents=parents, help="where photos and videos were taken (country → city)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def add_search_options(p: argparse.ArgumentParser) -> None:
    """``--sort`` for ``lumen search``."""
    p.add_argument(
        "--sort",
        choices=[BY_RELEVANCE, BY_DATE],
        default=BY_RELEVANCE,
        help="order: by relevance, or newest first by date taken (files without a capture "
        "date by their modification time); the relevance cutoff applies either way",
    )


def run(library: Library, args: argparse.Namespace) -> int:
    """``lumen places``: each country with its files, then its cities."""
    counts = place_store.place_counts(library.catalog)
    if args.json:
        out: dict[str, dict[str, Any]] = {}
        for c in counts:
            country = out.setdefault(
                c.country_code, {"country": c.country, "files": 0, "cities": []}
            )
            country["files"] += c.files
            country["cities"].append({"city": c.city, "region": c.region, "files": c.files})
        print(json.dumps(list(out.values()), indent=2, ensure_ascii=False))
        return 0
    if not counts:
        print("No places yet: none of the indexed photos and videos has a GPS position.")
        return 0
    current = None
    for c in counts:
        if c.country_code != current:
            current = c.country_code
            total = sum(x.files for x in counts if x.country_code == current)
            print(f"{c.country}  {total}")
        region = f" ({c.region})" if c.region and c.region != c.city else ""
        print(f"  {c.city or '?'}{region}  {c.files}")
    return 0


def understood_line(results: QueryResults) -> str | None:
    """``understood: date July 2023 · place Lisbon, Portugal · “beach”`` (None: nothing was)."""
    u = results.understood
    return f"understood: {u.describe()}" if u is not None and u.any else None


def result_notes(library: Library, results: QueryResults, sort: str) -> dict[int, str]:
    """Per file id: when (with ``--sort date``) and where it was taken, for the listing."""
    places = place_store.places_of(library.catalog, (f.file.id for f in results.files))
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


def json_fields(library: Library, results: QueryResults, sort: str) -> dict[str, Any]:
    """What ``lumen search --json`` adds: how the query was read and the order."""
    u = results.understood
    return {
        "understood": u.as_json() if u is not None else None,
        "sort": sort,
        "notice": results.notice,
    }


def result_json(library: Library, results: QueryResults) -> dict[int, dict[str, Any]]:
    """Per file id: its date (taken, or modified when it has no capture date) and place."""
    places = place_store.places_of(library.catalog, (f.file.id for f in results.files))
    out: dict[int, dict[str, Any]] = {}
    for found in results.files:
        when, taken = taken_or_modified(found.file)
        place = places.get(found.file.id)
        out[found.file.id] = {
            "date": when.isoformat(),
            "date_source": "taken" if taken else "modified",
            "place": None
            if place is None
            else {
                "label": place.label,
                "city": place.city,
                "region": place.region,
                "country": place.country,
                "country_code": place.country_code,
                "latitude": place.latitude,
                "longitude": place.longitude,
            },
        }
    return out
