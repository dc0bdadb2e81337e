"""Who is in the previewed photo: names under the picture, face boxes over it on hover, and
right-click a face → "This is…" (names it) / "Not this person" (takes it out of its person)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QContextMenuEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop_app.core.library import Library
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview_faces import BOX, PreviewFaces
from desktop_app.host.protocol import Item
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.faces import write_people_photos


def _previewed(qtbot: QtBot, window: MainWindow, library: Library, path: Path) -> PreviewFaces:
    """Show the photo at ``path`` in the preview (found through its person's search)."""
    (face,) = library.people.in_file(path)
    query = f"person:{face.person_id}"
    window.search_for(query)
    found = wait_for_result(qtbot, window, lambda r: r.query.text == query)
    item: Item = next(i for i in found.items if i.path == path)
    window.set_preview_visible(True)
    window.preview.set_item(item)
    return window.preview.faces


def _people_window(
    qtbot: QtBot, windows: WindowFactory, folder: Path
) -> tuple[MainWindow, Library, dict[str, list[Path]]]:
    window = windows.open()
    photos = write_people_photos(folder)
    library = windows.libraries[-1]
    library.index([folder])  # the face pass follows the vectors
    window.resize(1100, 760)
    return window, library, photos


@pytest.mark.qt_log_ignore("This plugin does not support")  # the offscreen menu's popup
def test_the_preview_names_who_is_in_it_and_draws_their_box_on_hover(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window, library, photos = _people_window(qtbot, windows, tmp_path / "People")
    photo = next(p for p in photos["hopper"] if p.name == "hopper-placed.jpg")
    faces = _previewed(qtbot, window, library, photo)
    qtbot.waitUntil(lambda: faces.names() == ["unnamed"], timeout=15_000)
    assert faces.isVisible()
    qtbot.waitUntil(lambda: bool(faces.boxes.rects()), timeout=15_000)  # the picture is shown
    ((_face, rect),) = faces.boxes.rects()
    shown = faces.boxes.parentWidget().pixmap().deviceIndependentSize()  # type: ignore[union-attr]
    # the picture is centred in the box layer: where its top left is drawn
    area = faces.boxes.parentWidget().contentsRect()  # type: ignore[union-attr]
    left = area.left() + (area.width() - shown.width()) / 2
    top = area.top() + (area.height() - shown.height()) / 2
    # hopper-placed: the enlarged portrait sits at the top right, its face near its top left
    assert rect.center().x() - left > shown.width() / 2
    assert rect.center().y() - top < shown.height() / 2

    assert faces.boxes.grab().toImage().pixelColor(rect.topLeft().toPoint()) != BOX  # not yet
    QApplication.sendEvent(faces.boxes, QEvent(QEvent.Type.Enter))  # the pointer comes in
    assert faces.boxes.hovered
    edge = QPoint(round(rect.center().x()), round(rect.top()))
    drawn = window.preview.picture.grab().toImage()
    colours = {drawn.pixelColor(edge + QPoint(0, dy)).name() for dy in (-1, 0, 1)}
    assert QColor(BOX).name() in colours
    if os.environ.get("LUMEN_SCREENSHOTS"):  # for the report: the preview, boxes shown
        shots = Path(os.environ["LUMEN_SCREENSHOTS"])
        shots.mkdir(parents=True, exist_ok=True)
        window.preview.grab().save(str(shots / "preview_with_face_boxes.png"))

    with qtbot.waitSignal(faces.boxes.menu_wanted) as asked:  # right-click on the box
        at = rect.center().toPoint()
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, faces.boxes.mapToGlobal(at))
        QApplication.sendEvent(faces.boxes, event)
    assert asked.args[0] == _face.id
    QApplication.sendEvent(faces.boxes, QEvent(QEvent.Type.Leave))
    assert not faces.boxes.hovered

    window.preview.set_item(None)  # nothing previewed: no one listed
    assert faces.names() == [] and not faces.isVisible()


def test_this_is_names_the_face_and_not_this_person_takes_it_out(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window, library, photos = _people_window(qtbot, windows, tmp_path / "People")
    faces = _previewed(qtbot, window, library, photos["hopper"][0])
    qtbot.waitUntil(lambda: faces.names() == ["unnamed"], timeout=15_000)
    (face,) = faces.photo.faces
    menu = faces.menu(face.id)
    assert [a.text() for a in menu.actions()] == ["This is…", "Not this person"]
    menu.actions()[0].trigger()
    dialog = faces.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.names.setCurrentText("Grace")  # a new name
    dialog.accept()
    qtbot.waitUntil(lambda: faces.names() == ["Grace"], timeout=15_000)
    assert [f.name for f in library.people.in_file(photos["hopper"][0])] == ["Grace"]

    faces = _previewed(qtbot, window, library, photos["astronaut"][0])
    qtbot.waitUntil(lambda: faces.names() == ["unnamed"], timeout=15_000)
    (face,) = faces.photo.faces
    assert faces.photo.people and faces.photo.people[0][1] == "Grace"  # offered by "This is…"
    before = library.people.person(face.person_id or 0).photos
    faces.menu(face.id).actions()[1].trigger()  # "Not this person"
    qtbot.waitUntil(
        lambda: bool(faces.photo.faces) and faces.photo.faces[0].person_id != face.person_id,
        timeout=15_000,
    )
    assert library.people.person(face.person_id or 0).photos == before - 1
    assert faces.names() == ["unnamed"]  # a new person of its own, not named yet
