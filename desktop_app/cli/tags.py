"""`lumen tags`: tags in use, a file's tags, or add/remove a tag of one's own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.cli.common import EXIT_USAGE, Subparsers, plural
from desktop_app.core.library import Library


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``tags``."""
    p = sub.add_parser(
        "tags",
        parents=parents,
        help="tags in use, a file's tags, or add/remove a tag of your own",
        description="lumen tags: every tag with how many files carry it. lumen tags FILE: that "
        "file's tags. lumen tags add FILE TAG…, lumen tags remove FILE TAG…: your own tags (an "
        "automatic tag you remove stays away). Search by tag with `lumen search tag:beach`.",
    )
    p.add_argument("tags_args", nargs="*", metavar="[add|remove] FILE [TAG…]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """``lumen tags [add|remove] [FILE] [TAG…]``."""
    words: list[str] = list(args.tags_args)
    if not words:
        return _all_tags(library, args.json)
    action = words.pop(0) if words[0] in ("add", "remove") and len(words) >= 2 else None
    path = Path(words.pop(0))
    if action is not None:
        if not words:
            print(f"lumen tags {action}: name the tag(s) after the file", file=sys.stderr)
            return EXIT_USAGE
        changed = [t for t in words if library.set_tag(path, t, action == "add")]
        done = "added" if action == "add" else "removed"
        print(f"{', '.join(changed) or 'nothing'} {done} ({path.name})")
        return 0
    if words:
        print("lumen tags: to tag a file, say `lumen tags add FILE TAG`", file=sys.stderr)
        return EXIT_USAGE
    tags = library.file_tags(path)
    if args.json:
        payload = [{"tag": t.name, "source": t.source, "score": t.score} for t in tags]
        print(json.dumps({"path": str(path), "tags": payload}, indent=2))
    else:
        shown = [t.name if t.source == "auto" else f"{t.name} (yours)" for t in tags]
        print(", ".join(shown) if shown else "no tags")
    return 0


def _all_tags(library: Library, as_json: bool) -> int:
    """Every tag with how many files carry it."""
    counts = library.tags()
    if as_json:
        print(json.dumps({"tags": [{"tag": t, "files": n} for t, n in counts]}, indent=2))
    elif not counts:
        print("No tags yet: `lumen index` tags photos as it indexes them.")
    else:
        width = max(len(t) for t, _ in counts)
        for tag, n in counts:
            print(f"{tag:<{width}}  {plural(n, 'file')}")
    return 0
