"""`lumen eval PAIRS`: the model's retrieval quality on captioned images."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app.cli.common import Subparsers
from desktop_app.cli.progress import ProgressBar
from desktop_app.config import Settings
from desktop_app.core.records import Progress


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``eval``."""
    p = sub.add_parser(
        "eval",
        parents=parents,
        help="measure retrieval quality on captioned images: recall@1/5/10 and mAP",
        description="PAIRS: a CSV/TSV of image,caption rows (a header naming the columns, or "
        "image first and caption last; Flickr30k results.csv and Flickr8k token files work) or "
        "a COCO captions JSON. Image paths are relative to --images or the file's folder.",
    )
    p.add_argument("pairs", type=Path, help="the captions file")
    p.add_argument("--images", type=Path, help="folder the image paths are relative to")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run_settings=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Evaluate the model on PAIRS and print the table (or JSON)."""
    from desktop_app.core.embedding.evaluation import (
        evaluate,
        load_pairs,
        report_json,
        report_table,
    )
    from desktop_app.core.library import default_embedder_loader

    pairs = load_pairs(args.pairs, args.images)
    embedder = default_embedder_loader(settings)
    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.update(Progress("indexing", done, total))

    report = evaluate(embedder, pairs, settings.batch_size, progress)
    bar.close()
    if args.json:
        print(json.dumps({"model": settings.model, **report_json(report)}, indent=2))
    else:
        print(f"Model: {settings.model}")
        print(report_table(report))
    return 0
