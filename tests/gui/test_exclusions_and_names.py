"""The window: exclusions edited in the folders dialog, names that are not UTF-8, skipped files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget
from pytestqt.qtbot import QtBot

from desktop_app.core.library import Library
from desktop_app.core.records import Progress
from desktop_app.gui import actions, folders_dialog, main_window, selection_commands
from desktop_app.gui.folders_dialog import FailuresDialog
from desktop_app.gui.widgets import describe_progress
from desktop_app.host.service import LibraryService
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.shapes import Caption, caption_for_text, render

RED = "a red circle on the left"


def raw(path: Path, name: bytes) -> Path:
    """``path / name`` where ``name`` is raw bytes, as Python sees such a file."""
    return Path(os.fsdecode(os.fsencode(path) + b"/" + name))


def texts(widget: QListWidget) -> list[str]:
    return [widget.item(row).text() for row in range(widget.count())]


def shown_paths(window: main_window.MainWindow) -> set[Path]:
    return {item.path for item in window.model.items()}


def test_exclusions_are_listed_added_and_dropped_in_the_folders_dialog(
    qtbot: QtBot,
    windows: WindowFactory,
    photos: dict[Path, Caption],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = windows.open()
    target = sorted(photos)[0]
    wait_for_result(qtbot, window, lambda r: r.query.is_recent and target in shown_paths(window))
    dialog = window.dialogs.folders_dialog()
    dialog.show()
    qtbot.waitUntil(lambda: "node_modules" in texts(dialog.exclusions))  # the defaults
    assert not dialog.include.isEnabled()  # nothing chosen yet

    class AskName:
        @staticmethod
        def getText(*_args: Any) -> tuple[str, bool]:
            return target.name, True

    monkeypatch.setattr(folders_dialog, "QInputDialog", AskName)
    qtbot.mouseClick(dialog.exclude_name, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.name in texts(dialog.exclusions))
    qtbot.waitUntil(lambda: target not in shown_paths(window))  # out of the results at once
    assert len(window.model.items()) == len(photos) - 1

    dialog.exclusions.setCurrentRow(texts(dialog.exclusions).index(target.name))
    assert dialog.include.isEnabled()
    qtbot.mouseClick(dialog.include, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.name not in texts(dialog.exclusions))
    qtbot.waitUntil(lambda: target in shown_paths(window), timeout=60_000)  # indexed again

    class ChooseFolder:
        @staticmethod
        def getExistingDirectory(*_args: Any) -> str:
            return str(target.parent)

    monkeypatch.setattr(folders_dialog, "QFileDialog", ChooseFolder)
    qtbot.mouseClick(dialog.exclude_folder, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: str(target.parent) in texts(dialog.exclusions))
    assert texts(dialog.exclusions)[0] == str(target.parent)  # paths first, then names
    qtbot.waitUntil(lambda: not window.model.items())
    dialog.close()


def test_a_name_that_is_not_utf8_is_shown_and_opened_by_its_own_bytes(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = raw(tmp_path, b"Urlaub \xe9t\xe9")  # a Latin-1 folder, as from an old camera card
    folder.mkdir()
    photo = raw(folder, b"caf\xe9 rouge.png")
    render(caption_for_text(RED)).save(photo)
    window = windows.open()
    windows.libraries[-1].index([folder])
    window.search.setText("café rouge")  # the name's Latin-1 byte reads as é
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    wait_for_result(qtbot, window, lambda r: photo in {i.path for i in r.items})
    row = [item.path for item in window.model.items()].index(photo)
    index = window.model.index(row)

    assert window.model.data(index) == "café rouge.png"  # not "caf rouge.png"
    assert "Urlaub été/café rouge.png" in window.model.data(index, Qt.ItemDataRole.ToolTipRole)
    dragged = window.model.mimeData([index])
    assert bytes(dragged.urls()[0].toEncoded()).endswith(b"/Urlaub%20%E9t%E9/caf%E9%20rouge.png")
    assert dragged.text() == f"{tmp_path}/Urlaub été/café rouge.png"

    window.grid.setFocus()
    window.grid.setCurrentIndex(index)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    qtbot.waitUntil(window.preview.isVisible)
    assert window.preview.title.text() == "café rouge.png"
    assert window.preview.fields["path"].text() == f"{tmp_path}/Urlaub été/café rouge.png"

    opened: list[list[Path]] = []
    revealed: list[Path] = []
    monkeypatch.setattr(selection_commands, "open_files", opened.append)
    monkeypatch.setattr(selection_commands, "reveal", revealed.append)
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    window.commands.reveal.trigger()
    assert [os.fsencode(p) for p in opened[0]] == [os.fsencode(photo)]  # the very bytes on disk
    assert [os.fsencode(p) for p in revealed] == [os.fsencode(photo)]
    assert bytes(actions.file_url(photo).toEncoded()).endswith(b"/caf%E9%20rouge.png")

    # The folder filter offers the folder by its readable name and filters by its own bytes.
    window.library.bridge.refresh_info()
    combo = window.filters.folder
    qtbot.waitUntil(lambda: "Urlaub été" in [combo.itemText(i) for i in range(combo.count())])
    combo.setCurrentIndex([combo.itemText(i) for i in range(combo.count())].index("Urlaub été"))
    assert window.filters.filters().folders == (folder,)
    wait_for_result(qtbot, window, lambda r: [i.path for i in r.items] == [photo])


def test_the_skipped_files_list_reads_well(
    qtbot: QtBot, tiny_library: Library, tmp_path: Path
) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    raw(folder, b"pl\xe4ne.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 40)  # cut short
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\1" * 40)
    render(caption_for_text(RED)).save(folder / "fine.png")
    tiny_library.index([folder])
    failures = LibraryService(tiny_library).failures()

    dialog = FailuresDialog(failures)
    qtbot.addWidget(dialog)
    dialog.show()

    rows = [
        [dialog.tree.topLevelItem(n).text(c) for c in range(3)]
        for n in range(dialog.tree.topLevelItemCount())
    ]
    assert sorted(r[0] for r in rows) == ["broken.jpg", "empty.jpg", "pläne.jpg"]
    assert {r[2] for r in rows} == {str(folder)}  # the folder in its own column
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # alike reasons together
    assert dialog.intro.text().startswith("3 files could not be read: ")
    assert "1 empty file" in dialog.intro.text()


def test_waiting_for_another_lumen_is_said_in_the_status_bar() -> None:
    note = "Handed to lumen watch (pid 12), which is updating this library; waiting for it"
    assert describe_progress(Progress("waiting", note=note)) == note + "…"
