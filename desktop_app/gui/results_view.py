"""The results area: summary line, thumbnail grid, "no matches" note and the preview pane."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from desktop_app.gui.grid import ResultsGrid
from desktop_app.gui.preview import PreviewPane
from desktop_app.gui.results_model import ResultsModel
from desktop_app.gui.summary import ResultsSummary
from desktop_app.gui.workers import Fetch
from desktop_app.host.protocol import Item, QueryResult


class ResultsView(QWidget):
    """Shows the model's results and keeps the user's place (selection, scroll) across updates.

    A panel beside the preview goes into ``splitter``; what acts on the chosen files reads
    ``current_item``/``selected_items``.
    """

    def __init__(self, model: ResultsModel, fetch: Fetch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.grid = ResultsGrid()
        self.grid.setModel(model)
        self.no_results = QLabel(self.grid.viewport())
        self.no_results.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_results.setWordWrap(True)
        self.no_results.hide()
        self.preview = PreviewPane(fetch)
        self.preview.hide()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.grid)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.summary = ResultsSummary()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addWidget(self.summary)
        column.addWidget(self.splitter, 1)
        model.modelReset.connect(self._update_no_results)
        model.rowsRemoved.connect(self._update_no_results)
        model.rowsInserted.connect(self._update_no_results)
        self.grid.selectionModel().currentChanged.connect(lambda *_: self.current_changed())

    # -- showing results ------------------------------------------------------------------

    def show_result(self, result: QueryResult, similar_to: Path | None, more: bool = False) -> None:
        """Show ``result``; the same query again keeps the selection and the scroll position.
        ``more``: a page, the next asked for as the grid scrolls to its end."""
        same = self.model.result is not None and self.model.result.query == result.query
        keep = self._selection_state() if same else None
        self.model.set_result(result, more)
        if keep is not None:
            self._restore_selection(*keep)
        elif self.model.rowCount():
            self.grid.scrollToTop()
            self.grid.selectionModel().setCurrentIndex(
                self.model.index(0), self.grid.selectionModel().SelectionFlag.NoUpdate
            )
        self.summary.show_result(result, similar_to, more)
        self.current_changed()

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

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.no_results.resize(self.grid.viewport().size())

    # -- the selection --------------------------------------------------------------------

    def current_item(self) -> Item | None:
        return self.model.item(self.grid.currentIndex().row())

    def selected_items(self) -> list[Item]:
        """The selected items in display order (the current one when none is selected)."""
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        items = [item for row in rows if (item := self.model.item(row)) is not None]
        if not items and (current := self.current_item()) is not None:
            items = [current]
        return items

    def selected_paths(self) -> list[Path]:
        return [item.path for item in self.selected_items()]

    def select_row(self, row: int) -> None:
        """Make ``row`` current, selecting it alone unless it is already selected."""
        selection = self.grid.selectionModel()
        index = self.model.index(row)
        if not selection.isSelected(index):
            selection.select(index, selection.SelectionFlag.ClearAndSelect)
        selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)

    # -- the preview ----------------------------------------------------------------------

    def current_changed(self) -> None:
        if self.preview.isVisible():
            self.preview.set_item(self.current_item())

    def set_preview_visible(self, visible: bool) -> None:
        self.preview.setVisible(visible)
        if visible:
            self.preview.set_item(self.current_item())
        self.grid.setFocus()
