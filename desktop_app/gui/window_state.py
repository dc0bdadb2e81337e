"""What the window remembers between runs: geometry, splitter, thumbnail size, preview, history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from desktop_app.gui.grid import DEFAULT_ICON

if TYPE_CHECKING:
    from desktop_app.gui.main_window import MainWindow


class WindowState:
    """The window's saved state, in an INI file beside the library."""

    def __init__(self, path: Path) -> None:
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    def save(self, window: MainWindow) -> None:
        state = self._settings
        state.setValue("geometry", window.saveGeometry())
        state.setValue("splitter", window.splitter.saveState())
        state.setValue("thumbnail_size", window.grid.iconSize().width())
        state.setValue("preview", window.preview.isVisible())
        state.setValue("history", window.search.history)
        state.sync()

    def restore(self, window: MainWindow) -> None:
        state = self._settings
        geometry = state.value("geometry")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        splitter = state.value("splitter")
        if isinstance(splitter, QByteArray):
            window.splitter.restoreState(splitter)
        side = int(state.value("thumbnail_size", DEFAULT_ICON))  # type: ignore[call-overload]
        window.set_thumbnail_size(side)
        window.filters.zoom.setValue(window.grid.iconSize().width())
        history = state.value("history") or []
        window.search.history = [
            str(h) for h in (history if isinstance(history, list) else [history])
        ]
        if str(state.value("preview", "false")).lower() == "true":
            window.set_preview_visible(True)
