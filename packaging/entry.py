"""The bundle's one program: `lumen` (the command line), or the window when started as `lumen-gui`.

PyInstaller freezes this file; on Linux `lumen-gui` is a link to the same executable, on Windows
a second executable without a console, on macOS the app bundle starts the window.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def main() -> int:
    """Dispatch on the name the program was started under."""
    multiprocessing.freeze_support()  # the window's library host process re-enters here
    name = os.path.basename(sys.argv[0]).lower()
    in_app_bundle = sys.platform == "darwin" and ".app/Contents/MacOS" in sys.executable
    if name.startswith("lumen-gui") or in_app_bundle:
        from desktop_app.__main__ import main as gui

        return gui(sys.argv[1:])
    if sys.argv[1:] == ["--version"]:  # answered before the CLI imports the whole core (~2 s)
        from desktop_app import __version__

        print(f"lumen {__version__}")
        return 0
    from desktop_app.cli import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
