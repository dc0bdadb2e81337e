"""The model's first download, in the window: what it is (size, where it goes), its progress,
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

from desktop_app.gui.wording import CHOOSE_WEIGHTS
from desktop_app.host.protocol import DownloadProgress

WEIGHTS_FILTER = "Weights (*.safetensors *.bin *.pt *.pth)"


class ModelDownloadDialog(QDialog):
    """Shown while the model's weights download; says what the user decides.

    ``cancel_requested``: stop the download (the window then matches file names only, and says
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
        self.explanation = QLabel(
            "To search your photos and documents by what they show, Lumen needs its model, "
            f"<b>{model}</b>: <b>{download_mb:,} MB</b>, downloaded once into<br>"
            f"<code>{cache_dir}</code>.<br><br>"
            "After that Lumen works without a network. Your files never leave this computer; "
            "only the model comes in."
        )
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the size is known
        self.status = QLabel("Connecting…")
        self.offline_hint = QLabel(
            "No internet here? Download the weights file on another computer and choose it."
        )
        self.offline_hint.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.choose = QPushButton(CHOOSE_WEIGHTS)
        buttons.addButton(self.choose, QDialogButtonBox.ButtonRole.ActionRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        assert cancel is not None
        self.cancel = cancel
        self.choose.clicked.connect(self._choose_file)
        self.cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.offline_hint)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def show_progress(self, progress: DownloadProgress) -> None:
        """Move the bar; close when the download has finished."""
        if progress.finished:
            self.finish()
            return
        done_mb = progress.done_bytes / 1e6
        if progress.total_bytes:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * progress.done_bytes / progress.total_bytes))
            self.status.setText(f"{done_mb:,.0f} of {progress.total_bytes / 1e6:,.0f} MB")
        else:
            self.status.setText(f"{done_mb:,.0f} MB of about {self._expected_mb:,} MB")

    def finish(self) -> None:
        """Close without asking for anything (the download ended, or the model is there)."""
        super().accept()

    def reject(self) -> None:
        """Cancel, Esc and the title bar's close button stop the download."""
        self.cancel_requested.emit()
        super().reject()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose the model's weights file", str(Path.home()), WEIGHTS_FILTER
        )
        if path:
            self.weights_chosen.emit(Path(path))
            super().reject()
