"""The duplicates view: a resized copy shows in a group with its original, side by side; keeping
the original moves the others to the Trash, a big group only once the user says yes to its count,
and the list and the third photo of a row are shown whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop_app.gui import duplicates_dialog
from desktop_app.gui.duplicates_dialog import DuplicatesDialog
from desktop_app.host.protocol import Col, DuplicateRows
from tests.gui.conftest import WindowFactory
from tests.support.shapes import Caption


def test_a_copy_is_grouped_with_its_original_and_the_others_go_to_the_trash(
    qtbot: QtBot,
    windows: WindowFactory,
    photos: dict[Path, Caption],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = windows.open()
    original = next(iter(photos))
    copies = tmp_path / "Downloads"
    copies.mkdir()
    copy = copies / "copy of it.jpg"
    with Image.open(original) as image:
        image.resize((image.width // 2, image.height // 2)).save(copy, quality=60)
    windows.libraries[-1].index([copies])

    window.commands.duplicates.trigger()
    qtbot.waitUntil(lambda: window.dialogs.duplicates_dialog is not None, timeout=20_000)
    dialog = window.dialogs.duplicates_dialog
    assert isinstance(dialog, DuplicatesDialog)
    qtbot.addWidget(dialog)
    assert "groups of photos that are the same picture" in dialog.summary.text()
    row = next(
        n
        for n in range(dialog.groups.count())
        if copy.name in dialog.groups.item(n).text() or str(copy) in dialog.groups.item(n).toolTip()
    )
    dialog.groups.setCurrentRow(row)
    shown = {photo.item.path: photo for photo in dialog.photos}
    assert {original, copy} <= set(shown)
    qtbot.waitUntil(lambda: all(p.picture.pixmap() is not None for p in dialog.photos))
    qtbot.waitUntil(lambda: not shown[copy].picture.pixmap().isNull(), timeout=20_000)
    assert "80 × 60" in shown[copy].details.text()  # what tells them apart
    assert "160 × 120" in shown[original].details.text()

    assert not dialog.trash_others.isEnabled()  # nothing chosen to keep yet
    shown[original].keep.setChecked(True)
    assert dialog.trash_others.isEnabled()
    moved: list[Path] = []
    monkeypatch.setattr(duplicates_dialog, "move_to_trash", lambda p: moved.append(p) or True)
    monkeypatch.setattr(DuplicatesDialog, "_ask", lambda _self, _question, _moving: True)
    groups_before = dialog.groups.count()
    with qtbot.waitSignal(dialog.trashed) as trashed:
        dialog.trash_others.click()
    assert copy in moved and original not in moved
    assert trashed.args[0] == moved
    assert dialog.groups.count() == groups_before - 1  # the group is done
    dialog.close()


def _group(folder: Path, count: int) -> DuplicateRows:
    """``count`` photos (files on disk) as one group of the duplicates view."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(count):
        path = folder / f"burst shot number {n:04d} of the long afternoon at the lake.jpg"
        path.write_bytes(b"not read: the view asks the library for its picture")
        row: list[object] = [None] * (Col.TAGS + 1)
        row[Col.PATH], row[Col.KIND], row[Col.SIZE] = str(path), "image", 1_000 + n
        row[Col.MODIFIED] = row[Col.DATE] = 1_700_000_000.0
        row[Col.THUMB_KEY], row[Col.INDEXED] = f"key{n}", True
        row[Col.WIDTH], row[Col.HEIGHT] = 4000, 3000
        row[Col.RELEVANT], row[Col.MATCH] = True, "meaning"
        row[Col.COMPANIONS] = row[Col.WORDS] = row[Col.TAGS] = ()
        rows.append(tuple(row))
    return DuplicateRows(0.95, tuple(rows))


