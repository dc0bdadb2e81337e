"""The first-run dialog explains the model download, shows its progress and lets the user cancel
or pick a weights file instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from desktop_app.core.weights import DownloadProgress
from desktop_app.gui.first_run import ModelDownloadDialog


def _dialog(qtbot: QtBot, tmp_path: Path) -> ModelDownloadDialog:
    dialog = ModelDownloadDialog("ViT-B-32/laion2b_s34b_b79k", 605, tmp_path / "models")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_explains_size_and_place_then_follows_progress(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)
    text = " ".join(label.text() for label in dialog.findChildren(type(dialog.status)))
    assert "605 MB" in text and str(tmp_path / "models") in text
    assert "without a network" in text
    assert dialog.choose.text() == "Choose weights file…"  # the window's control, not --weights
    assert "--weights" not in text
    dialog.show_progress(DownloadProgress("repo/file", 151_250_000, 605_000_000))
    assert dialog.bar.value() == 250 and dialog.status.text() == "151 of 605 MB"
    with qtbot.waitSignal(dialog.finished):
        dialog.show_progress(DownloadProgress("repo/file", 605_000_000, 605_000_000, True))
    assert not dialog.isVisible()


def test_cancel_and_escape_ask_to_stop(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, tmp_path)
    with qtbot.waitSignal(dialog.cancel_requested):
        dialog.cancel.click()
    assert not dialog.isVisible()
    dialog = _dialog(qtbot, tmp_path)
    with qtbot.waitSignal(dialog.cancel_requested):
        dialog.reject()


def test_a_chosen_weights_file_replaces_the_download(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "open_clip_model.safetensors"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(weights), ""))
    dialog = _dialog(qtbot, tmp_path)
    with qtbot.waitSignal(dialog.weights_chosen) as chosen:
        dialog.choose.click()
    assert chosen.args == [weights]
    assert not dialog.isVisible()


def test_the_core_s_missing_model_messages_name_the_window_s_button(tmp_path: Path) -> None:
    from desktop_app.core.errors import ModelUnavailableError
    from desktop_app.core.models import DEFAULT_MODEL, get_model_spec
    from desktop_app.core.weights import resolve_weights
    from desktop_app.gui.first_run import window_wording

    spec = get_model_spec(DEFAULT_MODEL)
    for weights in (None, tmp_path / "gone.safetensors"):
        with pytest.raises(ModelUnavailableError) as error:  # offline in tests: HF_HUB_OFFLINE
            resolve_weights(spec, weights, tmp_path / "cache")
        for_cli = str(error.value)
        assert "--weights" in for_cli and "Settings" not in for_cli
        for_window = window_wording(for_cli)
        assert "--weights" not in for_window
        assert "Choose weights file…" in for_window or "Settings" in for_window
