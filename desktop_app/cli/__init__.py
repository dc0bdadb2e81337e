"""The `lumen` command line, one module per command group.

Where a new command goes: a module of its own in this package (or the group it belongs to)
with an ``add_parsers(sub, parents)`` function that adds its sub-parser and sets its handler
with ``set_defaults`` (``run_library=`` for a handler given the open ``Library``,
``run_settings=`` for one given only the settings, ``run_alone=`` for one that needs neither;
``check=`` for a one-line refusal of bad input, exit 2). Then add the module to ``GROUPS`` in
``parser.py``. Output shared by several commands goes in ``output.py``, progress in
``progress.py``, exit codes and messages in ``common.py``; ``app.py`` opens the library and
turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from desktop_app.cli.common import EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lumen`` command (a Ctrl-C while it starts up ends it quietly too:
    the command's modules are imported here, not when this package is)."""
    process = argv is None  # the `lumen` process itself, not a test calling main
    if process:
        # The modules imported now live as long as the process: the cyclic collector need not
        # walk them, neither while they load (it ran ~190 times, 0.1 s of a fresh search) nor
        # in every pass after, nor at exit (0.2-0.4 s of teardown). They make few cycles of
        # garbage (~500 objects), which stay.
        gc.disable()
    try:
        from desktop_app.cli.app import main as run
    except KeyboardInterrupt:
        print("lumen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if process:
            gc.freeze()
            gc.enable()
    return run(argv)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``lumen``."""
    from desktop_app.cli.parser import build_parser as build

    return build()


__all__ = ["build_parser", "main"]
