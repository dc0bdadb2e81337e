"""Watched folders (add, remove, pause, re-index), what is never indexed (exclusions), and the
files that could not be indexed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
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

from desktop_app.core.records import readable
from desktop_app.host.protocol import Failure, Folder, LibraryStatus

PathRole = Qt.ItemDataRole.UserRole + 1  # the item's own Path (a Python object: any bytes)


class FoldersDialog(QDialog):
    """Lists the watched folders and the exclusions; the window carries out what the buttons
    ask for (and calls ``set_info``/``set_exclusions`` with the outcome)."""

    add_requested = Signal()
    remove_requested = Signal(object)  # Path
    pause_requested = Signal(object, bool)  # Path, paused
    reindex_requested = Signal()
    exclude_requested = Signal(str)  # a path or a name pattern
    include_requested = Signal(str)  # an exclusion to drop

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folders: dict[Path, Folder] = {}
        self._excluded: list[str] = []
        self.setWindowTitle("Folders")
        self.resize(620, 520)
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
        layout.addWidget(self._exclusions_section(), 1)
        layout.addWidget(close)
        self._update_buttons()

    def _exclusions_section(self) -> QWidget:
        section = QWidget()
        intro = QLabel(
            "<b>Never indexed</b> — these folders and files, and anything named like a pattern "
            "(<i>node_modules</i>, <i>*.tmp</i>), are never read; “Remove from index” adds here."
        )
        intro.setWordWrap(True)
        self.exclusions = QListWidget()
        self.exclusions.setAlternatingRowColors(True)
        self.exclusions.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.exclude_folder = QPushButton("Exclude folder…")
        self.exclude_folder.setToolTip("A folder (inside a watched one) Lumen should never read")
        self.exclude_name = QPushButton("Exclude name…")
        self.exclude_name.setToolTip("A file or folder name, or a pattern such as *.tmp")
        self.include = QPushButton("Index again")
        self.include.setToolTip("Stop excluding it: its files come back at the next scan")
        self.exclude_folder.clicked.connect(self.choose_excluded_folder)
        self.exclude_name.clicked.connect(self.ask_excluded_name)
        self.include.clicked.connect(self._include)
        side = QVBoxLayout()
        for button in (self.exclude_folder, self.exclude_name, self.include):
            side.addWidget(button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.exclusions, 1)
        row.addLayout(side)
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        return section

    def set_exclusions(self, patterns: tuple[str, ...]) -> None:
        """Show the exclusions: paths first (as paths), then name patterns."""
        current = self._current_exclusion()
        self.exclusions.clear()
        self._excluded = sorted(patterns, key=lambda p: (not p.startswith("/"), p.lower()))
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        name_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogDetailedView)
        for pattern in self._excluded:
            is_path = Path(pattern).is_absolute()
            item = QListWidgetItem(folder_icon if is_path else name_icon, readable(pattern))
            item.setToolTip("a folder or file" if is_path else "any file or folder named so")
            self.exclusions.addItem(item)
            if pattern == current:
                self.exclusions.setCurrentItem(item)
        self._update_buttons()

    def choose_excluded_folder(self) -> None:
        start = self._current()
        path = QFileDialog.getExistingDirectory(
            self, "Exclude a folder from Lumen", str(start or Path.home())
        )
        if path:
            self.exclude_requested.emit(path)

    def ask_excluded_name(self) -> None:
        text, ok = QInputDialog.getText(
            self,
            "Exclude a name",
            "Never index files or folders named (a pattern such as *.tmp or Thumbs.db works):",
        )
        if ok and text.strip():
            self.exclude_requested.emit(text.strip())

    def _current_exclusion(self) -> str | None:
        row = self.exclusions.currentRow()
        return self._excluded[row] if 0 <= row < len(self._excluded) else None

    def _include(self) -> None:
        current = self._current_exclusion()
        if current is not None:
            self.include_requested.emit(current)

    def set_info(self, info: LibraryStatus) -> None:
        current = self._current()
        self.list.clear()
        self._folders = {f.path: f for f in info.folders}
        folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        for folder in info.folders:
            notes = [
                n for n, on in (("paused", folder.paused), ("offline", not folder.online)) if on
            ]
            text = readable(folder.path) + (f"   ({', '.join(notes)})" if notes else "")
            item = QListWidgetItem(folder_icon, text)
            item.setData(PathRole, folder.path)
            self.list.addItem(item)
            if folder.path == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _current(self) -> Path | None:
        item = self.list.currentItem()
        path = item.data(PathRole) if item is not None else None
        return path if isinstance(path, Path) else None

    def _update_buttons(self) -> None:
        current = self._current()
        folder = self._folders.get(current) if current else None
        self.remove.setEnabled(folder is not None)
        self.pause.setEnabled(folder is not None)
        self.pause.setText("Resume" if folder is not None and folder.paused else "Pause")
        self.reindex.setEnabled(bool(self._folders))
        self.include.setEnabled(self._current_exclusion() is not None)

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
    """Files that were skipped: name, why, and where, sortable; the reasons counted on top."""

    def __init__(self, failures: tuple[Failure, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files that could not be indexed")
        self.resize(860, 460)
        self.intro = QLabel(failures_summary(failures))
        self.intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Why", "Folder"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep both ends of long paths
        for failure in failures:
            name, folder = readable(failure.path.name), readable(failure.path.parent)
            row = QTreeWidgetItem([name, failure.reason, folder])
            row.setData(0, PathRole, failure.path)
            row.setToolTip(0, readable(failure.path))
            row.setToolTip(1, failure.reason)
            row.setToolTip(2, folder)
            self.tree.addTopLevelItem(row)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # alike failures together
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 240)
        self.tree.setColumnWidth(1, 320)
        self._failures = failures
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        text = "\n".join(f"{readable(f.path)}\t{f.reason}" for f in self._failures)
        QGuiApplication.clipboard().setText(text)
        QApplication.beep()


def failures_summary(failures: tuple[Failure, ...]) -> str:
    """'5 files could not be read: 3 corrupt or truncated image, 2 permission denied. …'"""
    if not failures:
        return "Every file could be read."
    kinds: dict[str, int] = {}
    for failure in failures:
        kind = failure.reason.split(":", 1)[0].strip() or "unknown reason"
        kinds[kind] = kinds.get(kind, 0) + 1
    common = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{n:,} {kind}" for kind, n in common[:4]]
    if len(common) > 4:
        parts.append(f"{sum(n for _k, n in common[4:]):,} other")
    count = len(failures)
    return (
        f"{count:,} file{'s' if count != 1 else ''} could not be read: {', '.join(parts)}. "
        "They are tried again when they change."
    )
