"""The window's library side: opening it, the model's state, folders, indexing, settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QStackedWidget, QWidget

from desktop_app.config import Settings
from desktop_app.gui.folders_dialog import FailuresDialog, FoldersDialog
from desktop_app.gui.wording import CHOOSE_WEIGHTS, window_wording
from desktop_app.host.protocol import (
    MODEL_READY,
    MODEL_UNAVAILABLE,
    Failure,
    IndexSummary,
    LibraryStatus,
    ModelState,
    Progress,
)

if TYPE_CHECKING:
    from desktop_app.gui.actions import WindowActions
    from desktop_app.gui.results_model import ResultsModel
    from desktop_app.gui.search_bar import FilterBar, SearchField
    from desktop_app.gui.widgets import Banner, IndexStatus, ModelBadge
    from desktop_app.gui.workers import LibraryBridge

log = logging.getLogger(__name__)

PAGE_MESSAGE, PAGE_RESULTS = 0, 1


class LibraryControls:
    """Mixed into ``MainWindow``: what the window does about the library rather than results."""

    settings: Settings
    bridge: LibraryBridge
    info: LibraryStatus | None
    model_state: ModelState | None
    commands: WindowActions
    model: ResultsModel
    search: SearchField
    filters: FilterBar
    banner: Banner
    index_status: IndexStatus
    model_badge: ModelBadge
    pages: QStackedWidget
    _paused: bool
    _watching: bool
    _refresh: QTimer

    @property
    def _widget(self) -> QWidget:
        """This window, as the parent of its dialogs."""
        return cast("QWidget", self)

    if TYPE_CHECKING:  # provided by MainWindow and QMainWindow

        def run_query(self) -> None: ...
        def refresh(self) -> None: ...
        def files_changed(self, _paths: object = None) -> None: ...
        def flash(self, text: str, msecs: int = 4000) -> None: ...
        def close(self) -> bool: ...
        def _show_message(
            self, heading: str, body: str, buttons: list[Any], hint: str = ""
        ) -> None: ...
        def _show_error(self, title: str, message: str, details: str) -> None: ...

    def _library_ready(self, info: LibraryStatus) -> None:
        self._watching = False
        self._info_changed(info)
        self.bridge.warm_model(info.model or self.settings.model)
        if info.folders:
            self.run_query()
            self.start_indexing()  # pick up changes, and finish what an earlier run left
        self.search.setFocus()

    def _library_failed(self, message: str) -> None:
        self._show_message(
            "Lumen cannot open its library",
            message,
            [("Settings…", self.show_settings), ("Quit", self.close)],
        )

    def _library_died(self, message: str) -> None:
        self.banner.show_message(
            message + " Searching and indexing stopped.", [("Restart it", self.restart_library)]
        )

    def restart_library(self) -> None:
        self.banner.hide()
        self._show_message("Opening your library…", "", [])
        self.bridge.restart()

    def _info_changed(self, info: LibraryStatus) -> None:
        self.info = info
        self.filters.set_folders(tuple(info.folders))
        self.index_status.show_info(info)
        if not info.folders:
            self._show_welcome()
        elif self.pages.currentIndex() == PAGE_MESSAGE:
            self.pages.setCurrentIndex(PAGE_RESULTS)
            self.run_query()

    def _show_welcome(self) -> None:
        self._show_message(
            "Find any photo by describing it",
            "Add a folder of photos or documents. Lumen looks at every picture and page, on "
            "this computer only, so you can search them by what they show: “birthday cake”, "
            "“receipt from the hardware store”, “dog on a beach”.",
            [("Add folder…", self.choose_folder)],
            hint="or drag a folder onto this window",
        )

    def _model_changed(self, state: ModelState) -> None:
        previous = self.model_state
        self.model_state = state
        self.model_badge.set_state(state)
        if state.state == MODEL_UNAVAILABLE:
            self.banner.show_message(
                window_wording(state.message),
                [(CHOOSE_WEIGHTS, self.choose_weights), ("Settings…", self.show_settings)],
            )
        elif state.state == MODEL_READY and (previous is None or previous.state != MODEL_READY):
            result = self.model.result
            if result is not None and not result.semantic:
                self.run_query()  # replace the name-only answer with one by meaning

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self._widget, "Add a folder to Lumen", str(Path.home())
        )
        if path:
            self.add_folders([Path(path)])

    def add_folders(self, folders: list[Path]) -> None:
        """Watch ``folders`` and index them now; thumbnails appear as files are found."""
        self.start_indexing(folders)
        self.flash(f"Adding {', '.join(f.name or str(f) for f in folders)}…", 4000)
        self.pages.setCurrentIndex(PAGE_RESULTS)

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._widget,
            "Model weights",
            str(Path.home()),
            "Weights (*.safetensors *.bin *.pt *.pth)",
        )
        if path:
            self.apply_settings(self.settings.replace(weights=Path(path)))

    def _index_progress(self, progress: Progress) -> None:
        self.index_status.show_progress(progress)
        if progress.phase == "indexing":
            self.files_changed()  # show what was just embedded (the end refreshes once more)

    def _index_finished(self, outcome: IndexSummary) -> None:
        self.index_status.show_finished(outcome, self.info)
        if outcome.embedded or outcome.removed or outcome.new:
            self._refresh.stop()
            self.refresh()
        if outcome.offline_folders:
            names = ", ".join(str(p) for p in outcome.offline_folders)
            self.flash(f"Not reachable (files hidden until it is back): {names}", 10000)
        self._follow_changes(not self._paused)

    def _follow_changes(self, on: bool) -> None:
        """Have the library follow file changes between runs (the core's folder watcher)."""
        if self.bridge.watch and on != self._watching:
            self._watching = on
            self.bridge.run(lambda c: c.set_watching(on), failed=lambda e: log.warning("%s", e))

    def _index_failed(self, message: str) -> None:
        self.index_status.show_finished(None, self.info)
        self.banner.show_message(
            f"Indexing stopped: {window_wording(message)}",
            [
                (CHOOSE_WEIGHTS, self.choose_weights),
                ("Retry", lambda: self.start_indexing()),
            ],
        )

    def start_indexing(self, folders: list[Path] | None = None) -> None:
        """Index ``folders`` (added first) or every folder; resumes a paused library."""
        self._set_paused(False)
        self.bridge.index(folders)

    def toggle_pause(self) -> None:
        """Pause (finished files are kept) or resume indexing."""
        if self._paused:
            self.start_indexing()
        else:
            self._set_paused(True)
            self.bridge.cancel_indexing()

    def _set_paused(self, paused: bool) -> None:
        if paused:
            self._follow_changes(False)
        self._paused = paused
        self.index_status.set_paused(paused)
        self.commands.pause.setText("&Resume Indexing" if paused else "&Pause Indexing")

    def show_failures(self) -> None:
        def show(failures: tuple[Failure, ...]) -> None:
            FailuresDialog(failures, self._widget).exec()

        self.bridge.run(lambda c: c.failures(), done=show)

    def show_folders(self) -> None:
        dialog = FoldersDialog(self._widget)
        if self.info is not None:
            dialog.set_info(self.info)
        self.bridge.info_changed.connect(dialog.set_info)
        dialog.add_requested.connect(self.choose_folder)
        dialog.remove_requested.connect(self.remove_folder)
        dialog.pause_requested.connect(self.set_folder_paused)
        dialog.reindex_requested.connect(lambda: self.start_indexing())
        dialog.exec()
        self.bridge.info_changed.disconnect(dialog.set_info)

    def remove_folder(self, path: Path) -> None:
        answer = QMessageBox.question(
            self._widget,
            "Remove folder",
            f"Stop watching {path}?\n\nIts files leave Lumen's index; on disk they stay untouched.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        resume = self.bridge.indexing
        self.bridge.cancel_indexing()  # removing waits for the writer; do not make it wait long

        def removed(_count: int) -> None:
            self.bridge.refresh_info()
            self.refresh()
            if resume:
                self.start_indexing()

        self.bridge.run(lambda c: c.remove_folder(path), done=removed)

    def set_folder_paused(self, path: Path, paused: bool) -> None:
        """Pause or resume a folder; a run in progress stops for it (one writer) and resumes."""
        resume = self.bridge.indexing
        self.bridge.cancel_indexing()

        def changed(_none: None) -> None:
            self.bridge.refresh_info()
            if resume:
                self.start_indexing()

        self.bridge.run(lambda c: c.set_folder_paused(path, paused), done=changed)

    def show_settings(self) -> None:
        from desktop_app.gui.settings_dialog import SettingsDialog, remember_data_dir

        dialog = SettingsDialog(self.settings, self._widget)
        if dialog.exec():
            if dialog.new_data_dir is not None:
                remember_data_dir(dialog.new_data_dir)
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: Settings) -> None:
        """Save ``settings``; restart the library when the model or device changed."""
        old, self.settings = self.settings, settings
        try:
            settings.save()
        except OSError as exc:
            self._show_error("Settings", f"Cannot save the settings: {exc}", "")
        if settings.thumbnail_size != old.thumbnail_size:
            self.model.forget_thumbnails()
        keys = ("model", "weights", "device", "thumbnail_size")
        if any(getattr(settings, key) != getattr(old, key) for key in keys):
            self.banner.hide()
            self.restart_library()
