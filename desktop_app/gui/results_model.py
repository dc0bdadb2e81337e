"""The results as a Qt list model: items, sort orders, lazy thumbnails with an LRU pixmap cache."""

from __future__ import annotations

import dataclasses
import html
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from desktop_app.core.records import readable
from desktop_app.gui.actions import file_url
from desktop_app.gui.timeline import HeaderRole, month_header
from desktop_app.gui.workers import ThumbnailLoader
from desktop_app.host.protocol import BY_NAME, Col, Item, ItemRow, QueryResult

ItemRole = Qt.ItemDataRole.UserRole + 1
PixmapRole = Qt.ItemDataRole.UserRole + 2  # the thumbnail if loaded, else None (no request made)

# How a file matched this query: kept when fresh details of the file arrive.
_RANK_COLUMNS = frozenset(
    {Col.SCORE, Col.RELEVANT, Col.MATCH, Col.PAGE, Col.PASSAGE, Col.AT_S, Col.WHY, Col.WORDS}
)

SORT_RELEVANCE = "relevance"
SORT_NEWEST = "newest"
SORT_OLDEST = "oldest"
SORT_NAME = "name"

AnyIndex = QModelIndex | QPersistentModelIndex


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, as video players show a position."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def video_badge(item: Item) -> str | None:
    """What the grid writes on a video's thumbnail: the moment that matched, else its length."""
    if item.kind != "video":
        return None
    if item.at_s is not None:
        return f"▶ {clock(item.at_s)}"
    return f"▶ {clock(item.duration_s)}" if item.duration_s else "▶"


def display_name(item: Item) -> str:
    """What the grid writes under a thumbnail: a document's title, else the file name."""
    if item.kind == "document" and item.title:
        return item.title
    return readable(item.name)  # (a name that is not UTF-8 would lose a byte in the widget)


def tooltip(item: Item) -> str:
    """Path, score, date, size and dimensions, as rich text."""
    rows = [f"<b>{html.escape(display_name(item))}</b>", html.escape(readable(item.path))]
    when = item.date.strftime("%d %b %Y, %H:%M")
    rows.append(f"{'Taken' if item.taken_at else 'Modified'}: {when}")
    size = human_size(item.size)
    if item.width and item.height:
        size += f" · {item.width} × {item.height}"
    if item.page_count:
        size += f" · {item.page_count} pages"
    rows.append(size)
    if item.kind == "video" and item.at_s is not None:
        length = f" of {clock(item.duration_s)}" if item.duration_s else ""
        rows.append(f"Matched at {clock(item.at_s)}{length}")
    elif item.kind == "video" and item.duration_s:
        rows.append(f"Length: {clock(item.duration_s)}")
    if item.companions:
        names = ", ".join(html.escape(p.name) for p in item.companions)
        rows.append(f"Same shot: {names}")
    if item.score is not None:
        relevance = "" if item.relevant else " (below the relevance cutoff)"
        rows.append(f"Relevance: {item.score:.0f} of 100{relevance}")
        if item.why:
            rows.append(f"Why: {html.escape(item.why)}")
    elif item.match == BY_NAME:
        rows.append("Matched by file name")
    if item.tags:
        rows.append(f"Tags: {html.escape(', '.join(item.tags))}")
    if not item.indexed:
        rows.append("<i>Not searchable by meaning yet: still being indexed</i>")
    if item.passage:
        page = f"p. {item.page}: " if item.page else ""
        rows.append(f"<i>{page}{html.escape(item.passage[:160])}…</i>")
    return "<br>".join(rows)