def _dialog(
    qtbot: QtBot, groups: tuple[DuplicateRows, ...], confirm: Callable[[str, int], bool] | None
) -> DuplicatesDialog:
    dialog = DuplicatesDialog(groups, lambda: None, confirm=confirm)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_trashing_a_big_group_asks_first_naming_how_many_photos_would_go(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int]] = []
    answer = [False]

    def confirm(question: str, moving: int) -> bool:
        asked.append((question, moving))
        return answer[0]

    moved: list[Path] = []
    monkeypatch.setattr(duplicates_dialog, "move_to_trash", lambda p: moved.append(p) or True)
    dialog = _dialog(qtbot, (_group(tmp_path / "burst", 2_032),), confirm)
    assert "2,032 photos" in dialog.groups.item(0).text()
    assert "Showing 8 of the 2,032 photos" in dialog.shown.text()
    dialog.photos[0].keep.setChecked(True)
    dialog.trash_others.click()  # answered No: nothing moves
    ((question, moving),) = asked
    assert moving == 2_031 and "move 2,031 photos to the Trash" in question
    assert "large group" in question and "… and 2,019 more" in question
    assert moved == [] and dialog.groups.count() == 1
    answer[0] = True
    with qtbot.waitSignal(dialog.trashed) as trashed:
        dialog.trash_others.click()
    assert len(moved) == 2_031 and dialog.photos == [] and dialog.groups.count() == 0
    assert trashed.args[0] == moved
    dialog.close()


def test_enter_on_the_question_of_a_large_group_moves_nothing(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved: list[Path] = []
    monkeypatch.setattr(duplicates_dialog, "move_to_trash", lambda p: moved.append(p) or True)
    dialog = _dialog(qtbot, (_group(tmp_path / "burst", 30),), None)  # the real message box
    dialog.photos[0].keep.setChecked(True)
    seen: list[str] = []

    def press_enter() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        QTest.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(0, press_enter)
    dialog.trash_others.click()
    assert seen and "move 29 photos to the Trash" in seen[0]
    assert moved == [] and dialog.groups.count() == 1
    dialog.close()


def test_the_group_list_and_the_third_photo_are_shown_whole(qtbot: QtBot, tmp_path: Path) -> None:
    groups = (_group(tmp_path / "a", 12), _group(tmp_path / "b", 3), _group(tmp_path / "c", 2))
    dialog = _dialog(qtbot, groups, None)
    list_width = dialog.groups.viewport().width()
    metrics = dialog.groups.fontMetrics()
    for n in range(dialog.groups.count()):
        item = dialog.groups.item(n)
        rect = dialog.groups.visualItemRect(item)
        needed = metrics.boundingRect(
            QRect(0, 0, rect.width(), 10_000), int(Qt.TextFlag.TextWordWrap), item.text()
        )
        assert rect.right() < list_width and needed.height() <= rect.height(), item.text()
    assert not dialog.groups.horizontalScrollBar().isVisible()
    viewport = dialog.compare.viewport()
    assert len(dialog.photos) == 8
    for photo in dialog.photos[:3]:  # the first row: three side by side
        right = photo.mapTo(viewport, QPoint(photo.width(), 0)).x()
        assert right <= viewport.width(), (right, viewport.width())
    assert not dialog.compare.horizontalScrollBar().isVisible()
    dialog.close()


def test_a_photo_the_trash_refuses_stays_where_it_is_and_the_view_says_so(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = _group(tmp_path / "pair", 3)
    refused = Path(group.rows[2][Col.PATH])
    monkeypatch.setattr(duplicates_dialog, "move_to_trash", lambda p: p != refused)
    dialog = _dialog(qtbot, (group,), lambda _question, _moving: True)
    dialog.photos[0].keep.setChecked(True)
    dialog.trash_others.click()
    assert refused.exists()
    assert "1 photo could not be moved to the Trash and was left where it was" in (
        dialog.summary.text()
    )
    assert dialog.groups.count() == 1  # the kept photo and the refused one are still a pair
    dialog.close()


def test_moving_to_the_trash_keeps_the_file_in_the_trash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the desktop's Trash is in it
    (tmp_path / "data").mkdir()
    photo = tmp_path / "Photos" / "copy.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"the copy")
    assert duplicates_dialog.move_to_trash(photo)
    assert not photo.exists()
    (kept,) = (tmp_path / "data" / "Trash" / "files").iterdir()
    assert kept.read_bytes() == b"the copy"  # restorable, not deleted
