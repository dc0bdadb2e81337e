"""What the search box understood, as removable chips ("📅 July 2023 ×"), and the Places filter.

Removing a chip asks the presenter to search again with those words as words (issue 21).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from desktop_app.core.understanding.records import Understood


class UnderstoodChips(QWidget):
    """A row of chips under the search field, one per understood part; hidden when none."""

    removed = Signal(str)  # the part taken back: "date", "place" or "kind"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._intro = QLabel("Filtered by:")
        self._layout.addWidget(self._intro)
        self._layout.addStretch(1)
        self.chips: list[QToolButton] = []
        self.hide()

    def show_understood(self, understood: Understood | None) -> None:
        """Show the chips for ``understood`` (none: the row hides)."""
        for chip in self.chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for part, label in understood.chips() if understood is not None else ():
            chip = QToolButton()
            label = readable_chip(label)
            chip.setText(f"{label}  ×")
            chip.setAutoRaise(False)
            chip.setAccessibleName(f"Remove the filter {label}")
            chip.setToolTip("Search without this filter: its words count as words again")
            chip.setProperty("part", part)
            chip.clicked.connect(lambda _checked=False, p=part: self.removed.emit(p))
            self._layout.insertWidget(self._layout.count() - 1, chip)
            self.chips.append(chip)
        self.setVisible(bool(self.chips))

    def labels(self) -> list[str]:
        """The chips' texts, in order."""
        return [chip.text() for chip in self.chips]


class PlaceFilter(QComboBox):
    """Places where the library's files were taken: countries, then their cities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Place")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.addItem("All places", None)
        self.setVisible(False)  # until some file has a place

    def set_places(self, places: tuple[tuple[str, str, int], ...]) -> None:
        """Offer these (key, label, files); the current choice stays when it is still there."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("All places", None)
        for key, label, files in places:
            city = "|" in key
            name = label.split(",")[0] if city else label
            self.addItem(f"{'    ' if city else ''}{name} ({files})", key)
        index = self.findData(current) if current else 0
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)
        self.setVisible(bool(places))
        if current and index < 0:
            self.currentIndexChanged.emit(0)


# The symbol each chip starts with, and the word that stands for it where no font draws it.
_SYMBOL_WORDS = {"📅": "Date:", "📍": "Place:", "🗂": "Kind:", "👤": "Person:"}


def has_emoji_font() -> bool:
    """Whether an installed font draws emoji (a minimal system shows an empty box instead)."""
    return any("emoji" in family.lower() for family in QFontDatabase.families())


def readable_chip(label: str, emoji: bool | None = None) -> str:
    """``label`` as the chip shows it: "📅 July 2023", or "Date: July 2023" without an emoji
    font."""
    if emoji is None:
        emoji = has_emoji_font()
    symbol, _, rest = label.partition(" ")
    if emoji or symbol not in _SYMBOL_WORDS:
        return label
    return f"{_SYMBOL_WORDS[symbol]} {rest}"
