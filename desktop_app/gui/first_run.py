"""The first-run dialog: the model's download explained (size, where it goes), its progress,
Cancel, and "Choose weights file…" instead."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.weights import DownloadProgress

WEIGHTS_FILTER = "Weights (*.safetensors *.bin *.pt *.pth)"
CHOOSE_WEIGHTS = "Choose weights file…"

# The core's messages name the command line's option; the window names its own controls.
_WINDOW_WORDING = (
    (
        "Check the path given with --weights, or leave it out",
        "Choose another file, or clear it in Settings",
    ),
    (
        "pass its weights file with --weights FILE",
        f"choose its weights file with “{CHOOSE_WEIGHTS}”",
    ),
    ("pass it with --weights FILE", f"choose it with “{CHOOSE_WEIGHTS}”"),
    ("pass --weights FILE", f"choose it with “{CHOOSE_WEIGHTS}”"),
    ("--weights FILE", f"“{CHOOSE_WEIGHTS}”"),
)


def window_wording(message: str) -> str:
    """A core message about the weights file, with the window's button instead of --weights."""
    for cli, window in _WINDOW_WORDING:
        message = message.replace(cli, window)
    return message


class ModelDownloadDialog(QDialog):
    """Shown while the model's weights download; emits what the user decides.

    ``cancel_requested``: stop the download (the window then works by file name only, and says
    so). ``weights_chosen``: a weights file to use instead of downloading.
    """

    cancel_requested = Signal()
    weights_chosen = Signal(Path)

    def __init__(
        self, model: str, download_mb: int, cache_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Downloading Lumen's model")
        self.setModal(False)
        self._expected_mb = download_mb
        explain = QLabel(
            f"To search your photos and documents by what they show, Lumen needs its model, "
            f"<b>{model}</b>: about <b>{download_mb:,} MB</b>, downloaded once into<br>"
            f"<code>{cache_dir}</code>.<br><br>"
            "After that Lumen works without a network. Your files never leave this computer; "
            "only the model comes in."
        )
        explain.setWordWrap(True)
        explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the size is known
        self.status = QLabel("Connecting…")
        offline = QLabel(
            "No internet here? Download the weights file on another computer and choose it."
        )
        offline.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.choose = QPushButton(CHOOSE_WEIGHTS)
        buttons.addButton(self.choose, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.choose.clicked.connect(self._choose_file)
        self.cancel.clicked.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(offline)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def show_progress(self, progress: DownloadProgress) -> None:
        """Move the bar; close when the download has finished."""
        if progress.finished:
            self.accept()
            return
        done_mb = progress.done_bytes / 1e6
        if progress.total_bytes:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * progress.done_bytes / progress.total_bytes))
            self.status.setText(f"{done_mb:,.0f} of {progress.total_bytes / 1e6:,.0f} MB")
        else:
            self.status.setText(f"{done_mb:,.0f} MB of about {self._expected_mb:,} MB")

    def reject(self) -> None:  # Esc or the window's close button cancel too
        self._cancel()

    def _cancel(self) -> None:
        self.cancel_requested.emit()
        super().reject()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the model's weights file", str(Path.home()), WEIGHTS_FILTER
        )
        if path:
            self.weights_chosen.emit(Path(path))
            super().reject()
