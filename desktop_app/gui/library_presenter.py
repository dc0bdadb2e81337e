"""The library's side of the window: opening it, the model's state, folders, indexing, settings.

``LibraryPresenter`` owns no widgets and asks nothing of the user: the window confirms and
chooses (dialogs), then calls it; it tells the window what happened through its signals. It
keeps the results fresh through the ``SearchPresenter`` it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.config import Settings
from desktop_app.core.records import readable
from desktop_app.gui.search_presenter import SearchPresenter
from desktop_app.gui.workers import LibraryBridge
from desktop_app.host.protocol import (
    MODEL_READY,
    DuplicateRows,
    Failure,
    FileChanges,
    IndexSummary,
    LibraryStatus,
    ModelState,
    PersonRow,
)

log = logging.getLogger(__name__)

RESTART_KEYS = ("model", "weights", "device", "thumbnail_size")  # settings the host reads


class LibraryPresenter(QObject):
    """What the window knows and does about the library; call it on the GUI thread."""

    opening = Signal()  # the library is being (re)opened
    opened = Signal(object)  # LibraryStatus: it is open (after the first ``status_changed``)
    status_changed = Signal(object)  # LibraryStatus: folders, counts
    open_failed = Signal(str)  # the library could not be opened
    stopped = Signal(str)  # the library process died
    model_changed = Signal(object)  # ModelState
    download = Signal(object)  # DownloadProgress: the model's weights are coming in
    paused_changed = Signal(bool)
    index_failed = Signal(str)
    notice = Signal(str, int)  # a short note for the status bar, and for how long (ms)
    problem = Signal(str, str)  # title, message: something the user must see

    def __init__(self, settings: Settings, bridge: LibraryBridge, search: SearchPresenter) -> None:
        super().__init__()
        self.settings = settings
        self.bridge = bridge
        self.search = search
        self.info: LibraryStatus | None = None
        self.model_state: ModelState | None = None
        self.paused = False
        self._watching = False
        bridge.ready.connect(self._ready)
        bridge.fatal.connect(self.open_failed.emit)
        bridge.died.connect(self.stopped.emit)
        bridge.info_changed.connect(self._info_changed)
        bridge.model_state.connect(self._model_changed)
        bridge.download.connect(self.download.emit)
        # (Progress only moves the status bar: what a run changes reaches the results through
        # its change events, ``SearchPresenter.files_changed``, the one trigger of a re-query.)
        bridge.index_finished.connect(self._index_finished)
        bridge.index_failed.connect(self.index_failed.emit)

    # -- opening --------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library in the background; ``status_changed`` or ``open_failed`` follows."""
        self.opening.emit()
        self.bridge.start()

    def restart(self) -> None:
        """Close the library and open it again (new settings take effect)."""
        self.opening.emit()
        self.bridge.restart()

    def _ready(self, info: LibraryStatus) -> None:
        self._watching = False
        self._info_changed(info)
        self.bridge.warm_model(info.model or self.settings.model)
        if info.folders:
            self.search.run_query()
            self.start_indexing()  # pick up changes, and finish what an earlier run left
        self.opened.emit(info)

    def _info_changed(self, info: LibraryStatus) -> None:
        self.info = info
        self.status_changed.emit(info)

    def _model_changed(self, state: ModelState) -> None:
        previous = self.model_state
        self.model_state = state
        self.model_changed.emit(state)
        if state.state == MODEL_READY and (previous is None or previous.state != MODEL_READY):
            result = self.search.model.result
            if result is not None and not result.semantic:
                self.search.run_query()  # replace the name-only answer with one by meaning

    def load_model(self) -> None:
        """Try loading the model again (e.g. after a cancelled download, or back online)."""
        model = self.info.model if self.info is not None and self.info.model else None
        self.bridge.warm_model(model or self.settings.model)

    def cancel_download(self) -> None:
        """Stop the model's download; ``model_changed`` then says it is unavailable, and why."""
        self.bridge.cancel_download()

    def use_weights(self, path: Path) -> None:
        """Load the model from the weights file ``path`` (a download in progress stops)."""
        self.apply_settings(self.settings.replace(weights=path))

    # -- indexing -------------------------------------------------------------------------

    def start_indexing(self, folders: list[Path] | None = None) -> None:
        """Index ``folders`` (added first) or every folder; resumes a paused library."""
        self._set_paused(False)
        self.bridge.index(folders)

    def toggle_pause(self) -> None:
        """Pause (finished files are kept) or resume indexing."""
        if self.paused:
            self.start_indexing()
        else:
            self._set_paused(True)
            self.bridge.cancel_indexing()

    def _set_paused(self, paused: bool) -> None:
        if paused:
            self._follow_changes(False)
        self.paused = paused
        self.paused_changed.emit(paused)

    def _index_finished(self, outcome: IndexSummary) -> None:
        if outcome.embedded or outcome.removed or outcome.new:
            self.search.refresh_now()
        if outcome.offline_folders:
            names = ", ".join(readable(p) for p in outcome.offline_folders)
            self.notice.emit(f"Not reachable (files hidden until it is back): {names}", 10000)
        self._follow_changes(not self.paused)

    def _follow_changes(self, on: bool) -> None:
        """Have the library follow file changes between runs (the core's folder watcher)."""
        if self.bridge.watch and on != self._watching:
            self._watching = on
            self.bridge.run(lambda c: c.set_watching(on), failed=lambda e: log.warning("%s", e))

    def duplicates(self, show: Callable[[tuple[DuplicateRows, ...]], None]) -> None:
        """The groups of near-duplicate photos, handed to ``show``."""
        self.bridge.run(lambda c: c.duplicates(), done=show)

    # -- people (issue 23) ------------------------------------------------------------------

    def people(self, show: Callable[[tuple[PersonRow, ...]], None]) -> None:
        """The people found in the photos, each with a face picture, handed to ``show``."""
        self.bridge.run(lambda c: c.people(), done=show)

    def name_person(self, person_id: int, name: str, then: Callable[[], None]) -> None:
        self.bridge.run(lambda c: c.name_person(person_id, name), done=lambda _p: then())

    def merge_people(self, into: int, others: list[int], then: Callable[[], None]) -> None:
        self.bridge.run(lambda c: c.merge_people(into, others), done=lambda _p: then())

    def failures(self, show: Callable[[tuple[Failure, ...]], None]) -> None:
        """The files indexing skipped, and why, handed to ``show``."""
        self.bridge.run(lambda c: c.failures(), done=show)

    # -- folders --------------------------------------------------------------------------

    def add_folders(self, folders: list[Path]) -> None:
        """Watch ``folders`` and index them now; thumbnails appear as files are found."""
        self.start_indexing(folders)
        self.notice.emit(f"Adding {', '.join(readable(f.name or f) for f in folders)}…", 4000)

    def remove_folder(self, path: Path) -> None:
        """Stop watching ``path``; its files leave the index (a run in progress resumes after)."""
        resume = self.bridge.indexing
        self.bridge.cancel_indexing()  # (no point in it embedding the folder's files meanwhile)

        def removed(changes: FileChanges) -> None:
            self.bridge.refresh_info()
            self.search.files_changed(changes)  # its files' rows go; no new query
            if resume:
                self.start_indexing()

        self.bridge.run(lambda c: c.remove_folder(path), done=removed)

    def set_folder_paused(self, path: Path, paused: bool) -> None:
        """Pause or resume a folder; a run in progress stops for it (one writer) and resumes."""
        resume = self.bridge.indexing
        self.bridge.cancel_indexing()

        def changed(_changes: FileChanges) -> None:  # (a paused folder's files stay shown)
            self.bridge.refresh_info()
            if resume:
                self.start_indexing()

        self.bridge.run(lambda c: c.set_folder_paused(path, paused), done=changed)

    # -- exclusions -----------------------------------------------------------------------

    def exclusions(self, show: Callable[[tuple[str, ...]], None]) -> None:
        """What is never indexed (paths, and name patterns), handed to ``show``."""
        self.bridge.run(lambda c: c.exclusions(), done=show)

    def exclude(self, pattern: str, then: Callable[[], None] | None = None) -> None:
        """Never index what ``pattern`` names; its files leave the results at once."""

        def done(changes: FileChanges) -> None:
            self.bridge.refresh_info()
            self.search.files_changed(changes)  # the excluded files' rows go; no new query
            if then is not None:
                then()

        self.bridge.run(lambda c: c.exclude(pattern), done=done)

    def include(self, pattern: str, then: Callable[[], None] | None = None) -> None:
        """Stop excluding ``pattern``; its files come back with the next index run (started)."""

        def done(_changes: FileChanges) -> None:
            if then is not None:
                then()
            self.start_indexing()

        self.bridge.run(lambda c: c.include(pattern), done=done)

    # -- settings -------------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """Save ``settings``; restart the library when the model, weights or device changed."""
        old, self.settings = self.settings, settings
        try:
            settings.save()
        except OSError as exc:
            self.problem.emit("Settings", f"Cannot save the settings: {exc}")
        if settings.thumbnail_size != old.thumbnail_size:
            self.search.model.forget_thumbnails()
        if any(getattr(settings, key) != getattr(old, key) for key in RESTART_KEYS):
            self.restart()
