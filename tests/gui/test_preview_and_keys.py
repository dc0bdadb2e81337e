"""Preview pane with metadata, keyboard navigation, the context menu's file actions, drag out."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from desktop_app.gui import selection_commands
from desktop_app.gui.results_model import SORT_NAME
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.photos import write_exif_rotated_jpeg
from tests.support.shapes import Caption, caption_for_text


def test_preview_shows_the_picture_and_its_metadata(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    folder = next(iter(photos)).parent
    camera_photo = folder.parent / "camera" / "sideways.jpg"
    camera_photo.parent.mkdir(exist_ok=True)
    write_exif_rotated_jpeg(camera_photo, Caption("blue", "circle", "top"))
    window = windows.open()
    windows.libraries[-1].index([camera_photo.parent])
    window.search.setText("sideways")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    wait_for_result(qtbot, window, lambda r: r.query.text == "sideways" and bool(r.items))
    assert window.model.items()[0].path == camera_photo

    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.preview.isVisible()
    preview = window.preview
    qtbot.waitUntil(
        lambda: preview.picture.pixmap() is not None and not preview.picture.pixmap().isNull()
    )
    assert preview.title.text() == "sideways.jpg"
    assert preview.fields["path"].text() == str(camera_photo)
    assert preview.fields["dimensions"].text().startswith("160 × 120")  # upright, as EXIF says
    assert "TestCam 3000" in preview.fields["camera"].text()
    assert preview.fields["date"].text()
    assert "KB" in preview.fields["size"].text()
    assert preview.picture.pixmap().width() > preview.picture.pixmap().height()

    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert not window.preview.isVisible()


def test_arrow_keys_move_the_preview_and_enter_opens(
    qtbot: QtBot, windows: WindowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[list[Path]] = []
    monkeypatch.setattr(selection_commands, "open_files", opened.append)
    window = windows.open()
    wait_for_result(qtbot, window, lambda r: r.query.is_recent and bool(r.items))
    window.filters.set_sort_mode(SORT_NAME)
    names = [item.name for item in window.model.items()[:3]]
    assert names == sorted(names)
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.preview.title.text() == names[0]

    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.preview.title.text() == names[1]
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.preview.title.text() == names[2]
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    assert opened == [[window.model.items()[2].path]]


def test_keyboard_focuses_and_clears_the_search(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.open()
    window.grid.setFocus()
    window.commands.find.trigger()  # Ctrl+F and "/"
    assert window.search.hasFocus()
    assert {s.toString() for s in window.commands.find.shortcuts()} == {"Ctrl+F", "/"}
    qtbot.keyClicks(window.search, "a black square")
    wait_for_result(qtbot, window, lambda r: r.query.text == "a black square")

    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == ""
    wait_for_result(qtbot, window, lambda r: r.query.is_recent)


def test_zoom_changes_thumbnail_size(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.open()
    before = window.grid.iconSize().width()
    window.commands.zoom_in.trigger()
    assert window.grid.iconSize().width() > before
    assert window.filters.zoom.value() == window.grid.iconSize().width()
    window.filters.zoom.setValue(80)
    assert window.grid.iconSize().width() == 80
    assert {s.toString() for s in window.commands.zoom_in.shortcuts()} >= {"Ctrl++"}


def test_copy_path_and_drag_out_as_file_urls(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    qtbot.keyClicks(window.search, "a yellow triangle on the right")
    wait_for_result(qtbot, window, lambda r: r.query.text == "a yellow triangle on the right")
    window.grid.setFocus()
    window.grid.selectionModel().select(
        window.model.index(0), window.grid.selectionModel().SelectionFlag.Select
    )
    window.grid.selectionModel().select(
        window.model.index(1), window.grid.selectionModel().SelectionFlag.Select
    )
    paths = [item.path for item in window.model.items()[:2]]
    assert {photos[p] for p in paths} == {caption_for_text("a yellow triangle on the right")}

    window.commands.copy_path.trigger()
    assert QGuiApplication.clipboard().text().splitlines() == [str(p) for p in paths]
    mime = window.model.mimeData(window.grid.selectionModel().selectedIndexes())
    assert mime.urls() == [QUrl.fromLocalFile(str(p)) for p in paths]
    assert window.model.flags(window.model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled


def test_remove_from_index_drops_the_file(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    qtbot.keyClicks(window.search, "a purple circle at the top")
    wait_for_result(qtbot, window, lambda r: r.query.text == "a purple circle at the top")
    gone = window.model.items()[0].path
    window.forget([gone])
    assert gone not in [item.path for item in window.model.items()]
    library = windows.libraries[-1]
    qtbot.waitUntil(lambda: library.file(gone) is None)
    assert gone.exists()  # the file itself is untouched
