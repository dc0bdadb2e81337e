"""The window names the system packages Qt's X11 plugin is missing, instead of Qt aborting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app import __main__ as gui_entry
from desktop_app import qt_check

pytestmark = pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd (Linux)")


def _plugin_missing(tmp_path: Path, real: str, fake: str) -> Path:
    """A copy of PySide6's xcb plugin that links ``fake`` (not installed) in place of ``real``."""
    plugin = qt_check.xcb_plugin_path()
    if plugin is None:
        pytest.skip("PySide6 has no xcb plugin here")
    assert len(real) == len(fake)
    qt_dir = tmp_path / "Qt"
    (qt_dir / "plugins" / "platforms").mkdir(parents=True)
    (qt_dir / "lib").symlink_to(plugin.parents[2] / "lib")  # its RUNPATH: $ORIGIN/../../lib
    copy = qt_dir / "plugins" / "platforms" / plugin.name
    data = plugin.read_bytes()
    assert real.encode() + b"\0" in data
    copy.write_bytes(data.replace(real.encode() + b"\0", fake.encode() + b"\0", 1))
    return copy


def test_a_library_the_linker_cannot_find_is_named(tmp_path: Path) -> None:
    plugin = _plugin_missing(tmp_path, "libxcb-shape.so.0", "libxcb-lumnx.so.0")
    check = qt_check.missing_libraries(plugin)
    assert not check.ok
    assert "libxcb-lumnx.so.0" in check.missing
    assert "libxcb-lumnx.so.0" in check.advice()
    # Libraries that are present are not reported.
    present = qt_check.missing_libraries(qt_check.xcb_plugin_path() or plugin).missing
    assert set(check.missing) - set(present) == {"libxcb-lumnx.so.0"}


def test_advice_gives_debian_and_fedora_packages() -> None:
    check = qt_check.PluginCheck(None, ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    advice = check.advice()
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in advice
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in advice
    assert "libxcb-cursor0" not in advice  # Qt's own hint names this one whatever is missing


def test_window_stops_with_the_packages_to_install_before_qt_aborts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = _plugin_missing(tmp_path, "libxcb-icccm.so.4", "libxcb-lumnx.so.4")
    monkeypatch.setattr(qt_check, "xcb_plugin_path", lambda: plugin)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert gui_entry.main(["--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "libxcb-lumnx.so.4" in err and "cannot start" in err
    assert not (tmp_path / "data").exists()


def test_offscreen_and_wayland_do_not_need_the_x11_plugin() -> None:
    assert not qt_check.uses_xcb({"QT_QPA_PLATFORM": "offscreen"})
    assert not qt_check.uses_xcb({"WAYLAND_DISPLAY": "wayland-0"})
    assert qt_check.uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert qt_check.uses_xcb({"DISPLAY": ":0"})
