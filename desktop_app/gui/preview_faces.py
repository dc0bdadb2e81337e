"""Who is in the previewed photo: their names under the picture and their face boxes drawn over
it while the pointer is on it; right-click a face (name or box) → "This is…" / "Not this person".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from desktop_app.host.protocol import FaceRow, Item, PersonRow, PhotoFaces

if TYPE_CHECKING:
    from desktop_app.gui.workers import LibraryBridge

BOX = QColor(255, 214, 0)
_FACE = Qt.ItemDataRole.UserRole


class FaceBoxes(QWidget):
    """Drawn over the preview's picture label: the face boxes, while the pointer is on it."""

    menu_wanted = Signal(int, QPoint)  # face id, where (global)

    def __init__(self, picture: QLabel) -> None:
        super().__init__(picture)
        self._picture = picture
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.faces: tuple[FaceRow, ...] = ()
        self.width_px: int | None = None  # the width the boxes are measured in
        self.hovered = False
        self.highlighted: int | None = None  # a face whose name the pointer is on
        picture.installEventFilter(self)
        self.setGeometry(picture.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._picture and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._picture.rect())
        return False

    def set_faces(self, faces: tuple[FaceRow, ...], width: int | None) -> None:
        self.faces, self.width_px = faces, width
        self.update()

    def rects(self) -> list[tuple[FaceRow, QRectF]]:
        """Each face's box where it is drawn now (none until the picture is shown)."""
        pixmap = self._picture.pixmap()
        if pixmap is None or pixmap.isNull() or not self.width_px:
            return []
        shown = pixmap.deviceIndependentSize()
        area = self._picture.contentsRect()
        left = area.left() + (area.width() - shown.width()) / 2
        top = area.top() + (area.height() - shown.height()) / 2
        scale = shown.width() / self.width_px
        out = []
        for face in self.faces:
            x, y, w, h = face.box
            out.append((face, QRectF(left + x * scale, top + y * scale, w * scale, h * scale)))
        return out

    def face_at(self, at: QPoint) -> FaceRow | None:
        return next((f for f, r in self.rects() if r.contains(at.toPointF())), None)

    def enterEvent(self, event: QEvent) -> None:
        self.hovered = True
        self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self.hovered = False
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        face = self.face_at(event.position().toPoint())
        self.setToolTip(f"{face.label} (right-click to correct)" if face else "")

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        face = self.face_at(event.pos())
        if face is not None:
            self.menu_wanted.emit(face.id, event.globalPos())

    def paintEvent(self, event: QPaintEvent) -> None:
        if not (self.hovered or self.highlighted is not None):
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for face, rect in self.rects():
            if not self.hovered and face.id != self.highlighted:
                continue
            painter.setPen(QPen(BOX, 2.5 if face.id == self.highlighted else 1.5))
            painter.drawRect(rect)
            label = painter.fontMetrics().boundingRect(face.label).adjusted(-4, -2, 4, 2)
            label.moveTopLeft(rect.bottomLeft().toPoint() + QPoint(0, 3))
            painter.fillRect(label, QColor(0, 0, 0, 170))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, face.label)
        painter.end()


