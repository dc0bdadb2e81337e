"""The thumbnail grid: a QListView in icon mode and the delegate that paints each cell."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop_app.gui import icons
from desktop_app.gui.results_model import ItemRole, PixmapRole, video_badge
from desktop_app.gui.timeline import HeaderRole, draw_header
from desktop_app.host.protocol import Item

MIN_ICON = 64
MAX_ICON = 256
DEFAULT_ICON = 144
PADDING = 6
TEXT_GAP = 4
DIMMED = 0.45  # opacity of results below the relevance cutoff

AnyIndex = QModelIndex | QPersistentModelIndex


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a thumbnail (or a placeholder) with the file's name under it."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._placeholders: dict[tuple[str, int, float, str], QPixmap] = {}

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return cell_size(self._view.iconSize().width(), option.fontMetrics.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        item: Item | None = index.data(ItemRole)
        if item is None:
            return
        palette = option.palette
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = QRectF(rect).adjusted(1.5, 1.5, -1.5, -1.5)
        if selected or hovered:
            colour = QColor(palette.color(QPalette.ColorRole.Highlight))
            colour.setAlphaF(0.28 if selected else 0.10)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(cell, 8, 8)
        if focused and selected:
            pen_colour = palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(pen_colour)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, 8, 8)
        if not item.relevant:
            painter.setOpacity(DIMMED)
        side = self._view.iconSize().width()
        frame = QRect(
            rect.left() + (rect.width() - side) // 2,
            rect.top() + PADDING,
            side,
            _frame_height(side),
        )
        pixmap: QPixmap | None = index.data(PixmapRole)
        if pixmap is not None and not pixmap.isNull():
            self._draw_picture(painter, frame, pixmap, item, palette)
        else:
            self._draw_placeholder(painter, frame, item, palette)
        if item.kind == "document" and item.passage:
            self._draw_snippet(painter, frame, item, option, palette)
        badge = video_badge(item)
        if badge:
            self._draw_badge(painter, frame, badge, option)
        header = index.data(HeaderRole)
        if header:  # issue 21: the first file of a month, when sorted by date
            draw_header(painter, frame, header, option)
        text_rect = QRect(
            rect.left() + PADDING,
            frame.bottom() + TEXT_GAP,
            rect.width() - 2 * PADDING,
            option.fontMetrics.height(),
        )
        name = option.fontMetrics.elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole)),
            Qt.TextElideMode.ElideMiddle,
            text_rect.width(),
        )
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
        painter.restore()

    def _draw_badge(
        self, painter: QPainter, frame: QRect, text: str, option: QStyleOptionViewItem
    ) -> None:
        """A video's moment (or length) on a dark label at the foot of its frame, as players do."""
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(text) + 10
        height = metrics.height() + 4
        box = QRect(frame.left() + 6, frame.bottom() - height - 6, width, height)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(QRectF(box), 4, 4)
        painter.setFont(font)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _draw_snippet(
        self,
        painter: QPainter,
        frame: QRect,
        item: Item,
        option: QStyleOptionViewItem,
        palette: QPalette,
    ) -> None:
        """The passage that matched (and its page), on a band over the foot of the page."""
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setItalic(True)
        metrics = QFontMetrics(font)
        band = QRect(frame.left(), frame.bottom() - 2 * metrics.height() - 6, frame.width(), 0)
        band.setBottom(frame.bottom())
        back = QColor(palette.color(QPalette.ColorRole.Base))
        back.setAlphaF(0.92)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(back)
        painter.drawRoundedRect(QRectF(band), 4, 4)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        page = f"p. {item.page} · " if item.page else ""
        text = " ".join(f"{page}{item.passage}".split())
        inner = band.adjusted(4, 3, -4, -3)
        lines = _wrap_two_lines(text, metrics, inner.width())
        painter.drawText(inner, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, lines)
        painter.restore()

    def _draw_picture(
        self, painter: QPainter, frame: QRect, pixmap: QPixmap, item: Item, palette: QPalette
    ) -> None:
        size = (
            pixmap.deviceIndependentSize()
            .toSize()
            .scaled(frame.size(), Qt.AspectRatioMode.KeepAspectRatio)
        )
        target = QRect(
            frame.left() + (frame.width() - size.width()) // 2,
            frame.top() + (frame.height() - size.height()) // 2,
            size.width(),
            size.height(),
        )
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(target), 4, 4)
        painter.save()
        painter.setClipPath(clip)
        painter.drawPixmap(target, pixmap)
        painter.restore()
        if item.kind == "document":  # a page: give it an edge on white backgrounds
            edge = QColor(palette.color(QPalette.ColorRole.Mid))
            painter.setPen(edge)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(target).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)

    def _draw_placeholder(
        self, painter: QPainter, frame: QRect, item: Item, palette: QPalette
    ) -> None:
        back = QColor(palette.color(QPalette.ColorRole.Text))
        back.setAlphaF(0.06)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(back)
        painter.drawRoundedRect(QRectF(frame).adjusted(4, 4, -4, -4), 6, 6)
        document = item.kind == "document"
        side = max(32, frame.height() * 2 // 3) if document else max(24, frame.height() // 2)
        ratio = self._view.devicePixelRatioF()
        svg = icons.DOCUMENT if item.kind == "document" else icons.PHOTO
        key = (item.kind, side, ratio, palette.color(QPalette.ColorRole.Text).name())
        glyph = self._placeholders.get(key)
        if glyph is None:
            colour = QColor(palette.color(QPalette.ColorRole.Text))
            colour.setAlphaF(0.35)
            glyph = icons.pixmap(svg, QSize(side, side), ratio, colour)
            self._placeholders[key] = glyph
        x = frame.left() + (frame.width() - side) // 2
        y = frame.top() + (frame.height() - side) // 2
        painter.drawPixmap(x, y, glyph)


def cell_size(side: int, line: int) -> QSize:
    """A thumbnail's cell: the picture's 4:3 frame and a line of text under it, padded."""
    return QSize(side + 2 * PADDING, _frame_height(side) + TEXT_GAP + line + 2 * PADDING)


def _frame_height(side: int) -> int:
    """Cells are 4:3, the shape of most photos: those fill it, others are fitted inside."""
    return side * 3 // 4


class ResultsGrid(QListView):
    """Thumbnails in rows; Space toggles the preview, Enter opens, Ctrl+wheel zooms."""

    preview_toggled = Signal()
    open_requested = Signal()
    zoom_requested = Signal(int)  # +1 / -1 steps

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("results")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setUniformItemSizes(True)  # lays out 20,000 cells in a few milliseconds
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setIconSize(QSize(DEFAULT_ICON, DEFAULT_ICON))
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setAccessibleName("Results")

    def cells_in_view(self) -> int:
        """How many results fill the visible grid, with one row more."""
        cell = cell_size(self.iconSize().width(), self.fontMetrics().height())
        spacing = 2 * self.spacing()
        viewport = self.viewport().size()
        columns = max(1, viewport.width() // (cell.width() + spacing))
        rows = -(-viewport.height() // (cell.height() + spacing)) + 1
        return columns * rows

    def set_thumbnail_size(self, side: int) -> int:
        side = max(MIN_ICON, min(MAX_ICON, side))
        if side != self.iconSize().width():
            current = self.currentIndex()
            self.setIconSize(QSize(side, side))
            if current.isValid():
                self.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)
        return side

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.modifiers():
            self.preview_toggled.emit()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.indexAt(event.position().toPoint()).isValid():
            self.open_requested.emit()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = 1 if event.angleDelta().y() > 0 else -1
            self.zoom_requested.emit(steps)
            event.accept()
            return
        super().wheelEvent(event)


def _wrap_two_lines(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` on at most two lines of ``width`` pixels, the second elided at its end."""
    words = text.split(" ")
    first = ""
    while words and metrics.horizontalAdvance(f"{first} {words[0]}".strip()) <= width:
        first = f"{first} {words.pop(0)}".strip()
    rest = metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width)
    return f"{first}\n{rest}" if rest else first
