"""The People view: dragging one person onto another merges them into the one dropped onto."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.gui.people_dialog import PeopleDialog
from tests.gui.conftest import WindowFactory
from tests.support.faces import write_people_photos


def test_dropping_a_person_onto_another_merges_them(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window = windows.open()
    write_people_photos(tmp_path / "People")
    library = windows.libraries[-1]
    library.index([tmp_path / "People"])
    kept, other = library.people.listed()
    library.people.name(kept.id, "Grace")

    window.commands.people.trigger()
    qtbot.waitUntil(lambda: window.dialogs.people_dialog is not None, timeout=30_000)
    dialog = window.dialogs.people_dialog
    assert isinstance(dialog, PeopleDialog)
    qtbot.addWidget(dialog)
    dialog.show()
    faces = dialog.faces
    qtbot.waitUntil(lambda: faces.count() == 2)
    items = {int(faces.item(n).data(Qt.ItemDataRole.UserRole)): faces.item(n) for n in (0, 1)}
    dragged, onto = items[other.id], items[kept.id]

    # Dropped onto itself: nothing happens.
    itself = faces.visualItemRect(dragged).center().toPointF()
    with qtbot.assertNotEmitted(dialog.merge_requested):
        _drop(faces, dragged, itself)
    assert faces.count() == 2

    with qtbot.waitSignal(dialog.merge_requested) as merged:
        _drop(faces, dragged, faces.visualItemRect(onto).center().toPointF())
    assert merged.args == [kept.id, [other.id]]
    qtbot.waitUntil(lambda: faces.count() == 1 and faces.item(0).toolTip() == "Grace: 16 photos")
    assert [p.id for p in library.people.listed()] == [kept.id]
    dialog.close()


def _drop(faces: object, item: object, at: QPointF) -> None:
    """What a drag of ``item`` to ``at`` in the list's viewport delivers: enter, move, drop."""
    mime = faces.mimeData([item])  # type: ignore[attr-defined]
    viewport = faces.viewport()  # type: ignore[attr-defined]
    move, left, none = Qt.DropAction.MoveAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0)
    QApplication.sendEvent(viewport, QDragEnterEvent(at.toPoint(), move, mime, left, none))
    QApplication.sendEvent(viewport, QDragMoveEvent(at.toPoint(), move, mime, left, none))
    QApplication.sendEvent(viewport, QDropEvent(at, move, mime, left, none))
