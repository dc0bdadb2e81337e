"""The duplicates view: groups of photos that are the same picture, compared side by side; keep
one and move the others to the Trash (never deleted: a file the Trash refuses stays where it is)."""

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
COLUMNS = 3  # photos side by side (the view is made wide enough for them)
PHOTO_MARGIN = 6  # around each photo of the comparison
MAX_SHOWN = 8  # photos of one group shown at once
LARGE_GROUP = 10  # moving this many photos or more: the question's default answer is No
NAMES_ASKED = 12  # names listed in the question; the others are counted


def move_to_trash(path: Path) -> bool:
    """Move a file to the desktop's Trash (it can be restored from there); whether it went.

    Qt only renames into a Trash folder: a file it cannot put there is left as it is.
    """
    went: object = QFile.moveToTrash(str(path))  # a bool (PySide6 6.11), (bool, path) before
    return bool(went[0] if isinstance(went, tuple) else went)


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
        self.details.setFixedWidth(PICTURE_SIDE)  # (a long folder name must not widen it)
        self.details.setToolTip(readable(item.path))
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keep = QRadioButton("Keep this one")
        keep.addButton(self.keep)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(PHOTO_MARGIN, PHOTO_MARGIN, PHOTO_MARGIN, PHOTO_MARGIN)
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
        confirm: Callable[[str, int], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self._fetch = fetch
        self._confirm = confirm  # (question, photos to move) -> yes; None: a message box
        self._groups = [g.items for g in groups]
        self._photos: list[_Photo] = []

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.groups = QListWidget()
        self.groups.setAccessibleName("Groups of duplicates")
        self.groups.setWordWrap(True)  # a long entry wraps instead of being cut off
        self.groups.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.groups.setMinimumWidth(200)
        self.groups.currentRowChanged.connect(self._show_group)
        self.shown = QLabel()
        self._compare = QWidget()
        self._grid = QGridLayout(self._compare)
        self.compare = QScrollArea()
        self.compare.setWidgetResizable(True)
        self.compare.setWidget(self._compare)
        self.compare.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.shown)
        right_layout.addWidget(self.compare, 1)
        split = QSplitter()
        split.addWidget(self.groups)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

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
        self._fit_columns()
        self.resize(max(1000, self.minimumSizeHint().width()), 640)
        self._fill()

    def _fit_columns(self) -> None:
        """Make the comparison wide enough for ``COLUMNS`` photos beside its vertical scroll bar."""
        margins = self._grid.contentsMargins()
        width = COLUMNS * (PICTURE_SIDE + 2 * PHOTO_MARGIN)
        width += (COLUMNS - 1) * max(self._grid.horizontalSpacing(), 0)
        width += margins.left() + margins.right() + 2 * self.compare.frameWidth()
        width += self.compare.verticalScrollBar().sizeHint().width()
        self.compare.setMinimumWidth(width)

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
            more = f" and {len(group) - 3:,} more" if len(group) > 3 else ""
            entry = QListWidgetItem(f"{len(group):,} photos: {names}{more}")
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
        self.shown.setText("")
        if 0 <= row < len(self._groups):
            group = self._groups[row]
            for n, item in enumerate(group[:MAX_SHOWN]):
                photo = _Photo(item, self._fetch, self._keep)
                self._photos.append(photo)
                self._grid.addWidget(photo, n // COLUMNS, n % COLUMNS)
            if len(group) > MAX_SHOWN:
                self.shown.setText(
                    f"Showing {MAX_SHOWN} of the {len(group):,} photos in this group."
                )
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
        if not (self._confirm or self._ask)(_question(kept.name, others), len(others)):
            return
        gone = [path for path in others if move_to_trash(path)]
        failed = [path for path in others if path not in gone]
        if gone:
            self.trashed.emit(gone)
        left = [item for item in self._groups[row] if item.path not in gone]
        if len(left) > 1:
            self._groups[row] = tuple(left)
        else:
            del self._groups[row]
        self._fill()
        if failed:
            log.warning("Could not move to the Trash: %s", ", ".join(map(str, failed)))
            self.summary.setText(
                f"{_photos(len(failed))} could not be moved to the Trash and "
                f"{'was' if len(failed) == 1 else 'were'} left where "
                f"{'it was' if len(failed) == 1 else 'they were'}: "
                + ", ".join(readable(p.name) for p in failed[:NAMES_ASKED])
                + (f" and {len(failed) - NAMES_ASKED:,} more" if len(failed) > NAMES_ASKED else "")
            )

    def _ask(self, question: str, moving: int) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Move to Trash", question, parent=self)
        yes = box.addButton(f"Move {_photos(moving)} to Trash", QMessageBox.ButtonRole.YesRole)
        no = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(no if moving >= LARGE_GROUP else yes)
        box.exec()
        return box.clickedButton() is yes

    def done(self, result: int) -> None:
        for photo in self._photos:
            photo.close_loader()
        super().done(result)


def _photos(n: int) -> str:
    return f"{n:,} photo{'' if n == 1 else 's'}"


def _question(kept: str, others: list[Path]) -> str:
    """Whether to keep ``kept`` and move ``others`` to the Trash, naming how many (and which)."""
    names = "\n".join(readable(p.name) for p in others[:NAMES_ASKED])
    if len(others) > NAMES_ASKED:
        names += f"\n… and {len(others) - NAMES_ASKED:,} more"
    question = f"Keep {readable(kept)} and move {_photos(len(others))} to the Trash?"
    if len(others) >= LARGE_GROUP:
        question += (
            f" That is a large group: check that all {len(others) + 1:,} are the same picture."
        )
    return f"{question}\n\n{names}\n\nThey can be restored from the Trash."


def _describe(item: Item) -> str:
    lines = [readable(item.name)]
    if item.width and item.height:
        lines.append(f"{item.width} × {item.height}")
    lines.append(human_size(item.size))
    lines.append(f"{item.date:%d %b %Y, %H:%M}")
    lines.append(readable(item.path.parent))
    return "\n".join(lines)
