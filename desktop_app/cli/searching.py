"""`lumen search`, `lumen similar FILE`, `lumen related FILE`: the results of a query."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.cli import output
from desktop_app.cli.common import Subparsers, no_such_file, parse_date, parse_seconds
from desktop_app.core.library import Library
from desktop_app.core.query.results import related_documents, search_files, similar_files
from desktop_app.core.storage.catalog import FileFilter

COMMANDS = (
    ("search", "find files matching a description"),
    ("similar", "find files like FILE"),
    ("related", "find documents whose text is about FILE (e.g. a photo)"),
)


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``search``, ``similar`` and ``related``."""
    for name, what in COMMANDS:
        p = sub.add_parser(name, parents=parents, help=what)
        if name == "search":
            p.add_argument(
                "query",
                help="what to look for, e.g. 'kids on a beach at sunset', "
                "'invoice \"2023-0147\"' (quoted words must appear literally), 'beach -people' "
                "(leave out what matches people), 'dog:2 snow' (dog counts twice)",
            )
            p.add_argument(
                "--like",
                type=Path,
                metavar="FILE",
                help="also look like this photo: lumen search 'at night' --like street.jpg",
            )
        else:
            p.add_argument("file", type=Path, help="an image or document (indexed or not)")
        p.add_argument(
            "-k",
            "--limit",
            type=int,
            default=20,
            metavar="N",
            help="at most this many results (default: %(default)s)",
        )
        p.add_argument(
            "--type",
            choices=["image", "raw", "video", "document", "all"],
            default="all",
            dest="kind",
            help="only photos and pictures (RAW included), only camera RAW photos, only videos, "
            "or only documents (default: %(default)s)",
        )
        if name == "similar":
            p.add_argument(
                "--at",
                dest="at_s",
                type=parse_seconds,
                metavar="TIME",
                help="for a video: look from its frame at this time (SECONDS or M:SS)",
            )
        _add_filters(p)
        p.set_defaults(run_library=run, check=check)


def _add_filters(p: argparse.ArgumentParser) -> None:
    """--folder, --from, --to, --all, --json."""
    p.add_argument(
        "--folder",
        type=Path,
        action="append",
        metavar="DIR",
        help="only files under this folder",
    )
    p.add_argument(
        "--from",
        dest="date_from",
        type=parse_date,
        metavar="DATE",
        help="taken on or after (YYYY-MM-DD)",
    )
    p.add_argument(
        "--to",
        dest="date_to",
        type=parse_date,
        metavar="DATE",
        help="taken on or before (YYYY-MM-DD)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="also show results below the relevance cutoff (still at most -k of them)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def check(args: argparse.Namespace) -> str | None:
    """The line refusing input that cannot make a query, or None."""
    if args.command == "search" and not args.query.strip() and args.like is None:
        return 'the query is empty; say what to look for, e.g. lumen search "a red bike"'
    if args.limit < 1:
        return f"-k must be 1 or more (it says how many results to show; got {args.limit})"
    given = args.like if args.command == "search" else args.file
    if given is not None and given.expanduser().is_dir():
        where = "--like" if args.command == "search" else args.command
        return (
            f"{given.expanduser().absolute()} is a folder; {where} takes a file "
            f"(a photo or document), e.g. lumen {args.command} ~/Pictures/beach.jpg"
        )
    return None


def run(library: Library, args: argparse.Namespace) -> int:
    """Run the query and print its results."""
    file_filter = FileFilter(
        kinds=None if args.kind == "all" else frozenset({args.kind}),
        folders=tuple(p.expanduser().absolute() for p in args.folder) if args.folder else None,
        date_from=args.date_from,
        date_to=args.date_to,
    )
    if args.command != "search":
        indexed = library.catalog.file_by_path(args.file.expanduser().absolute()) is not None
        if not indexed and not args.file.expanduser().exists():
            return no_such_file(args.file)
    if args.command == "search":
        results = search_files(
            library, args.query, args.limit, file_filter, args.all, like=args.like
        )
    elif args.command == "similar":
        results = similar_files(library, args.file, args.limit, file_filter, args.all, args.at_s)
    else:
        results = related_documents(library, args.file, args.limit, file_filter, args.all)
    if results.notice:
        print(results.notice, file=sys.stderr)
    if args.json:
        print(json.dumps(output.results_json(results, library.settings.open_raw), indent=2))
        return 0
    print(output.header(results, args))
    output.print_results(results, args.limit, args.all)
    return 0
