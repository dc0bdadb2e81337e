"""`lumen models`, `lumen doctor`, `lumen desktop`: the models, this machine, the app menu."""

from __future__ import annotations

import argparse

from desktop_app.cli.common import EXIT_ERROR, Subparsers, plural, settings_from
from desktop_app.core.models import MODELS


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``models``, ``doctor`` and ``desktop``."""
    p = sub.add_parser("models", parents=parents, help="list the supported models")
    p.set_defaults(run_alone=models)
    p = sub.add_parser(
        "doctor",
        parents=parents,
        help="check this machine: versions, GPU, window libraries, model, disk, index",
    )
    p.set_defaults(run_alone=doctor)
    p = sub.add_parser(
        "desktop", parents=parents, help="add Lumen to the application menu, or remove it"
    )
    p.add_argument("desktop_command", choices=["install", "uninstall"], metavar="install|uninstall")
    p.set_defaults(run_alone=desktop)


def models(args: argparse.Namespace) -> int:
    """List the supported models with their size, speed and notes."""
    for spec in MODELS.values():
        size = f"{spec.download_mb:5d} MB" if spec.download_mb else f"{'local':>8}"
        print(f"{spec.key:48} {size}  {spec.speed}")
        note = spec.note
        if spec.config_file is not None:  # a Lumen model: its weights file is given, not fetched
            note += " Needs --weights FILE (tests/fixtures/lumen-tiny.safetensors in the source)."
        print(f"{'':48} {note}")
    return 0


def doctor(args: argparse.Namespace) -> int:
    """Check this machine and print the findings."""
    from desktop_app import doctor as checks

    findings = checks.run_checks(settings_from(args))
    print(checks.format_report(findings))
    return EXIT_ERROR if any(f.state == checks.FAIL for f in findings) else 0


def desktop(args: argparse.Namespace) -> int:
    """Add Lumen to the application menu, or remove it."""
    from desktop_app import desktop_entry

    if args.desktop_command == "install":
        written = desktop_entry.install()
        print(f"Lumen is in the application menu ({plural(len(written), 'file')} written):")
        for path in written:
            print(f"  {path}")
        return 0
    removed = desktop_entry.uninstall()
    print(f"Removed {plural(len(removed), 'file')} from the application menu.")
    return 0
