"""The Settings row for face recognition: on, or off with every face descriptor deleted (asked
first, naming what goes) — the same as ``lumen people --off`` / ``--on``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from desktop_app.gui.workers import LibraryBridge


def _faces(faces: int, people: int) -> str:
    return (
        f"{faces:,} face{'s' * (faces != 1)} of {people:,} {'person' if people == 1 else 'people'}"
    )


class FaceRecognitionSetting(QWidget):
    """A check box; unticking it asks before every face descriptor is deleted."""

    switched = Signal(bool)  # on or off, confirmed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox("Recognise faces in photos (they never leave this computer)")
        self.check.setEnabled(False)  # until the library says how it is
        self.check.toggled.connect(self._toggled)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.confirm: QMessageBox | None = None  # the question before deleting
        self.delete: QPushButton | None = None  # its button that deletes
        self._kept = (0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.note)

    def set_state(self, state: tuple[bool, int, int]) -> None:
        """How the library has it: on or off, and the faces and people it keeps."""
        on, faces, people = state
        self._kept = (faces, people)
        self.check.blockSignals(True)
        self.check.setChecked(on)
        self.check.blockSignals(False)
        self.check.setEnabled(True)
        self.note.setText(
            f"Kept: {_faces(faces, people)}." if on else "Off: no faces are looked for or kept."
        )

    def _toggled(self, on: bool) -> None:
        if on:
            self.switched.emit(True)
            return
        faces, people = self._kept
        self.confirm = QMessageBox(
            QMessageBox.Icon.Warning,
            "Turn face recognition off?",
            f"Turning face recognition off deletes every face descriptor Lumen keeps "
            f"({_faces(faces, people)}), the people and their names.\n\nYour photos are not "
            "touched. Turned on again, Lumen looks for faces anew, and people need naming again.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        self.delete = self.confirm.addButton("Delete Faces", QMessageBox.ButtonRole.DestructiveRole)
        self.confirm.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm.finished.connect(self._answered)
        self.confirm.open()

    def _answered(self) -> None:
        if self.confirm is not None and self.confirm.clickedButton() is self.delete:
            self.check.setEnabled(False)  # until the library has done it
            self.switched.emit(False)
        else:
            self.check.blockSignals(True)
            self.check.setChecked(True)
            self.check.blockSignals(False)


def wire_face_setting(setting: FaceRecognitionSetting, bridge: LibraryBridge) -> None:
    """Show how the library has face recognition; switch it when asked (off: deleting)."""

    def refresh(_deleted: object = None) -> None:
        bridge.run(lambda c: c.face_recognition(), done=setting.set_state)

    setting.switched.connect(
        lambda on: bridge.run(
            lambda c: c.set_face_recognition(on), done=refresh, title="Face recognition"
        )
    )
    refresh()
