"""The checks every extractor makes before a decoder sees a file, and OS errors in plain words."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from desktop_app.core.errors import ExtractionError

__all__ = ["os_reason", "readable_file", "short_reason"]

# errno values that mean "this file's bytes could not be read" rather than "bad data".
_READ_FAILURES = {
    errno.EIO: "the disk reported a read error",
    errno.ENXIO: "the device holding it is not available",
    errno.ESTALE: "the network share no longer has it",
    errno.ETIMEDOUT: "the network share did not answer",
}


def short_reason(exc: BaseException, limit: int = 120) -> str:
    """A library's message, cleaned for one line: no byte-string quotes, no path, no errno."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc.args[0] if exc.args else None, bytes):  # rawpy: b'Input/output error'
        text = exc.args[0].decode("utf-8", "replace")
    text = " ".join(text.replace("\x00", " ").split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def os_reason(exc: OSError) -> str:
    """Why the operating system could not read a file, in plain words."""
    if isinstance(exc, FileNotFoundError):
        return "file no longer exists"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    known = _READ_FAILURES.get(exc.errno or 0)
    if known is not None:
        return f"cannot read file: {known}"
    return f"cannot read file: {exc.strerror.lower() if exc.strerror else short_reason(exc)}"


def readable_file(path: Path, max_bytes: int | None = None, what: str = "file") -> os.stat_result:
    """The stat of ``path`` if it is a regular, non-empty file no larger than ``max_bytes``.

    Raises ``ExtractionError`` with a plain reason otherwise ("file no longer exists" when it
    is gone: the indexer then forgets it).
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ExtractionError(os_reason(exc)) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ExtractionError("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ExtractionError("not a regular file")
    if info.st_size == 0:
        raise ExtractionError("empty file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise ExtractionError(
            f"{what} is too large ({info.st_size / 1e6:.0f} MB, limit {max_bytes / 1e6:.0f} MB)"
        )
    return info
