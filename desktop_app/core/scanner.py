"""Walk watched folders and tell what is new, changed, moved or deleted since the catalog saw it."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_app.core.catalog import FAILED, Catalog, FileRecord, Folder
from desktop_app.core.extractors import kind_for_path
from desktop_app.core.fingerprint import fingerprint_file

log = logging.getLogger(__name__)

# Files still being written by browsers, downloaders and editors, and OS clutter.
TEMPORARY_SUFFIXES = frozenset(
    {".part", ".crdownload", ".download", ".tmp", ".temp", ".partial", ".!ut", ".opdownload"}
)
IGNORED_NAMES = frozenset({"Thumbs.db", "desktop.ini", "$RECYCLE.BIN", "lost+found", "@eaDir"})


def is_ignored_name(name: str) -> bool:
    """Hidden, temporary and system files and folders Lumen never indexes."""
    if name.startswith((".", "~$", ".~lock")) or name in IGNORED_NAMES:
        return True
    return os.path.splitext(name)[1].lower() in TEMPORARY_SUFFIXES


@dataclass(frozen=True)
class FoundFile:
    """A supported file seen on disk."""

    path: Path
    folder_id: int
    size: int
    mtime_ns: int
    inode: int
    kind: str
    fingerprint: str | None = None


@dataclass
class ScanResult:
    """What changed on disk compared with the catalog."""

    new: list[FoundFile] = field(default_factory=list)
    changed: list[tuple[FileRecord, FoundFile]] = field(default_factory=list)
    touched: list[tuple[FileRecord, FoundFile]] = field(default_factory=list)  # same bytes
    moved: list[tuple[FileRecord, FoundFile]] = field(default_factory=list)
    removed: list[FileRecord] = field(default_factory=list)
    unchanged: int = 0
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    offline_folders: list[Folder] = field(default_factory=list)
    seen: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.touched or self.moved or self.removed)


def walk_folder(root: Path, errors: list[tuple[Path, str]]) -> Iterator[os.DirEntry[str]]:
    """Yield the supported files under ``root``, following symlinks but never looping."""
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError as exc:
            errors.append((directory, exc.strerror or str(exc)))
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            log.debug("Skipping %s: already visited (symlink loop or duplicate)", directory)
            continue
        visited.add(key)
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if is_ignored_name(entry.name):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=True):
                            stack.append(Path(entry.path))
                        elif entry.is_file(follow_symlinks=True) and kind_for_path(Path(entry.name)):
                            yield entry
                    except OSError as exc:
                        errors.append((Path(entry.path), exc.strerror or str(exc)))
        except OSError as exc:
            log.warning("Cannot list %s: %s", directory, exc.strerror or exc)
            errors.append((directory, exc.strerror or str(exc)))


class Scanner:
    """Compares folders on disk with the catalog; never writes to the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def scan(
        self,
        folders: Sequence[Folder],
        on_progress: Callable[[int], None] | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
    ) -> ScanResult:
        """Scan ``folders`` together, so a file moved between them is seen as a move."""
        result = ScanResult()
        vanished: dict[int, FileRecord] = {}
        unseen_new: list[FoundFile] = []
        for folder in folders:
            if not folder.path.is_dir():
                log.warning("Folder %s is not reachable; its files are kept but hidden", folder.path)
                result.offline_folders.append(folder)
                continue
            known = self._catalog.files_in_folder(folder.id)
            seen_paths: set[Path] = set()
            for entry in walk_folder(folder.path, result.unreadable):
                if is_cancelled():
                    return result
                path = Path(entry.path)
                try:
                    st = entry.stat(follow_symlinks=True)
                except OSError as exc:  # vanished or unreadable between listing and stat
                    result.unreadable.append((path, exc.strerror or str(exc)))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                result.seen += 1
                if on_progress and result.seen % 200 == 0:
                    on_progress(result.seen)
                seen_paths.add(path)
                found = FoundFile(
                    path=path,
                    folder_id=folder.id,
                    size=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                    inode=st.st_ino,
                    kind=kind_for_path(path) or "image",
                )
                record = known.get(path)
                if record is None:
                    unseen_new.append(found)
                elif record.size == found.size and record.mtime_ns == found.mtime_ns:
                    result.unchanged += 1
                else:
                    self._classify_change(record, found, result)
            vanished.update({r.id: r for p, r in known.items() if p not in seen_paths})
        self._match_moves(unseen_new, vanished, result)
        result.removed = list(vanished.values())
        if on_progress:
            on_progress(result.seen)
        return result

    @staticmethod
    def _classify_change(record: FileRecord, found: FoundFile, result: ScanResult) -> None:
        try:
            fingerprint = fingerprint_file(found.path)
        except OSError as exc:
            result.unreadable.append((found.path, exc.strerror or str(exc)))
            return
        found = replace(found, fingerprint=fingerprint)
        if fingerprint == record.fingerprint and record.status != FAILED:
            result.touched.append((record, found))
        else:
            result.changed.append((record, found))

    @staticmethod
    def _match_moves(
        candidates: list[FoundFile], vanished: dict[int, FileRecord], result: ScanResult
    ) -> None:
        """A new path whose content matches a vanished file is that file, moved."""
        by_size: dict[int, list[FileRecord]] = {}
        for record in vanished.values():
            by_size.setdefault(record.size, []).append(record)
        for found in candidates:
            same_size = by_size.get(found.size)
            if not same_size:
                result.new.append(found)
                continue
            try:
                fingerprint = fingerprint_file(found.path)
            except OSError as exc:
                result.unreadable.append((found.path, exc.strerror or str(exc)))
                continue
            found = replace(found, fingerprint=fingerprint)
            match = next((r for r in same_size if r.fingerprint == fingerprint), None)
            if match is None:
                result.new.append(found)
                continue
            same_size.remove(match)
            del vanished[match.id]
            result.moved.append((match, found))

