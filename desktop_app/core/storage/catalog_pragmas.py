"""How every connection to a catalog file is set up, plain ``sqlite3`` or through the engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote


def set_shared_pragmas(cursor: Any) -> None:
    """What every connection needs, read-only or not."""
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Paths are case-sensitive (/x/Trip is not /x/trip): folder prefixes use LIKE.
    cursor.execute("PRAGMA case_sensitive_like=ON")


def writable(path: Path) -> bool:
    """Whether this process may write the catalog at ``path`` (and its journal beside it)."""
    folder = path.parent
    if not folder.is_dir():
        return True  # created (or refused in plain words) when the catalog is made
    if not os.access(folder, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def frozen(path: Path) -> bool:
    """Whether a read-only catalog must be opened immutable.

    In a folder nobody may write, SQLite cannot create the WAL's shared-memory file a reader
    needs; without a WAL file the database file is all there is, so it is opened immutable.
    """
    return not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists()


def read_only_uri(path: Path, is_frozen: bool) -> str:
    """SQLite's URI of the catalog at ``path`` opened read-only (``mode=ro``)."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    return uri + "&immutable=1" if is_frozen else uri


def read_write_uri(path: Path) -> str:
    """SQLite's URI of an existing catalog at ``path`` (never creating an empty one)."""
    return f"file:{quote(str(path.absolute()))}?mode=rw"
