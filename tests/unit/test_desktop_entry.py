"""`lumen desktop install|uninstall` put Lumen in the menu of the user's XDG data dir, and take it out."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.cli import main

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_and_uninstall_in_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_home = tmp_path / "xdg data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    assert main(["desktop", "install"]) == 0
    assert "application menu" in capsys.readouterr().out

    desktop = data_home / "applications" / "lumen.desktop"
    entry = _entry(desktop)
    assert entry["Name"] == "Lumen" and entry["Icon"] == "lumen"
    assert "image/jpeg" in entry["MimeType"].split(";")
    # The menu starts the window without the virtual environment on PATH: an absolute command.
    command = entry["Exec"].removesuffix(" %F")
    program = command.split('" ')[0].strip('"') if command.startswith('"') else command.split()[0]
    assert Path(program).is_absolute() and Path(program).exists()
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(
            ["desktop-file-validate", str(desktop)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    for size in SIZES:
        png = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "lumen.png"
        with Image.open(png) as image:
            assert image.size == (size, size)
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "lumen.svg").is_file()
    metainfo = ET.parse(data_home / "metainfo" / "io.lumen.Lumen.metainfo.xml").getroot()
    assert metainfo.findtext("launchable") == "lumen.desktop"

    assert main(["desktop", "install"]) == 0  # again: overwrites, no error
    assert main(["desktop", "uninstall"]) == 0
    assert "Removed" in capsys.readouterr().out
    assert not desktop.exists()
    assert not list(data_home.rglob("lumen*"))
    assert main(["desktop", "uninstall"]) == 0  # nothing left to remove is fine
