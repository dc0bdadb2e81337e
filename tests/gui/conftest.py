"""GUI fixtures: photos with meaningless names, a pre-indexed library, and a window over it."""

from __future__ import annotations

import dataclasses
import gc
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QObject, QTimer
from pytestqt.qtbot import QtBot

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.workers import LibraryBridge
from desktop_app.host.client import LocalBackend, ProcessBackend
from desktop_app.host.protocol import MODEL_LOADING, QueryResult
from desktop_app.host.service import LibraryService
from tests.support.shapes import Caption, all_captions, render

SEEDS = (101, 102)


def write_neutral_photos(folder: Path, seeds: tuple[int, ...] = SEEDS) -> dict[Path, Caption]:
    """One JPEG per caption and seed, named img_0000.jpg…: only their pixels say what they show."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[Path, Caption] = {}
    for number, (caption, seed) in enumerate((c, s) for c in all_captions() for s in seeds):
        path = folder / f"img_{number:04d}.jpg"
        render(caption, (160, 120), seed=seed).save(path, quality=90)
        written[path] = caption
    return written


@pytest.fixture(autouse=True)
def _frozen_heap() -> None:
    """Keep what earlier tests and torch left in this process out of full GC passes.

    The app freezes its (small) heap once its window is up; a test process holds torch and
    everything before it, and one full collection of that takes 100-500 ms, which would be
    charged to the window's event loop.
    """
    gc.freeze()


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Caption]:
    """144 captioned photos (72 captions × 2 seeds) in one folder, shared by the GUI tests."""
    return write_neutral_photos(tmp_path_factory.mktemp("photos") / "Photos")


@pytest.fixture(scope="session")
def indexed_data(
    photos: dict[Path, Caption], tiny_embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A data dir holding the photos indexed with the tiny model (copied by each test)."""
    data = tmp_path_factory.mktemp("indexed") / "library"
    settings = tiny_settings_for(data, tmp_path_factory.mktemp("models"))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([next(iter(photos)).parent])
    return data


def tiny_settings_for(data_dir: Path, cache: Path) -> Settings:
    from tests.conftest import TINY_WEIGHTS

    return Settings(
        data_dir=data_dir,
        model="lumen-tiny",
        weights=TINY_WEIGHTS,
        model_cache_dir=cache,
        device="cpu",
        batch_size=16,
    )


class WindowFactory:
    """Opens windows over libraries in temp dirs; closes them (before the libraries) at the end."""

    def __init__(self, qtbot: QtBot, tmp_path: Path, embedder: Embedder, indexed: Path) -> None:
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self.embedder = embedder
        self.indexed = indexed
        self.libraries: list[Library] = []
        self.windows: list[MainWindow] = []

    def open(
        self,
        *,
        indexed: bool = True,
        loader: Callable[[Settings], Embedder] | None = None,
        process: bool = False,
        weights: Path | None = None,
    ) -> MainWindow:
        """A window over a copy of the indexed library (or an empty one).

        ``process``: the library runs in a host process, as in the app (slower to start: the
        host imports torch); else in this process, sharing the session's loaded model.
        ``weights``: the weights file the settings name instead of the tiny model's.
        """
        data = self.tmp_path / f"library{len(self.windows)}"
        if indexed:
            shutil.copytree(self.indexed, data)
        settings = tiny_settings_for(data, self.tmp_path / "models")
        if weights is not None:
            settings = dataclasses.replace(settings, weights=weights)
        bridge: LibraryBridge
        if process:
            bridge = LibraryBridge(lambda sink: ProcessBackend(settings, sink), watch=True)
        else:
            library = Library.open(settings, embedder_loader=loader or (lambda _s: self.embedder))
            self.libraries.append(library)
            bridge = LibraryBridge(
                lambda sink: LocalBackend(
                    lambda: LibraryService(library), sink, close_library=False
                )
            )
        window = MainWindow(settings, bridge)
        self.qtbot.addWidget(window)
        self.windows.append(window)
        window.show()
        window.start()
        self.qtbot.waitUntil(lambda: bridge.is_ready, timeout=60_000)
        self.qtbot.waitUntil(
            lambda: window.model_state is not None and window.model_state.state != MODEL_LOADING,
            timeout=90_000 if process else 20_000,
        )
        return window

    def close(self) -> None:
        for window in self.windows:  # pytest-qt has closed them already, unless a test failed early
            if shiboken6.isValid(window):
                window.close()
        for library in self.libraries:
            library.close()


@pytest.fixture
def windows(
    qtbot: QtBot, tmp_path: Path, tiny_embedder: Embedder, indexed_data: Path
) -> Iterator[WindowFactory]:
    factory = WindowFactory(qtbot, tmp_path, tiny_embedder, indexed_data)
    yield factory
    factory.close()


def scroll_to_the_end(window: MainWindow) -> None:
    """Scroll the results grid to its last row (where it asks for the next page)."""
    bar = window.grid.verticalScrollBar()
    bar.setValue(bar.maximum())


def wait_for_result(
    qtbot: QtBot, window: MainWindow, accept: Callable[[QueryResult], bool], timeout: int = 15_000
) -> QueryResult:
    """Wait until the grid shows a result that ``accept`` likes; return it."""
    seen: list[QueryResult] = []

    def check() -> bool:
        result = window.model.result
        if result is not None and accept(result):
            seen.append(result)
            return True
        return False

    qtbot.waitUntil(check, timeout=timeout)
    return seen[-1]


class LoopLatency(QObject):
    """Measures how late a repeating timer fires: the longest the event loop was blocked."""

    def __init__(self, interval_ms: int = 10) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last: float | None = None

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(max(0.0, now - self._last - self.interval))
        self._last = now

    @property
    def worst_ms(self) -> float:
        return 1000 * max(self.gaps, default=0.0)

    def percentile_ms(self, q: float) -> float:
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]
