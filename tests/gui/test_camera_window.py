"""Videos and RAW photos in the window: the moment that matched on the thumbnail and in the
preview, the preview's frame strip, Open at the moment, the RAW filter, which file of a RAW+JPEG
shot opens.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from pytestqt.qtbot import QtBot

from desktop_app.core.records import RAW
from desktop_app.gui import selection_commands
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results_model import PixmapRole
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.host.protocol import Item
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.raw import write_dng
from tests.support.shapes import COLOURS, Caption, caption_for_text, render
from tests.support.videos import write_shape_video

RED = caption_for_text("a red circle on the left")
BLUE = caption_for_text("a blue square on the right")
YELLOW = caption_for_text("a yellow square on the left")


def _mostly(picture: QPixmap | QImage, colour: str) -> bool:
    """Whether ``colour`` is the commonest of the shapes' colours in the picture."""
    image = (picture.toImage() if isinstance(picture, QPixmap) else picture).convertToFormat(
        QImage.Format.Format_RGB888
    )
    image = image.scaled(24, 24)
    row_bytes = image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, row_bytes * 24).reshape(24, row_bytes)
    pixels = raw[:, : 24 * 3].reshape(24, 24, 3).astype(np.int32)
    counts = {
        name: int((np.abs(pixels - np.array(rgb)).sum(axis=-1) < 90).sum())
        for name, rgb in COLOURS.items()
    }
    return max(counts, key=lambda n: counts[n]) == colour and counts[colour] > 0


def _camera_roll(window: MainWindow, windows: WindowFactory, folder: Path) -> None:
    """A party video (red scene, then blue) and one shot kept as RAW + JPEG, indexed."""
    write_shape_video(folder / "party.mp4", [(RED, 4), (BLUE, 4)])
    shot = render(YELLOW, (320, 240), seed=6)
    write_dng(folder / "dsc_0042.nef", shot)  # lower-cased by the computer it was copied with
    shot.save(folder / "DSC_0042.JPG", quality=90)
    summary = windows.libraries[-1].index([folder])
    assert summary.failed == 0, summary.failures


def _search(qtbot: QtBot, window: MainWindow, kind: str, text: str) -> list[Item]:
    window.filters.kind.setCurrentIndex(window.filters.kind.findData(kind))
    window.search.clear()
    qtbot.keyClicks(window.search, text)  # typing leaves "similar to" for a text search
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    result = wait_for_result(
        qtbot,
        window,
        lambda r: r.query.text == text and r.query.filters.kinds == frozenset({kind}),
    )
    return list(result.items)


