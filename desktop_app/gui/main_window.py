"""The Lumen window: composes the search bar, filters, results, banner and status bar.

Who does what:
- ``SearchPresenter`` (search_presenter.py): the query state and the results model; a new
  query parameter goes into its ``current_query``.
- ``LibraryPresenter`` (library_presenter.py): opening the library, model state, folders,
  indexing, settings.
- ``ResultsView`` (results_view.py): summary, grid, preview pane, selection.
- ``WindowActions`` (actions.py): every command (menus, context menu, shortcuts); a new
  command is made there and connected in ``MainWindow._connect_commands``.
- ``SelectionCommands`` (selection_commands.py): what commands do to the selected files.
- ``LibraryPages`` (library_pages.py): the message page or the results, and the banner.
- ``DownloadFlow`` (download_flow.py): the model download's dialog.
- ``WindowStatusBar`` (status_bar.py): indexing progress, short notes, the model's badge.
- This module: layout, wiring, searching, drag and drop, the saved window state.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.config import Settings
from desktop_app.core.records import readable
from desktop_app.gui import icons
from desktop_app.gui.actions import WindowActions, copy_paths, forget_pasted, pasted_files, reveal
from desktop_app.gui.download_flow import DownloadFlow
from desktop_app.gui.first_run import ModelDownloadDialog
from desktop_app.gui.heat_overlay import wire_heat_map
from desktop_app.gui.library_dialogs import LibraryDialogs
from desktop_app.gui.library_pages import PAGE_RESULTS, LibraryPages
from desktop_app.gui.library_presenter import LibraryPresenter
from desktop_app.gui.preview_faces import wire_faces
from desktop_app.gui.results_model import SORT_RELEVANCE, ResultsModel
from desktop_app.gui.results_view import ResultsView
from desktop_app.gui.search_bar import (
    PICTURE_PLACEHOLDER,
    PLACEHOLDER,
    FilterBar,
    SearchField,
    dropped_paths,
)
from desktop_app.gui.search_presenter import SearchPresenter
from desktop_app.gui.selection_commands import SelectionCommands
from desktop_app.gui.status_bar import WindowStatusBar
from desktop_app.gui.understood_chips import UnderstoodChips
from desktop_app.gui.window_state import WindowState
from desktop_app.gui.workers import LibraryBridge, ThumbnailLoader
from desktop_app.host.protocol import (
    FileFilter,
    Item,
    LibraryStatus,
    ModelState,
    Query,
    QueryResult,
)


class MainWindow(QMainWindow):
    """Type to search, browse the grid, preview, find similar; the library is behind ``bridge``."""

    shown = Signal(float)  # perf_counter() when first painted
    results_shown = Signal(object)  # QueryResult, after the grid shows it

    def __init__(self, settings: Settings, bridge: LibraryBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self._shown_at: float | None = None
        self._closing = False
        self.setWindowTitle("Lumen")
        self.setWindowIcon(icons.icon(icons.APP))
        self.setAcceptDrops(True)
        self.resize(1180, 760)
        self.setMinimumSize(640, 420)

        self.loader = ThumbnailLoader(lambda: bridge.client)
        self.model = ResultsModel(self.loader)
        self.query = SearchPresenter(bridge, self.model, self)
        self.library = LibraryPresenter(settings, bridge, self.query)
        self.dialogs = LibraryDialogs(self, self.library, self.add_folders)
        self.commands = WindowActions(self)
        self._build()
        self.commands.build_menus(self)
        self._connect()
        self._connect_commands()
        self._state = WindowState(settings.data_dir / "gui.ini")
        self._state.restore(self)
        self.pages.show_message("Opening your library…", "", [])

    @property
    def settings(self) -> Settings:
        return self.library.settings

    @property
    def info(self) -> LibraryStatus | None:
        return self.library.info

    @property
    def model_state(self) -> ModelState | None:
        return self.library.model_state

    @property
    def download_dialog(self) -> ModelDownloadDialog | None:
        return self.downloads.dialog

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search = SearchField()
        self.chips = UnderstoodChips()  # issue 21: what the search box understood
        self.filters = FilterBar()
        add = QToolButton()
        add.setDefaultAction(self.commands.add_folder)
        add.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        add.setAutoRaise(True)
        gear = QToolButton()
        gear.setDefaultAction(self.commands.settings)
        gear.setAutoRaise(True)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.search, 1)
        top.addWidget(add)
        top.addWidget(gear)

        self.results = ResultsView(self.model, lambda: self.bridge.client)
        self.grid = self.results.grid
        self.preview = self.results.preview
        self.summary = self.results.summary
        self.splitter = self.results.splitter
        self.no_results = self.results.no_results
        self.pages = LibraryPages(self.results, self.library, self.dialogs, self.query, self.close)
        self.banner = self.pages.banner
        self.message = self.pages.message

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.chips)
        layout.addWidget(self.filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.status = WindowStatusBar()
        self.setStatusBar(self.status)
        self.index_status = self.status.index_status
        self.model_badge = self.status.model_badge
        self.downloads = DownloadFlow(self.library, self)
        self.selection = SelectionCommands(
            self,
            self.results,
            self.commands,
            lambda: self.bridge.client,
            lambda: self.settings,
            self.flash,
        )

    def _connect(self) -> None:
        q = self.query
        lib = self.library
        b = self.bridge
        q.results_ready.connect(self._show_result)
        q.results_ready.connect(lambda r: self.chips.show_understood(r.understood))
        self.chips.removed.connect(q.take_back)
        wire_heat_map(self.preview.heat, self.bridge, self.search.text)  # issue 21
        wire_faces(self.preview.faces, self.bridge)  # issue 23: who is in the photo
        q.results_changed.connect(self._result_changed)
        q.failed.connect(self._query_failed)
        q.busy.connect(self.summary.show_busy)
        lib.status_changed.connect(self._status_changed)
        lib.opened.connect(lambda _info: self.search.setFocus())
        lib.problem.connect(self.dialogs.show_error)
        self.status.follow(b, lib, self.commands.pause)
        b.error.connect(self.dialogs.show_error)

        self.search.textEdited.connect(lambda _text: q.typed())
        self.search.returnPressed.connect(self._search_now)
        self.search.editingFinished.connect(lambda: self.search.remember(self.search.text()))
        self.search.files_dropped.connect(self.handle_dropped)
        self.search.image_pasted.connect(self.paste_image)
        self.filters.filters_changed.connect(q.filters_changed)
        self.filters.sort_changed.connect(self.model.set_sort)
        self.filters.sort_changed.connect(lambda _mode: q.sort_changed())
        self.filters.zoom_changed.connect(self.set_thumbnail_size)
        self.summary.show_more.connect(q.show_more)
        self.summary.clear_similar.connect(self.clear_search)

        self.grid.preview_toggled.connect(self.commands.preview.toggle)
        self.grid.zoom_requested.connect(lambda step: self.zoom(step))
        self.preview.similar_requested.connect(
            lambda p: self.find_similar(p, self.preview.moment)  # a video: the frame shown
        )
        self.preview.reveal_requested.connect(reveal)
        self.preview.close_requested.connect(lambda: self.commands.preview.setChecked(False))
        self.index_status.errors_clicked.connect(self.dialogs.show_failures)

    def _connect_commands(self) -> None:
        a = self.commands
        lib = self.library
        a.add_folder.triggered.connect(self.dialogs.choose_folder)
        a.folders.triggered.connect(self.dialogs.show_folders)
        a.similar_file.triggered.connect(self.choose_similar_file)
        a.paste_image.triggered.connect(self.paste_image)
        a.settings.triggered.connect(self.dialogs.show_settings)
        a.quit.triggered.connect(self.close)
        a.find.triggered.connect(self.focus_search)
        a.clear.triggered.connect(self.clear_search)
        a.copy_path.triggered.connect(lambda: copy_paths(self.selected_paths()))
        a.copy_image.triggered.connect(self.selection.copy_image)
        a.select_all.triggered.connect(self.grid.selectAll)
        a.remove.triggered.connect(self.remove_selected)
        a.find_similar.triggered.connect(self._similar_to_current)
        a.open.triggered.connect(lambda: self.selection.open_selected())
        a.reveal.triggered.connect(self.selection.reveal_current)
        a.preview.toggled.connect(self.set_preview_visible)
        a.zoom_in.triggered.connect(lambda: self.zoom(1))
        a.zoom_out.triggered.connect(lambda: self.zoom(-1))
        a.show_more.triggered.connect(self.query.show_more)
        a.reindex.triggered.connect(lambda: lib.start_indexing())
        a.pause.triggered.connect(lib.toggle_pause)
        a.failures.triggered.connect(self.dialogs.show_failures)
        a.duplicates.triggered.connect(
            # files moved to the Trash leave the index with the rescan
            lambda: self.dialogs.show_duplicates(
                lambda: self.bridge.client, lambda _gone: lib.start_indexing()
            )
        )
        a.people.triggered.connect(lambda: self.dialogs.show_people(self.search_for))
        a.about.triggered.connect(self.dialogs.show_about)

    def search_for(self, text: str) -> None:
        """Search ``text`` as if typed (the People view's "their photos")."""
        self.search.setText(text)
        self.search.textEdited.emit(text)

    # -- QueryInputs, for the search presenter -------------------------------------------

    def query_text(self) -> str:
        return self.search.text()

    def query_filters(self) -> FileFilter:
        return self.filters.filters()

    def cells_in_view(self) -> int:
        return self.grid.cells_in_view()

    # -- pages and library state ----------------------------------------------------------

    def start(self) -> None:
        """Open the library in the background; the window is usable meanwhile."""
        self.library.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.commands.refresh_icons()  # light or dark: icons follow the text colour

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._shown_at is None:
            self._shown_at = time.perf_counter()
            QTimer.singleShot(0, lambda: self.shown.emit(self._shown_at))
        return super().event(event)

    def _status_changed(self, info: LibraryStatus) -> None:
        self.filters.set_folders(tuple(info.folders))
        self.bridge.run(lambda c: c.places(), done=self.filters.place.set_places)
        self.index_status.show_info(info)
        self.pages.show_library(info)

    # -- searching ------------------------------------------------------------------------

    def _search_now(self) -> None:
        self.search.remember(self.search.text())
        self.query.run_query()

    def clear_search(self) -> None:
        self.search.clear()
        self.search.setPlaceholderText(PLACEHOLDER)
        self.query.clear()
        self.focus_search()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def find_similar(self, path: Path, at_s: float | None = None, picture: bool = False) -> None:
        """Replace the results with files that look like ``path`` (indexed or not); a video
        looks from its frame at ``at_s`` seconds when given. ``picture``: a picture the user
        gave (dropped, pasted, chosen): words typed next are added to it.
        """
        self.search.clear()
        self.search.setPlaceholderText(PICTURE_PLACEHOLDER if picture else PLACEHOLDER)
        self.filters.set_sort_mode(SORT_RELEVANCE)
        if self.info and self.info.folders:
            self.pages.set_page(PAGE_RESULTS)
        self.query.find_similar(path, at_s, picture)

    def _show_result(self, result: QueryResult) -> None:
        self.results.show_result(result, self.query.similar_to, self.query.pages(result))
        self.commands.show_more.setEnabled(self.summary.can_show_more)
        text = result.query.text
        self.setWindowTitle(f"“{text}” — Lumen" if text else "Lumen")
        self.results_shown.emit(result)

    def _result_changed(self, result: QueryResult) -> None:
        """Rows of the shown result changed in place (a page came, a file went)."""
        self.summary.show_result(result, self.query.similar_to, self.model.more)
        self.commands.show_more.setEnabled(self.summary.can_show_more)

    def _query_failed(self, query: Query, message: str) -> None:
        self.summary.show_error(message)
        if query.similar_to is not None:
            self.flash(f"Cannot compare {readable(query.similar_to.name)}: {message}", 8000)

    # -- the grid and the selection -------------------------------------------------------

    def current_item(self) -> Item | None:
        return self.results.current_item()

    def selected_items(self) -> list[Item]:
        return self.results.selected_items()

    def selected_paths(self) -> list[Path]:
        return self.results.selected_paths()

    def context_menu_for(self, row: int) -> QMenu:
        """Select ``row`` if it is not already, and build the right-click menu for the selection."""
        return self.selection.context_menu_for(row)

    def _similar_to_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.find_similar(item.path, item.at_s)  # a video hit: from the moment that matched

    def remove_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        if self.dialogs.confirm_forget(paths):
            self.forget(paths)

    def forget(self, paths: list[Path]) -> None:
        """Take ``paths`` out of the index and the results (the files stay on disk)."""
        self.query.forget(
            paths, done=lambda: self.flash(f"Removed {len(paths)} from the index", 4000)
        )

    def set_preview_visible(self, visible: bool) -> None:
        self.results.set_preview_visible(visible)
        self.commands.preview.setChecked(visible)

    def set_thumbnail_size(self, side: int) -> None:
        side = self.grid.set_thumbnail_size(side)
        if self.filters.zoom.value() != side:
            self.filters.zoom.setValue(side)

    def zoom(self, steps: int) -> None:
        self.set_thumbnail_size(self.grid.iconSize().width() + 24 * steps)

    # -- files dropped, pasted or chosen --------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.handle_dropped(paths)

    def handle_dropped(self, paths: list[Path]) -> None:
        """Folders are added (and indexed); a file is searched for similar ones."""
        folders = [p for p in paths if p.is_dir()]
        if folders:
            self.add_folders(folders)
            return
        files = [p for p in paths if p.is_file()]
        if files:
            self.find_similar(files[0], picture=True)

    def paste_image(self) -> None:
        """Find files like the image (or image file) on the clipboard."""
        files = pasted_files(self.settings.data_dir / "pasted")
        if files:
            self.handle_dropped(files)
        else:
            self.flash("The clipboard holds no image", 4000)

    def choose_similar_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Find files similar to…")
        if path:
            self.find_similar(Path(path), picture=True)

    # -- folders, indexing and settings (dialogs; the work is the library presenter's) ----

    def add_folders(self, folders: list[Path]) -> None:
        """Watch ``folders`` and index them now; thumbnails appear as files are found."""
        self.library.add_folders(folders)
        self.pages.set_page(PAGE_RESULTS)

    # -- notes, errors, closing -----------------------------------------------------------

    def flash(self, text: str, msecs: int = 4000) -> None:
        """A short note in the status bar (it never hides the indexing progress)."""
        self.status.flash(text, msecs)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the window's state; stop indexing (its progress is kept) and close the library."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self._state.save(self)
        forget_pasted(self.settings.data_dir / "pasted")
        self.hide()
        self.query.close()
        self.loader.wait(3000)
        self.preview.shutdown()
        self.selection.wait(3000)
        self.bridge.close()
        event.accept()

    def sizeHint(self) -> QSize:
        return QSize(1180, 760)
