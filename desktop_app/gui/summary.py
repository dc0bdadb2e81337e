"""The line above the grid: how many results, what was hidden by the relevance cutoff, notices."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.core.records import readable
from desktop_app.gui.results_model import clock
from desktop_app.host.protocol import Col, QueryResult


class ResultsSummary(QWidget):
    """ "24 photos for “red circle” · 40 less relevant hidden [Show more]", and friends."""

    show_more = Signal()
    clear_similar = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setObjectName("summary")
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #b26b00;")
        self.more = QPushButton("Show more")
        self.more.setFlat(True)
        self.more.setCursor(Qt.CursorShape.PointingHandCursor)
        self.more.setToolTip("Also show results below the relevance cutoff")
        self.more.clicked.connect(self.show_more)
        self.back = QPushButton("Clear")
        self.back.setFlat(True)
        self.back.setCursor(Qt.CursorShape.PointingHandCursor)
        self.back.clicked.connect(self.clear_similar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.more)
        layout.addWidget(self.back)
        layout.addWidget(self.notice, 1)
        self.more.hide()
        self.back.hide()
        self.can_show_more = False

    def show_busy(self) -> None:
        self.label.setText("Searching…")

    def show_error(self, message: str) -> None:
        self.label.setText("")
        self.notice.setText(message)
        self.more.hide()

    def show_result(self, result: QueryResult, similar_to: Path | None, more: bool = False) -> None:
        """Say what ``result`` holds; ``more``: it is a page, more come as the grid scrolls."""
        query = result.query
        count = len(result.rows)
        shown = f"{count:,} result{'s' if count != 1 else ''}"
        if query.similar_to is not None and query.text.strip():
            picture = html.escape(readable(query.similar_to.name))
            text = f"{shown} like <b>{picture}</b> + <b>“{html.escape(query.text)}”</b>"
        elif query.similar_to is not None:
            look = "looks" if count == 1 else "look"
            text = f"{shown} that {look} like <b>{html.escape(readable(query.similar_to.name))}</b>"
            if query.similar_at is not None:
                text += f" at {clock(query.similar_at)}"
        elif query.is_recent and count and more:
            text = f"Recent files · the newest {count:,}, more as you scroll"
        elif query.is_recent:
            text = f"Recent files · {count:,}" if count else "Recent files"
        else:
            text = f"{shown} for <b>“{html.escape(query.text)}”</b>"
        if more and not query.is_recent:  # the best so far, not all there are
            text += ", more as you scroll"
        dimmed = sum(1 for row in result.rows if not row[Col.RELEVANT])
        if result.hidden and not query.show_all:
            text += f" · {result.hidden:,} less relevant hidden"
        elif dimmed:
            text += f" · {dimmed:,} below the relevance cutoff (dimmed)"
        self.label.setText(text)
        self.can_show_more = bool(
            (result.hidden and not query.show_all)
            or (not query.is_recent and not more and count >= query.limit)
        )
        self.more.setVisible(self.can_show_more)
        self.back.setVisible(similar_to is not None)
        self.notice.setText(result.notice or "")
