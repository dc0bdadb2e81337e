"""The window's pages (a message, or the results) and its banner, as the library's state says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from desktop_app.gui.library_dialogs import LibraryDialogs
from desktop_app.gui.library_presenter import LibraryPresenter
from desktop_app.gui.search_presenter import SearchPresenter
from desktop_app.gui.widgets import Banner, MessagePage
from desktop_app.gui.wording import CHOOSE_WEIGHTS, TRY_AGAIN, window_wording
from desktop_app.host.protocol import MODEL_UNAVAILABLE, LibraryStatus, ModelState

PAGE_MESSAGE, PAGE_RESULTS = 0, 1


class LibraryPages(QStackedWidget):
    """A message page (opening, welcome, cannot open) or ``results``; what stopped, in ``banner``.

    The search runs only while the results page shows; ``close_window`` is the Quit button.
    """

    def __init__(
        self,
        results: QWidget,
        library: LibraryPresenter,
        dialogs: LibraryDialogs,
        query: SearchPresenter,
        close_window: Callable[[], object],
    ) -> None:
        super().__init__()
        self.message = MessagePage()
        self.banner = Banner()
        self.addWidget(self.message)
        self.addWidget(results)
        self.library = library
        self.dialogs = dialogs
        self._query = query
        self._close_window = close_window
        library.opening.connect(self._opening)
        library.open_failed.connect(self._library_failed)
        library.stopped.connect(self._library_died)
        library.model_changed.connect(self._model_changed)
        library.index_failed.connect(self._index_failed)

    def set_page(self, page: int) -> None:
        """Show ``page``; the search runs while it is the results."""
        self.setCurrentIndex(page)
        self._query.active = page == PAGE_RESULTS

    def show_message(self, heading: str, body: str, buttons: list[Any], hint: str = "") -> None:
        """The message page with ``heading``, ``body`` and ``buttons`` (label, callback)."""
        self.message.set_content(heading, body, buttons, hint)
        self.set_page(PAGE_MESSAGE)

    def show_library(self, info: LibraryStatus) -> None:
        """The welcome while there is no folder, else the results (searched again on arrival)."""
        if not info.folders:
            self._show_welcome()
        elif self.currentIndex() != PAGE_RESULTS:
            self.set_page(PAGE_RESULTS)
            self._query.run_query()

    def _opening(self) -> None:
        self.banner.hide()
        self.show_message("Opening your library…", "", [])

    def _show_welcome(self) -> None:
        self.show_message(
            "Find any photo by describing it",
            "Add a folder of photos or documents. Lumen looks at every picture and page, on "
            "this computer only, so you can search them by what they show: “birthday cake”, "
            "“receipt from the hardware store”, “dog on a beach”.",
            [("Add folder…", self.dialogs.choose_folder)],
            hint="or drag a folder onto this window",
        )

    def _library_failed(self, message: str) -> None:
        self.show_message(
            "Lumen cannot open its library",
            message,
            [("Settings…", self.dialogs.show_settings), ("Quit", self._close_window)],
        )

    def _library_died(self, message: str) -> None:
        self.banner.show_message(
            message + " Searching and indexing stopped.", [("Restart it", self.library.restart)]
        )

    def _model_changed(self, state: ModelState) -> None:
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

    def _index_failed(self, message: str) -> None:
        self.banner.show_message(
            f"Indexing stopped: {window_wording(message)}",
            [
                (CHOOSE_WEIGHTS, self.dialogs.choose_weights),
                ("Retry", lambda: self.library.start_indexing()),
            ],
        )
