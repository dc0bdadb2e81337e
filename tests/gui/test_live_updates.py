"""The grid follows file changes on disk: gone files leave, changed ones update, no new query."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.host.protocol import QueryResult
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.shapes import all_captions, render


def test_a_deleted_file_leaves_the_grid_and_a_changed_one_updates_without_a_new_query(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = []
    for number, caption in enumerate(all_captions()[:4]):
        path = folder / f"photo_{number}.jpg"
        render(caption, (96, 96), seed=number).save(path, quality=90)
        paths.append(path)
    window = windows.open(indexed=False)
    with qtbot.waitSignal(window.bridge.index_finished, timeout=60_000):
        window.add_folders([folder])
    wait_for_result(qtbot, window, lambda r: len(r.items) == 4 and all(i.indexed for i in r.items))
    watching: list[bool] = []
    window.bridge.run(lambda c: c.set_watching(True), done=watching.append)
    qtbot.waitUntil(lambda: watching == [True], timeout=20_000)
    qtbot.waitUntil(lambda: window.query.settled)
    row = window.model.row_of(paths[2])
    assert row is not None
    window.results.select_row(row)
    answers: list[QueryResult] = []
    window.bridge.results.connect(answers.append)
    before = {item.path: item for item in window.model.items()}

    gone, changed = paths[0], paths[1]
    gone.unlink()
    render(all_captions()[5], (200, 150), seed=9).save(changed, quality=95)
    new_size = changed.stat().st_size

    def updated() -> bool:
        shown = {item.path: item for item in window.model.items()}
        return gone not in shown and changed in shown and shown[changed].size == new_size

    qtbot.waitUntil(updated, timeout=30_000)
    item = next(i for i in window.model.items() if i.path == changed)
    assert item.thumb_key != before[changed].thumb_key  # its new picture is shown
    assert (item.width, item.height) == (200, 150)
    assert answers == []  # updated in place: the query was not run again
    assert window.model.rowCount() == 3
    assert "3" in window.summary.label.text()
    assert [item.path for item in window.selected_items()] == [paths[2]]  # the selection stayed