class ThisIsDialog(QDialog):
    """ "This is…": pick a named person or type a name (a new person when no one has it)."""

    chosen = Signal(int, object, str)  # face id, person id (None: by name), name

    def __init__(self, face: FaceRow, people: tuple[tuple[int, str], ...], parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("This is…")
        self._face = face
        self.names = QComboBox()
        self.names.setEditable(True)
        self.names.setAccessibleName("Name")
        for person_id, name in people:
            self.names.addItem(name, person_id)
        self.names.setCurrentText(face.name or "")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Who is this? Pick a name or type a new one."))
        layout.addWidget(self.names)
        layout.addWidget(buttons)

    def accept(self) -> None:
        name = " ".join(self.names.currentText().split())
        if not name:
            return
        index = self.names.findText(name, Qt.MatchFlag.MatchFixedString)  # any case
        person_id = self.names.itemData(index) if index >= 0 else None
        super().accept()
        self.chosen.emit(self._face.id, person_id, name)


class PreviewFaces(QListWidget):
    """The names of the people in the previewed photo (hidden when there is no one); it asks
    for them with ``wanted`` and shows them with ``show_faces``."""

    wanted = Signal(object)  # Path
    this_is = Signal(int, object, str)  # face id, person id or None, name
    not_this_person = Signal(int)  # face id

    def __init__(self, picture: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("People in the photo")
        self.setToolTip("People in the photo: point at the picture to see their faces")
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setMouseTracking(True)
        self.setFixedHeight(self.fontMetrics().height() + 14)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(
            lambda at: self._menu_at(self.itemAt(at), self.viewport().mapToGlobal(at))
        )
        self.itemEntered.connect(lambda i: self._highlight(int(i.data(_FACE))))
        self.boxes = FaceBoxes(picture)
        self.boxes.menu_wanted.connect(lambda face_id, at: self.menu(face_id).popup(at))
        self.path: Path | None = None
        self.photo = PhotoFaces(Path(), None)
        self.dialog: ThisIsDialog | None = None
        self._boxes_drawn = False
        self.hide()

    def show_item(self, item: Item | None) -> None:
        """A new item is previewed: its people are asked for (photos and videos)."""
        self.path = item.path if item is not None and item.kind in ("image", "video") else None
        # A video's faces come from several frames: named, but their boxes are not drawn.
        self._boxes_drawn = item is not None and item.kind == "image"
        self.show_faces(PhotoFaces(self.path or Path(), None))
        if self.path is not None:
            self.wanted.emit(self.path)

    def show_faces(self, photo: PhotoFaces) -> None:
        """The people in ``photo``, if it is still the one previewed."""
        if photo.path != (self.path or Path()):
            return
        self.photo = photo
        self.clear()
        for face in photo.faces:
            entry = QListWidgetItem(face.label)
            entry.setData(_FACE, face.id)
            entry.setToolTip("Right-click to say who this is")
            entry.setSizeHint(QSize(self.fontMetrics().horizontalAdvance(entry.text()) + 16, 22))
            self.addItem(entry)
        self.boxes.set_faces(photo.faces if self._boxes_drawn else (), photo.width)
        self.setVisible(bool(photo.faces))

    def names(self) -> list[str]:
        return [self.item(n).text() for n in range(self.count())]

    def menu(self, face_id: int) -> QMenu:
        """The menu of one face: "This is…" and, for a face with a person, "Not this person"."""
        face = next(f for f in self.photo.faces if f.id == face_id)
        menu = QMenu(self)
        menu.addAction("This is…", lambda: self.ask_who(face))
        if face.person_id is not None:
            menu.addAction(
                f"Not {face.label}" if face.name else "Not this person",
                lambda: self.not_this_person.emit(face.id),
            )
        return menu

    def ask_who(self, face: FaceRow) -> ThisIsDialog:
        """Open the "This is…" dialog for ``face`` (without blocking)."""
        self.dialog = ThisIsDialog(face, self.photo.people, self)
        self.dialog.chosen.connect(self.this_is)
        self.dialog.open()
        return self.dialog

    def _menu_at(self, entry: QListWidgetItem | None, at: QPoint) -> None:
        if entry is not None:
            self.menu(int(entry.data(_FACE))).popup(at)

    def _highlight(self, face_id: int | None) -> None:
        self.boxes.highlighted = face_id
        self.boxes.update()

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self._highlight(None)


def wire_faces(faces: PreviewFaces, bridge: LibraryBridge) -> None:
    """Ask the library who is in the previewed photo; send corrections and show the result."""

    def ask(path: Path) -> None:
        bridge.run(lambda c: c.faces_in_photo(path), done=faces.show_faces, failed=lambda _e: None)

    def again(_person: PersonRow) -> None:
        if faces.path is not None:
            ask(faces.path)

    faces.wanted.connect(ask)
    faces.this_is.connect(
        lambda face_id, person_id, name: bridge.run(
            lambda c: c.this_is(face_id, person_id, name), done=again, title="This is…"
        )
    )
    faces.not_this_person.connect(
        lambda face_id: bridge.run(
            lambda c: c.not_this_person(face_id), done=again, title="Not this person"
        )
    )
