"""Month headers on the grid when results are sorted by date (issue 21): the first file of each
month carries "July 2023", drawn as a label at the top of its thumbnail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from desktop_app.host.protocol import Col, ItemRow

HeaderRole = Qt.ItemDataRole.UserRole + 3  # "July 2023" on the first file of a month, else None
DATE_SORTS = ("newest", "oldest")  # results_model.SORT_NEWEST, SORT_OLDEST


def month_header(rows: Sequence[ItemRow], number: int, sort: str) -> str | None:
    """The month the row ``number`` starts ("July 2023"), when sorted by date; else None."""
    if sort not in DATE_SORTS or not 0 <= number < len(rows):
        return None
    month = _month(rows[number])
    if number > 0 and _month(rows[number - 1]) == month:
        return None
    return datetime(month[0], month[1], 1).strftime("%B %Y")


def _month(row: ItemRow) -> tuple[int, int]:
    when = datetime.fromtimestamp(row[Col.DATE])  # taken, else modified
    return when.year, when.month


def draw_header(painter: QPainter, frame: QRect, text: str, option: QStyleOptionViewItem) -> None:
    """A month label across the top of a thumbnail's frame."""
    font = QFont(option.font)
    font.setBold(True)
    metrics = QFontMetrics(font)
    height = metrics.height() + 6
    width = min(frame.width(), metrics.horizontalAdvance(text) + 14)
    box = QRect(frame.left(), frame.top(), width, height)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(option.palette.color(option.palette.ColorRole.Highlight)))
    painter.drawRoundedRect(QRectF(box), 5, 5)
    painter.setFont(font)
    painter.setPen(option.palette.color(option.palette.ColorRole.HighlightedText))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