class ResultsModel(QAbstractListModel):
    """The grid's items, kept as rows; an ``Item`` is made only for a row that is looked at.

    Thumbnails are asked for when a cell is painted, and kept in an LRU of pixmaps.
    """

    thumbnails_changed = Signal()
    more_wanted = Signal()  # the view reached the last row and ``more`` says more can come

    def __init__(self, loader: ThumbnailLoader, cache_items: int = 600) -> None:
        super().__init__()
        self._loader = loader
        self._loader.loaded.connect(self._thumbnail_loaded)
        self._rows_shown: list[ItemRow] = []
        self._ranked: list[ItemRow] = []  # in relevance order
        self._items: dict[int, Item] = {}  # made on demand, by row
        self._sort = SORT_RELEVANCE
        self._rows_of_key: dict[str, list[int]] = {}  # thumbnail key -> rows showing it
        self._row_of_path: dict[str, int] = {}
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._cache_items = cache_items
        self.result: QueryResult | None = None
        self.more = False  # more rows of this result can be asked for (the recent listing)

    # -- contents -------------------------------------------------------------------------

    def set_result(self, result: QueryResult, more: bool = False) -> None:
        """Show ``result``'s rows (in the current sort order); ``more``: it is a page, and the
        view asks for the next one (``more_wanted``) when it reaches the last row."""
        self.result = result
        self._ranked = list(result.rows)
        self.more = more
        self._loader.forget_queue()
        self._relayout()

    def append(self, result: QueryResult) -> int:
        """Add ``result``'s rows (the next page of the shown result) after the shown ones: it
        becomes the shown result; rows already shown are not added again. Rows shown keep
        their place (and the view its selection and scroll) unless the sort interleaves them."""
        shown = set(self._row_of_path)
        new = [row for row in result.rows if row[Col.PATH] not in shown]
        self._ranked += new
        self.result = dataclasses.replace(result, rows=tuple(self._ranked))
        merged = _sorted(self._ranked, self._sort)
        if merged[: len(self._rows_shown)] != self._rows_shown:
            self._relayout()
        elif new:
            first = len(self._rows_shown)
            self.beginInsertRows(QModelIndex(), first, len(merged) - 1)
            self._rows_shown = merged
            self._reindex()
            self.endInsertRows()
        return len(new)

    def clear(self) -> None:
        self.result = None
        self._ranked = []
        self.more = False
        self._relayout()

    def set_sort(self, mode: str) -> None:
        if mode != self._sort:
            self._sort = mode
            self._relayout()

    @property
    def sort_mode(self) -> str:
        return self._sort

    def remove_paths(self, paths: Iterable[Path]) -> int:
        """Take ``paths`` out of the results (removed rows: the rest keep their selection)."""
        gone = {str(path) for path in paths}
        return self._remove(lambda path: path in gone)

    def remove_under(self, folders: Iterable[Path]) -> int:
        """Take out every file inside ``folders`` (they went offline)."""
        prefixes = tuple(os.path.join(str(folder), "") for folder in folders)
        return self._remove(lambda path: path.startswith(prefixes)) if prefixes else 0

    def rename(self, moves: Iterable[tuple[Path, Path]]) -> int:
        """Files shown under an old path now live at a new one (same file, same rank)."""
        changed = {}
        for old, new in moves:
            number = self._row_of_path.get(str(old))
            if number is not None:
                row = self._rows_shown[number]
                changed[row[Col.PATH]] = (str(new), *row[Col.PATH + 1 :])
        return self._replace(changed)

    def update_rows(self, rows: Iterable[ItemRow | None]) -> int:
        """Fresh details (size, date, thumbnail, indexed) for shown files; their rank stays."""
        changed = {}
        for row in rows:
            number = self._row_of_path.get(row[Col.PATH]) if row is not None else None
            if row is not None and number is not None:
                old = self._rows_shown[number]
                changed[old[Col.PATH]] = tuple(
                    old[n] if n in _RANK_COLUMNS else value for n, value in enumerate(row)
                )
        return self._replace(changed)

    def _remove(self, leaves: Callable[[str], bool]) -> int:
        numbers = [n for n, row in enumerate(self._rows_shown) if leaves(row[Col.PATH])]
        if not numbers:
            return 0
        self._ranked = [row for row in self._ranked if not leaves(row[Col.PATH])]
        for first, last in reversed(_runs(numbers)):  # from the end: earlier numbers stay valid
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows_shown[first : last + 1]
            self._items = {}
            self.endRemoveRows()
        self._reindex()
        self._note_rows()
        return len(numbers)

    def _replace(self, changed: dict[str, ItemRow]) -> int:
        if not changed:
            return 0
        self._ranked = [changed.get(row[Col.PATH], row) for row in self._ranked]
        numbers = []
        for number, row in enumerate(self._rows_shown):
            if row[Col.PATH] in changed:
                self._rows_shown[number] = changed[row[Col.PATH]]
                self._items.pop(number, None)
                numbers.append(number)
        self._reindex()
        self._note_rows()
        for number in numbers:
            index = self.index(number)
            self.dataChanged.emit(index, index)
        return len(numbers)

    def _note_rows(self) -> None:
        if self.result is not None:
            self.result = dataclasses.replace(self.result, rows=tuple(self._ranked))

    def _relayout(self) -> None:
        self.beginResetModel()
        self._rows_shown = _sorted(self._ranked, self._sort)
        self._items = {}
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._rows_of_key = {}
        self._row_of_path = {}
        for number, row in enumerate(self._rows_shown):
            self._rows_of_key.setdefault(row[Col.THUMB_KEY], []).append(number)
            self._row_of_path[row[Col.PATH]] = number

    def items(self) -> list[Item]:
        """Every item, in display order (makes them all: for small results and tests)."""
        return [self._item(number) for number in range(len(self._rows_shown))]

    def item(self, row: int) -> Item | None:
        return self._item(row) if 0 <= row < len(self._rows_shown) else None

    def _item(self, number: int) -> Item:
        item = self._items.get(number)
        if item is None:
            item = self._items[number] = Item.from_row(self._rows_shown[number])
        return item

    def row_of(self, path: Path) -> int | None:
        return self._row_of_path.get(str(path))

    # -- Qt model -------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows_shown)

    def canFetchMore(self, parent: AnyIndex) -> bool:
        return self.more and not parent.isValid()

    def fetchMore(self, parent: AnyIndex) -> None:
        if self.canFetchMore(parent):
            self.more = False  # until the page asked for arrives
            self.more_wanted.emit()

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        number = index.row()
        if not index.isValid() or not 0 <= number < len(self._rows_shown):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return _row_name(self._rows_shown[number])
        if role == ItemRole:
            return self._item(number)
        if role == PixmapRole:
            return self._pixmap(self._rows_shown[number])
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self._item(number))
        if role == HeaderRole:  # issue 21: month headers when sorted by date
            return month_header(self._rows_shown, number, self._sort)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The selected files as file URLs (file managers, mail, editors) and as text."""
        numbers = sorted({index.row() for index in indexes if index.isValid()})
        paths = [self._rows_shown[n][Col.PATH] for n in numbers if n < len(self._rows_shown)]
        mime = QMimeData()
        mime.setUrls([file_url(Path(path)) for path in paths])
        mime.setText("\n".join(readable(path) for path in paths))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction

    # -- thumbnails -----------------------------------------------------------------------

    def _pixmap(self, row: ItemRow) -> QPixmap | None:
        key = row[Col.THUMB_KEY]
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if key not in self._failed:
            self._loader.request(key, Path(row[Col.PATH]), row[Col.KIND], row[Col.AT_S])
        return None

    def thumbnail_failed(self, item: Item) -> bool:
        return item.thumb_key in self._failed

    def _thumbnail_loaded(self, key: str, image: QImage) -> None:
        if image.isNull():
            self._failed.add(key)
        else:
            self._pixmaps[key] = QPixmap.fromImage(image)
            self._pixmaps.move_to_end(key)
            while len(self._pixmaps) > self._cache_items:
                self._pixmaps.popitem(last=False)
        for number in self._rows_of_key.get(key, ()):
            index = self.index(number)
            self.dataChanged.emit(index, index, [PixmapRole])
        self.thumbnails_changed.emit()

    def forget_thumbnails(self) -> None:
        """Drop every loaded thumbnail (their size changed); they load again when shown."""
        self._loader.forget_queue()
        self._pixmaps.clear()
        self._failed.clear()
        if self._rows_shown:
            last = self.index(len(self._rows_shown) - 1)
            self.dataChanged.emit(self.index(0), last, [PixmapRole])

    def cached_thumbnails(self) -> int:
        return len(self._pixmaps)


def _row_name(row: ItemRow) -> str:
    if row[Col.KIND] == "document" and row[Col.TITLE]:
        return str(row[Col.TITLE])
    return readable(os.path.basename(str(row[Col.PATH])))


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _sorted(rows: list[ItemRow], mode: str) -> list[ItemRow]:
    if mode == SORT_NEWEST:
        return sorted(rows, key=lambda row: row[Col.DATE], reverse=True)
    if mode == SORT_OLDEST:
        return sorted(rows, key=lambda row: row[Col.DATE])
    if mode == SORT_NAME:
        return sorted(rows, key=lambda row: _row_name(row).lower())
    return list(rows)
