"""The window's dialogs about the library: folders, skipped files, weights, settings, errors.

``LibraryDialogs`` asks the user (choose, confirm) and hands the decision to the
``LibraryPresenter``; it keeps no state of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_app import __version__
from desktop_app.core.records import readable
from desktop_app.gui.duplicates_dialog import DuplicatesDialog
from desktop_app.gui.face_setting import wire_face_setting
from desktop_app.gui.folders_dialog import FailuresDialog, FoldersDialog
from desktop_app.gui.library_presenter import LibraryPresenter
from desktop_app.gui.people_dialog import PeopleDialog
from desktop_app.gui.workers import Fetch
from desktop_app.host.protocol import DuplicateRows, Failure, PersonRow


class LibraryDialogs:
    """Dialogs parented on ``parent``; ``add_folders`` is how the window adds chosen folders."""

    def __init__(
        self,
        parent: QWidget,
        library: LibraryPresenter,
        add_folders: Callable[[list[Path]], None],
    ) -> None:
        self._parent = parent
        self._library = library
        self._add_folders = add_folders
        self.duplicates_dialog: DuplicatesDialog | None = None  # the last one shown
        self.people_dialog: PeopleDialog | None = None

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self._parent, "Add a folder to Lumen", str(Path.home())
        )
        if path:
            self._add_folders([Path(path)])

    def choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._parent,
            "Model weights",
            str(Path.home()),
            "Weights (*.safetensors *.bin *.pt *.pth)",
        )
        if path:
            self._library.use_weights(Path(path))

    def show_failures(self) -> None:
        def show(failures: tuple[Failure, ...]) -> None:
            FailuresDialog(failures, self._parent).exec()

        self._library.failures(show)

    def show_duplicates(self, fetch: Fetch, trashed: Callable[[list[Path]], None]) -> None:
        """The duplicates view, once the library has found the groups."""

        def show(groups: tuple[DuplicateRows, ...]) -> None:
            dialog = DuplicatesDialog(groups, fetch, self._parent)
            dialog.trashed.connect(trashed)
            self.duplicates_dialog = dialog
            dialog.open()

        self._library.duplicates(show)

    def show_people(self, search_for: Callable[[str], None]) -> None:
        """The People view, once the library has the people; renames and merges go to the
        library and the view shows the result; choosing a person searches their photos."""
        library = self._library

        def show(people: tuple[PersonRow, ...]) -> None:
            dialog = PeopleDialog(people, self._parent)
            refresh = lambda: library.people(dialog.set_people)  # noqa: E731
            dialog.renamed.connect(lambda pid, name: library.name_person(pid, name, refresh))
            dialog.merge_requested.connect(
                lambda into, others: library.merge_people(into, others, refresh)
            )
            dialog.person_chosen.connect(search_for)
            self.people_dialog = dialog
            dialog.open()

        library.people(show)

    def show_folders(self) -> None:
        self.folders_dialog().exec()

    def folders_dialog(self) -> FoldersDialog:
        """The folders dialog, wired to the library and kept up to date until it closes."""
        library = self._library
        dialog = FoldersDialog(self._parent)
        if library.info is not None:
            dialog.set_info(library.info)
        library.status_changed.connect(dialog.set_info)
        dialog.finished.connect(lambda _result: library.status_changed.disconnect(dialog.set_info))
        dialog.add_requested.connect(self.choose_folder)
        dialog.remove_requested.connect(self.remove_folder)
        dialog.pause_requested.connect(library.set_folder_paused)
        dialog.reindex_requested.connect(lambda: library.start_indexing())

        def show_exclusions() -> None:
            library.exclusions(dialog.set_exclusions)

        dialog.exclude_requested.connect(lambda p: library.exclude(p, then=show_exclusions))
        dialog.include_requested.connect(lambda p: library.include(p, then=show_exclusions))
        show_exclusions()
        return dialog

    def remove_folder(self, path: Path) -> None:
        answer = QMessageBox.question(
            self._parent,
            "Remove folder",
            f"Stop watching {path}?\n\nIts files leave Lumen's index; on disk they stay untouched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._library.remove_folder(path)

    def confirm_forget(self, paths: list[Path]) -> bool:
        """Ask before taking ``paths`` out of the index."""
        what = readable(paths[0].name) if len(paths) == 1 else f"{len(paths)} files"
        answer = QMessageBox.question(
            self._parent,
            "Remove from index",
            f"Remove {what} from Lumen's index?\n\nThe files stay on disk, untouched, and "
            "Lumen does not read them again (Folders… lists them under “Never indexed”, where "
            "they can be indexed again).",
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_settings(self) -> None:
        from desktop_app.gui.settings_dialog import SettingsDialog, remember_data_dir

        dialog = SettingsDialog(self._library.settings, self._parent)
        wire_face_setting(dialog.faces, self._library.bridge)
        if dialog.exec():
            if dialog.new_data_dir is not None:
                remember_data_dir(dialog.new_data_dir)
            self._library.apply_settings(dialog.settings())

    def show_error(self, title: str, message: str, details: str = "") -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self._parent)
        if details:
            box.setDetailedText(details)
        box.open()

    def show_about(self) -> None:
        QMessageBox.about(
            self._parent,
            "About Lumen",
            f"<h3>Lumen {__version__}</h3><p>Search your own photos and documents by what they "
            "show. Everything stays on this computer.</p>",
        )
