"""The duplicates view: groups of photos that are the same picture, compared side by side; keep
one and move the others to the Trash."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFile, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.records import readable
from desktop_app.gui.latest_loader import LatestLoader, Picture, picture
from desktop_app.gui.results_model import human_size
from desktop_app.gui.workers import Fetch
from desktop_app.host.protocol import DuplicateRows, Item

log = logging.getLogger(__name__)

PICTURE_SIDE = 260  # each photo of a group, compared side by side
MAX_SHOWN = 8  # photos of one group shown at once


def move_to_trash(path: Path) -> bool:
    """Move a file to the desktop's Trash (it can be restored from there); whether it went."""
    return bool(QFile.moveToTrash(str(path))[0])


class _Photo(QWidget):
    """One photo of a group: its picture, what tells it apart (size, pixels, date, folder), and a
    Keep choice."""

    def __init__(self, item: Item, fetch: Fetch, keep: QButtonGroup) -> None:
        super().__init__()
        self.item = item
        self.picture = QLabel("Loading…")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setFixedSize(PICTURE_SIDE, PICTURE_SIDE * 3 // 4)
        self.details = QLabel(_describe(item))
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keep = QRadioButton("Keep this one")
        keep.addButton(self.keep)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture)
        layout.addWidget(self.details)
        layout.addWidget(self.keep)
        layout.addStretch(1)
        self._loader = LatestLoader(fetch)
        self._loader.loaded.connect(self._loaded)
        self._loader.load(picture(item.path, item.kind, PICTURE_SIDE * 2))

    def _loaded(self, _ticket: int, answer: Picture) -> None:
        if answer.image.isNull():
            self.picture.setText(str(answer.details.get("error", "No picture")))
            return
        pixmap = QPixmap.fromImage(answer.image).scaled(
            self.picture.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.picture.setText("")
        self.picture.setPixmap(pixmap)

    def close_loader(self) -> None:
        self._loader.wait(2000)


class DuplicatesDialog(QDialog):
    """Groups of near-duplicate photos, biggest first; the chosen group side by side."""

    trashed = Signal(object)  # list[Path]: files moved to the Trash

    def __init__(
        self,
        groups: tuple[DuplicateRows, ...],
        fetch: Fetch,
        parent: QWidget | None = None,
        confirm: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self.resize(1000, 640)
        self._fetch = fetch
        self._confirm = confirm  # None: ask with a message box
        self._groups = [g.items for g in groups]
        self._photos: list[_Photo] = []

        self.summary = QLabel()
        self.groups = QListWidget()
        self.groups.setAccessibleName("Groups of duplicates")
        self.groups.currentRowChanged.connect(self._show_group)
        self._compare = QWidget()
        self._grid = QGridLayout(self._compare)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._compare)
        split = QSplitter()
        split.addWidget(self.groups)
        split.addWidget(scroll)
        split.setSizes([280, 720])

        self._keep = QButtonGroup(self)
        self._keep.buttonToggled.connect(lambda *_: self._update_buttons())
        self.trash_others = QPushButton("Move the Others to Trash")
        self.trash_others.setToolTip("Keep the chosen photo; the others go to the Trash")
        self.trash_others.clicked.connect(self._trash_others)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.trash_others)
        row.addStretch(1)
        row.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addLayout(row)
        self._fill()

    def _fill(self) -> None:
        self.groups.clear()
        photos = sum(len(g) for g in self._groups)
        if not self._groups:
            self.summary.setText("No photos are the same picture as another.")
        else:
            self.summary.setText(
                f"{len(self._groups)} group{'s' if len(self._groups) != 1 else ''} of photos "
                f"that are the same picture ({photos} photos): choose the one to keep."
            )
        for group in self._groups:
            names = ", ".join(readable(item.name) for item in group[:3])
            more = f" and {len(group) - 3} more" if len(group) > 3 else ""
            entry = QListWidgetItem(f"{len(group)} photos: {names}{more}")
            entry.setToolTip("\n".join(readable(item.path) for item in group))
            self.groups.addItem(entry)
        if self._groups:
            self.groups.setCurrentRow(0)
        else:
            self._show_group(-1)

    def _show_group(self, row: int) -> None:
        for photo in self._photos:
            photo.close_loader()
            self._keep.removeButton(photo.keep)
            photo.deleteLater()
        self._photos = []
        if 0 <= row < len(self._groups):
            for n, item in enumerate(self._groups[row][:MAX_SHOWN]):
                photo = _Photo(item, self._fetch, self._keep)
                self._photos.append(photo)
                self._grid.addWidget(photo, n // 3, n % 3)
        self._update_buttons()

    @property
    def photos(self) -> list[_Photo]:
        """The photos of the group shown now."""
        return list(self._photos)

    def _update_buttons(self) -> None:
        self.trash_others.setEnabled(any(p.keep.isChecked() for p in self._photos))

    def _trash_others(self) -> None:
        row = self.groups.currentRow()
        kept = next((p.item for p in self._photos if p.keep.isChecked()), None)
        if kept is None or not 0 <= row < len(self._groups):
            return
        others = [item.path for item in self._groups[row] if item.path != kept.path]
        names = "\n".join(readable(p.name) for p in others)
        if not (self._confirm or self._ask)(
            f"Keep {readable(kept.name)} and move these to the Trash?\n\n{names}"
        ):
            return
        gone = [path for path in others if move_to_trash(path)]
        failed = [path for path in others if path not in gone]
        if failed:
            log.warning("Could not move to the Trash: %s", ", ".join(map(str, failed)))
        if gone:
            self.trashed.emit(gone)
        left = [item for item in self._groups[row] if item.path not in gone]
        if len(left) > 1:
            self._groups[row] = tuple(left)
        else:
            del self._groups[row]
        self._fill()

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Move to Trash", question)
        return answer == QMessageBox.StandardButton.Yes

    def done(self, result: int) -> None:
        for photo in self._photos:
            photo.close_loader()
        super().done(result)


def _describe(item: Item) -> str:
    lines = [readable(item.name)]
    if item.width and item.height:
        lines.append(f"{item.width} × {item.height}")
    lines.append(human_size(item.size))
    lines.append(f"{item.date:%d %b %Y, %H:%M}")
    lines.append(readable(item.path.parent))
    return "\n".join(lines)
