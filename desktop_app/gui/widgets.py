"""Small pieces of the window: indexing status, model badge, banner, and full-page messages."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.records import duration_words
from desktop_app.gui import icons
from desktop_app.host.protocol import (
    MODEL_LOADING,
    MODEL_READY,
    IndexSummary,
    LibraryStatus,
    ModelState,
    Progress,
)


def describe_progress(progress: Progress) -> str:
    """The status bar's words for an indexing run."""
    if progress.phase == "scanning":
        found = f" ({progress.done:,} files seen)" if progress.done else ""
        return f"Looking for new and changed files…{found}"
    if progress.phase == "loading model":
        waiting = f" before indexing {progress.total:,} files" if progress.total else ""
        return f"Loading the model{waiting}…"
    if progress.phase == "saving":
        return "Saving the index…"
    if progress.phase == "done":
        return "Indexing finished"
    if progress.phase == "waiting":  # another Lumen (`lumen watch`) is indexing this library
        return f"{progress.note}…"
    text = f"Indexing {progress.done:,} of {progress.total:,}"
    if progress.phase == "faces":  # after the vectors: searching works meanwhile
        text = f"Looking for faces: {progress.done:,} of {progress.total:,} files"
    if progress.phase == "deeper pass":  # every file is findable already
        text = (
            f"Reading documents more closely: {progress.done:,} of {progress.total:,} "
            "(all are findable already)"
        )
    if progress.phase == "re-embedding":  # a model switch; the old index answers meanwhile
        text = (
            f"Switching to the new model: {progress.done:,} of {progress.total:,} files "
            "(searches use the previous model until then)"
        )
    if progress.rate > 0:
        text += f" · {progress.rate:.1f} files/s"
    if progress.eta_s is not None and progress.eta_s >= 1 and progress.done < progress.total:
        text += f" · about {duration_words(progress.eta_s)} left"
    return text


class IndexStatus(QWidget):
    """Files done/total, rate and time left, a pause/resume button and the skipped-files count."""

    pause_clicked = Signal()
    errors_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setObjectName("indexLabel")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(150)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.pause = QToolButton()
        self.pause.setAutoRaise(True)
        self.pause.setIconSize(QSize(14, 14))
        self.pause.clicked.connect(self.pause_clicked)
        self.pause.hide()
        self.errors = QToolButton()
        self.errors.setAutoRaise(True)
        self.errors.setIcon(icons.icon(icons.WARNING))
        self.errors.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.errors.setToolTip("Files that could not be indexed, and why")
        self.errors.clicked.connect(self.errors_clicked)
        self.errors.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.errors)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.pause)
        self.paused = False

    def show_progress(self, progress: Progress) -> None:
        if self.paused:
            return  # reports still on their way from a run that is stopping
        self.label.setText(describe_progress(progress))
        self.bar.show()
        if (
            progress.phase in ("indexing", "deeper pass", "re-embedding", "faces")
            and progress.total
        ):
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
        else:
            self.bar.setRange(0, 0)  # busy
        self._pause_button(paused=False)

    def show_started(self) -> None:
        self.show_progress(Progress("scanning"))

    def show_finished(self, outcome: IndexSummary | None, info: LibraryStatus | None) -> None:
        self.bar.hide()
        if self.paused:
            self.label.setText("Indexing paused")
            self._pause_button(paused=True)
        else:
            self.pause.hide()
            self.show_info(info)
        if outcome is not None and outcome.failed:
            self.set_failed(max(outcome.failed, info.failed if info else 0))

    def show_info(self, info: LibraryStatus | None) -> None:
        if info is None or self.bar.isVisible() or self.paused:
            return
        text = f"{info.indexed:,} files"
        if info.pending:
            text += f" · {info.pending:,} waiting to be indexed"
        if info.offline:
            text += f" · {info.offline:,} offline"
        self.label.setText(text)
        self.set_failed(info.failed)

    def set_failed(self, count: int) -> None:
        self.errors.setVisible(count > 0)
        self.errors.setText(f"{count:,} skipped")

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if paused:
            self.bar.hide()
            self.label.setText("Indexing paused")
        self._pause_button(paused)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.pause.isVisible():
            self._pause_button(self.paused)

    def _pause_button(self, paused: bool) -> None:
        self.pause.show()
        self.pause.setIcon(icons.icon(icons.RESUME if paused else icons.PAUSE))
        self.pause.setToolTip(
            "Resume indexing" if paused else "Pause indexing (finished files are kept)"
        )


