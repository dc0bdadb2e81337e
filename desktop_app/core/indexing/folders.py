"""What a library looks at: its watched folders and its exclusions, and the writes that change them.

Each write here is one writer operation (run it through ``Writer.run``) that returns the
``FileChanges`` it made: files that left with a folder, a forgotten path or a new exclusion.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_app.core.errors import LumenError
from desktop_app.core.records import FileChanges, FileRecord, Folder
from desktop_app.core.storage.exclusions import Exclusions, normalise
from desktop_app.core.storage.store import Store

__all__ = ["Folders"]

EXCLUSIONS_RECHECK_S = 0.5  # how stale a running index run's view of the exclusions may be


class Folders:
    """A library's watched folders and exclusions."""

    def __init__(self, store: Store, always_excluded: Sequence[Path]) -> None:
        self._store = store
        self._always = list(always_excluded)  # Lumen's own data and model cache
        self._lock = threading.Lock()
        self._excluded: tuple[str, Exclusions] | None = None
        self._excluded_checked_at = 0.0

    def all(self) -> list[Folder]:
        """The watched folders."""
        return self._store.catalog.folders()

    def add(self, path: Path) -> tuple[Folder, FileChanges]:
        """Watch a folder (its files are indexed by the next run); one inside a watched folder
        is that folder, and a parent added after its subfolders replaces them."""
        catalog = self._store.catalog
        path = path.expanduser().resolve()
        if not path.is_dir():
            raise LumenError(f"{path} is not a folder")
        for existing in catalog.folders():
            if path.is_relative_to(existing.path):
                return existing, FileChanges()
        folder = catalog.add_folder(path)
        for existing in catalog.folders():
            if existing.path != path and existing.path.is_relative_to(path):
                catalog.remove_folder_keep_files(existing.id, folder.id)
        return folder, FileChanges(folders=(path,))

    def remove(self, path: Path) -> FileChanges:
        """Stop watching a folder and forget its files."""
        path = path.expanduser().resolve()
        folder = next((f for f in self._store.catalog.folders() if f.path == path), None)
        if folder is None:
            return FileChanges()
        records = [
            r for r in self._store.catalog.files_under(path).values() if r.folder_id == folder.id
        ]
        changes = self._forget(records, lambda: self._store.catalog.remove_folder(path))
        return changes + FileChanges(folders=(path,))

    def set_paused(self, path: Path, paused: bool) -> FileChanges:
        """Pause (skip in indexing runs) or resume a watched folder; its indexed files stay."""
        path = path.expanduser().resolve()
        for folder in self._store.catalog.folders():
            if folder.path == path:
                self._store.catalog.set_folder_state(folder.id, paused=paused)
                return FileChanges(folders=(path,))
        raise LumenError(f"{path} is not a watched folder")

    # -- exclusions -----------------------------------------------------------------------

    def exclusions(self) -> list[str]:
        """Patterns and paths never indexed (``Exclusions`` says how they match)."""
        return self._store.catalog.exclusions()

    def exclude(self, pattern: str) -> FileChanges:
        """Never read what ``pattern`` matches again; its files leave the library now."""
        pattern = normalise(pattern)
        self._store.catalog.add_exclusion(pattern)
        self._excluded = None
        matcher = Exclusions.of([pattern])
        everything = self._store.catalog.files_under(Path(os.sep))
        records = [r for p, r in everything.items() if matcher.excludes(p)]
        return self._forget(records) + FileChanges(exclusions=(pattern,))

    def include(self, pattern: str) -> FileChanges:
        """Stop excluding ``pattern`` (its files come back at the next scan); empty if unknown."""
        self._excluded = None
        catalog = self._store.catalog
        for known in dict.fromkeys((normalise(pattern), pattern)):
            if catalog.remove_exclusion(known):
                return FileChanges(exclusions=(known,))
        return FileChanges()

    def forget(self, path: Path) -> FileChanges:
        """Remove a file or everything under a path from the library for good (it is excluded)."""
        path = Path(os.path.normpath(path.expanduser().absolute()))
        self._store.catalog.add_exclusion(str(path))
        self._excluded = None
        records = list(self._store.catalog.files_under(path).values())
        return self._forget(records) + FileChanges(exclusions=(str(path),))

    def _forget(
        self, records: list[FileRecord], remove: Callable[[], list[int]] | None = None
    ) -> FileChanges:
        """Take ``records`` out of the catalog and the index together (one store operation);
        ``remove`` deletes them from the catalog when plain deletion is not the way."""
        if remove is not None:
            vectors = self._store.drop(lambda _catalog: remove())
        else:
            vectors = self._store.delete_files([r.id for r in records])
        return FileChanges(removed=tuple(r.path for r in records), vectors_removed=len(vectors))

    def current_exclusions(self) -> Exclusions:
        """The exclusions now (re-read when another process changed them; cheap to call often)."""
        now = time.monotonic()
        cached = self._excluded
        if cached is not None and now - self._excluded_checked_at < EXCLUSIONS_RECHECK_S:
            return cached[1]
        with self._lock:
            self._excluded_checked_at = now
            catalog = self._store.catalog
            roots = [f.path for f in catalog.folders()]  # named folders: see Exclusions.roots
            version = f"{catalog.exclusions_version()}|{roots}"
            if cached is None or cached[0] != version:
                excluded = Exclusions.of(catalog.exclusions(), self._always).within(roots)
                cached = (version, excluded)
                self._excluded = cached
            return cached[1]
