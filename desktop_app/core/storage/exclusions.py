"""What Lumen never reads: files and folders the user removed, and name patterns.

An exclusion is either an absolute path (that file, or that folder and everything below it)
or a name pattern (``node_modules``, ``*.tmp``, ``Cache*``) matched against every part of a
path. Lumen's own data dir is always excluded.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Folders that hold no one's photos or documents, excluded in a new library (removable).
DEFAULT_PATTERNS = ("node_modules", "__pycache__", ".git", ".cache", "Caches", ".Trash*")


def is_path_pattern(pattern: str) -> bool:
    """Whether ``pattern`` names a place (a path) rather than a name to match anywhere."""
    return os.sep in pattern or "/" in pattern or pattern.startswith("~")


def normalise(pattern: str, cwd: Path | None = None) -> str:
    """A path pattern made absolute (``~``, ``./x`` resolved); a name pattern (no slash) as is."""
    pattern = pattern.strip()
    if not pattern:
        raise ValueError("an empty exclusion pattern")
    if not is_path_pattern(pattern):
        return pattern
    path = Path(os.path.expanduser(pattern))
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    return os.path.normpath(path)


@dataclass(frozen=True)
class Exclusions:
    """A matcher over a set of patterns; cheap to ask once per directory entry."""

    patterns: tuple[str, ...] = ()
    always: tuple[Path, ...] = ()
    # Folders the user chose to index: a name pattern (``.cache``, hidden folders) matches
    # only below them, so a folder named explicitly is indexed wherever it lies.
    roots: tuple[Path, ...] = ()
    _paths: frozenset[str] = field(init=False, repr=False, compare=False)
    _path_globs: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _names: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        paths = {str(p) for p in self.always}
        globs: list[str] = []
        names: list[str] = []
        for pattern in self.patterns:
            if os.path.isabs(pattern):
                if _has_magic(pattern):
                    globs.append(pattern)
                else:
                    paths.add(os.path.normpath(pattern))
            else:
                names.append(fnmatch.translate(pattern))
        object.__setattr__(self, "_paths", frozenset(paths))
        object.__setattr__(self, "_path_globs", tuple(globs))
        object.__setattr__(self, "_names", re.compile("|".join(names)) if names else None)

    @classmethod
    def of(cls, patterns: Iterable[str], always: Iterable[Path] = ()) -> Exclusions:
        return cls(tuple(patterns), tuple(always))

    def excludes_entry(self, path: Path) -> bool:
        """Whether this file or folder itself is excluded (its parents already walked past)."""
        if self._names is not None and self._names.fullmatch(path.name):
            return True
        text = str(path)
        if text in self._paths:
            return True
        return any(fnmatch.fnmatchcase(text, glob) for glob in self._path_globs)

    def within(self, roots: Iterable[Path]) -> Exclusions:
        """These exclusions with ``roots`` as the folders the user named (see ``roots``)."""
        return Exclusions(self.patterns, self.always, tuple(roots))

    def excludes(self, path: Path) -> bool:
        """Whether ``path`` or any folder above it is excluded.

        Above (and at) the innermost root holding ``path``, only excluded paths count.
        """
        root = max((r for r in self.roots if path.is_relative_to(r)), key=_depth, default=None)
        for part in (path, *path.parents):
            if not (part.name or part == path):
                continue
            if root is not None and not (part != root and part.is_relative_to(root)):
                if str(part) in self._paths:
                    return True
                continue
            if self.excludes_entry(part):
                return True
        return False


def _depth(path: Path) -> int:
    return len(path.parts)


def _has_magic(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
