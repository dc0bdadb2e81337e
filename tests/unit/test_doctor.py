"""`lumen doctor` reports what it finds and exits non-zero only when something blocks use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop_app import doctor, qt_check
from desktop_app.cli import main
from tests.support.photos import write_shape_photos


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_report_on_a_working_library(
    tmp_path: Path,
    tiny_weights: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    data = str(tmp_path / "data")
    model = ["--model", "lumen-tiny", "--weights", str(tiny_weights)]
    code, out = run(capsys, "doctor", "--data-dir", data, *model)
    assert code == 0, out
    assert "Lumen 0.1.0" in out and "PyTorch" in out and "PySide6" in out
    assert "device:" in out and "CPU" in out  # why not a GPU is said on this machine
    assert "not created yet" in out and "GB free" in out
    assert "no library yet" in out
    assert re.search(r"ok +faces: +dlib", out)  # People can find faces
    assert "Nothing blocks Lumen" in out

    photos = tmp_path / "photos"
    n = len(write_shape_photos(photos, seeds=(3,)))
    assert main(["--data-dir", data, *model, "-q", "index", str(photos)]) == 0
    capsys.readouterr()
    code, out = run(capsys, "doctor", "--data-dir", data)
    assert code == 0, out
    assert f"{n} files indexed" in out and f"{n} vectors in the catalog, {n} in the index" in out
    assert "inotify:" in out


def test_a_missing_weights_file_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    missing = tmp_path / "gone.safetensors"
    code, out = run(capsys, "doctor", "--data-dir", str(tmp_path / "d"), "--weights", str(missing))
    assert code == 1
    assert f"the weights file {missing} does not exist" in out
    assert "Blocked: model." in out


def test_missing_x11_libraries_block_the_window_on_a_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = qt_check.PluginCheck(Path("libqxcb.so"), ("libxcb-icccm.so.4",))
    monkeypatch.setattr(qt_check, "check_xcb_plugin", lambda plugin=None: missing)
    finding = doctor.window_finding({"DISPLAY": ":0"})
    assert finding.state == doctor.FAIL
    assert "sudo apt install libxcb-icccm4" in finding.advice
    assert "sudo dnf install xcb-util-wm" in finding.advice
    # With no display only the command line is in use: a warning, not a block.
    assert doctor.window_finding({}).state == doctor.WARN


def test_no_model_and_no_way_to_download_it_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out = run(capsys, "doctor", "--data-dir", str(tmp_path / "d"))
    assert code == 1
    assert "not downloaded yet (about 605 MB" in out and "cannot be downloaded now" in out
    assert "--weights FILE" in out
