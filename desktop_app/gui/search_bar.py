"""The search field (history, drops, pasted images) and the filter bar under it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QWidget,
)

from desktop_app.core.records import RAW, readable
from desktop_app.gui import icons
from desktop_app.gui.grid import MAX_ICON, MIN_ICON
from desktop_app.gui.results_model import SORT_NAME, SORT_NEWEST, SORT_OLDEST, SORT_RELEVANCE
from desktop_app.gui.understood_chips import PlaceFilter
from desktop_app.host.protocol import FileFilter, Folder

HISTORY_LIMIT = 50
PLACEHOLDER = "Describe what you are looking for, e.g. “sunset over the sea”, or drop an image here"
# With a picture dropped, pasted or chosen: words typed are added to it.
PICTURE_PLACEHOLDER = "Add words to the picture, e.g. “at night” or “-people” (Esc: clear)"
SYNTAX_TIP = (
    "<b>Describe it</b> in your own words: <i>kids on a beach at sunset</i><br>"
    '<b>"exact words"</b> must appear in the file: <i>invoice "2023-0147"</i><br>'
    '<b>-word</b> leaves out what matches it: <i>beach -people</i>, <i>-"red car"</i><br>'
    '<b>word:2</b> weighs a part: <i>dog:2 snow</i>, <i>"old town":0.5 night</i><br>'
    "<b>tag:beach</b> only photos with that tag, <b>-tag:people</b> none with it<br>"
    "<b>Drop or paste a photo</b> to find ones that look like it, then type to add words: "
    "<i>at night</i>"
)


def dropped_paths(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The local files or folders a drag carries."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class SearchField(QLineEdit):
    """Type to search; Up/Down walk the history; Esc clears; files dropped here are forwarded."""

    files_dropped = Signal(object)  # list[Path]
    image_pasted = Signal()
    escape_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("search")
        self.setPlaceholderText(PLACEHOLDER)
        self.setToolTip(SYNTAX_TIP)
        self.setClearButtonEnabled(True)
        self._glass = self.addAction(
            icons.icon(icons.SEARCH), QLineEdit.ActionPosition.LeadingPosition
        )
        self.setMinimumHeight(34)
        self.setAccessibleName("Search")
        self.history: list[str] = []
        self._cursor: int | None = None  # position in history while walking it
        self._draft = ""

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._glass.setIcon(icons.icon(icons.SEARCH))

    def remember(self, text: str) -> None:
        """Add a query to the history (most recent last, no duplicates)."""
        text = text.strip()
        if not text:
            return
        if text in self.history:
            self.history.remove(text)
        self.history.append(text)
        del self.history[:-HISTORY_LIMIT]
        self._cursor = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Up and self.history:
            self._walk(-1)
            return
        if key == Qt.Key.Key_Down and self._cursor is not None:
            self._walk(1)
            return
        if key == Qt.Key.Key_Escape:
            self._cursor = None
            if self.text():
                self.clear()
                self.textEdited.emit("")
            self.escape_pressed.emit()
            return
        if event.matches(QKeySequence.StandardKey.Paste):
            mime = QGuiApplication.clipboard().mimeData()
            if mime is not None and mime.hasImage() and not mime.hasText():
                self.image_pasted.emit()
                return
        super().keyPressEvent(event)

    def _walk(self, step: int) -> None:
        if self._cursor is None:
            self._draft = self.text()
            self._cursor = len(self.history)
        self._cursor += step
        if self._cursor >= len(self.history):
            self._cursor = None
            text = self._draft
        else:
            self._cursor = max(0, self._cursor)
            text = self.history[self._cursor]
        self.setText(text)
        self.textEdited.emit(text)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if dropped_paths(event):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            super().dropEvent(event)


_DATE_PRESETS = (
    ("Any date", None),
    ("Past 7 days", 7),
    ("Past 30 days", 30),
    ("Past year", 365),
    ("Custom range…", -1),
)


class DateRangeDialog(QDialog):
    """Pick a first and last day."""

    def __init__(self, start: date, end: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Date range")
        self.start = QDateEdit(QDate(start.year, start.month, start.day))
        self.end = QDateEdit(QDate(end.year, end.month, end.day))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("From:", self.start)
        form.addRow("To:", self.end)
        form.addRow(buttons)

    def dates(self) -> tuple[date, date]:
        first = date.fromisoformat(self.start.date().toString(Qt.DateFormat.ISODate))
        last = date.fromisoformat(self.end.date().toString(Qt.DateFormat.ISODate))
        return (first, last) if first <= last else (last, first)


class FilterBar(QWidget):
    """Kind, folder and date filters, the sort order and the thumbnail size."""

    filters_changed = Signal()
    sort_changed = Signal(str)
    zoom_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Kind")
        kinds_shown = (
            ("All files", None),
            ("Photos", "image"),
            ("Videos", "video"),
            ("Documents", "document"),
            ("RAW photos", RAW),
        )
        for label, kinds in kinds_shown:
            self.kind.addItem(label, kinds)
        self.folder = QComboBox()
        self.folder.setAccessibleName("Folder")
        self.folder.setMinimumContentsLength(14)
        self.folder.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.folder.addItem("All folders", None)
        self.date = QComboBox()
        self.date.setAccessibleName("Date")
        for label, days in _DATE_PRESETS:
            self.date.addItem(label, days)
        self._custom: tuple[date, date] | None = None
        self._date_index = 0  # the last date choice that took effect
        self.place = PlaceFilter()  # issue 21
        self.sort = QComboBox()
        self.sort.setAccessibleName("Sort")
        for label, mode in (
            ("Best match", SORT_RELEVANCE),
            ("Newest first", SORT_NEWEST),
            ("Oldest first", SORT_OLDEST),
            ("Name", SORT_NAME),
        ):
            self.sort.addItem(label, mode)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(MIN_ICON, MAX_ICON)
        self.zoom.setSingleStep(16)
        self.zoom.setPageStep(32)
        self.zoom.setFixedWidth(120)
        self.zoom.setToolTip("Thumbnail size (Ctrl++ / Ctrl+−)")
        self.zoom.setAccessibleName("Thumbnail size")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for widget in (self.kind, self.folder, self.date, self.place):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(QLabel("Sort:"))
        layout.addWidget(self.sort)
        layout.addSpacing(12)
        self._small = QLabel()
        self._big = QLabel()
        self._draw_icons()
        layout.addWidget(self._small)
        layout.addWidget(self.zoom)
        layout.addWidget(self._big)

        self.kind.currentIndexChanged.connect(self.filters_changed)
        self.folder.currentIndexChanged.connect(self.filters_changed)
        self.place.currentIndexChanged.connect(self.filters_changed)
        self.date.activated.connect(self._date_chosen)
        self.sort.currentIndexChanged.connect(lambda _i: self.sort_changed.emit(self.sort_mode))
        self.zoom.valueChanged.connect(self.zoom_changed)

    def _draw_icons(self) -> None:
        self._small.setPixmap(icons.icon(icons.PHOTO).pixmap(14, 14))
        self._big.setPixmap(icons.icon(icons.PHOTO).pixmap(20, 20))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._draw_icons()

    @property
    def sort_mode(self) -> str:
        return str(self.sort.currentData())

    def set_sort_mode(self, mode: str) -> None:
        index = self.sort.findData(mode)
        if index >= 0:
            self.sort.setCurrentIndex(index)

    def set_folders(self, folders: tuple[Folder, ...]) -> None:
        """Offer these folders, keeping the current choice when it is still there."""
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", None)
        for folder in folders:
            # The Path itself as the item's data: a string would lose bytes that are not UTF-8.
            self.folder.addItem(readable(folder.path.name or folder.path), folder.path)
            self.folder.setItemData(
                self.folder.count() - 1, readable(folder.path), Qt.ItemDataRole.ToolTipRole
            )
        index = next(
            (i for i in range(self.folder.count()) if self.folder.itemData(i) == current), -1
        )
        index = index if current else 0
        self.folder.setCurrentIndex(max(0, index))
        self.folder.blockSignals(False)
        if current and index < 0:
            self.filters_changed.emit()

    def filters(self) -> FileFilter:
        kind = self.kind.currentData()
        folder = self.folder.currentData()
        date_from, date_to = self._date_range()
        return FileFilter(
            kinds=frozenset({kind}) if kind else None,
            folders=(folder,) if isinstance(folder, Path) else None,
            date_from=date_from,
            date_to=date_to,
            place=self.place.currentData(),
        )

    def _date_range(self) -> tuple[datetime | None, datetime | None]:
        days = self.date.currentData()
        if days is None:
            return None, None
        if days == -1 and self._custom is not None:
            first, last = self._custom
            return datetime.combine(first, time.min), datetime.combine(last, time.max)
        if isinstance(days, int) and days > 0:
            return datetime.combine(date.today() - timedelta(days=days), time.min), None
        return None, None

    def _date_chosen(self, index: int) -> None:
        if self.date.itemData(index) == -1:
            today = date.today()
            start, end = self._custom or (today - timedelta(days=30), today)
            dialog = DateRangeDialog(start, end, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                self.date.setCurrentIndex(self._date_index)
                return
            self._custom = dialog.dates()
            first, last = self._custom
            self.date.setItemText(index, f"{first:%d %b %Y} – {last:%d %b %Y}")
        self._date_index = index
        self.filters_changed.emit()
