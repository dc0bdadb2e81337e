"""`lumen desktop install|uninstall`: Lumen in the application menu and in images' "Open with".

Files go to the user's XDG data dir (``$XDG_DATA_HOME``, else ``~/.local/share``), as the
freedesktop.org specifications say: ``applications/lumen.desktop``, the icon in every size under
``icons/hicolor``, and the AppStream metadata under ``metainfo``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

DESKTOP_FILE = "lumen.desktop"
METAINFO_FILE = "io.lumen.Lumen.metainfo.xml"
ICON_NAME = "lumen"


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local" / "share"


def _resources() -> Traversable:
    return resources.files("desktop_app") / "resources"


def gui_command() -> list[str]:
    """How to start the window from a menu, where the virtual environment is not on PATH."""
    here = Path(sys.executable)
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: lumen-gui beside lumen
        launcher = here.with_name("lumen-gui")
        return [str(launcher if launcher.exists() else here)]
    launcher = here.with_name("lumen-gui")
    if launcher.exists():
        return [str(launcher)]
    return [str(here), "-m", "desktop_app"]


def _exec_line(command: list[str]) -> str:
    """The Exec value: arguments quoted as the Desktop Entry specification wants."""
    quoted = []
    for arg in command:
        if any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
            escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
            escaped = escaped.replace("$", "\\$")
            quoted.append(f'"{escaped}"')
        else:
            quoted.append(arg)
    return " ".join(quoted) + " %F"


def _targets(base: Path) -> list[tuple[Traversable, Path]]:
    """(packaged file, where it goes) for everything that is installed."""
    res = _resources()
    pairs: list[tuple[Traversable, Path]] = [
        (res / METAINFO_FILE, base / "metainfo" / METAINFO_FILE),
        (res / "lumen.svg", base / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"),
    ]
    hicolor = res / "icons" / "hicolor"
    for size_dir in sorted(hicolor.iterdir(), key=lambda p: p.name):
        png = size_dir / "apps" / f"{ICON_NAME}.png"
        if png.is_file():
            pairs.append((png, base / "icons" / "hicolor" / size_dir.name / "apps" / png.name))
    return pairs


def install(base: Path | None = None) -> list[Path]:
    """Write the desktop file, icons and metadata; returns the files written."""
    base = base or xdg_data_home()
    written = []
    for source, target in _targets(base):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        written.append(target)
    entry = (_resources() / DESKTOP_FILE).read_text(encoding="utf-8")
    lines = [
        f"Exec={_exec_line(gui_command())}" if line.startswith("Exec=") else line
        for line in entry.splitlines()
    ]
    desktop = base / "applications" / DESKTOP_FILE
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(desktop)
    _refresh_caches(base)
    return written


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what ``install`` wrote; returns the files removed (none is fine)."""
    base = base or xdg_data_home()
    removed = []
    for _source, target in [*_targets(base), (None, base / "applications" / DESKTOP_FILE)]:
        if target.exists():
            target.unlink()
            removed.append(target)
    _refresh_caches(base)
    return removed


def _refresh_caches(base: Path) -> None:
    """Tell the desktop about the change where its cache tools are installed (best effort)."""
    commands = [
        ("update-desktop-database", "-q", str(base / "applications")),
        ("gtk-update-icon-cache", "-q", "-t", "-f", str(base / "icons" / "hicolor")),
    ]
    for name, *args in commands:
        tool = shutil.which(name)
        if tool is None or not Path(args[-1]).is_dir():
            continue
        try:
            subprocess.run([tool, *args], capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
