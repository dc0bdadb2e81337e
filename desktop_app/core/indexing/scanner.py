"""Walk watched folders and tell what is new, changed, moved or deleted since the catalog saw it."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from desktop_app.core.extractors import kind_for_path
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.indexing.other_kinds import count_other
from desktop_app.core.storage.catalog import FAILED, Catalog, FileRecord, Folder
from desktop_app.core.storage.exclusions import Exclusions

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
    online_folders: list[Folder] = field(default_factory=list)  # reachable folders it looked at
    seen: int = 0
    other_kinds: Counter[str] = field(default_factory=Counter)  # files Lumen never reads

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.touched or self.moved or self.removed)


def walk_folder(
    root: Path,
    errors: list[tuple[Path, str]],
    exclusions: Exclusions | None = None,
    others: Counter[str] | None = None,
) -> Iterator[os.DirEntry[str]]:
    """Yield the supported files under ``root``, following symlinks but never looping.

    Excluded files are never stat-ed or read, and excluded folders never listed. Files of
    other kinds are counted by extension in ``others``.
    """
    visited: set[tuple[int, int]] = set()
    if exclusions is not None and exclusions.within([root]).excludes(root):
        return  # (a folder named by the user is walked even inside a hidden or excluded-by-name one)
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError as exc:
            note_unreadable(errors, directory, exc)
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
                    if exclusions is not None and exclusions.excludes_entry(Path(entry.path)):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=True):
                            stack.append(Path(entry.path))
                        elif entry.is_file(follow_symlinks=True):
                            if kind_for_path(Path(entry.name)):
                                yield entry
                            elif others is not None:
                                count_other(others, entry.name)
                    except OSError as exc:
                        note_unreadable(errors, Path(entry.path), exc)
        except OSError as exc:  # (the indexer logs it, once)
            note_unreadable(errors, directory, exc)


def note_unreadable(errors: list[tuple[Path, str]], path: Path, exc: OSError) -> None:
    """Record that ``path`` is there but cannot be read now (permission denied, I/O error).

    Its catalogued files are kept as they are (see ``_not_seen``); a path that is simply gone
    is not recorded: its files count as removed.
    """
    if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
        errors.append((path, exc.strerror or str(exc)))


def _not_seen(
    known: dict[Path, FileRecord], seen: set[Path], unreadable: list[tuple[Path, str]]
) -> dict[int, FileRecord]:
    """Known files the walk did not see, except those at or under a path it could not read
    (a folder that refuses listing now has not lost its files)."""
    blocked = [path for path, _reason in unreadable]
    return {
        record.id: record
        for path, record in known.items()
        if path not in seen and not any(path == b or path.is_relative_to(b) for b in blocked)
    }


class Scanner:
    """Compares folders on disk with the catalog; never writes to the catalog."""

    def __init__(self, catalog: Catalog, exclusions: Exclusions | None = None) -> None:
        self._catalog = catalog
        self._exclusions = exclusions

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
            if not self._reachable(folder):
                result.offline_folders.append(folder)
                continue
            result.online_folders.append(folder)
            known = self._catalog.files_in_folder(folder.id, between=is_cancelled)
            seen_paths: set[Path] = set()
            walk = walk_folder(folder.path, result.unreadable, self._exclusions, result.other_kinds)
            for entry in walk:
                if is_cancelled():
                    return result
                path = Path(entry.path)
                try:
                    st = entry.stat(follow_symlinks=True)
                except OSError as exc:  # vanished or unreadable between listing and stat
                    note_unreadable(result.unreadable, path, exc)
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                result.seen += 1
                if on_progress and result.seen % 200 == 0:
                    on_progress(result.seen)
                seen_paths.add(path)
                found = _found_file(path, st, folder.id)
                self._classify(found, known.get(path), result, unseen_new)
            vanished.update(_not_seen(known, seen_paths, result.unreadable))
        self._match_moves(unseen_new, vanished, result)
        result.removed = list(vanished.values())
        if on_progress:
            on_progress(result.seen)
        return result

    def scan_paths(
        self,
        folders: Sequence[Folder],
        paths: Iterable[Path],
        is_cancelled: Callable[[], bool] = lambda: False,
    ) -> ScanResult:
        """Rescan only ``paths`` (files, or folders and everything below them) inside ``folders``.

        What the folder watcher uses instead of walking whole folders. A path that no longer
        exists stands for the catalogued files that were at or below it; a vanished file whose
        content turns up at a new path in the same call is a move. Paths outside ``folders``, and
        hidden, temporary or unsupported files, are skipped. A folder that is not reachable is
        reported offline and none of its files count as removed.
        """
        result = ScanResult()
        by_folder: dict[int, list[Path]] = {}
        folder_of: dict[int, Folder] = {}
        for path in _outermost(_within(folders, paths)):
            folder = next((f for f in folders if path.is_relative_to(f.path)), None)
            if folder is None or any(map(is_ignored_name, path.relative_to(folder.path).parts)):
                continue
            if self._exclusions is not None and self._exclusions.within([folder.path]).excludes(
                path
            ):
                continue
            by_folder.setdefault(folder.id, []).append(path)
            folder_of[folder.id] = folder
        vanished: dict[int, FileRecord] = {}
        unseen_new: list[FoundFile] = []
        for folder_id, folder_paths in by_folder.items():
            folder = folder_of[folder_id]
            if not self._reachable(folder):
                result.offline_folders.append(folder)
                continue
            result.online_folders.append(folder)
            files: list[tuple[Path, os.stat_result]] = []
            for path in folder_paths:
                if is_cancelled():
                    return result
                try:
                    st = path.stat()
                except (FileNotFoundError, NotADirectoryError):
                    st = None
                except OSError as exc:  # there, but not readable now: its files are kept
                    note_unreadable(result.unreadable, path, exc)
                    continue
                if st is not None and stat.S_ISDIR(st.st_mode):
                    known = self._catalog.files_under(path)
                    seen_paths: set[Path] = set()
                    for entry in walk_folder(path, result.unreadable, self._exclusions):
                        try:
                            entry_st = entry.stat(follow_symlinks=True)
                        except OSError as exc:
                            note_unreadable(result.unreadable, Path(entry.path), exc)
                            continue
                        if stat.S_ISREG(entry_st.st_mode):
                            entry_path = Path(entry.path)
                            seen_paths.add(entry_path)
                            result.seen += 1
                            found = _found_file(entry_path, entry_st, folder.id)
                            self._classify(found, known.get(entry_path), result, unseen_new)
                    vanished.update(_not_seen(known, seen_paths, result.unreadable))
                elif st is not None and stat.S_ISREG(st.st_mode) and kind_for_path(path):
                    files.append((path, st))
                else:  # gone, or no longer something Lumen indexes
                    vanished.update({r.id: r for r in self._catalog.files_under(path).values()})
            known = self._catalog.files_at(p for p, _ in files)
            for path, st in files:
                result.seen += 1
                found = _found_file(path, st, folder.id)
                self._classify(found, known.get(path), result, unseen_new)
        self._match_moves(unseen_new, vanished, result)
        online = {f.id for f in folders if f.online} - {f.id for f in result.offline_folders}
        self._match_earlier_moves(result, online, set(vanished))
        result.removed = list(vanished.values())
        return result

    def _match_earlier_moves(
        self, result: ScanResult, online: set[int], vanished: set[int]
    ) -> None:
        """A new file whose content is catalogued at a path now gone (in an online folder) moved.

        The two ends of one move can reach the watcher in different batches (a move into a
        folder not watched yet, or between two watched folders), so the old path need not be
        among this call's paths. New files are fingerprinted here; embedding reads them anyway.
        """
        fingerprinted: list[FoundFile] = []
        for found in result.new:
            try:
                fingerprinted.append(replace(found, fingerprint=fingerprint_file(found.path)))
            except FileNotFoundError:  # gone again already (a temporary file): nothing to do
                continue
            except OSError as exc:
                result.unreadable.append((found.path, exc.strerror or str(exc)))
        known = self._catalog.files_with_fingerprints(f.fingerprint or "" for f in fingerprinted)
        result.new = []

        def gone(record: FileRecord) -> bool:
            return (
                record.folder_id in online
                and record.id not in vanished
                and not os.path.lexists(record.path)
            )

        for found in fingerprinted:
            match = next((r for r in known.get(found.fingerprint or "", []) if gone(r)), None)
            if match is None:
                result.new.append(found)
            else:
                known[found.fingerprint or ""].remove(match)
                result.moved.append((match, found))

    def _reachable(self, folder: Folder) -> bool:
        """Whether a watched folder can be scanned now (else its files are kept but hidden).

        A folder that was a mount point and is now an empty plain folder is a drive or share
        that is not mounted (its mount point left behind), not a folder whose files were deleted.
        """
        try:
            with os.scandir(folder.path) as entries:
                empty = next(entries, None) is None
        except OSError as exc:
            log.warning(
                "Folder %s is not reachable (%s); its files are kept but hidden",
                folder.path,
                exc.strerror or exc,
            )
            return False
        if (
            empty
            and self._catalog.get_meta(mount_point_key(folder.path))
            and not os.path.ismount(folder.path)
            and self._catalog.has_files(folder.id)
        ):
            log.warning(
                "Folder %s is an empty mount point (drive or share not mounted?); "
                "its files are kept but hidden until it comes back",
                folder.path,
            )
            return False
        return True

    def _classify(
        self,
        found: FoundFile,
        record: FileRecord | None,
        result: ScanResult,
        unseen_new: list[FoundFile],
    ) -> None:
        """New (maybe a move, decided later), unchanged by size and mtime, or changed or touched."""
        if record is None:
            unseen_new.append(found)
        elif record.size == found.size and record.mtime_ns == found.mtime_ns:
            result.unchanged += 1
        else:
            self._classify_change(record, found, result)

    @staticmethod
    def _classify_change(record: FileRecord, found: FoundFile, result: ScanResult) -> None:
        read = _fingerprinted(found, result)
        if read is None:
            return
        if read.fingerprint == record.fingerprint and record.status != FAILED:
            result.touched.append((record, read))
        else:
            result.changed.append((record, read))

    @staticmethod
    def _match_moves(
        candidates: list[FoundFile], vanished: dict[int, FileRecord], result: ScanResult
    ) -> None:
        """A new path whose content matches a vanished file is that file, moved.

        Same inode, size and mtime (a rename on one file system) needs no reading; otherwise
        files of the same size are fingerprinted.
        """
        by_size: dict[int, list[FileRecord]] = {}
        by_inode: dict[tuple[int | None, int, int], FileRecord] = {}
        for record in vanished.values():
            by_size.setdefault(record.size, []).append(record)
            by_inode[(record.inode, record.size, record.mtime_ns)] = record
        for found in candidates:
            same = by_inode.pop((found.inode, found.size, found.mtime_ns), None)
            if same is not None and same.id in vanished:
                by_size[same.size].remove(same)
                del vanished[same.id]
                result.moved.append((same, found))
                continue
            same_size = by_size.get(found.size)
            if not same_size:
                result.new.append(found)
                continue
            read = _fingerprinted(found, result)
            if read is None:
                continue
            found = read
            match = next((r for r in same_size if r.fingerprint == found.fingerprint), None)
            if match is None:
                result.new.append(found)
                continue
            same_size.remove(match)
            del vanished[match.id]
            result.moved.append((match, found))


def mount_point_key(folder: Path) -> str:
    """The catalog meta key that records that ``folder`` was seen as a mount point."""
    return f"mount_point:{folder}"


def _found_file(path: Path, st: os.stat_result, folder_id: int) -> FoundFile:
    return FoundFile(
        path=path,
        folder_id=folder_id,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        inode=st.st_ino,
        kind=kind_for_path(path) or "image",
    )


def _within(folders: Sequence[Folder], paths: Iterable[Path]) -> Iterator[Path]:
    """The paths, absolute; one above watched folders stands for those folders."""
    for raw in paths:
        path = Path(os.path.abspath(raw))
        if any(path.is_relative_to(f.path) for f in folders):
            yield path
        else:
            yield from (f.path for f in folders if f.path.is_relative_to(path))


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths without those that lie below another one of them."""
    unique = set(paths)
    return sorted(p for p in unique if not any(parent in unique for parent in p.parents))


def _fingerprinted(found: FoundFile, result: ScanResult) -> FoundFile | None:
    """``found`` with its content fingerprint, or None (recorded as unreadable) if it can't be read."""
    try:
        return replace(found, fingerprint=fingerprint_file(found.path))
    except OSError as exc:
        result.unreadable.append((found.path, exc.strerror or str(exc)))
        return None
