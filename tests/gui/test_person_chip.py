"""The search field's chips show a person recognised by their name typed in the query
("👤 Grace ×"); removing the chip searches the name as a word again."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.gui.understood_chips import readable_chip
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.faces import write_people_photos


def test_a_named_person_in_the_query_is_a_removable_chip(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    window = windows.open()
    photos = write_people_photos(tmp_path / "People")
    library = windows.libraries[-1]
    library.index([tmp_path / "People"])
    (face,) = library.people.in_file(photos["hopper"][0])
    library.people.name(face.person_id or 0, "Grace")

    window.search_for("Grace a red circle")
    found = wait_for_result(qtbot, window, lambda r: r.query.text == "Grace a red circle")
    assert found.understood is not None and found.understood.people == ("Grace",)
    qtbot.waitUntil(lambda: window.chips.labels() == [readable_chip("👤 Grace") + "  ×"])
    assert window.chips.isVisible()
    assert {Path(row[0]).name for row in found.rows} <= {p.name for p in photos["hopper"]}

    window.chips.chips[0].click()  # take it back: "Grace" is a word again
    again = wait_for_result(
        qtbot, window, lambda r: r.understood is not None and r.understood.people == ()
    )
    assert {Path(row[0]).name for row in again.rows} - {p.name for p in photos["hopper"]}
    qtbot.waitUntil(lambda: not window.chips.isVisible())
