"""What every command shares: exit codes, plurals, the usual refusals, settings from options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from desktop_app.config import Settings

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a command killed by SIGPIPE


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 file``, ``2 files`` (``many``: the plural when it is not ``word + 's'``)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def settings_from(args: argparse.Namespace) -> Settings:
    """The data dir's settings with the command line's overrides."""
    settings = Settings.load(args.data_dir.expanduser().absolute() if args.data_dir else None)
    settings = settings.with_overrides(model=args.model, weights=args.weights, device=args.device)
    if getattr(args, "ocr", None) is not None:
        settings = settings.replace(ocr=args.ocr)
    if getattr(args, "int8", None) is not None:
        settings = settings.replace(int8=args.int8)
    return settings


def no_such_folders(paths: Sequence[Path]) -> int:
    """Name each missing folder, say what to give instead; the exit code."""
    for path in paths:
        print(f"lumen: no such folder: {path.expanduser().absolute()}", file=sys.stderr)
    print(
        "Give a folder that holds your photos or documents, e.g. `lumen index ~/Documents`; "
        "`lumen folders list` shows the folders already watched.",
        file=sys.stderr,
    )
    return EXIT_ERROR


def no_such_file(path: Path) -> int:
    """Name the missing file; the exit code."""
    print(f"lumen: no such file: {path.expanduser().absolute()}", file=sys.stderr)
    return EXIT_ERROR


def parse_date(value: str) -> datetime:
    """An argparse type: YYYY-MM-DD."""
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc


def parse_seconds(value: str) -> float:
    """An argparse type: SECONDS, M:SS or H:MM:SS."""
    try:
        seconds = 0.0
        for part in value.split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {value!r} (use SECONDS or M:SS)") from exc
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"not a time: {value!r}")
    return seconds


# The object ``add_subparsers`` returns, that each command group adds its parsers to.
if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction
