"""`python -m desktop_app` and `lumen-gui`: the Lumen window."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Start the window (Qt is imported only here, so the library host process never loads it)."""
    import multiprocessing

    multiprocessing.freeze_support()  # the library host process in frozen (PyInstaller) builds
    args = list(sys.argv[1:] if argv is None else argv)
    if not {"-h", "--help", "--version"} & set(args):
        from desktop_app import qt_check

        if qt_check.uses_xcb():
            check = qt_check.check_xcb_plugin()
            if not check.ok:  # Qt would abort with a misleading message
                print(check.advice(), file=sys.stderr)
                return 1
    from desktop_app.gui.app import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
