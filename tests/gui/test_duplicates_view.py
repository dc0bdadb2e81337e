"""The duplicates view: a resized copy shows in a group with its original, side by side; keeping
the original moves the others to the Trash."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from desktop_app.gui import duplicates_dialog
from desktop_app.gui.duplicates_dialog import DuplicatesDialog
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
    monkeypatch.setattr(DuplicatesDialog, "_ask", lambda _self, _question: True)
    groups_before = dialog.groups.count()
    with qtbot.waitSignal(dialog.trashed) as trashed:
        dialog.trash_others.click()
    assert copy in moved and original not in moved
    assert trashed.args[0] == moved
    assert dialog.groups.count() == groups_before - 1  # the group is done
    dialog.close()
