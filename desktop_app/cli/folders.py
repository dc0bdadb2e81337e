"""`lumen folders`, `lumen forget`, `lumen exclude`: what the library watches and leaves out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_app.cli.common import EXIT_ERROR, Subparsers, plural
from desktop_app.core.library import Library


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``folders``, ``forget`` and ``exclude``."""
    p = sub.add_parser("folders", parents=parents, help="manage watched folders")
    fsub = p.add_subparsers(dest="folders_command", required=True, metavar="ACTION")
    fsub.add_parser("list", parents=parents, help="list watched folders")
    for action in ("add", "remove"):
        fp = fsub.add_parser(action, parents=parents, help=f"{action} a watched folder")
        fp.add_argument("path", type=Path)
    p.set_defaults(run_library=folders)

    p = sub.add_parser(
        "forget",
        parents=parents,
        help="remove a file or folder's files from the index for good (excludes it)",
    )
    p.add_argument("path", type=Path)
    p.set_defaults(run_library=forget)

    p = sub.add_parser(
        "exclude", parents=parents, help="files, folders and name patterns never indexed"
    )
    esub = p.add_subparsers(dest="exclude_command", required=True, metavar="ACTION")
    esub.add_parser("list", parents=parents, help="list exclusions")
    ep = esub.add_parser(
        "add",
        parents=parents,
        help="exclude a path (/x, ~/x, ./x) or a name (node_modules, *.tmp)",
    )
    ep.add_argument("pattern")
    ep = esub.add_parser(
        "remove", parents=parents, help="index it again (at the next index or watch rescan)"
    )
    ep.add_argument("pattern")
    p.set_defaults(run_library=exclude)


def folders(library: Library, args: argparse.Namespace) -> int:
    """``lumen folders list|add|remove``."""
    if args.folders_command == "add":
        folder = library.add_folder(args.path)
        print(f"Watching {folder.path}; run `lumen index` to index it.")
    elif args.folders_command == "remove":
        n = library.remove_folder(args.path).vectors_removed
        print(f"Stopped watching {args.path} ({n} vectors removed).")
    else:
        watched = library.folders()
        if not watched:
            print("none (add one with `lumen index PATH`)")
        for folder in watched:
            print(folder.path)
    return 0


def forget(library: Library, args: argparse.Namespace) -> int:
    """``lumen forget PATH``."""
    n = library.forget(args.path).vectors_removed
    print(
        f"Forgot {plural(n, 'vector')} under {args.path}; it stays out "
        "(`lumen exclude remove` undoes that)"
    )
    return 0


def exclude(library: Library, args: argparse.Namespace) -> int:
    """``lumen exclude list|add|remove``."""
    if args.exclude_command == "add":
        n = library.exclude(args.pattern).vectors_removed
        print(f"Excluded {args.pattern} ({n} vectors removed).")
    elif args.exclude_command == "remove":
        if not library.include(args.pattern):
            print(f"lumen: {args.pattern} was not excluded", file=sys.stderr)
            return EXIT_ERROR
        print(f"{args.pattern} is no longer excluded; `lumen index` picks its files up again.")
    else:
        for pattern in library.exclusions():
            print(pattern)
        print(f"{library.settings.data_dir}  (Lumen's data, always)")
    return 0
