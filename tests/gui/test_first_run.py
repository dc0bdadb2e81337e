"""The window's first run: the model's download explained, followed and cancellable, a weights
file chosen instead; and a window closed before its library opened quits cleanly."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.models import ModelSpec
from desktop_app.gui.first_run import ModelDownloadDialog
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.workers import LibraryBridge
from desktop_app.host.client import LocalBackend
from desktop_app.host.protocol import MODEL_READY, MODEL_UNAVAILABLE, DownloadProgress
from desktop_app.host.service import LibraryService
from tests.gui.conftest import tiny_settings_for
from tests.support.fake_hub import closed_port, fake_hub


def test_a_window_closed_while_its_library_opens_leaves_nothing_behind(
    qtbot: QtBot, tmp_path: Path, tiny_embedder: Embedder
) -> None:
    # The library finishes opening only after the window was closed (as when a user closes it
    # at once, or `lumen-gui --exit-after shown`): its late "ready" must not bring up anything
    # that keeps the application running.
    settings = tiny_settings_for(tmp_path / "library", tmp_path / "models")
    library = Library.open(settings, embedder_loader=lambda _s: tiny_embedder)
    gate = threading.Event()

    def open_service() -> LibraryService:
        gate.wait(30)
        return LibraryService(library)

    bridge = LibraryBridge(lambda sink: LocalBackend(open_service, sink, close_library=False))
    window = MainWindow(settings, bridge)
    qtbot.addWidget(window)
    window.show()
    window.start()
    threading.Timer(0.3, gate.set).start()  # opens while the window is closing
    with qtbot.assertNotEmitted(bridge.ready), qtbot.assertNotEmitted(bridge.error, wait=500):
        window.close()
    assert gate.is_set()
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == []
    library.close()


HUB_MODEL = "lumen-tiny/hub"  # the tiny model, as if the model hub had it


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """The network allowed (tests are offline otherwise) and the tiny model on the hub."""
    import huggingface_hub.constants

    from desktop_app.core.embedding import weights

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    known = weights._hf_repo_and_file

    def repo_and_file(spec: ModelSpec) -> tuple[str, str] | None:
        if spec.key == HUB_MODEL:
            return "lumen/tiny", "open_clip_model.safetensors"
        return known(spec)

    monkeypatch.setattr(weights, "_hf_repo_and_file", repo_and_file)


def first_run_window(qtbot: QtBot, tmp_path: Path, data: str = "library") -> MainWindow:
    """A window over a new library whose model is not on this computer yet.

    The library runs in this process (``lumen-gui --in-process``), through the real loader.
    """
    settings = Settings(
        data_dir=tmp_path / data,
        model=HUB_MODEL,
        model_cache_dir=tmp_path / "models",
        device="cpu",
        batch_size=16,
    )
    holder: list[MainWindow] = []
    bridge = LibraryBridge(
        lambda sink: LocalBackend.for_settings(holder[0].settings if holder else settings, sink)
    )
    window = MainWindow(settings, bridge)
    holder.append(window)
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def dialog_text(dialog: ModelDownloadDialog) -> str:
    return " ".join(label.text() for label in dialog.findChildren(QLabel))


def banner_buttons(window: MainWindow) -> list[str]:
    return [b.text() for b in window.banner.findChildren(QPushButton) if b.isVisibleTo(window)]


def weights_in(cache: Path) -> list[Path]:
    """Weights files in the model cache (its snapshot links left out)."""
    found = cache.rglob("*")
    return [p for p in found if p.is_file() and not p.is_symlink() and p.stat().st_size > 100_000]


def test_first_run_downloads_the_model_with_progress_then_works_offline(
    qtbot: QtBot, tmp_path: Path, tiny_weights: Path, online: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = tiny_weights.read_bytes()
    reports: list[DownloadProgress] = []
    with fake_hub(payload, chunk_delay_s=0.01) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        window = first_run_window(qtbot, tmp_path)
        window.library.download.connect(reports.append)
        qtbot.waitUntil(lambda: window.download_dialog is not None, timeout=60_000)
        dialog = window.download_dialog
        assert dialog is not None and dialog.isVisible()
        text = dialog_text(dialog)
        # What, how big, where it goes; and the window's own control, not the command line's.
        assert HUB_MODEL in text and f"{round(len(payload) / 1e6)} MB" in text
        assert str(tmp_path / "models") in text and "without a network" in text
        assert dialog.choose.text() == "Choose weights file…" and "--weights" not in text
        qtbot.waitUntil(
            lambda: window.model_state is not None and window.model_state.state == MODEL_READY,
            timeout=60_000,
        )
    assert window.download_dialog is None  # closed by itself when the download finished
    assert not window.banner.isVisibleTo(window)
    moving = [r.done_bytes for r in reports if not r.finished]
    assert len(moving) >= 3 and moving == sorted(moving) and reports[-1].finished
    window.close()

    # From now on no network is needed: a second library finds the model in the cache.
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    again = first_run_window(qtbot, tmp_path, "second library")
    qtbot.waitUntil(
        lambda: again.model_state is not None and again.model_state.state == MODEL_READY,
        timeout=60_000,
    )
    assert again.download_dialog is None and not again.banner.isVisibleTo(again)
    again.close()


def test_cancel_stops_the_download_says_so_and_try_again_downloads_it(
    qtbot: QtBot, tmp_path: Path, tiny_weights: Path, online: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = tiny_weights.read_bytes()
    with fake_hub(payload, chunk_delay_s=0.03) as slow:  # about 3 s
        monkeypatch.setenv("HF_ENDPOINT", slow.endpoint)
        window = first_run_window(qtbot, tmp_path)
        qtbot.waitUntil(lambda: window.download_dialog is not None, timeout=60_000)
        dialog = window.download_dialog
        assert dialog is not None
        dialog.cancel.click()
        assert not dialog.isVisible()
        qtbot.waitUntil(
            lambda: (
                window.model_state is not None and window.model_state.state == MODEL_UNAVAILABLE
            ),
            timeout=30_000,
        )
    shown = window.banner.message.text()
    assert "was cancelled" in shown and "--weights" not in shown
    assert banner_buttons(window) == ["Try again", "Choose weights file…", "Settings…"]
    assert window.download_dialog is None  # no late report brought it back
    assert weights_in(tmp_path / "models") == []  # nothing half-downloaded left behind
    # Searching still works, by file name.
    assert window.model_badge.text().endswith("Model unavailable")

    with fake_hub(payload) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        button = next(b for b in window.banner.findChildren(QPushButton) if b.text() == "Try again")
        button.click()
        qtbot.waitUntil(
            lambda: window.model_state is not None and window.model_state.state == MODEL_READY,
            timeout=60_000,
        )
    assert not window.banner.isVisibleTo(window) and window.download_dialog is None
    assert len(weights_in(tmp_path / "models")) == 1
    window.close()


def test_a_weights_file_chosen_in_the_dialog_replaces_the_download(
    qtbot: QtBot, tmp_path: Path, tiny_weights: Path, online: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tiny_weights), ""))
    with fake_hub(tiny_weights.read_bytes(), chunk_delay_s=0.03) as slow:
        monkeypatch.setenv("HF_ENDPOINT", slow.endpoint)
        window = first_run_window(qtbot, tmp_path)
        qtbot.waitUntil(lambda: window.download_dialog is not None, timeout=60_000)
        dialog = window.download_dialog
        assert dialog is not None
        dialog.choose.click()
        assert not dialog.isVisible()
        qtbot.waitUntil(
            lambda: window.model_state is not None and window.model_state.state == MODEL_READY,
            timeout=60_000,
        )
    assert window.settings.weights == tiny_weights
    assert Settings.load(tmp_path / "library").weights == tiny_weights  # kept for next time
    assert weights_in(tmp_path / "models") == []  # the download stopped
    assert not window.banner.isVisibleTo(window)
    window.close()


def test_offline_the_window_says_what_to_do(
    qtbot: QtBot, tmp_path: Path, online: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    window = first_run_window(qtbot, tmp_path)
    qtbot.waitUntil(
        lambda: window.model_state is not None and window.model_state.state == MODEL_UNAVAILABLE,
        timeout=60_000,
    )
    assert window.download_dialog is None  # nothing to follow
    shown = window.banner.message.text()
    assert "connect to the internet and press “Try again”" in shown
    assert "choose it with “Choose weights file…”" in shown and "--weights" not in shown
    assert banner_buttons(window) == ["Try again", "Choose weights file…", "Settings…"]
    window.close()


def test_the_dialog_counts_megabytes_and_escape_cancels(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ModelDownloadDialog("ViT-B-32/laion2b_s34b_b79k", 605, tmp_path / "models")
    qtbot.addWidget(dialog)
    dialog.show()
    assert "605 MB" in dialog_text(dialog)
    dialog.show_progress(DownloadProgress("repo/file", 151_250_000, 605_000_000))
    assert dialog.bar.value() == 250 and dialog.status.text() == "151 of 605 MB"
    with qtbot.waitSignal(dialog.cancel_requested):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
