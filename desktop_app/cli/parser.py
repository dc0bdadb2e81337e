"""The `lumen` argument parser: global options, then each command group adds its own parsers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from desktop_app import __version__
from desktop_app.cli import (
    duplicates,
    evaluate,
    folders,
    indexing,
    machine,
    people,
    places,
    searching,
    status,
    tags,
    watching,
)
from desktop_app.config import default_data_dir

# In the order `lumen --help` lists them.
GROUPS = (
    indexing,
    searching,
    status,
    folders,
    watching,
    duplicates,
    evaluate,
    tags,
    places,
    people,
    machine,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``lumen``."""
    parser = argparse.ArgumentParser(
        prog="lumen", description="Search your own photos and documents by meaning, locally."
    )
    parser.add_argument("--version", action="version", version=f"lumen {__version__}")
    _add_global_options(parser, None)
    # The same options after the command (`lumen search --data-dir D "q"`); SUPPRESS keeps the
    # value given before the command when an option is not repeated after it.
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub, [common])
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """--data-dir, --model, --weights, --device, -v, -q (``default``: SUPPRESS after a command)."""

    def flag_default(value: bool) -> Any:
        return default if default is argparse.SUPPRESS else value

    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"where the library lives (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--model",
        default=default,
        help="embedding model, e.g. ViT-B-32/laion2b_s34b_b79k (see `lumen models`)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=default,
        metavar="FILE",
        help="load the model's weights from this local file",
    )
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default=default,
        help="where the model runs",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=flag_default(False), help="log more"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=flag_default(False), help="no progress bar"
    )
