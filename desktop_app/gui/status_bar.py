"""The window's status bar: indexing progress, a short note, and which model answers."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from desktop_app.gui.library_presenter import LibraryPresenter
from desktop_app.gui.widgets import IndexStatus, ModelBadge
from desktop_app.gui.workers import LibraryBridge


class WindowStatusBar(QStatusBar):
    """Indexing progress on the left; a short note and the model's badge on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index_status = IndexStatus()
        self.model_badge = ModelBadge()
        self.addWidget(self.index_status, 1)
        self._flash = QLabel()
        self._flash_timer = QTimer(self, singleShot=True)
        self._flash_timer.timeout.connect(self._flash.clear)
        self.addPermanentWidget(self._flash)
        self.addPermanentWidget(self.model_badge)
        self.setSizeGripEnabled(True)

    def follow(self, bridge: LibraryBridge, library: LibraryPresenter, pause: QAction) -> None:
        """Show ``bridge``'s indexing and ``library``'s model, pause and notes; ``pause`` is the
        menu's pause action, named after what it would do now."""
        status = self.index_status
        bridge.index_started.connect(status.show_started)
        bridge.index_progress.connect(status.show_progress)
        bridge.index_finished.connect(lambda outcome: status.show_finished(outcome, library.info))
        library.index_failed.connect(lambda _message: status.show_finished(None, library.info))
        library.model_changed.connect(self.model_badge.set_state)
        library.notice.connect(self.flash)
        status.pause_clicked.connect(library.toggle_pause)

        def paused_changed(paused: bool) -> None:
            status.set_paused(paused)
            pause.setText("&Resume Indexing" if paused else "&Pause Indexing")

        library.paused_changed.connect(paused_changed)

    def flash(self, text: str, msecs: int = 4000) -> None:
        """A short note (it never hides the indexing progress)."""
        self._flash.setText(text)
        self._flash_timer.start(msecs)
