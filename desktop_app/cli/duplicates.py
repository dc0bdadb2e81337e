"""`lumen duplicates`: groups of photos that are the same picture."""

from __future__ import annotations

import argparse
import json

from desktop_app.cli.common import Subparsers
from desktop_app.core.library import Library
from desktop_app.core.query.duplicates import DUPLICATE_COSINE


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``duplicates``."""
    p = sub.add_parser(
        "duplicates", parents=parents, help="groups of photos that are the same picture"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=DUPLICATE_COSINE,
        help="cosine at or above which two photos count as the same (default: %(default)g)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """``lumen duplicates``: each group's photos, biggest group first."""
    groups = library.duplicates(args.threshold)
    if args.json:
        payload = [
            {"similarity": round(g.similarity, 4), "files": [str(f.path) for f in g.files]}
            for g in groups
        ]
        print(json.dumps({"groups": payload, "threshold": args.threshold}, indent=2))
        return 0
    if not groups:
        print("No near-duplicate photos.")
        return 0
    photos = sum(len(g.files) for g in groups)
    print(
        f"{len(groups)} group{'' if len(groups) == 1 else 's'} of near-duplicates ({photos} photos):"
    )
    for group in groups:
        print(f"\n{len(group.files)} photos (similarity ≥ {group.similarity:.3f}):")
        for record in group.files:
            print(f"  {record.path}")
    return 0
