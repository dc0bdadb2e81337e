"""Settings → Faces: turning face recognition off asks first, naming what gets deleted, then
deletes every face descriptor (as ``lumen people --off``); on again works; Cancel keeps all."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.gui.face_setting import FaceRecognitionSetting, wire_face_setting
from desktop_app.gui.settings_dialog import SettingsDialog
from tests.gui.conftest import WindowFactory
from tests.support.faces import write_people_photos


def test_turning_faces_off_asks_then_deletes_every_face_and_on_again(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window = windows.open()
    write_people_photos(tmp_path / "People")
    library = windows.libraries[-1]
    library.index([tmp_path / "People"])
    dialog = SettingsDialog(window.settings, window)  # as Settings… opens it
    qtbot.addWidget(dialog)
    setting: FaceRecognitionSetting = dialog.faces
    wire_face_setting(setting, window.bridge)
    qtbot.waitUntil(lambda: setting.check.isEnabled())
    assert setting.check.isChecked() and setting.note.text() == "Kept: 16 faces of 2 people."

    setting.check.setChecked(False)  # Cancel: nothing is deleted
    assert setting.confirm is not None and setting.confirm.isVisible()
    assert "16 faces of 2 people" in setting.confirm.text()
    setting.confirm.button(QMessageBox.StandardButton.Cancel).click()
    assert setting.check.isChecked()
    assert len(library.people.listed()) == 2

    setting.check.setChecked(False)
    assert setting.delete is not None
    setting.delete.click()
    qtbot.waitUntil(lambda: setting.note.text().startswith("Off"), timeout=15_000)
    assert not setting.check.isChecked()
    assert not library.people.store.enabled() and library.people.listed(everyone=True) == []

    setting.check.setChecked(True)
    qtbot.waitUntil(lambda: setting.note.text() == "Kept: 0 faces of 0 people.", timeout=15_000)
    assert library.people.store.enabled()
