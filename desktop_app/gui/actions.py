"""The window's actions (menus, shortcuts) and what they do to files: open, reveal, copy."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle

from desktop_app.core.records import readable
from desktop_app.gui import icons

# PDF viewers that can open a document at a page: executable -> arguments (PAGE is 1-based).
PAGE_VIEWERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("evince", ("--page-label={page}", "{path}")),
    ("okular", ("-p", "{page}", "{path}")),
    ("zathura", ("-P", "{page}", "{path}")),
    ("atril", ("--page-label={page}", "{path}")),
    ("xreader", ("--page-label={page}", "{path}")),
    ("SumatraPDF", ("-page", "{page}", "{path}")),
)


def page_viewer_command(path: Path, page: int | None) -> tuple[str, list[str]] | None:
    """A viewer on this system that opens ``path`` at ``page``, or None (open it normally)."""
    if page is None or page < 1 or path.suffix.lower() != ".pdf":
        return None
    for executable, arguments in PAGE_VIEWERS:
        found = shutil.which(executable)
        if found:
            return found, [a.format(page=page, path=path) for a in arguments]
    return None


# Video players that can start at a time: executable -> arguments. SECONDS has decimals, WHOLE
# is whole seconds; the first one installed is used (the desktop's default player may not take
# a start time, so it is asked only when none of these is there).
TIME_PLAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mpv", ("--start={seconds}", "--", "{path}")),
    ("vlc", ("--start-time={seconds}", "{path}")),
    ("smplayer", ("-start", "{whole}", "{path}")),
    ("mplayer", ("-ss", "{seconds}", "{path}")),
)


def player_command(path: Path, at_s: float | None) -> tuple[str, list[str]] | None:
    """A player on this system that opens the video ``path`` at ``at_s`` seconds, or None."""
    if at_s is None or at_s <= 0:
        return None
    for executable, arguments in TIME_PLAYERS:
        found = shutil.which(executable)
        if found:
            values = {"seconds": f"{at_s:.3f}", "whole": str(int(at_s)), "path": path}
            return found, [a.format(**values) for a in arguments]
    return None


def open_at_time(path: Path, at_s: float | None) -> bool:
    """Play a video from the moment that matched, if a player that takes a time is installed."""
    command = player_command(path, at_s)
    return command is not None and bool(QProcess.startDetached(*command))


def file_url(path: Path) -> QUrl:
    """A ``file:`` URL naming exactly ``path``'s bytes, even when they are not valid UTF-8.

    ``QUrl.fromLocalFile`` would re-encode a name such as ``caf\\xe9.jpg`` (a Latin-1 name,
    surrogate-escaped by Python) into other bytes, naming a file that does not exist.
    """
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return QUrl.fromEncoded(b"file://" + urllib.parse.quote_from_bytes(raw, safe="/").encode())
    return QUrl.fromLocalFile(str(path))


def open_files(paths: list[Path]) -> None:
    """Open each file with the system's default application."""
    for path in paths:
        QDesktopServices.openUrl(file_url(path))


def open_at_page(path: Path, page: int | None) -> bool:
    """Open a PDF at the page that matched, if a viewer that takes a page is installed."""
    command = page_viewer_command(path, page)
    return command is not None and bool(QProcess.startDetached(*command))


def reveal(path: Path) -> None:
    """Show the file selected in the file manager (or at least open its folder)."""
    if sys.platform == "darwin" and QProcess.startDetached("open", ["-R", str(path)]):
        return
    if sys.platform == "win32" and QProcess.startDetached("explorer", [f"/select,{path}"]):
        return
    if sys.platform.startswith("linux"):
        uri = file_url(path).toString(QUrl.ComponentFormattingOption.FullyEncoded)
        shown = QProcess.startDetached(
            "dbus-send",
            [
                "--session",
                "--dest=org.freedesktop.FileManager1",
                "--type=method_call",
                "/org/freedesktop/FileManager1",
                "org.freedesktop.FileManager1.ShowItems",
                f"array:string:{uri}",
                "string:",
            ],
        )
        if shown:
            return
    QDesktopServices.openUrl(file_url(path.parent))


def copy_paths(paths: list[Path]) -> None:
    """The paths as text (a byte that is not UTF-8 is written as the Latin-1 letter it is)."""
    QGuiApplication.clipboard().setText("\n".join(readable(p) for p in paths))


def pasted_files(folder: Path) -> list[Path]:
    """The files on the clipboard, or its image saved as a PNG in ``folder``; [] if neither."""
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasUrls():
        files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if files:
            return files
    image = clipboard.image()
    if image.isNull():
        return []
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    forget_pasted(folder)  # only the image searched with now is kept
    descriptor, name = tempfile.mkstemp(dir=folder, prefix="pasted-", suffix=".png")
    os.close(descriptor)
    image.save(name)  # PNG, from the suffix
    return [Path(name)]


