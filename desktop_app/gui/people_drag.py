"""The People view's list of faces: drag one person (or several selected) onto another to
merge them into that one."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

PEOPLE_MIME = "application/x-lumen-people"
ID_ROLE = Qt.ItemDataRole.UserRole


class PeopleList(QListWidget):
    """Faces in a grid; ``dropped(into, others)`` when people are dropped onto a person."""

    dropped = Signal(int, list)  # the person dropped onto, the ids dropped

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def mimeTypes(self) -> list[str]:
        return [PEOPLE_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        """The dragged people's ids (the items themselves never move)."""
        data = QMimeData()
        ids = ",".join(str(int(i.data(ID_ROLE))) for i in items)
        data.setData(PEOPLE_MIME, QByteArray(ids.encode()))
        return data

    def _target(self, event: QDropEvent) -> tuple[int, list[int]] | None:
        """The person under the pointer and the others dropped on them, if any."""
        if not event.mimeData().hasFormat(PEOPLE_MIME):
            return None
        raw = bytes(event.mimeData().data(PEOPLE_MIME).data()).decode()
        dragged = [int(i) for i in raw.split(",") if i]
        item = self.itemAt(event.position().toPoint())
        if item is None:
            return None
        into = int(item.data(ID_ROLE))
        others = [i for i in dragged if i != into]
        return (into, others) if others else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(PEOPLE_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._target(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self._target(event)
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)  # nothing is moved or removed here
        event.accept()
        self.dropped.emit(*target)
