"""One writer per data dir, across processes: an OS file lock that dies with its process.

The window's library host, ``lumen index`` and ``lumen watch`` each take it before they index;
a second one hands its work to it or waits for it (``Library.index(hand_off=True)``), or is
refused with who holds it. Searches never need it. The lock is ``flock`` (or
``msvcrt.locking`` on Windows) on ``writer.lock``, so a killed process never leaves it stuck.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO

from desktop_app.core.errors import DataDirError

LOCK_NAME = "writer.lock"


class LibraryBusyError(DataDirError):
    """Another process is indexing this library."""


class WriterLock:
    """The writer lock of one data dir, taken at most once by this object."""

    def __init__(self, data_dir: Path, holder: str | None = None) -> None:
        self.path = data_dir / LOCK_NAME
        self.holder = holder or _this_process()
        self.watching = False  # whether the holder follows file changes (a folder watcher runs)
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free (or already ours); never waits."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (kept open while held)
        try:
            os.chmod(self.path, 0o600)
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._file = handle
        self._write_info()
        return True

    def set_watching(self, on: bool) -> None:
        """Tell other processes whether this holder follows file changes (and so takes folders
        added to the catalog and rescans asked for without being restarted)."""
        self.watching = on
        if self._file is not None:
            self._write_info()

    def _write_info(self) -> None:
        assert self._file is not None
        info = {"pid": os.getpid(), "holder": self.holder, "watching": self.watching}
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(info))
        self._file.flush()

    def acquire(self) -> None:
        """Take the lock or raise ``LibraryBusyError`` saying who has it."""
        if not self.try_acquire():
            raise LibraryBusyError(
                f"Another Lumen is updating this library ({self.describe_holder()}). Searches "
                "work meanwhile; run this again when it has finished."
            )

    def holder_info(self) -> dict[str, object]:
        """What the holder wrote about itself (pid, holder, watching); {} when unreadable."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def describe_holder(self) -> str:
        """Who holds the lock, as the holder wrote it (best effort): ``lumen watch, pid 12``."""
        info = self.holder_info()
        if not info:
            return "another process"
        return f"{info.get('holder', 'unknown')}, pid {info.get('pid', '?')}"

    def holder_watches(self) -> bool:
        """Whether the holder follows file changes (it takes handed-over work as it comes)."""
        return bool(self.holder_info().get("watching"))

    def release(self) -> None:
        if self._file is not None:
            try:
                _unlock(self._file)
            finally:
                self._file.close()
                self._file = None


def _this_process() -> str:
    argv = [os.path.basename(sys.argv[0]) if sys.argv else "python", *sys.argv[1:2]]
    return " ".join(argv)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