def forget_pasted(folder: Path) -> None:
    """Delete the images pasted earlier (they are private: screenshots, photos of papers)."""
    for old in folder.glob("pasted-*.png"):
        with contextlib.suppress(OSError):
            old.unlink()


class WindowActions(QObject):
    """Every command of the window, once, for the menu bar, context menu and shortcuts."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        style = window.style()
        keys = QKeySequence.StandardKey

        def make(
            text: str, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None
        ) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            window.addAction(action)  # shortcuts work even where the menu bar is hidden
            return action

        self.add_folder = make("&Add Folder…", keys.Open)
        self.add_folder.setIconText("Add folder")
        self.folders = make("&Folders…")
        self.similar_file = make("Find Similar to a &File…", "Ctrl+Shift+O")
        self.paste_image = make("Search by &Pasted Image", keys.Paste)
        self.settings = make("&Settings…", keys.Preferences)
        if self.settings.shortcut().isEmpty():
            self.settings.setShortcut(QKeySequence("Ctrl+,"))
        self.quit = make("&Quit", keys.Quit)
        if self.quit.shortcut().isEmpty():
            self.quit.setShortcut(QKeySequence("Ctrl+Q"))

        self.find = make("&Find", keys.Find)
        self.find.setShortcuts([QKeySequence(keys.Find), QKeySequence("/")])
        self.clear = make("&Clear Search", "Esc")
        self.copy_path = make("&Copy Path", keys.Copy)
        self.copy_image = make("Copy &Image", "Ctrl+Shift+C")
        self.select_all = make("Select &All", keys.SelectAll)
        self.remove = make("&Remove from Index…", keys.Delete)

        self.find_similar = make("Find &Similar", "Ctrl+S")
        self.open = make("&Open")
        self.open.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.reveal = make("Show in &Folder")
        self.reveal.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))

        self.preview = make("&Preview")
        self.preview.setCheckable(True)
        self.preview.setToolTip("Show the preview pane (Space)")
        self.zoom_in = make("Larger Thumbnails", keys.ZoomIn)
        self.zoom_in.setShortcuts([QKeySequence(keys.ZoomIn), QKeySequence("Ctrl+=")])
        self.zoom_out = make("Smaller Thumbnails", keys.ZoomOut)
        self.show_more = make("Show &Less Relevant Results")

        self.reindex = make("&Re-index Now", keys.Refresh)
        self.pause = make("&Pause Indexing")
        self.failures = make("&Skipped Files…")
        self.duplicates = make("&Duplicates…")
        self.people = make("P&eople…")
        self.about = make("&About Lumen")

        self.refresh_icons()

    def refresh_icons(self) -> None:
        """Draw the icons in the palette's colours (again, after it changed)."""
        self.add_folder.setIcon(icons.icon(icons.FOLDER_ADD))
        self.settings.setIcon(icons.icon(icons.SETTINGS))
        self.find_similar.setIcon(icons.icon(icons.SIMILAR))

    def build_menus(self, window: QMainWindow) -> None:
        bar = window.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (self.add_folder, self.folders, None, self.similar_file, self.paste_image):
            _add(file_menu, action)
        _add(file_menu, None)
        _add(file_menu, self.settings)
        _add(file_menu, None)
        _add(file_menu, self.quit)
        edit = bar.addMenu("&Edit")
        for action in (
            self.find,
            self.clear,
            None,
            self.copy_path,
            self.copy_image,
            self.select_all,
            None,
            self.remove,
        ):
            _add(edit, action)
        view = bar.addMenu("&View")
        for action in (self.preview, None, self.zoom_in, self.zoom_out, None, self.show_more):
            _add(view, action)
        index = bar.addMenu("&Index")
        for action in (
            self.reindex,
            self.pause,
            None,
            self.failures,
            self.duplicates,
            self.people,
        ):
            _add(index, action)
        bar.addMenu("&Help").addAction(self.about)

    def context_menu(self, parent: QMainWindow, *, single: bool, image: bool) -> QMenu:
        """The right-click menu for the selected results."""
        menu = QMenu(parent)
        self.find_similar.setEnabled(single)
        self.copy_image.setEnabled(single and image)
        for action in (
            self.find_similar,
            None,
            self.open,
            self.reveal,
            None,
            self.copy_path,
            self.copy_image,
            None,
            self.remove,
        ):
            _add(menu, action)
        return menu


def _add(menu: QMenu, action: QAction | None) -> None:
    if action is None:
        menu.addSeparator()
    else:
        menu.addAction(action)
