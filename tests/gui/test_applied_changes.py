"""The window applies what an edit changed to the rows it shows, without asking its query again."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow
from desktop_app.host.protocol import Query
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.shapes import Caption

QUERY = "a purple circle at the top"


def _count_queries(window: MainWindow) -> list[Query]:
    """Every query the window sends from now on."""
    sent: list[Query] = []
    bridge = window.query.bridge
    ask = bridge.search

    def search(query: Query) -> None:
        sent.append(query)
        ask(query)

    bridge.search = search  # type: ignore[method-assign]
    return sent


def _searched(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.search, QUERY)
    wait_for_result(qtbot, window, lambda r: r.query.text == QUERY and len(r.items) > 2)
    qtbot.waitUntil(lambda: window.query.settled)


def test_excluding_a_shown_file_removes_its_row_without_a_new_search(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    _searched(qtbot, window)
    gone = window.model.items()[1].path
    others = [item.path for item in window.model.items() if item.path != gone]
    sent = _count_queries(window)
    excluded: list[bool] = []
    window.library.exclude(str(gone), then=lambda: excluded.append(True))
    qtbot.waitUntil(lambda: excluded == [True])
    assert [item.path for item in window.model.items()] == others  # the rest keep their places
    assert sent == []  # no new search: the exclusion said which file went
    assert windows.libraries[-1].file(gone) is None


def test_forgetting_a_folder_removes_the_rows_of_its_files_without_a_new_search(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    qtbot.keyClicks(window.search, QUERY)
    wait_for_result(qtbot, window, lambda r: r.query.text == QUERY and len(r.items) > 2)
    qtbot.waitUntil(lambda: window.query.settled)
    folder = window.model.items()[0].path.parent
    sent = _count_queries(window)
    done: list[bool] = []
    window.query.forget([folder], done=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True])
    assert not [i for i in window.model.items() if i.path.is_relative_to(folder)]
    assert sent == []


def test_a_tag_edit_refreshes_the_row(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    _searched(qtbot, window)
    path = window.model.items()[0].path
    sent = _count_queries(window)
    window.query.set_tag(path, "Summer Trip")
    qtbot.waitUntil(lambda: "summer trip" in window.model.items()[0].tags)
    assert window.model.items()[0].path == path  # the same row, in its place
    assert sent == []
