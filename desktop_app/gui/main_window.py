"""The Lumen window: composes the search bar, filters, results, banner and status bar.

Who does what:
- ``SearchPresenter`` (search_presenter.py): the query state and the results model; a new
  query parameter goes into its ``current_query``.
- ``LibraryPresenter`` (library_presenter.py): opening the library, model state, folders,
  indexing, settings.
- ``ResultsView`` (results_view.py): summary, grid, preview pane, selection.
- ``WindowActions`` (actions.py): every command (menus, context menu, shortcuts); a new
  command is made there and connected in ``MainWindow._connect_commands``.
- This module: layout, wiring, dialogs, drag and drop, the saved window state.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.config import Settings
from desktop_app.core.models import get_model_spec
from desktop_app.core.records import file_to_open, readable
from desktop_app.gui import icons
from desktop_app.gui.actions import (
    WindowActions,
    copy_paths,
    forget_pasted,
    open_at_page,
    open_at_time,
    open_files,
    pasted_files,
    reveal,
)
from desktop_app.gui.first_run import ModelDownloadDialog
from desktop_app.gui.heat_overlay import wire_heat_map
from desktop_app.gui.latest_loader import LatestLoader, Picture, picture
from desktop_app.gui.library_dialogs import LibraryDialogs
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
from desktop_app.gui.understood_chips import UnderstoodChips
from desktop_app.gui.widgets import Banner, IndexStatus, MessagePage, ModelBadge
from desktop_app.gui.window_state import WindowState
from desktop_app.gui.wording import CHOOSE_WEIGHTS, TRY_AGAIN, window_wording
from desktop_app.gui.workers import LibraryBridge, ThumbnailLoader
from desktop_app.host.protocol import (
    MODEL_LOADING,
    MODEL_UNAVAILABLE,
    DownloadProgress,
    FileFilter,
    Item,
    LibraryStatus,
    ModelState,
    Query,
    QueryResult,
)

PAGE_MESSAGE, PAGE_RESULTS = 0, 1


class MainWindow(QMainWindow):
    """Type to search, browse the grid, preview, find similar; the library is behind ``bridge``."""

    shown = Signal(float)  # perf_counter() when first painted
    results_shown = Signal(object)  # QueryResult, after the grid shows it

    def __init__(self, settings: Settings, bridge: LibraryBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self._shown_at: float | None = None
        self._closing = False
        self.download_dialog: ModelDownloadDialog | None = None
        self._download_dismissed = False  # cancelled: reports still on their way are ignored
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
        self._show_message("Opening your library…", "", [])

    @property
    def settings(self) -> Settings:
        return self.library.settings

    @property
    def info(self) -> LibraryStatus | None:
        return self.library.info

    @property
    def model_state(self) -> ModelState | None:
        return self.library.model_state

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
        self.banner = Banner()
        self.message = MessagePage()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(self.results)

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

        self.index_status = IndexStatus()
        self.model_badge = ModelBadge()
        self.statusBar().addWidget(self.index_status, 1)
        self._flash = QLabel()
        self._flash_timer = QTimer(self, singleShot=True)
        self._flash_timer.timeout.connect(self._flash.clear)
        self.statusBar().addPermanentWidget(self._flash)
        self.statusBar().addPermanentWidget(self.model_badge)
        self.statusBar().setSizeGripEnabled(True)
        self._copier = LatestLoader(lambda: self.bridge.client)

    def _connect(self) -> None:
        q = self.query
        lib = self.library
        b = self.bridge
        q.results_ready.connect(self._show_result)
        q.results_ready.connect(lambda r: self.chips.show_understood(r.understood))
        self.chips.removed.connect(q.take_back)
        wire_heat_map(self.preview.heat, self.bridge, self.search.text)  # issue 21
        wire_faces(self.preview.faces, self.bridge)  # issue 23: who is in the photo
        q.results_changed.connect(lambda r: self.summary.show_result(r, q.similar_to))
        q.failed.connect(self._query_failed)
        q.busy.connect(self.summary.show_busy)
        lib.opening.connect(self._opening)
        lib.status_changed.connect(self._status_changed)
        lib.opened.connect(lambda _info: self.search.setFocus())
        lib.open_failed.connect(self._library_failed)
        lib.stopped.connect(self._library_died)
        lib.model_changed.connect(self._model_changed)
        lib.download.connect(self._download_progress)
        lib.paused_changed.connect(self._paused_changed)
        lib.index_failed.connect(self._index_failed)
        lib.notice.connect(self.flash)
        lib.problem.connect(self.dialogs.show_error)
        b.index_started.connect(self.index_status.show_started)
        b.index_progress.connect(self.index_status.show_progress)
        b.index_finished.connect(
            lambda outcome: self.index_status.show_finished(outcome, self.info)
        )
        b.error.connect(self.dialogs.show_error)

        self.search.textEdited.connect(lambda _text: q.typed())
        self.search.returnPressed.connect(self._search_now)
        self.search.editingFinished.connect(lambda: self.search.remember(self.search.text()))
        self.search.files_dropped.connect(self.handle_dropped)
        self.search.image_pasted.connect(self.paste_image)
        self.filters.filters_changed.connect(q.filters_changed)
        self.filters.sort_changed.connect(self.model.set_sort)
        self.filters.zoom_changed.connect(self.set_thumbnail_size)
        self.summary.show_more.connect(q.show_more)
        self.summary.clear_similar.connect(self.clear_search)

        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.preview_toggled.connect(self.commands.preview.toggle)
        self.grid.open_requested.connect(lambda: self._open_selected())
        self.grid.zoom_requested.connect(lambda step: self.zoom(step))
        self.preview.open_requested.connect(lambda _p: self._open_previewed())
        self.preview.similar_requested.connect(
            lambda p: self.find_similar(p, self.preview.moment)  # a video: the frame shown
        )
        self.preview.reveal_requested.connect(reveal)
        self.preview.close_requested.connect(lambda: self.commands.preview.setChecked(False))
        self.index_status.pause_clicked.connect(lib.toggle_pause)
        self.index_status.errors_clicked.connect(self.dialogs.show_failures)
        self._copier.loaded.connect(self._image_for_clipboard)

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
        a.copy_image.triggered.connect(self.copy_image)
        a.select_all.triggered.connect(self.grid.selectAll)
        a.remove.triggered.connect(self.remove_selected)
        a.find_similar.triggered.connect(self._similar_to_current)
        a.open.triggered.connect(lambda: self._open_selected())
        a.reveal.triggered.connect(self._reveal_current)
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

    def _set_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.query.active = page == PAGE_RESULTS

    def _show_message(self, heading: str, body: str, buttons: list[Any], hint: str = "") -> None:
        self.message.set_content(heading, body, buttons, hint)
        self._set_page(PAGE_MESSAGE)

    def _show_results_page(self) -> None:
        if self.pages.currentIndex() != PAGE_RESULTS:
            self._set_page(PAGE_RESULTS)
            self.query.run_query()

    def _opening(self) -> None:
        self.banner.hide()
        self._show_message("Opening your library…", "", [])

    def _status_changed(self, info: LibraryStatus) -> None:
        self.filters.set_folders(tuple(info.folders))
        self.bridge.run(lambda c: c.places(), done=self.filters.place.set_places)
        self.index_status.show_info(info)
        if not info.folders:
            self._show_welcome()
        else:
            self._show_results_page()

    def _show_welcome(self) -> None:
        self._show_message(
            "Find any photo by describing it",
            "Add a folder of photos or documents. Lumen looks at every picture and page, on "
            "this computer only, so you can search them by what they show: “birthday cake”, "
            "“receipt from the hardware store”, “dog on a beach”.",
            [("Add folder…", self.dialogs.choose_folder)],
            hint="or drag a folder onto this window",
        )

    def _library_failed(self, message: str) -> None:
        self._show_message(
            "Lumen cannot open its library",
            message,
            [("Settings…", self.dialogs.show_settings), ("Quit", self.close)],
        )

    def _library_died(self, message: str) -> None:
        self.banner.show_message(
            message + " Searching and indexing stopped.", [("Restart it", self.library.restart)]
        )

    def _model_changed(self, state: ModelState) -> None:
        self.model_badge.set_state(state)
        if state.state == MODEL_LOADING:
            self._download_dismissed = False  # a new try: show its download
        elif self.download_dialog is not None:
            self.download_dialog.finish()  # the download ended one way or the other
        if state.state == MODEL_UNAVAILABLE:
            self.banner.show_message(
                window_wording(state.message),
                [
                    (TRY_AGAIN, self._load_model_again),
                    (CHOOSE_WEIGHTS, self.dialogs.choose_weights),
                    ("Settings…", self.dialogs.show_settings),
                ],
            )

    def _load_model_again(self) -> None:
        self.banner.hide()
        self.library.load_model()

    def _download_progress(self, progress: DownloadProgress) -> None:
        """The model's weights are coming in: explain it, show how far, offer Cancel."""
        dialog = self.download_dialog
        if dialog is None:
            if progress.finished or self._download_dismissed:
                return
            settings = self.settings
            total = progress.total_bytes
            size_mb = round(total / 1e6) if total else get_model_spec(settings.model).download_mb
            dialog = ModelDownloadDialog(
                settings.model, size_mb, progress.cache_dir or settings.model_cache_dir, self
            )
            dialog.cancel_requested.connect(self._cancel_download)
            dialog.weights_chosen.connect(self._use_weights)
            dialog.finished.connect(lambda _result: self._download_dialog_closed(dialog))
            self.download_dialog = dialog
            dialog.show()
        dialog.show_progress(progress)

    def _cancel_download(self) -> None:
        self._download_dismissed = True
        self.library.cancel_download()

    def _use_weights(self, path: Path) -> None:
        self._download_dismissed = True
        self.library.use_weights(path)

    def _download_dialog_closed(self, dialog: ModelDownloadDialog) -> None:
        if self.download_dialog is dialog:
            self.download_dialog = None
        dialog.deleteLater()

    def _paused_changed(self, paused: bool) -> None:
        self.index_status.set_paused(paused)
        self.commands.pause.setText("&Resume Indexing" if paused else "&Pause Indexing")

    def _index_failed(self, message: str) -> None:
        self.index_status.show_finished(None, self.info)
        self.banner.show_message(
            f"Indexing stopped: {window_wording(message)}",
            [
                (CHOOSE_WEIGHTS, self.dialogs.choose_weights),
                ("Retry", lambda: self.library.start_indexing()),
            ],
        )

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
            self._set_page(PAGE_RESULTS)
        self.query.find_similar(path, at_s, picture)

    def _show_result(self, result: QueryResult) -> None:
        self.results.show_result(result, self.query.similar_to)
        self.commands.show_more.setEnabled(self.summary.can_show_more)
        text = result.query.text
        self.setWindowTitle(f"“{text}” — Lumen" if text else "Lumen")
        self.results_shown.emit(result)

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

    def _open_selected(self) -> None:
        self.open_items(self.selected_items())

    def _open_previewed(self) -> None:
        item = self.preview.item
        if item is not None:
            self.open_items([item], at_s=self.preview.moment)

    def open_items(self, items: list[Item], at_s: float | None = None) -> None:
        """Open each item: the file of its shot the settings prefer (RAW or JPEG), a PDF at the
        page that matched, a video at the moment that matched (``at_s`` instead, when given),
        where the installed viewer or player allows; else with the default application.
        """
        rest: list[Path] = []
        for item in items:
            path = file_to_open(item.path, item.companions, self.settings.open_raw)
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
            self.find_similar(item.path, item.at_s)  # a video hit: from the moment that matched

    def _reveal_current(self) -> None:
        item = self.current_item()
        if item is not None:
            reveal(item.path)

    def copy_image(self) -> None:
        item = self.current_item()
        if item is not None and item.kind == "image":
            self._copier.load(picture(item.path, item.kind, 4096))

    def _image_for_clipboard(self, _ticket: int, answer: Picture) -> None:
        image, details = answer.image, answer.details
        if image.isNull():
            self.flash(f"Cannot copy the image: {details.get('error', '')}", 6000)
        else:
            QGuiApplication.clipboard().setImage(image)
            self.flash("Image copied", 3000)

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
        self._set_page(PAGE_RESULTS)

    # -- notes, errors, closing -----------------------------------------------------------

    def flash(self, text: str, msecs: int = 4000) -> None:
        """A short note in the status bar (it never hides the indexing progress)."""
        self._flash.setText(text)
        self._flash_timer.start(msecs)

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
        self._copier.wait(3000)
        self.bridge.close()
        event.accept()

    def sizeHint(self) -> QSize:
        return QSize(1180, 760)
