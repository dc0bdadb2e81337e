"""`lumen index`: add folders and index new or changed files, with progress and a summary."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from desktop_app.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, Subparsers, no_such_folders, plural
from desktop_app.cli.progress import ProgressBar
from desktop_app.core.indexing.pipeline import IndexSummary, Progress
from desktop_app.core.library import Library


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``index``."""
    p = sub.add_parser("index", parents=parents, help="add folders and index new or changed files")
    p.add_argument(
        "paths", nargs="*", type=Path, help="folders to add (default: all watched folders)"
    )
    p.add_argument(
        "--ocr",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="recognise text in scans and photos of paper (slow on a CPU; remembered)",
    )
    p.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="faster indexing on a CPU with 8-bit image-model weights (vectors very close to "
        "full precision; remembered)",
    )
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """Index the given folders (or all watched ones) and print the summary."""
    watched = {f.path for f in library.folders()}
    missing = [
        p
        for p in args.paths
        if not p.expanduser().exists() and p.expanduser().absolute() not in watched
    ]
    if missing:  # a watched folder that is gone is an unplugged drive: index marks it offline
        return no_such_folders(missing)
    if not args.paths and not watched:
        print("lumen: no folders to index; give one: lumen index ~/Pictures", file=sys.stderr)
        return EXIT_ERROR
    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())

    def progress(p: Progress) -> None:
        if p.phase == "waiting":  # another Lumen is the writer: said once, not drawn as a bar
            outcome["waited"] = True
            bar.close()
            if not args.quiet:
                print(f"lumen: {p.note} (Ctrl-C stops waiting)…", file=sys.stderr, flush=True)
            return
        bar.update(p)

    def work() -> None:
        try:
            outcome["summary"] = library.index(args.paths or None, progress, cancel, hand_off=True)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="lumen-index")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        print("\nlumen: stopping; finished files are kept…", file=sys.stderr)
        cancel.set()
        worker.join()
    bar.close()
    if "error" in outcome:
        raise outcome["error"]
    summary: IndexSummary = outcome["summary"]
    if summary.cancelled and outcome.get("waited") and not summary.seen:
        print("lumen: stopped waiting; the other Lumen goes on with its run", file=sys.stderr)
        return EXIT_INTERRUPTED
    print_summary(summary)
    return EXIT_INTERRUPTED if summary.cancelled else 0


def print_summary(s: IndexSummary) -> None:
    """What an index run did: counts, speed, offline folders, files it could not read."""
    print(
        f"Seen {plural(s.seen, 'file')}: {s.new} new, {s.changed} changed, {s.moved} moved, "
        f"{s.removed} removed, {s.unchanged + s.touched} unchanged, {s.failed} failed."
    )
    if s.embedded:
        print(
            f"Indexed {plural(s.embedded, 'file')} in {s.embed_s:.1f} s "
            f"({s.files_per_second:.1f} files/s)."
        )
    for folder in s.offline_folders:
        print(f"Folder not reachable (kept, hidden from results): {folder}")
    if s.failures:
        print(f"{plural(len(s.failures), 'file')} could not be read (see `lumen status --errors`):")
        for path, reason in s.failures[:10]:
            print(f"  {path}: {reason}")
        if len(s.failures) > 10:
            print(f"  … and {len(s.failures) - 10} more")
    if s.cancelled:
        print("Stopped before the end; run `lumen index` again to continue.")
