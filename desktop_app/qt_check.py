"""Check, before Qt loads, that Qt's X11 (xcb) platform plugin finds the system libraries it needs.

Qt aborts with a misleading hint ("xcb-cursor0 or libxcb-cursor0 is needed") whichever library
is missing. This module never imports Qt: it asks the dynamic linker (``ldd``) which libraries of
the plugin are not found and names the packages that provide them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Library file → (Debian/Ubuntu package, Fedora package), for what Qt 6's xcb plugin links.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLdispatch.so.0": ("libglvnd0", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.M)


@dataclass(frozen=True)
class PluginCheck:
    """What the xcb plugin is missing (empty when it can load, or when this could not be told)."""

    plugin: Path | None
    missing: tuple[str, ...] = ()
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing

    def advice(self) -> str:
        """What to tell the user: the missing libraries and the commands that install them."""
        if self.ok:
            return ""
        known = [PACKAGES[name] for name in self.missing if name in PACKAGES]
        unknown = [name for name in self.missing if name not in PACKAGES]
        debian = sorted({deb for deb, _ in known})
        fedora = sorted({fed for _, fed in known})
        lines = [
            "Lumen's window cannot start: Qt's X11 plugin needs system libraries that are not "
            f"installed: {', '.join(self.missing)}.",
        ]
        if known:
            lines += [
                "Install them with:",
                f"  Debian/Ubuntu:  sudo apt install {' '.join(debian)}",
                f"  Fedora:         sudo dnf install {' '.join(fedora)}",
            ]
        for name in unknown:
            lines.append(
                f"  {name}: find its package with `apt-file search {name}` or `dnf provides '*/{name}'`"
            )
        lines.append("(`lumen doctor` checks this too; the command line works without them.)")
        return "\n".join(lines)


def xcb_plugin_path() -> Path | None:
    """The xcb platform plugin inside the installed PySide6 (found without importing Qt)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        plugin = Path(location) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(plugin: Path) -> PluginCheck:
    """The shared libraries ``plugin`` links that the dynamic linker cannot find."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return PluginCheck(plugin, note="ldd is not installed; the plugin was not checked")
    try:
        proc = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PluginCheck(plugin, note=f"ldd failed: {exc}")
    missing = tuple(dict.fromkeys(_NOT_FOUND.findall(proc.stdout)))
    return PluginCheck(plugin, missing)


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """Whether Qt will pick its X11 plugin here (Linux, not offscreen, not a Wayland session)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def check_xcb_plugin(plugin: Path | None = None) -> PluginCheck:
    """Check the installed (or the given) xcb plugin."""
    plugin = plugin or xcb_plugin_path()
    if plugin is None:
        return PluginCheck(None, note="PySide6's xcb plugin was not found")
    return missing_libraries(plugin)
