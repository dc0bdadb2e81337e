"""`lumen`'s entry point: parse, set up the terminal, open the library, run the command."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from desktop_app.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    no_such_file,
    no_such_folders,
    settings_from,
)
from desktop_app.cli.parser import build_parser
from desktop_app.cli.progress import DownloadBar
from desktop_app.config import Settings, default_data_dir
from desktop_app.core.errors import LumenError
from desktop_app.core.library import Library, default_embedder_loader
from desktop_app.core.memory import limit_heap_growth

# Commands that only read: without a library there is nothing for them to do.
READ_ONLY = {"search", "similar", "related", "status", "forget", "tags", "places", "people"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lumen`` command."""
    try:
        code = _main(argv)
    except KeyboardInterrupt:
        print("lumen: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    if argv is None:  # the `lumen` process itself (tests call main with their arguments)
        _end_at_once_on_ctrl_c(code)
    return code


def _end_at_once_on_ctrl_c(code: int) -> None:
    """The command is done and has said so: a Ctrl-C while Python shuts down (its threads and
    libraries take a few seconds) ends the process at once with the command's own status,
    instead of killing it."""

    def stop(_signum: int, _frame: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to say
                stream.flush()
        os._exit(code)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, stop)
        # Late in its shutdown Python puts its handlers back to the default, which kills the
        # process (status -2): from then on, a Ctrl-C is ignored (the process ends by itself).
        atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)


def _main(argv: Sequence[str] | None) -> int:
    """Parse, refuse what cannot be done, run the command; errors become exit codes."""
    args = build_parser().parse_args(argv)
    limit_heap_growth()
    _set_up_terminal(args.verbose)
    refusal = _data_dir_refusal(args.data_dir)
    if refusal is not None:
        print(f"lumen: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    run_alone = getattr(args, "run_alone", None)
    if run_alone is not None:
        return int(run_alone(args))
    check = getattr(args, "check", None)
    refusal = check(args) if check is not None else None
    if refusal is not None:
        print(f"lumen {args.command}: {refusal}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _run(args)
    except LumenError as exc:
        print(f"lumen: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `lumen search … | head`: the reader has what it wanted
        # (Python would report the pipe again flushing stdout at exit; point it at nothing.)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _data_dir_refusal(given: Path | None) -> str | None:
    """Why the data dir cannot hold a library (it, or a folder above it, is a file), or None."""
    data_dir = (given or default_data_dir()).expanduser().absolute()
    for path in (data_dir, *data_dir.parents):
        if path.exists():
            if path.is_dir():
                return None
            option = "--data-dir" if given is not None else "the data folder"
            what = "is a file" if path == data_dir else f"is inside {path}, which is a file"
            return f"{option} {data_dir} {what}, not a folder; give a folder for the library"
    return None


def _run(args: argparse.Namespace) -> int:
    """Run a command that needs the settings, or the open library."""
    settings = settings_from(args)
    run_settings = getattr(args, "run_settings", None)
    if run_settings is not None:
        return int(run_settings(settings, args))
    refusal = _before_opening(settings, args)
    if refusal is not None:
        return refusal
    download = DownloadBar(enabled=not args.quiet and sys.stderr.isatty())
    loader = functools.partial(default_embedder_loader, on_download=download.update)
    with Library.open(settings, loader) as library:
        library.name_writer(f"lumen {args.command}")  # what another Lumen is told while this writes
        return int(args.run_library(library, args))


def _set_up_terminal(verbose: bool) -> None:
    """Paths print as their bytes; Lumen's warnings show, libraries' chatter does not."""
    # A path that is not valid UTF-8 prints as its own bytes, whatever the locale says.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    if not verbose:  # libraries' chatter is not for users
        for noisy in ("open_clip", "huggingface_hub", "PIL"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        # open_clip logs through the root logger itself; raising the root's level instead
        # would silence every logger below it (Lumen's own warnings, watchdog's overflow).
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_root_chatter)


def _quiet_root_chatter(record: logging.LogRecord) -> bool:
    """Drop below-error records logged straight on the root logger (open_clip does)."""
    return record.name != "root" or record.levelno >= logging.ERROR


def _before_opening(settings: Settings, args: argparse.Namespace) -> int | None:
    """An exit code when the command cannot do anything (the data dir is created only when
    there is something to store), else None."""
    has_library = settings.catalog_path.exists()
    missing = [p for p in getattr(args, "paths", None) or [] if not p.expanduser().exists()]
    if missing and not has_library:
        return no_such_folders(missing)
    read_only = args.command in READ_ONLY or (
        args.command == "folders" and args.folders_command != "add"
    )
    if has_library or not read_only:
        return None
    if args.command == "status" and not getattr(args, "json", False):
        print(f"Library: {settings.data_dir} (nothing indexed yet)")
        print("Index a folder to start: lumen index ~/Pictures")
        return 0
    if args.command == "folders" and args.folders_command == "list":
        print("none (add one with `lumen index PATH`)")
        return 0
    if args.command in ("similar", "related") and not args.file.expanduser().exists():
        return no_such_file(args.file)
    if args.command == "status":
        return None  # --json: the empty library's figures
    print(
        f"lumen: nothing is indexed yet in {settings.data_dir}; index a folder first: "
        "lumen index ~/Pictures",
        file=sys.stderr,
    )
    return EXIT_ERROR
