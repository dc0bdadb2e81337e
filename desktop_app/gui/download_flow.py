"""The model download's dialog: shown while the weights come in, closed when the model is ready."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop_app.core.models import get_model_spec
from desktop_app.gui.first_run import ModelDownloadDialog
from desktop_app.gui.library_presenter import LibraryPresenter
from desktop_app.host.protocol import MODEL_LOADING, DownloadProgress, ModelState


class DownloadFlow(QObject):
    """Follows ``library``'s download reports with a dialog on ``parent``: how far, and Cancel."""

    def __init__(self, library: LibraryPresenter, parent: QWidget) -> None:
        super().__init__(parent)
        self._library = library
        self._parent = parent
        self.dialog: ModelDownloadDialog | None = None
        self._dismissed = False  # cancelled: reports still on their way are ignored
        library.download.connect(self._download_progress)
        library.model_changed.connect(self._model_changed)

    def _model_changed(self, state: ModelState) -> None:
        if state.state == MODEL_LOADING:
            self._dismissed = False  # a new try: show its download
        elif self.dialog is not None:
            self.dialog.finish()  # the download ended one way or the other

    def _download_progress(self, progress: DownloadProgress) -> None:
        """The model's weights are coming in: explain it, show how far, offer Cancel."""
        dialog = self.dialog
        if dialog is None:
            if progress.finished or self._dismissed:
                return
            settings = self._library.settings
            total = progress.total_bytes
            size_mb = round(total / 1e6) if total else get_model_spec(settings.model).download_mb
            dialog = ModelDownloadDialog(
                settings.model,
                size_mb,
                progress.cache_dir or settings.model_cache_dir,
                self._parent,
            )
            dialog.cancel_requested.connect(self._cancel_download)
            dialog.weights_chosen.connect(self._use_weights)
            dialog.finished.connect(lambda _result: self._download_dialog_closed(dialog))
            self.dialog = dialog
            dialog.show()
        dialog.show_progress(progress)

    def _cancel_download(self) -> None:
        self._dismissed = True
        self._library.cancel_download()

    def _use_weights(self, path: Path) -> None:
        self._dismissed = True
        self._library.use_weights(path)

    def _download_dialog_closed(self, dialog: ModelDownloadDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