class ModelBadge(QToolButton):
    """The model's name and state; clicking it when unavailable explains why."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.state: ModelState | None = None

    def set_state(self, state: ModelState) -> None:
        self.state = state
        name = state.model.split("/")[0]
        if state.state == MODEL_READY:
            dot, text = "#2e9e4f", f"{name} ready"
            tip = f"Model {state.model} loaded" + (
                f" in {state.load_s:.1f} s" if state.load_s is not None else ""
            )
        elif state.state == MODEL_LOADING:
            dot, text = "#d9a400", f"Loading {name}…"
            tip = "Searching by meaning starts when the model is loaded; file names work already."
        else:
            dot, text = "#d23c3c", "Model unavailable"
            tip = state.message
        self.setText(f"●  {text}")
        self.setToolTip(tip)
        self.setStyleSheet(f"QToolButton {{ color: {dot}; }}")


class Banner(QFrame):
    """A dismissable strip above the results: an icon, a message and up to three buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        icon = QLabel()
        icon.setPixmap(icons.icon(icons.WARNING).pixmap(22, 22))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._buttons = QHBoxLayout()
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 8, 8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.message, 1)
        layout.addLayout(self._buttons)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        """An amber wash over the window colour, so it reads in light and dark palettes."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = self.palette().color(QPalette.ColorRole.Window)
        tint = QColor("#e8a317")
        wash = QColor(
            (base.red() * 4 + tint.red()) // 5,
            (base.green() * 4 + tint.green()) // 5,
            (base.blue() * 4 + tint.blue()) // 5,
        )
        painter.setPen(QColor(tint.red(), tint.green(), tint.blue(), 140))
        painter.setBrush(wash)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.end()
        super().paintEvent(event)

    def show_message(self, text: str, actions: list[tuple[str, Callable[[], None]]] = ()) -> None:  # type: ignore[assignment]
        self.message.setText(text)
        while self._buttons.count():
            taken = self._buttons.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        for label, callback in actions:
            button = QPushButton(label)
            button.clicked.connect(callback)
            self._buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.show()


class MessagePage(QWidget):
    """A centred illustration, heading, text and buttons: the empty state and friends."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading = QLabel()
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.heading.setFont(font)
        self.body = QLabel()
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.setWordWrap(True)
        self.body.setFixedWidth(520)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.hint = QLabel()
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint_palette = self.hint.palette()
        hint_palette.setColor(
            QPalette.ColorRole.WindowText, hint_palette.color(QPalette.ColorRole.PlaceholderText)
        )
        self.hint.setPalette(hint_palette)
        column = QVBoxLayout(self)
        column.addStretch(2)
        column.addWidget(self.picture)
        column.addSpacing(12)
        column.addWidget(self.heading)
        column.addWidget(self.body, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(16)
        column.addLayout(self.buttons)
        column.addSpacing(8)
        column.addWidget(self.hint)
        column.addStretch(3)
        self._picture_svg = icons.EMPTY
        self.picture.setPixmap(icons.pixmap(icons.EMPTY, QSize(200, 150), self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            ratio = self.devicePixelRatioF()
            self.picture.setPixmap(icons.pixmap(self._picture_svg, QSize(200, 150), ratio))

    def set_content(
        self,
        heading: str,
        body: str,
        buttons: list[tuple[str, Callable[[], None]]] = (),  # type: ignore[assignment]
        hint: str = "",
        picture: str = icons.EMPTY,
    ) -> None:
        self.heading.setText(heading)
        self.body.setText(body)
        self.body.setMinimumHeight(self.body.heightForWidth(self.body.width()) if body else 0)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self._picture_svg = picture
        self.picture.setPixmap(icons.pixmap(picture, QSize(200, 150), self.devicePixelRatioF()))
        while self.buttons.count() > 1:
            taken = self.buttons.takeAt(1)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        for number, (label, callback) in enumerate(buttons):
            button = QPushButton(label)
            button.setMinimumHeight(32)
            button.setDefault(number == 0)
            button.clicked.connect(callback)
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
