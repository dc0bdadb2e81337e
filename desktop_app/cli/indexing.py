"""`lumen index`: add folders and index new or changed files, with progress and a summary."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from desktop_app.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, Subparsers, no_such_folders, plural
from desktop_app.cli.progress import IndexProgress
from desktop_app.core.library import Library
from desktop_app.core.records import IndexSummary, Progress


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
    outcome = _run_until_done_or_stopped(library, args)
    if outcome.error is not None:
        raise outcome.error
    summary = outcome.summary
    if summary is None:  # cannot happen: the run ends with a summary or an error
        raise AssertionError("index run ended without a summary")
    if summary.cancelled and outcome.waited and not summary.seen:
        print("lumen: stopped waiting; the other Lumen goes on with its run", file=sys.stderr)
        return EXIT_INTERRUPTED
    folders = [p.expanduser().absolute() for p in args.paths] or sorted(watched)
    print_summary(summary, library.status().failed, _nothing_seen(library, summary, folders))
    return EXIT_INTERRUPTED if summary.cancelled else 0


@dataclass
class _Outcome:
    """What the indexing thread hands to the main thread."""

    summary: IndexSummary | None = None
    error: BaseException | None = None
    waited: bool = False  # another Lumen was the writer for a while
    phase: str = ""  # the last phase the run reported


def _run_until_done_or_stopped(library: Library, args: argparse.Namespace) -> _Outcome:
    """Index on a thread of its own; Ctrl-C asks it to stop (finished files are kept) and
    the progress display says nothing more."""
    cancel, finished = threading.Event(), threading.Event()
    outcome = _Outcome()
    display = IndexProgress(args.quiet, sys.stderr.isatty(), stopped=cancel)

    def progress(p: Progress) -> None:
        outcome.phase = p.phase
        if p.phase == "waiting":  # another Lumen is the writer: said once, not drawn as a bar
            outcome.waited = True
            display.say(f"lumen: {p.note} (Ctrl-C stops waiting)…")
        else:
            display.update(p)

    def work() -> None:
        try:
            outcome.summary = library.index(args.paths or None, progress, cancel, hand_off=True)
        except BaseException as exc:  # handed to the main thread
            outcome.error = exc
        finally:
            finished.set()

    # Ctrl-C only asks the run to stop: the main thread never leaves before the run has ended
    # (a KeyboardInterrupt could hit it anywhere, even in a join that then returns too early).
    previous = _on_sigint(lambda *_: cancel.set())
    told_at: float | None = None
    try:
        threading.Thread(target=work, name="lumen-index").start()
        while not finished.wait(0.2) or (cancel.is_set() and told_at is None):
            if cancel.is_set() and told_at is None:
                told_at = time.monotonic()
                display.close()
                print("lumen: stopping; finished files are kept…", file=sys.stderr, flush=True)
            display.tick()
            starting = outcome.phase in STARTING_PHASES and previous is not None
            if told_at is not None and starting and time.monotonic() - told_at > GRACE_S:
                _end_during_start_up()
    finally:
        _on_sigint(previous)
    display.close()
    return outcome


def _end_during_start_up() -> NoReturn:
    """End the process now: the run is still starting (the model loads, and that cannot be
    interrupted), and nothing of it needs saving (the store survives even a SIGKILL)."""
    print("Stopped while starting; nothing was lost. Run `lumen index` again to continue.")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


# Phases before any file is embedded: a run stopped there ends at once (see _end_during_start_up).
STARTING_PHASES = ("", "scanning", "loading model")
GRACE_S = 1.0  # how long a run still starting is given to stop by itself after Ctrl-C


def _on_sigint(handler: Any) -> Any:
    """Install ``handler`` for SIGINT (from the main thread only); the previous one."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    return signal.signal(signal.SIGINT, handler)


def _nothing_seen(library: Library, s: IndexSummary, folders: list[Path]) -> list[str]:
    """Why each folder gave no file, when the run saw none."""
    if s.seen or s.cancelled or s.offline_folders:
        return []
    patterns, data_dir = library.exclusions(), library.settings.data_dir
    from desktop_app.core.indexing.nothing_seen import why_nothing_seen  # reads extensions

    return [f"Nothing to index in {f}: {why_nothing_seen(f, patterns, data_dir)}." for f in folders]


def print_summary(s: IndexSummary, failed_in_all: int = 0, notes: Sequence[str] = ()) -> None:
    """What an index run did: counts, speed, offline folders, files it could not read (this
    run's, and ``failed_in_all``: all the library's), and ``notes`` on folders that gave none."""
    print(
        f"Seen {plural(s.seen, 'file')}: {s.new} new, {s.changed} changed, {s.moved} moved, "
        f"{s.removed} removed, {s.unchanged + s.touched} unchanged, {s.failed} failed."
    )
    for note in notes:
        print(note)
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
    if failed_in_all > len(s.failures):
        in_all = " in all" if s.failures else ""
        print(
            f"{plural(failed_in_all, 'file')}{in_all} still cannot be read, "
            "see `lumen status --errors`."
        )
    if s.cancelled:
        print("Stopped before the end; run `lumen index` again to continue.")
