"""Why indexing a folder found nothing: excluded, Lumen's own data, empty, hidden, other kinds."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from desktop_app.core.extractors import SUPPORTED_EXTENSIONS
from desktop_app.core.indexing.scanner import is_ignored_name
from desktop_app.core.storage.exclusions import Exclusions

LOOK_AT_MOST = 20_000  # entries looked at to say what a folder holds (a quick look, not a scan)


def why_nothing_seen(folder: Path, patterns: Sequence[str], data_dir: Path) -> str:
    """Why a scan of ``folder`` saw no file to index, as the end of a sentence
    ("it is excluded by …", "it is empty", …)."""
    folder = folder.expanduser().absolute()
    if Exclusions.of((), (data_dir,)).excludes(folder):
        return "it is Lumen's own data folder"
    for pattern in patterns:
        if Exclusions.of((pattern,)).excludes(folder):
            return (
                f"it is excluded by the pattern {pattern} "
                f"(`lumen exclude remove {pattern}` indexes it again)"
            )
    hidden = [part for part in folder.parts[1:] if is_ignored_name(part)]
    if hidden:
        return f"it is inside a hidden folder ({hidden[0]}), and Lumen skips hidden folders"
    other, readable, skipped = _look_inside(folder)
    if readable:
        are = "is" if readable == 1 else "are"
        return f"its {_files(readable)} that Lumen reads {are} excluded (see `lumen exclude list`)"
    if not other and not skipped:
        return "it holds no files"
    if not other:
        return f"its {_files(skipped)} are all hidden or temporary, or in hidden folders"
    kinds = ", ".join(f"{suffix or 'no extension'} {n}" for suffix, n in other.most_common(5))
    return (
        f"none of its {_files(other.total())} is a photo, video or document Lumen reads ({kinds})"
    )


def _look_inside(folder: Path) -> tuple[Counter[str], int, int]:
    """Under ``folder``: visible files of kinds Lumen does not read (by extension), visible
    files it reads, and hidden or temporary files."""
    other: Counter[str] = Counter()
    readable = skipped = looked = 0
    for directory, folders, files in os.walk(folder):
        looked += len(folders) + len(files)
        in_hidden = any(map(is_ignored_name, Path(directory).relative_to(folder).parts))
        for name in files:
            suffix = os.path.splitext(name)[1].lower()
            if in_hidden or is_ignored_name(name):
                skipped += 1
            elif suffix in SUPPORTED_EXTENSIONS:
                readable += 1
            else:
                other[suffix] += 1
        if looked > LOOK_AT_MOST:
            break
    return other, readable, skipped


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n:,} files"
