"""The preview pane: a larger picture of the current result and what is known about it; for a
video, a strip of frames over its length (a click shows that moment) and the moment that matched.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.records import readable
from desktop_app.gui import icons
from desktop_app.gui.heat_overlay import HeatMapButton
from desktop_app.gui.latest_loader import LatestLoader, Picture, Strip, frame_strip, picture
from desktop_app.gui.preview_faces import PreviewFaces
from desktop_app.gui.results_model import clock, display_name, human_size
from desktop_app.gui.workers import Fetch
from desktop_app.host.protocol import BY_NAME, Item

PREVIEW_MAX_SIDE = 1600
STRIP_FRAMES = 8  # frames in a video's strip, spread over its length
STRIP_SIDE = 96  # their longest side, in pixels
AT_ROLE = Qt.ItemDataRole.UserRole + 1  # a strip frame's time in seconds
_RICH = frozenset({"why", "tags", "passage"})  # fields shown as rich text (words in bold)


class _Picture(QLabel):
    """A label that keeps its image fitted to its size."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._source = QPixmap()

    def set_source(self, pixmap: QPixmap) -> None:
        self._source = pixmap
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._source.isNull():
            self.setPixmap(QPixmap())
            return
        ratio = self.devicePixelRatioF()
        target = QSize(round(self.width() * ratio), round(self.height() * ratio))
        scaled = self._source.scaled(
            target.boundedTo(self._source.size()),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(ratio)
        self.setPixmap(scaled)


class PreviewPane(QFrame):
    """Shows one item: picture, file name, path, date, camera, size, score."""

    open_requested = Signal(object)  # Path
    similar_requested = Signal(object)  # Path
    reveal_requested = Signal(object)  # Path
    close_requested = Signal()

    def __init__(self, fetch: Fetch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(280)
        self._item: Item | None = None
        self._ticket = 0
        self._loader = LatestLoader(fetch)
        self._loader.loaded.connect(self._loaded)
        self._strip_loader = LatestLoader(fetch)
        self._strip_loader.loaded.connect(self._strip_loaded)
        self._strip_ticket = 0
        self._moment: float | None = None  # the video's time shown in the picture
        self._duration: float | None = None
        self._details: dict[str, Any] = {}

        header = self._header()
        self.picture = _Picture()
        self.picture.setAccessibleName("Preview picture")
        self.strip = self._frame_strip()
        self._form = self._detail_fields()
        buttons = self._buttons()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.strip)
        layout.addWidget(self.faces)
        layout.addLayout(self._form)
        layout.addLayout(buttons)

    def _header(self) -> QHBoxLayout:
        """The file's name, and a button that closes the preview."""
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close the preview (Space)")
        close.clicked.connect(self.close_requested)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        return header

    def _frame_strip(self) -> QListWidget:
        """A video's frames in a row, hidden until a video is shown."""
        strip = QListWidget()
        strip.setAccessibleName("Frames")
        strip.setToolTip("Frames over the whole video: click one to see that moment")
        strip.setViewMode(QListView.ViewMode.IconMode)
        strip.setFlow(QListView.Flow.LeftToRight)
        strip.setWrapping(False)
        strip.setMovement(QListView.Movement.Static)
        strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        strip.setIconSize(QSize(STRIP_SIDE, STRIP_SIDE * 3 // 4))
        strip.setSpacing(2)
        strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip.setFixedHeight(STRIP_SIDE * 3 // 4 + self.fontMetrics().height() + 30)
        strip.itemClicked.connect(self._frame_clicked)
        strip.hide()
        return strip

    def _detail_fields(self) -> QFormLayout:
        """The details' labels and values (``self.fields``, by key), empty until an item shows."""
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(4)
        for key, label in (
            ("path", "Path"),
            ("date", "Date"),
            ("place", "Place"),
            ("camera", "Camera"),
            ("exposure", "Exposure"),
            ("dimensions", "Dimensions"),
            ("length", "Length"),
            ("moment", "Moment"),
            ("size", "Size"),
            ("shot", "Same shot"),
            ("match", "Match"),
            ("why", "Why"),
            ("tags", "Tags"),
            ("passage", "Passage"),
        ):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            if key in _RICH:  # the query's words in bold
                value.setTextFormat(Qt.TextFormat.RichText)
            else:
                value.setTextFormat(Qt.TextFormat.PlainText)
            self.fields[key] = value
            form.addRow(label + ":", value)
        return form

    def _buttons(self) -> QGridLayout:
        """Open, Find similar, Show in folder, and the heat map over the picture."""
        open_button = QPushButton("Open")
        open_button.setToolTip("Open with the default application (Enter)")
        open_button.clicked.connect(lambda: self._emit(self.open_requested))
        similar = QPushButton(icons.icon(icons.SIMILAR), "Find similar")
        self._similar = similar
        similar.clicked.connect(lambda: self._emit(self.similar_requested))
        reveal = QPushButton("Show in folder")
        reveal.clicked.connect(lambda: self._emit(self.reveal_requested))
        self.heat = HeatMapButton(self.picture)  # issue 21: where the photo matches
        self.faces = PreviewFaces(self.picture)  # issue 23: who is in it
        # two rows of two: a narrow preview shows every label whole
        buttons = QGridLayout()
        buttons.addWidget(open_button, 0, 0)
        buttons.addWidget(similar, 0, 1)
        buttons.addWidget(reveal, 1, 0)
        buttons.addWidget(self.heat, 1, 1)
        return buttons

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._similar.setIcon(icons.icon(icons.SIMILAR))

    @property
    def item(self) -> Item | None:
        return self._item

    @property
    def moment(self) -> float | None:
        """The time of the video frame shown (the one that matched, or one picked in the strip)."""
        return self._moment

    def set_item(self, item: Item | None) -> None:
        """Show ``item`` (None: nothing selected)."""
        if item == self._item:
            return
        self._item = item
        self.heat.reset(item)
        self.faces.show_item(item)
        self._moment = item.at_s if item is not None else None
        self._duration = item.duration_s if item is not None else None
        self._details = {}
        self.strip.clear()
        self.strip.setVisible(item is not None and item.kind == "video")
        if item is None:
            self.title.setText("Nothing selected")
            for value in self.fields.values():
                value.clear()
            self._show_rows(set())
            self.picture.set_source(QPixmap())
            return
        self.title.setText(display_name(item))
        self._fill(item, {})
        self.picture.set_source(QPixmap())
        self.picture.setText("Loading…")
        if self.isVisible():
            self._load(item)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._item is not None:
            self._load(self._item)

    def _load(self, item: Item) -> None:
        self._ticket = self._loader.load(
            picture(item.path, item.kind, PREVIEW_MAX_SIDE, self._moment)
        )
        if item.kind == "video" and self.strip.count() == 0:
            self._strip_ticket = self._strip_loader.load(
                frame_strip(item.path, STRIP_FRAMES, STRIP_SIDE)
            )

    def shutdown(self) -> None:
        self._loader.wait()
        self._strip_loader.wait()

    def _strip_loaded(self, ticket: int, strip: Strip) -> None:
        if ticket != self._strip_ticket or self._item is None:
            return
        self.strip.clear()
        for at_s, image in strip.frames:
            entry = QListWidgetItem(QIcon(QPixmap.fromImage(image)), clock(at_s))
            entry.setData(AT_ROLE, at_s)
            entry.setToolTip(f"Show the frame at {clock(at_s)}")
            self.strip.addItem(entry)
        if strip.duration is not None:
            self._duration = strip.duration
            self._fill(self._item, self._details)

    def _frame_clicked(self, entry: QListWidgetItem) -> None:
        """Show the moment picked in the strip (Open then plays from there)."""
        if self._item is None:
            return
        self._moment = float(entry.data(AT_ROLE))
        self._ticket = self._loader.load(
            picture(self._item.path, self._item.kind, PREVIEW_MAX_SIDE, self._moment)
        )
        self._fill(self._item, self._details)

    def _emit(self, signal: Any) -> None:
        if self._item is not None:
            signal.emit(self._item.path)

    def _loaded(self, ticket: int, answer: Picture) -> None:
        if ticket != self._ticket or self._item is None:
            return
        image, details = answer.image, answer.details
        if image.isNull():
            self.picture.set_source(QPixmap())
            self.picture.setText(details.get("error", "No preview for this file"))
        else:
            self.picture.setText("")
            self.picture.set_source(QPixmap.fromImage(image))
            self.heat.picture_shown(QPixmap.fromImage(image))
        self._details = details
        self._fill(self._item, details)

    def _fill(self, item: Item, details: dict[str, Any]) -> None:
        values: dict[str, str] = {"path": readable(item.path)}
        taken: datetime | None = details.get("taken_at") or item.taken_at
        values["date"] = (
            f"{taken:%d %B %Y, %H:%M} (taken)"
            if taken
            else f"{item.modified:%d %B %Y, %H:%M} (modified; no capture date)"
        )
        if item.place:  # issue 21: where it was taken
            values["place"] = item.place
        camera = details.get("camera") or item.camera
        if camera:
            lens = details.get("lens")
            values["camera"] = f"{camera} · {lens}" if lens else camera
        exposure = _exposure(details)
        if exposure:
            values["exposure"] = exposure
        width = details.get("width") or item.width
        height = details.get("height") or item.height
        if width and height:
            megapixels = width * height / 1e6
            values["dimensions"] = f"{width} × {height} ({megapixels:.1f} MP)"
        if item.kind == "video":
            if self._duration:
                values["length"] = clock(self._duration)
            if self._moment is not None:
                matched = self._moment == item.at_s
                values["moment"] = clock(self._moment) + (" (matched)" if matched else "")
        size = human_size(item.size)
        if item.page_count:
            size += f" · {item.page_count} pages"
        values["size"] = size
        if item.companions:
            values["shot"] = ", ".join(p.name for p in item.companions)
        if item.score is not None:
            cutoff = "" if item.relevant else ", below the relevance cutoff"
            values["match"] = f"relevance {item.score:.0f} of 100{cutoff}"
        elif item.match == BY_NAME:
            values["match"] = "by file name"
        if not item.indexed:
            values["match"] = values.get("match", "") + " (still being indexed)"
        if item.why:
            values["why"] = highlight(item.why, item.words)
        if item.tags:
            values["tags"] = highlight(", ".join(item.tags), item.words)
        if item.passage:
            page = f"page {item.page}: " if item.page else ""
            values["passage"] = highlight(f"{page}“{item.passage[:300]}”", item.words)
        for key, label in self.fields.items():
            label.setText(values.get(key, ""))
        self._show_rows(set(values))

    def _show_rows(self, keys: set[str]) -> None:
        for key, label in self.fields.items():
            self._form.setRowVisible(label, key in keys)


def highlight(text: str, words: tuple[str, ...]) -> str:
    """``text`` as rich text (escaped) with the query's ``words`` in bold, whole words only."""
    escaped = html.escape(text)
    for word in sorted({html.escape(w) for w in words if w.strip()}, key=len, reverse=True):
        pattern = rf"(?<![\w>])({re.escape(word)})(?!\w)"
        escaped = re.sub(pattern, r"<b>\1</b>", escaped, flags=re.IGNORECASE)
    return escaped


def _exposure(details: dict[str, Any]) -> str:
    parts: list[str] = []
    exposure = details.get("exposure_time")
    if exposure:
        parts.append(f"1/{round(1 / exposure)} s" if exposure < 1 else f"{exposure:g} s")
    if details.get("f_number"):
        parts.append(f"f/{details['f_number']:g}")
    if details.get("iso"):
        parts.append(f"ISO {details['iso']}")
    if details.get("focal_length"):
        parts.append(f"{details['focal_length']:g} mm")
    return " · ".join(parts)
