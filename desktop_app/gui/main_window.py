"""The Lumen window: search bar, filters, results grid, preview, banner and status bar."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QPoint, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import __version__
from desktop_app.config import Settings
from desktop_app.gui import icons
from desktop_app.gui.actions import (
    WindowActions,
    copy_paths,
    forget_pasted,
    open_at_page,
    open_files,
    pasted_files,
    reveal,
)
from desktop_app.gui.grid import DEFAULT_ICON, ResultsGrid
from desktop_app.gui.library_controls import PAGE_MESSAGE, PAGE_RESULTS, LibraryControls
from desktop_app.gui.preview import PreviewPane
from desktop_app.gui.results_model import SORT_RELEVANCE, ResultsModel
from desktop_app.gui.search_bar import FilterBar, SearchField, dropped_paths
from desktop_app.gui.summary import ResultsSummary
from desktop_app.gui.widgets import Banner, IndexStatus, MessagePage, ModelBadge
from desktop_app.gui.workers import LibraryBridge, PreviewLoader, ThumbnailLoader
from desktop_app.host.protocol import (
    Item,
    LibraryStatus,
    ModelState,
    Query,
    QueryResult,
)

log = logging.getLogger(__name__)

DEBOUNCE_MS = 180
REFRESH_MS = 1500  # while indexing, the current query is re-run at most this often
SEARCH_LIMIT = 200
RECENT_LIMIT = 20_000  # an empty query shows this many files, newest first


class MainWindow(LibraryControls, QMainWindow):
    """Type to search, browse the grid, preview, find similar; the library is behind ``bridge``."""

    shown = Signal(float)  # perf_counter() when first painted
    results_shown = Signal(object)  # QueryResult, after the grid shows it

    def __init__(self, settings: Settings, bridge: LibraryBridge) -> None:
        super().__init__()
        self.settings = settings
        self.bridge = bridge
        self.info: LibraryStatus | None = None
        self.model_state: ModelState | None = None
        self._similar_to: Path | None = None
        self._show_all = False
        self._limit = SEARCH_LIMIT
        self._last_query: Query | None = None
        self._shown_at: float | None = None
        self._paused = False
        self._watching = False
        self._closing = False
        self._refresh_pending = False
        self.setWindowTitle("Lumen")
        self.setWindowIcon(icons.icon(icons.APP))
        self.setAcceptDrops(True)
        self.resize(1180, 760)
        self.setMinimumSize(640, 420)

        self.loader = ThumbnailLoader(lambda: bridge.client)
        self.model = ResultsModel(self.loader)
        self.commands = WindowActions(self)
        self._build()
        self.commands.build_menus(self)
        self._connect()
        self._state = QSettings(str(settings.data_dir / "gui.ini"), QSettings.Format.IniFormat)
        self._restore_state()
        self._show_message("Opening your library…", "", [])

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search = SearchField()
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

        self.grid = ResultsGrid()
        self.grid.setModel(self.model)
        self.no_results = QLabel(self.grid.viewport())
        self.no_results.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_results.setWordWrap(True)
        self.no_results.hide()
        self.preview = PreviewPane(lambda: self.bridge.client)
        self.preview.hide()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.summary = ResultsSummary()
        self.banner = Banner()

        results = QWidget()
        column = QVBoxLayout(results)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addWidget(self.summary)
        column.addWidget(self.splitter, 1)
        self.message = MessagePage()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(results)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 4)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.index_status = IndexStatus()
        self.model_badge = ModelBadge()
        self.statusBar().addWidget(self.index_status, 1)
        self._flash = QLabel()
        self._flash_timer = QTimer(self, singleShot=True)
        self._flash_timer.timeout.connect(self._flash.clear)
        self.statusBar().addPermanentWidget(self._flash)
        self.statusBar().addPermanentWidget(self.model_badge)
        self.statusBar().setSizeGripEnabled(True)

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._busy = QTimer(self, singleShot=True, interval=300)
        self._copier = PreviewLoader(lambda: self.bridge.client)

    def _connect(self) -> None:
        a = self.commands
        b = self.bridge
        b.ready.connect(self._library_ready)
        b.fatal.connect(self._library_failed)
        b.died.connect(self._library_died)
        b.info_changed.connect(self._info_changed)
        b.files_changed.connect(self.files_changed)
        b.results.connect(self._show_result)
        b.query_failed.connect(self._query_failed)
        b.model_state.connect(self._model_changed)
        b.index_started.connect(self.index_status.show_started)
        b.index_progress.connect(self._index_progress)
        b.index_finished.connect(self._index_finished)
        b.index_failed.connect(self._index_failed)
        b.error.connect(self._show_error)

        self.search.textEdited.connect(self._typed)
        self.search.returnPressed.connect(self._search_now)
        self.search.editingFinished.connect(lambda: self.search.remember(self.search.text()))
        self.search.files_dropped.connect(self.handle_dropped)
        self.search.image_pasted.connect(self.paste_image)
        self.filters.filters_changed.connect(self._filters_changed)
        self.filters.sort_changed.connect(self.model.set_sort)
        self.filters.zoom_changed.connect(self.set_thumbnail_size)
        self.summary.show_more.connect(self.show_more)
        self.summary.clear_similar.connect(self.clear_search)

        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.preview_toggled.connect(a.preview.toggle)
        self.grid.open_requested.connect(lambda: self._open_selected())
        self.grid.zoom_requested.connect(lambda step: self.zoom(step))
        self.grid.selectionModel().currentChanged.connect(lambda *_: self._current_changed())
        self.model.modelReset.connect(self._update_no_results)
        self.preview.open_requested.connect(lambda p: open_files([p]))
        self.preview.similar_requested.connect(self.find_similar)
        self.preview.reveal_requested.connect(reveal)
        self.preview.close_requested.connect(lambda: a.preview.setChecked(False))
        self.index_status.pause_clicked.connect(self.toggle_pause)
        self.index_status.errors_clicked.connect(self.show_failures)
        self._copier.loaded.connect(self._image_for_clipboard)

        self._debounce.timeout.connect(self.run_query)
        self._refresh.timeout.connect(self._refresh_cooled_down)
        self._busy.timeout.connect(self.summary.show_busy)

        a.add_folder.triggered.connect(self.choose_folder)
        a.folders.triggered.connect(self.show_folders)
        a.similar_file.triggered.connect(self.choose_similar_file)
        a.paste_image.triggered.connect(self.paste_image)
        a.settings.triggered.connect(self.show_settings)
        a.quit.triggered.connect(self.close)
        a.find.triggered.connect(self.focus_search)
        a.clear.triggered.connect(self.clear_search)
        a.copy_path.triggered.connect(lambda: copy_paths(self.selected_paths()))
        a.copy_image.triggered.connect(self.copy_image)
        a.select_all.triggered.connect(self.grid.selectAll)
        a.remove.triggered.connect(self.remove_selected)
        a.find_similar.triggered.connect(self._similar_to_current)
        a.open.triggered.connect(lambda: self._open_selected())
        a.reveal.triggered.connect(self._reveal_current)
        a.preview.toggled.connect(self.set_preview_visible)
        a.zoom_in.triggered.connect(lambda: self.zoom(1))
        a.zoom_out.triggered.connect(lambda: self.zoom(-1))
        a.show_more.triggered.connect(self.show_more)
        a.reindex.triggered.connect(lambda: self.start_indexing())
        a.pause.triggered.connect(self.toggle_pause)
        a.failures.triggered.connect(self.show_failures)
        a.about.triggered.connect(self._about)

    # -- startup and library state --------------------------------------------------------

    def start(self) -> None:
        """Open the library in the background; the window is usable meanwhile."""
        self.bridge.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.commands.refresh_icons()  # light or dark: icons follow the text colour

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._shown_at is None:
            self._shown_at = time.perf_counter()
            QTimer.singleShot(0, lambda: self.shown.emit(self._shown_at))
        return super().event(event)

    def _show_message(self, heading: str, body: str, buttons: list[Any], hint: str = "") -> None:
        self.message.set_content(heading, body, buttons, hint)
        self.pages.setCurrentIndex(PAGE_MESSAGE)

    # -- searching ------------------------------------------------------------------------

    def current_query(self) -> Query:
        filters = self.filters.filters()
        if self._similar_to is not None:
            return Query(
                similar_to=self._similar_to,
                filters=filters,
                limit=self._limit,
                show_all=self._show_all,
            )
        text = self.search.text().strip()
        limit = self._limit if text else RECENT_LIMIT
        return Query(text=text, filters=filters, limit=limit, show_all=self._show_all)

    def run_query(self) -> None:
        """Ask for the current query's results (they arrive in ``_show_result``)."""
        self._debounce.stop()
        if self.pages.currentIndex() != PAGE_RESULTS:
            return
        query = self.current_query()
        self._last_query = query
        self.bridge.search(query)
        self._busy.start()

    def refresh(self) -> None:
        """Re-run the current query, keeping the selection (files changed or were indexed)."""
        if self._debounce.isActive() or self._closing:
            return
        self.run_query()

    def files_changed(self, _paths: object = None) -> None:
        """Hook for the indexer and the folder watcher: files changed, so refresh (throttled)."""
        if self._refresh.isActive():
            self._refresh_pending = True
            return
        self.refresh()
        self._refresh_pending = False
        self._refresh.start()

    def _refresh_cooled_down(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh()
            self._refresh.start()

    def _typed(self, _text: str) -> None:
        self._similar_to = None
        self._show_all = False
        self._limit = SEARCH_LIMIT
        self._debounce.start()

    def _search_now(self) -> None:
        self.search.remember(self.search.text())
        self.run_query()

    def _filters_changed(self) -> None:
        self._show_all = False
        self._limit = SEARCH_LIMIT
        self.run_query()

    def show_more(self) -> None:
        result = self.model.result
        if result is None:
            return
        if result.hidden and not self._show_all:
            self._show_all = True
        else:
            self._limit *= 4
        self.run_query()

    def clear_search(self) -> None:
        self.search.clear()
        self._typed("")
        self.run_query()
        self.focus_search()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def find_similar(self, path: Path) -> None:
        """Replace the results with files that look like ``path`` (indexed or not)."""
        self._similar_to = Path(path)
        self._show_all = False
        self._limit = SEARCH_LIMIT
        self.search.clear()
        self.filters.set_sort_mode(SORT_RELEVANCE)
        if self.pages.currentIndex() != PAGE_RESULTS and self.info and self.info.folders:
            self.pages.setCurrentIndex(PAGE_RESULTS)
        self.run_query()

    def _show_result(self, result: QueryResult) -> None:
        self._busy.stop()
        same = self.model.result is not None and self.model.result.query == result.query
        keep = self._selection_state() if same else None
        self.model.set_result(result)
        if keep is not None:
            self._restore_selection(*keep)
        elif self.model.rowCount():
            self.grid.scrollToTop()
            self.grid.selectionModel().setCurrentIndex(
                self.model.index(0), self.grid.selectionModel().SelectionFlag.NoUpdate
            )
        self.summary.show_result(result, self._similar_to)
        self.commands.show_more.setEnabled(self.summary.can_show_more)
        text = result.query.text
        self.setWindowTitle(f"“{text}” — Lumen" if text else "Lumen")
        self._current_changed()
        self.results_shown.emit(result)

    def _query_failed(self, query: Query, message: str) -> None:
        self._busy.stop()
        self.summary.show_error(message)
        if query.similar_to is not None:
            self.flash(f"Cannot compare {query.similar_to.name}: {message}", 8000)

    def _selection_state(self) -> tuple[Path | None, list[Path], int]:
        current = self.current_item()
        return (
            current.path if current else None,
            self.selected_paths(),
            self.grid.verticalScrollBar().value(),
        )

    def _restore_selection(self, current: Path | None, selected: list[Path], scroll: int) -> None:
        selection = self.grid.selectionModel()
        flags = selection.SelectionFlag
        for path in selected:
            row = self.model.row_of(path)
            if row is not None:
                selection.select(self.model.index(row), flags.Select)
        row = self.model.row_of(current) if current is not None else None
        if row is not None:
            selection.setCurrentIndex(self.model.index(row), flags.NoUpdate)
        self.grid.verticalScrollBar().setValue(scroll)

    def _update_no_results(self) -> None:
        empty = self.model.rowCount() == 0 and self.model.result is not None
        if empty:
            query = self.model.result.query if self.model.result else None
            if query is not None and query.is_recent:
                text = "Nothing indexed yet.\nThumbnails appear here as files are found."
            else:
                text = "No matches.\nTry other words, or check the filters above."
            self.no_results.setText(text)
            self.no_results.resize(self.grid.viewport().size())
        self.no_results.setVisible(empty)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.no_results.resize(self.grid.viewport().size())

    # -- the grid and the selection -------------------------------------------------------

    def current_item(self) -> Item | None:
        return self.model.item(self.grid.currentIndex().row())

    def selected_items(self) -> list[Item]:
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        items = [item for row in rows if (item := self.model.item(row)) is not None]
        if not items and (current := self.current_item()) is not None:
            items = [current]
        return items

    def _open_selected(self) -> None:
        items = self.selected_items()
        rest = [item.path for item in items if not open_at_page(item.path, item.page)]
        if rest:
            open_files(rest)

    def selected_paths(self) -> list[Path]:
        return [item.path for item in self.selected_items()]

    def _current_changed(self) -> None:
        if self.preview.isVisible():
            self.preview.set_item(self.current_item())

    def context_menu_for(self, row: int) -> Any:
        """Select ``row`` if it is not already, and build the right-click menu for the selection."""
        selection = self.grid.selectionModel()
        index = self.model.index(row)
        if not selection.isSelected(index):
            selection.select(index, selection.SelectionFlag.ClearAndSelect)
        selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)
        items = self.selected_items()
        single = len(items) == 1
        return self.commands.context_menu(
            self, single=single, image=single and items[0].kind == "image"
        )

    def _context_menu(self, position: QPoint) -> None:
        index = self.grid.indexAt(position)
        if index.isValid():
            self.context_menu_for(index.row()).exec(self.grid.viewport().mapToGlobal(position))

    def _similar_to_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.find_similar(item.path)

    def _reveal_current(self) -> None:
        item = self.current_item()
        if item is not None:
            reveal(item.path)

    def copy_image(self) -> None:
        item = self.current_item()
        if item is not None and item.kind == "image":
            self._copier.load(item.path, item.kind, 4096)

    def _image_for_clipboard(self, _ticket: int, image: QImage, details: dict[str, Any]) -> None:
        if image.isNull():
            self.flash(f"Cannot copy the image: {details.get('error', '')}", 6000)
        else:
            QGuiApplication.clipboard().setImage(image)
            self.flash("Image copied", 3000)

    def remove_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        what = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
        answer = QMessageBox.question(
            self,
            "Remove from index",
            f"Remove {what} from Lumen's index?\n\nThe files stay on disk, untouched. Files "
            "inside a watched folder come back at the next scan; to keep them out for good, "
            "move them out of the folder.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.forget(paths)

    def forget(self, paths: list[Path]) -> None:
        self.model.remove_paths(paths)
        self.bridge.run(
            lambda c: c.forget(paths),
            done=lambda _r: self.flash(f"Removed {len(paths)} from the index", 4000),
        )

    def set_preview_visible(self, visible: bool) -> None:
        self.preview.setVisible(visible)
        self.commands.preview.setChecked(visible)
        if visible:
            self.preview.set_item(self.current_item())
        self.grid.setFocus()

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
            self.find_similar(files[0])

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
            self.find_similar(Path(path))

    # -- indexing -------------------------------------------------------------------------

    # -- settings, errors, closing --------------------------------------------------------

    def flash(self, text: str, msecs: int = 4000) -> None:
        """A short note in the status bar (it never hides the indexing progress)."""
        self._flash.setText(text)
        self._flash_timer.start(msecs)

    def _show_error(self, title: str, message: str, details: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        if details:
            box.setDetailedText(details)
        box.open()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Lumen",
            f"<h3>Lumen {__version__}</h3><p>Search your own photos and documents by what they "
            "show. Everything stays on this computer.</p>",
        )

    def _save_state(self) -> None:
        state = self._state
        state.setValue("geometry", self.saveGeometry())
        state.setValue("splitter", self.splitter.saveState())
        state.setValue("thumbnail_size", self.grid.iconSize().width())
        state.setValue("preview", self.preview.isVisible())
        state.setValue("history", self.search.history)
        state.sync()

    def _restore_state(self) -> None:
        state = self._state
        geometry = state.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = state.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        side = int(state.value("thumbnail_size", DEFAULT_ICON))  # type: ignore[call-overload]
        self.set_thumbnail_size(side)
        self.filters.zoom.setValue(self.grid.iconSize().width())
        history = state.value("history") or []
        self.search.history = [
            str(h) for h in (history if isinstance(history, list) else [history])
        ]
        if str(state.value("preview", "false")).lower() == "true":
            self.set_preview_visible(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the window's state; stop indexing (its progress is kept) and close the library."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self._save_state()
        forget_pasted(self.settings.data_dir / "pasted")
        self.hide()
        self._debounce.stop()
        self._refresh.stop()
        self.loader.wait(3000)
        self.preview.shutdown()
        self._copier.wait(3000)
        self.bridge.close()
        event.accept()

    def sizeHint(self) -> QSize:
        return QSize(1180, 760)
