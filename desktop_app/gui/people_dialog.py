"""The People view: a face per person, most photos first; double-click shows their photos,
click a selected name (or F2) to rename it in place, select several to merge them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.gui.people_drag import PeopleList
from desktop_app.host.protocol import PersonRow

FACE_SIDE = 96
_ID = Qt.ItemDataRole.UserRole


class PeopleDialog(QDialog):
    """People as faces; edits are asked for through signals, then ``set_people`` shows them."""

    renamed = Signal(int, str)  # person id, new name
    merge_requested = Signal(int, list)  # the person kept, the ids merged into them
    person_chosen = Signal(str)  # the query that shows the person's photos

    def __init__(self, people: tuple[PersonRow, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("People")
        self.resize(720, 520)
        self.faces = PeopleList()  # drag one person onto another to merge them
        self.faces.dropped.connect(self.merge_requested)
        self.faces.setViewMode(QListWidget.ViewMode.IconMode)
        self.faces.setIconSize(QSize(FACE_SIDE, FACE_SIDE))
        self.faces.setGridSize(QSize(FACE_SIDE + 40, FACE_SIDE + 48))
        self.faces.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.faces.setMovement(QListWidget.Movement.Snap)  # Static would forbid dragging
        self.faces.setWordWrap(True)
        self.faces.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.faces.setEditTriggers(
            QAbstractItemView.EditTrigger.SelectedClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.faces.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.faces.customContextMenuRequested.connect(self._menu)
        self.faces.itemActivated.connect(self._chosen)
        self.faces.itemChanged.connect(self._edited)
        self.faces.itemSelectionChanged.connect(self._selection_changed)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.merge = QPushButton("Merge Selected")
        self.merge.setEnabled(False)
        self.merge.clicked.connect(lambda: self._merge_selected())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.merge, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.faces, 1)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self.set_people(people)

    def set_people(self, people: tuple[PersonRow, ...]) -> None:
        """Show ``people`` (as the library has them now)."""
        self._people = {p.id: p for p in people}
        self.faces.blockSignals(True)
        self.faces.clear()
        for person in people:
            item = QListWidgetItem(_icon(person), person.label)
            item.setData(_ID, person.id)
            item.setToolTip(f"{person.label}: {person.photos} photo{'s' * (person.photos != 1)}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.faces.addItem(item)
        self.faces.blockSignals(False)
        self.hint.setText(
            "Double-click a person to see their photos; click a selected name to rename it; "
            "drag one person onto another (or select several and merge them) when they are one "
            "person."
            if people
            else "No people found yet: faces are looked for after photos are indexed."
        )

    def _person(self, item: QListWidgetItem) -> PersonRow:
        return self._people[int(item.data(_ID))]

    def _chosen(self, item: QListWidgetItem) -> None:
        self.person_chosen.emit(self._person(item).query)

    def _edited(self, item: QListWidgetItem) -> None:
        person = self._person(item)
        name = " ".join(item.text().split())
        if name and name != person.label:
            self.renamed.emit(person.id, name)
        else:
            self.faces.blockSignals(True)
            item.setText(person.label)
            self.faces.blockSignals(False)

    def _selection_changed(self) -> None:
        self.merge.setEnabled(len(self.faces.selectedItems()) > 1)

    def _merge_selected(self, into: QListWidgetItem | None = None) -> None:
        chosen = [self._person(i) for i in self.faces.selectedItems()]
        if len(chosen) < 2:
            return
        # Kept: the person clicked, else a named one, else the one with most photos.
        kept = self._person(into) if into is not None else _keeper(chosen)
        self.merge_requested.emit(kept.id, [p.id for p in chosen if p.id != kept.id])

    def _menu(self, at: object) -> None:
        item = self.faces.itemAt(at)  # type: ignore[call-overload]
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Show Their Photos", lambda: self._chosen(item))
        menu.addAction("Rename", lambda: self.faces.editItem(item))
        if len(self.faces.selectedItems()) > 1 and item.isSelected():
            menu.addAction(
                f"Merge Selected into {self._person(item).label}",
                lambda: self._merge_selected(item),
            )
        menu.popup(self.faces.viewport().mapToGlobal(at))  # type: ignore[call-overload]


def _keeper(people: list[PersonRow]) -> PersonRow:
    return sorted(people, key=lambda p: (p.name is None, -p.photos))[0]


def _icon(person: PersonRow) -> QIcon:
    image = QImage()
    if person.face_png is not None and image.loadFromData(person.face_png):
        return QIcon(QPixmap.fromImage(image))
    blank = QPixmap(FACE_SIDE, FACE_SIDE)
    blank.fill(Qt.GlobalColor.lightGray)
    return QIcon(blank)
