"""`lumen watch`: keep the index up to date while files change, in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.cli.common import EXIT_ERROR, Subparsers, plural
from desktop_app.core.indexing.watch_timing import DEFAULT_RECONCILE_EVERY_S, DEFAULT_SETTLE_S
from desktop_app.core.indexing.writer_lock import LibraryBusyError
from desktop_app.core.library import Library
from desktop_app.core.records import FileChanges, IndexSummary

if TYPE_CHECKING:
    from desktop_app.core.indexing.watcher import FolderWatcher


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``watch``."""
    p = sub.add_parser(
        "watch",
        parents=parents,
        help="keep the index up to date while files change (foreground; Ctrl-C stops)",
    )
    p.add_argument("paths", nargs="*", type=Path, help="folders to add first (default: all)")
    p.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_S,
        metavar="SECONDS",
        help="index a file once it has not changed for this long (default: %(default)g)",
    )
    p.add_argument(
        "--rescan-every",
        type=float,
        default=DEFAULT_RECONCILE_EVERY_S / 60,
        metavar="MINUTES",
        help="also rescan every folder this often, for changes the system did not report "
        "(default: %(default)g; 0: never)",
    )
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """Watch the folders until Ctrl-C (or SIGTERM), printing what changes."""
    try:
        library.claim_writer()
    except LibraryBusyError:
        if not library.writer_follows_changes():
            raise
        for path in args.paths:  # the running watcher takes them within seconds
            library.add_folder(path)
        added = ", ".join(str(p.expanduser().absolute()) for p in args.paths)
        print(
            f"{library.describe_writer()} already follows the changes in this library"
            + (f"; it watches {added} too now." if added else ".")
        )
        return 0
    for path in args.paths:
        library.add_folder(path)
    folders = [f for f in library.folders() if not f.paused]
    if not folders:
        print("lumen: no folders to watch; give one: lumen watch ~/Pictures", file=sys.stderr)
        return EXIT_ERROR
    from desktop_app.core.indexing.watcher import FolderWatcher  # (watchdog: only for `watch`)

    live = LiveLog(verbose=not args.quiet)
    watcher = FolderWatcher(
        library,
        settle_s=args.settle,
        reconcile_every_s=args.rescan_every * 60 or None,
        on_change=live.changes,
        on_reconciled=live.reconciled,
    )
    live.say(f"Watching {plural(len(folders), 'folder')} (Ctrl-C to stop):")
    for folder in folders:
        live.say(f"  {folder.path}{'' if folder.online else ' (offline)'}")
    _run_until_stopped(watcher)
    library.settings.save()
    if watcher.error is not None:
        print(f"lumen: {watcher.error}", file=sys.stderr)
        return EXIT_ERROR
    live.say("Stopped.")
    return 0


def _run_until_stopped(watcher: FolderWatcher) -> None:
    """Run ``watcher`` until it fails or Ctrl-C / SIGTERM arrives."""
    stop = threading.Event()
    # Ctrl-C stops, even when started from a shell that ignores SIGINT (its children inherit that).
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    watcher.start()
    try:
        while watcher.running and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.stop()


class LiveLog:
    """The lines `lumen watch` prints as files change (called from the watcher's thread)."""

    def __init__(self, verbose: bool) -> None:
        self._verbose = verbose
        self._reconciled = 0

    def say(self, line: str) -> None:
        """Print a line at once."""
        print(line, flush=True)

    def _event(self, line: str) -> None:
        self.say(f"{datetime.now():%H:%M:%S} {line}")

    def changes(self, c: FileChanges) -> None:
        """One line per change (offline/online folders always; files unless quiet)."""
        for folder in c.offline:
            self._event(f"folder offline (its files are kept, hidden from results): {folder}")
        for folder in c.online:
            self._event(f"folder back online: {folder}")
        if not self._verbose:
            return
        for path in c.indexed:
            self._event(f"indexed {path}")
        for old, new in c.moved:
            self._event(f"moved {old} -> {new}")
        for path in c.removed:
            self._event(f"removed {path}")
        for path, reason in c.failed:
            self._event(f"failed {path}: {reason}")

    def reconciled(self, s: IndexSummary) -> None:
        """A rescan's counts: the first one, then only those that changed something."""
        self._reconciled += 1
        if self._reconciled == 1 or s.new or s.changed or s.moved or s.removed or s.failed:
            self._event(
                f"up to date: {s.seen} files seen, {s.new} new, {s.changed} changed, "
                f"{s.moved} moved, {s.removed} removed, {s.failed} failed"
            )
