"""The preview's "Where it matches" button: a heat-map over the photo, asked for on demand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QPushButton, QWidget

from desktop_app.host.protocol import Item

if TYPE_CHECKING:
    from desktop_app.core.embedding.heatmap import HeatMap
    from desktop_app.gui.workers import LibraryBridge

HEAT = QColor(255, 72, 0)
MOST_OPAQUE = 0.65


def overlay(pixmap: QPixmap, heat: HeatMap) -> QPixmap:
    """``pixmap`` with each cell of the heat-map tinted by how much it matched."""
    out = QPixmap(pixmap)
    rows = len(heat.cells)
    if out.isNull() or not rows:
        return out
    left, top, width, height = heat.box
    area = QRectF(
        left * out.width(), top * out.height(), width * out.width(), height * out.height()
    )
    painter = QPainter(out)
    painter.setPen(QColor(0, 0, 0, 0))
    for r, row in enumerate(heat.cells):
        for c, value in enumerate(row):
            colour = QColor(HEAT)
            colour.setAlphaF(MOST_OPAQUE * value)
            cell_w, cell_h = area.width() / len(row), area.height() / rows
            painter.fillRect(
                QRectF(area.left() + c * cell_w, area.top() + r * cell_h, cell_w, cell_h), colour
            )
    painter.end()
    return out


class HeatMapButton(QPushButton):
    """Checked: the photo in the preview shows where it matches the query (a search hit only)."""

    wanted = Signal(object)  # Path: compute the heat-map of this photo for the current query

    def __init__(self, picture: Any, parent: QWidget | None = None) -> None:
        super().__init__("Heat-map", parent)
        self.setCheckable(True)
        self.setToolTip(
            "Where it matches: tint the parts of the photo that make it match the search"
        )
        self._picture = picture  # the preview's picture label (has set_source)
        self._plain = QPixmap()
        self._path: Path | None = None
        self.toggled.connect(self._toggled)
        self.hide()

    def reset(self, item: Item | None) -> None:
        """A new item is shown: offered for photos found by a search."""
        self.blockSignals(True)
        self.setChecked(False)
        self.blockSignals(False)
        self._path = item.path if item is not None else None
        self._plain = QPixmap()
        self.setVisible(item is not None and item.kind == "image" and item.score is not None)

    def picture_shown(self, pixmap: QPixmap) -> None:
        """The preview loaded the photo: the heat-map goes over this picture."""
        self._plain = pixmap
        if self.isChecked() and self._path is not None:
            self.wanted.emit(self._path)

    def show_heat(self, path: Path, heat: HeatMap) -> None:
        """The heat-map arrived: tint the photo, if it is still the one shown and asked for."""
        if path == self._path and self.isChecked() and not self._plain.isNull():
            self._picture.set_source(overlay(self._plain, heat))
            self.setToolTip(f"Computed in {heat.elapsed_s * 1000:.0f} ms")

    def failed(self, exc: BaseException) -> None:
        """No heat-map (no query typed, the model unavailable): unchecked, the reason its tip."""
        self.setChecked(False)
        self.setToolTip(str(exc))

    def _toggled(self, on: bool) -> None:
        if on and self._path is not None:
            self.wanted.emit(self._path)
        elif not self._plain.isNull():
            self._picture.set_source(self._plain)


def wire_heat_map(button: HeatMapButton, bridge: LibraryBridge, text: Callable[[], str]) -> None:
    """Ask the library for a heat-map when the button wants one, for the query typed now."""

    def ask(path: Path) -> None:
        query = text()
        bridge.run(
            lambda c: c.heat_map(path, query),
            done=lambda heat: button.show_heat(path, heat),
            failed=button.failed,
        )

    button.wanted.connect(ask)
