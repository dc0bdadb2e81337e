"""The People view: a face per person, most photos first; renaming in place, merging, and
double-clicking a person to search their photos."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.records import Progress
from desktop_app.gui.people_dialog import PeopleDialog
from desktop_app.gui.widgets import describe_progress
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.faces import write_people_photos


def test_people_are_shown_renamed_searched_and_merged(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window = windows.open()
    photos = write_people_photos(tmp_path / "People")
    windows.libraries[-1].index([tmp_path / "People"])  # the face pass follows the vectors

    window.commands.people.trigger()
    qtbot.waitUntil(lambda: window.dialogs.people_dialog is not None, timeout=30_000)
    dialog = window.dialogs.people_dialog
    assert isinstance(dialog, PeopleDialog)
    qtbot.addWidget(dialog)
    faces = dialog.faces
    assert [faces.item(n).text() for n in range(faces.count())] == ["unnamed", "unnamed"]
    assert all(not faces.item(n).icon().pixmap(96, 96).isNull() for n in range(faces.count()))

    first = faces.item(0)
    with qtbot.waitSignal(dialog.renamed):
        first.setText("Grace")  # what editing the name in place ends with
    qtbot.waitUntil(lambda: faces.item(0).toolTip() == "Grace: 8 photos")  # the library's

    faces.itemActivated.emit(faces.item(0))  # a double-click
    assert window.search.text() == "person:Grace"
    wanted = {p.name for p in photos["hopper"]} | {p.name for p in photos["astronaut"]}
    found = wait_for_result(qtbot, window, lambda r: r.query.text == "person:Grace")
    shown = {Path(row[0]).name for row in found.rows}
    assert shown in ({p.name for p in photos["hopper"]}, {p.name for p in photos["astronaut"]})
    assert shown <= wanted

    faces.selectAll()
    assert dialog.merge.isEnabled()
    with qtbot.waitSignal(dialog.merge_requested) as merged:
        qtbot.mouseClick(dialog.merge, Qt.MouseButton.LeftButton)
    assert len(merged.args[1]) == 1
    qtbot.waitUntil(lambda: faces.count() == 1 and faces.item(0).toolTip() == "Grace: 16 photos")
    dialog.close()


def test_the_face_pass_has_its_own_words_in_the_status_bar() -> None:
    assert describe_progress(Progress("faces", 3, 1200)) == "Looking for faces: 3 of 1,200 files"
    during = Progress("faces", 120, 5000, rate=3.1, eta_s=1574.0)
    assert describe_progress(during) == (
        "Looking for faces: 120 of 5,000 files · 3.1 files/s · about 26 min left"
    )
