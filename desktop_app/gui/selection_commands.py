"""What the commands do to the files selected in the results: open, reveal, copy, right-click."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop_app.config import Settings
from desktop_app.core.records import file_to_open
from desktop_app.gui.actions import WindowActions, open_at_page, open_at_time, open_files, reveal
from desktop_app.gui.latest_loader import LatestLoader, Picture, picture
from desktop_app.gui.results_view import ResultsView
from desktop_app.gui.workers import Fetch
from desktop_app.host.protocol import Item


class SelectionCommands(QObject):
    """Acts on ``results``' selection and preview; ``settings`` says which file of a shot opens,
    ``flash`` shows a short note, ``fetch`` gives the library's client (for a full-size image).
    """

    def __init__(
        self,
        window: QMainWindow,
        results: ResultsView,
        actions: WindowActions,
        fetch: Fetch,
        settings: Callable[[], Settings],
        flash: Callable[[str, int], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self.results = results
        self._actions = actions
        self._settings = settings
        self._flash = flash
        self._copier = LatestLoader(fetch)
        self._copier.loaded.connect(self._image_for_clipboard)
        results.grid.customContextMenuRequested.connect(self._context_menu)
        results.grid.open_requested.connect(lambda: self.open_selected())
        results.preview.open_requested.connect(lambda _p: self._open_previewed())

    def open_selected(self) -> None:
        """Open the selected files."""
        self.open_items(self.results.selected_items())

    def _open_previewed(self) -> None:
        preview = self.results.preview
        item = preview.item
        if item is not None:
            self.open_items([item], at_s=preview.moment)

    def open_items(self, items: list[Item], at_s: float | None = None) -> None:
        """Open each item: the file of its shot the settings prefer (RAW or JPEG), a PDF at the
        page that matched, a video at the moment that matched (``at_s`` instead, when given),
        where the installed viewer or player allows; else with the default application.
        """
        rest: list[Path] = []
        for item in items:
            path = file_to_open(item.path, item.companions, self._settings().open_raw)
            if path == item.path and item.kind == "video":
                if open_at_time(path, at_s if at_s is not None else item.at_s):
                    continue
            elif path == item.path and open_at_page(path, item.page):
                continue
            rest.append(path)
        if rest:
            open_files(rest)

    def context_menu_for(self, row: int) -> QMenu:
        """Select ``row`` if it is not already, and build the right-click menu for the selection."""
        self.results.select_row(row)
        items = self.results.selected_items()
        single = len(items) == 1
        return self._actions.context_menu(
            self._window, single=single, image=single and items[0].kind == "image"
        )

    def _context_menu(self, position: QPoint) -> None:
        grid = self.results.grid
        index = grid.indexAt(position)
        if index.isValid():
            self.context_menu_for(index.row()).exec(grid.viewport().mapToGlobal(position))

    def reveal_current(self) -> None:
        """Show the current file in the file manager."""
        item = self.results.current_item()
        if item is not None:
            reveal(item.path)

    def copy_image(self) -> None:
        """Put the current image, full size, on the clipboard."""
        item = self.results.current_item()
        if item is not None and item.kind == "image":
            self._copier.load(picture(item.path, item.kind, 4096))

    def _image_for_clipboard(self, _ticket: int, answer: Picture) -> None:
        image, details = answer.image, answer.details
        if image.isNull():
            self._flash(f"Cannot copy the image: {details.get('error', '')}", 6000)
        else:
            QGuiApplication.clipboard().setImage(image)
            self._flash("Image copied", 3000)

    def wait(self, msecs: int) -> None:
        """Wait up to ``msecs`` for an image being fetched for the clipboard (on closing)."""
        self._copier.wait(msecs)
