"""`lumen places`: where the indexed photos and videos were taken, country → city (issue 21)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from desktop_app.cli.common import Subparsers
from desktop_app.core.library import Library


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``places``."""
    p = sub.add_parser(
        "places",
        parents=parents,
        help="where photos and videos were taken (country → city)",
        description="lumen places: each country where indexed photos and videos were taken "
        "(from their GPS position, named offline), with its cities and how many files each. "
        "Search by place with `lumen search 'beach in Lisbon'`.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """``lumen places``: each country with its files, then its cities."""
    counts = library.catalog.place_counts()
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
