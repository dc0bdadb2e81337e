"""Watched folders (add, remove, pause, re-index) and the files that could not be indexed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.host.protocol import Failure, Folder, LibraryStatus

PathRole = Qt.ItemDataRole.UserRole + 1


class FoldersDialog(QDialog):
    """Lists the watched folders; the window carries out what the buttons ask for."""

    add_requested = Signal()
    remove_requested = Signal(object)  # Path
    pause_requested = Signal(object, bool)  # Path, paused
    reindex_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Folders")
        self.resize(560, 360)
        intro = QLabel(
            "Lumen indexes the photos and documents in these folders and their subfolders. "
            "Files are never changed or moved."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add = QPushButton("Add folder…")
        self.remove = QPushButton("Remove")
        self.pause = QPushButton("Pause")
        self.reindex = QPushButton("Re-index now")
        self.reindex.setToolTip("Look for new, changed and deleted files in every folder")
        self.add.clicked.connect(self.add_requested)
        self.remove.clicked.connect(self._remove)
        self.pause.clicked.connect(self._toggle_pause)
        self.reindex.clicked.connect(self.reindex_requested)
        side = QVBoxLayout()
        for button in (self.add, self.remove, self.pause, self.reindex):
            side.addWidget(button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(side)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(close)
        self._folders: dict[Path, Folder] = {}
        self._update_buttons()

    def set_info(self, info: LibraryStatus) -> None:
        current = self._current()
        self.list.clear()
        self._folders = {f.path: f for f in info.folders}
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        for folder in info.folders:
            notes = [
                n for n, on in (("paused", folder.paused), ("offline", not folder.online)) if on
            ]
            text = str(folder.path) + (f"   ({', '.join(notes)})" if notes else "")
            item = QListWidgetItem(folder_icon, text)
            item.setData(PathRole, str(folder.path))
            self.list.addItem(item)
            if folder.path == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _current(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(PathRole)) if item is not None else None

    def _update_buttons(self) -> None:
        current = self._current()
        folder = self._folders.get(current) if current else None
        self.remove.setEnabled(folder is not None)
        self.pause.setEnabled(folder is not None)
        self.pause.setText("Resume" if folder is not None and folder.paused else "Pause")
        self.reindex.setEnabled(bool(self._folders))

    def _remove(self) -> None:
        current = self._current()
        if current is not None:
            self.remove_requested.emit(current)

    def _toggle_pause(self) -> None:
        current = self._current()
        folder = self._folders.get(current) if current else None
        if folder is not None:
            self.pause_requested.emit(folder.path, not folder.paused)


class FailuresDialog(QDialog):
    """Files that were skipped, with the reason for each."""

    def __init__(self, failures: tuple[Failure, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files that could not be indexed")
        self.resize(760, 420)
        count = len(failures)
        intro = QLabel(
            f"{count:,} file{'s' if count != 1 else ''} could not be read. They are tried again "
            "when they change."
            if count
            else "Every file could be read."
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Reason"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        for failure in failures:
            row = QTreeWidgetItem([str(failure.path), failure.reason])
            row.setToolTip(0, str(failure.path))
            row.setToolTip(1, failure.reason)
            self.tree.addTopLevelItem(row)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._failures = failures
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        text = "\n".join(f"{f.path}\t{f.reason}" for f in self._failures)
        QGuiApplication.clipboard().setText(text)
        QApplication.beep()
