"""`python -m desktop_app` and `lumen-gui`: the Lumen window."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Start the window (Qt is imported only here, so the library host process never loads it)."""
    import multiprocessing

    multiprocessing.freeze_support()  # the library host process in frozen (PyInstaller) builds
    from desktop_app.gui.app import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
