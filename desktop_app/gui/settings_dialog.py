"""Settings: model (with its size, speed and quality), device, thumbnail size, which file of a
RAW+JPEG shot opens, data location.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.config import Settings
from desktop_app.core.models import MODELS, get_model_spec
from desktop_app.gui.face_setting import FaceRecognitionSetting

DEVICES = (
    ("Automatic (GPU when there is one)", "auto"),
    ("CPU", "cpu"),
    ("NVIDIA GPU (CUDA)", "cuda"),
    ("Apple GPU (Metal)", "mps"),
)
_POINTER_KEY = "data_dir"


def remembered_data_dir() -> Path | None:
    """The data location chosen in Settings (used when neither --data-dir nor LUMEN_DATA_DIR is)."""
    value = QSettings("Lumen", "Lumen").value(_POINTER_KEY)
    return Path(str(value)) if value else None


def remember_data_dir(path: Path | None) -> None:
    store = QSettings("Lumen", "Lumen")
    if path is None:
        store.remove(_POINTER_KEY)
    else:
        store.setValue(_POINTER_KEY, str(path))


def model_note(key: str) -> str:
    spec = get_model_spec(key)
    size = f"{spec.download_mb:,} MB download" if spec.download_mb else "no download"
    return f"{size} · {spec.speed}\n{spec.note}"


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``settings()`` returns the result after Ok."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._original = settings
        weights_row = self._model_fields(settings)
        self._option_fields(settings)
        data_row = self._data_fields(settings)
        self._new_data_dir: Path | None = None

        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #c0392b;")

        form = QFormLayout()
        form.addRow("Model:", self.model)
        form.addRow("", self.note)
        form.addRow("Weights file:", weights_row)
        form.addRow("Run the model on:", self.device)
        form.addRow("Thumbnails:", self.thumbnail)
        form.addRow("RAW photos:", self.open_raw)
        form.addRow("Library data:", data_row)
        form.addRow("", self.data_note)
        self.faces = FaceRecognitionSetting()  # issue 23 (the library's; wired by the opener)
        form.addRow("Faces:", self.faces)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self._model_changed()

    def _model_fields(self, settings: Settings) -> QHBoxLayout:
        """The model's list and note; returns the weights file's row."""
        self.model = QComboBox()
        for spec in MODELS.values():
            if not spec.hidden or spec.key == settings.model:
                self.model.addItem(spec.key, spec.key)
        if self.model.findData(settings.model) < 0:
            self.model.addItem(settings.model, settings.model)
        self.model.setCurrentIndex(self.model.findData(settings.model))
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.model.currentIndexChanged.connect(self._model_changed)

        self.weights = QLineEdit(str(settings.weights) if settings.weights else "")
        self.weights.setPlaceholderText("Downloaded automatically the first time")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_weights)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights, 1)
        weights_row.addWidget(browse)
        return weights_row

    def _option_fields(self, settings: Settings) -> None:
        """The device, the thumbnails' size, and which file of a RAW + JPEG shot opens."""
        self.device = QComboBox()
        for label, value in DEVICES:
            self.device.addItem(label, value)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))

        self.thumbnail = QSpinBox()
        self.thumbnail.setRange(128, 512)
        self.thumbnail.setSingleStep(64)
        self.thumbnail.setSuffix(" px")
        self.thumbnail.setValue(settings.thumbnail_size)
        self.thumbnail.setToolTip("Resolution of the thumbnails Lumen keeps on disk")

        self.open_raw = QCheckBox("Open the RAW file of a RAW + JPEG shot (else the JPEG)")
        self.open_raw.setChecked(settings.open_raw)
        self.open_raw.setToolTip(
            "A photo kept both as RAW and as JPEG (or HEIC) is one result; this decides which "
            "of the two Open shows"
        )

    def _data_fields(self, settings: Settings) -> QHBoxLayout:
        """The library's location and its note; returns the location's row."""
        self.data_dir = QLineEdit(str(settings.data_dir))
        self.data_dir.setReadOnly(True)
        change = QPushButton("Change…")
        change.clicked.connect(self._choose_data_dir)
        show = QPushButton("Open")
        show.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(settings.data_dir)))
        )
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(show)
        data_row.addWidget(change)
        self.data_note = QLabel("")
        self.data_note.setWordWrap(True)
        return data_row

    def _model_changed(self) -> None:
        key = str(self.model.currentData())
        self.note.setText(model_note(key))
        self.warning.setText(
            "Changing the model re-indexes every file (the old vectors cannot be compared "
            "with the new model's)."
            if key != self._original.model
            else ""
        )

    def _choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model weights", self.weights.text(), "Weights (*.safetensors *.bin *.pt *.pth)"
        )
        if path:
            self.weights.setText(path)

    def _choose_data_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Where Lumen keeps its library", self.data_dir.text()
        )
        if path and Path(path) != self._original.data_dir:
            self._new_data_dir = Path(path)
            self.data_dir.setText(path)
            self.data_note.setText(
                "Lumen will use this location from its next start (an empty folder starts a "
                "new library; the current one stays where it is)."
            )

    @property
    def new_data_dir(self) -> Path | None:
        return self._new_data_dir

    def settings(self) -> Settings:
        weights = self.weights.text().strip()
        return self._original.replace(
            model=str(self.model.currentData()),
            weights=Path(weights).expanduser() if weights else None,
            device=str(self.device.currentData()),
            thumbnail_size=self.thumbnail.value(),
            open_raw=self.open_raw.isChecked(),
        )