def _fake_player(folder: Path, name: str) -> Path:
    """An executable called ``name`` that writes the arguments it was started with."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{folder / (name + ".args")}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder / (name + ".args")


@pytest.mark.skipif(os.name != "posix", reason="the fake player is a shell script")
def test_a_video_hit_shows_and_plays_the_moment_that_matched(
    qtbot: QtBot,
    windows: WindowFactory,
    photos: dict[Path, Caption],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    played = _fake_player(tmp_path / "bin", "mpv")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    window = windows.open()
    _camera_roll(window, windows, tmp_path / "Camera")

    [hit] = _search(qtbot, window, "video", "a blue square on the right")
    assert hit.name == "party.mp4"
    assert hit.at_s is not None and 4.0 <= hit.at_s < 8.0  # in the blue scene
    index = window.model.index(0)
    tooltip = str(window.model.data(index, Qt.ItemDataRole.ToolTipRole))
    assert "Matched at 0:0" in tooltip and "of 0:08" in tooltip
    # Its thumbnail is the frame that matched (blue), not the video's first frames (red).
    qtbot.waitUntil(lambda: window.model.data(index, PixmapRole) is not None, timeout=15_000)
    assert _mostly(window.model.data(index, PixmapRole), "blue")

    window.grid.setFocus()
    window.grid.setCurrentIndex(index)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    preview = window.preview
    qtbot.waitUntil(lambda: preview.strip.count() == 8, timeout=15_000)
    assert preview.strip.isVisible()
    times = [preview.strip.item(i).text() for i in range(8)]
    assert times[0] == "0:00" and times == sorted(times) and times[-1] >= "0:06"
    assert preview.fields["length"].text() == "0:08"
    assert preview.fields["moment"].text().endswith("(matched)")

    def shown(colour: str) -> bool:
        pixmap = preview.picture.pixmap()
        return pixmap is not None and not pixmap.isNull() and _mostly(pixmap, colour)

    qtbot.waitUntil(lambda: shown("blue"), timeout=15_000)
    first = preview.strip.item(0)  # the start of the party: the red scene
    preview.strip.itemClicked.emit(first)
    qtbot.waitUntil(lambda: shown("red"), timeout=15_000)
    assert preview.fields["moment"].text() == "0:00"

    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # Open: play from the moment that matched
    qtbot.waitUntil(played.exists, timeout=10_000)
    qtbot.waitUntil(lambda: played.read_text().count("\n") == 3)
    start, _dashes, path = played.read_text().splitlines()
    assert path == str(hit.path)
    assert float(start.removeprefix("--start=")) == pytest.approx(hit.at_s, abs=0.001)

    def similar_photos(at_s: float) -> list[Caption]:
        wait_for_result(qtbot, window, lambda r: r.query.similar_at == at_s)
        window.filters.kind.setCurrentIndex(window.filters.kind.findData("image"))
        result = wait_for_result(
            qtbot,
            window,
            lambda r: r.query.similar_at == at_s and r.query.filters.kinds == {"image"},
        )
        assert result.query.similar_to == hit.path
        assert f"like <b>party.mp4</b> at 0:0{int(at_s)}" in window.summary.label.text()
        return [photos[item.path] for item in result.items[:2]]

    # Find similar from the frame shown in the preview (the red start): photos of that scene.
    window.preview.similar_requested.emit(hit.path)
    assert similar_photos(0.0) == [RED, RED]
    # Find similar on the video hit in the grid: from its matched moment, the blue scene.
    [hit] = _search(qtbot, window, "video", "a blue square on the right")
    assert hit.at_s is not None
    window.grid.setCurrentIndex(window.model.index(0))
    window.commands.find_similar.trigger()
    assert similar_photos(hit.at_s) == [BLUE, BLUE]


def test_the_raw_filter_and_the_setting_for_which_file_of_a_shot_opens(
    qtbot: QtBot, windows: WindowFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[list[Path]] = []
    monkeypatch.setattr(selection_commands, "open_files", opened.append)
    window = windows.open()
    camera = tmp_path / "Camera"
    _camera_roll(window, windows, camera)
    assert window.filters.kind.itemText(window.filters.kind.findData(RAW)) == "RAW photos"

    [hit] = _search(qtbot, window, RAW, "a yellow square on the left")  # the RAW alone
    assert hit.name == "dsc_0042.nef"
    assert [p.name for p in hit.companions] == ["DSC_0042.JPG"]
    tooltip = str(window.model.data(window.model.index(0), Qt.ItemDataRole.ToolTipRole))
    assert "Same shot: DSC_0042.JPG" in tooltip

    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.preview.fields["shot"].text() == "DSC_0042.JPG"
    assert not window.preview.strip.isVisible()  # a photo has no frames

    qtbot.keyClick(window.grid, Qt.Key.Key_Return)  # by default, the JPEG opens
    assert opened == [[camera / "DSC_0042.JPG"]]

    dialog = SettingsDialog(window.settings)
    assert not dialog.open_raw.isChecked()
    dialog.open_raw.setChecked(True)
    window.library.apply_settings(dialog.settings())
    assert window.settings.open_raw
    qtbot.keyClick(window.grid, Qt.Key.Key_Return)
    assert opened[-1] == [camera / "dsc_0042.nef"]
    window.preview.open_requested.emit(hit.path)  # the preview's Open button does the same
    assert opened[-1] == [camera / "dsc_0042.nef"]
