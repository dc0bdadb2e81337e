"""First run: empty state, adding a folder, progress in the status bar, a responsive window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton
from pytestqt.qtbot import QtBot

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.gui.library_pages import PAGE_MESSAGE, PAGE_RESULTS
from desktop_app.host.protocol import MODEL_UNAVAILABLE, IndexSummary
from tests.gui.conftest import LoopLatency, WindowFactory, wait_for_result, write_neutral_photos
from tests.support.shapes import Caption, caption_for_text, render


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Caption]:
    """288 photos (72 captions × 4 seeds) for an indexing run that lasts a little while."""
    return write_neutral_photos(tmp_path_factory.mktemp("many") / "Pictures", seeds=(1, 2, 3, 4))


def test_first_run_shows_a_friendly_empty_state(
    qtbot: QtBot,
    windows: WindowFactory,
    photos: dict[Path, Caption],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = windows.open(indexed=False)
    assert window.pages.currentIndex() == PAGE_MESSAGE
    assert "describing" in window.message.heading.text()
    button = next(b for b in window.message.findChildren(QPushButton) if b.text() == "Add folder…")
    folder = next(iter(photos)).parent
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(folder))

    with qtbot.waitSignal(window.bridge.index_finished, timeout=60_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == PAGE_RESULTS
    # After the run the grid is refreshed: every file is now searchable by meaning.
    wait_for_result(
        qtbot,
        window,
        lambda r: r.query.is_recent and len(r.items) == 144 and all(i.indexed for i in r.items),
    )
    qtbot.waitUntil(lambda: window.filters.folder.count() == 2)  # "All folders" and the new one


@pytest.mark.slow
def test_indexing_progress_reaches_the_status_bar_and_the_window_stays_responsive(
    qtbot: QtBot, windows: WindowFactory, many_photos: dict[Path, Caption]
) -> None:
    # As in the app: the library (and torch) live in a host process, the window in this one.
    window = windows.open(indexed=False, process=True)
    labels: list[str] = []
    window.bridge.index_progress.connect(lambda _p: labels.append(window.index_status.label.text()))
    grid_sizes: list[int] = []
    window.bridge.index_progress.connect(lambda _p: grid_sizes.append(window.model.rowCount()))
    latency = LoopLatency(10)
    # how many timer ticks the window had handled when each progress report arrived
    ticks_at_progress: list[int] = []
    window.bridge.index_progress.connect(lambda _p: ticks_at_progress.append(len(latency.gaps)))
    latency.start()
    with qtbot.waitSignal(window.bridge.index_finished, timeout=120_000) as finished:
        window.add_folders([next(iter(many_photos)).parent])
    latency.stop()

    outcome: IndexSummary = finished.args[0]
    assert outcome.embedded == len(many_photos)
    assert any(re.fullmatch(r"Indexing \d+ of 288 · [\d.]+ files/s.*", text) for text in labels)
    assert any(text.startswith("Looking for new and changed files") for text in labels)
    qtbot.waitUntil(lambda: window.index_status.label.text() == "288 files")
    assert not window.index_status.bar.isVisible()
    # Thumbnails showed while the files were still being indexed, not only at the end.
    assert any(size > 0 for size in grid_sizes[:-1])
    # The window kept handling its own events while the host indexed: its timer fired between
    # progress reports, not only once the run was over. (How long the loop may stall is a
    # figure, not a test: `python benchmarks/bench_gui.py --only indexing` prints it.)
    assert len(set(ticks_at_progress)) > 2

    # Searching across the process boundary works, and thumbnails come from the host.
    qtbot.keyClicks(window.search, "a black circle at the bottom")
    wait_for_result(qtbot, window, lambda r: r.query.text == "a black circle at the bottom")
    top = [many_photos[item.path] for item in window.model.items()[:4]]
    assert top == [caption_for_text("a black circle at the bottom")] * 4  # one per seed
    qtbot.waitUntil(lambda: window.model.cached_thumbnails() >= 5)

    # Between runs the library follows the folder: a new photo shows up without re-indexing.
    window.clear_search()
    arrival = next(iter(many_photos)).parent / "just arrived.jpg"
    render(Caption("green", "circle", "top"), (160, 120), seed=77).save(arrival)
    try:
        wait_for_result(
            qtbot,
            window,
            lambda r: r.query.is_recent and any(i.path == arrival and i.indexed for i in r.items),
            timeout=60_000,
        )
    finally:
        arrival.unlink()  # the folder is shared with the tests below


def test_searching_while_indexing_works_and_pause_keeps_progress(
    qtbot: QtBot, windows: WindowFactory, many_photos: dict[Path, Caption]
) -> None:
    window = windows.open(indexed=False)
    with qtbot.waitSignal(
        window.bridge.index_progress,
        timeout=60_000,
        check_params_cb=lambda p: p.phase == "indexing" and p.done > 0,
    ):
        window.add_folders([next(iter(many_photos)).parent])
    window.search.setText("a red square")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    wait_for_result(qtbot, window, lambda r: r.query.text == "a red square")

    with qtbot.waitSignal(window.bridge.index_finished, timeout=60_000):
        qtbot.mouseClick(window.index_status.pause, Qt.MouseButton.LeftButton)
    assert window.index_status.label.text() == "Indexing paused"
    status = windows.libraries[-1].status()
    assert status.indexed + status.pending == len(many_photos)

    with qtbot.waitSignal(window.bridge.index_finished, timeout=120_000):
        qtbot.mouseClick(window.index_status.pause, Qt.MouseButton.LeftButton)  # resume
    assert windows.libraries[-1].status().indexed == len(many_photos)


def test_closing_mid_indexing_keeps_what_was_done(
    qtbot: QtBot, windows: WindowFactory, many_photos: dict[Path, Caption]
) -> None:
    window = windows.open(indexed=False)
    with qtbot.waitSignal(
        window.bridge.index_progress,
        timeout=60_000,
        check_params_cb=lambda p: p.phase == "indexing",
    ):
        window.add_folders([next(iter(many_photos)).parent])
    window.close()
    library = windows.libraries[-1]
    status = library.status()
    assert status.indexed > 0
    assert status.indexed + status.pending == len(many_photos)
    summary = library.index()  # the next start resumes where this one stopped
    assert summary.embedded == status.pending
    assert library.status().indexed == len(many_photos)


def test_a_missing_model_is_explained_and_names_still_match(
    qtbot: QtBot, windows: WindowFactory, tiny_embedder: Embedder
) -> None:
    def missing(_settings: Settings) -> Embedder:
        raise ModelUnavailableError(
            "Lumen needs the weights of the model lumen-tiny; pass --weights FILE."
        )

    # the weights file is gone, so neither the model nor its torch-free text tower can load
    window = windows.open(loader=missing, weights=windows.tmp_path / "deleted.safetensors")
    assert window.model_state is not None and window.model_state.state == MODEL_UNAVAILABLE
    assert window.banner.isVisibleTo(window)
    shown = window.banner.message.text()
    assert "choose it with “Choose weights file…”" in shown and "--weights" not in shown
    assert any(b.text() == "Choose weights file…" for b in window.banner.findChildren(QPushButton))
    assert window.model_badge.text().endswith("Model unavailable")

    window.search.setText("img_0001")
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    result = wait_for_result(qtbot, window, lambda r: r.query.text == "img_0001")
    assert [item.name for item in result.items] == ["img_0001.jpg"]
    assert not result.semantic and result.notice
