"""inotify's limits: advice when they are reached, and a probe that tells whether they were."""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from watchdog.observers.api import BaseObserver

__all__ = ["inotify_watch_limit_reached", "limit_advice", "uses_inotify"]


def limit_advice(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return (
            " (fs.inotify.max_user_watches is too low for this many folders; raise it with "
            "`sudo sysctl fs.inotify.max_user_watches=524288`, and add that line to "
            "/etc/sysctl.conf to keep it)"
        )
    if exc.errno == errno.EMFILE:
        return (
            " (fs.inotify.max_user_instances is reached; raise it with "
            "`sudo sysctl fs.inotify.max_user_instances=1024`)"
        )
    return ""


def uses_inotify(observer: BaseObserver) -> bool:
    return type(observer).__name__ == "InotifyObserver"


def inotify_watch_limit_reached(path: Path) -> bool:
    """Whether one more inotify watch fails for lack of watches.

    watchdog silently skips subfolders it cannot watch, so after scheduling a folder this probe
    tells whether the limit was hit on the way (then the folder is only partly watched).
    """
    try:
        from watchdog.observers import inotify_c
    except Exception:  # not Linux
        return False
    fd = inotify_c.inotify_init()
    if fd < 0:
        return ctypes.get_errno() == errno.EMFILE
    try:
        wd = inotify_c.inotify_add_watch(
            fd, os.fsencode(path), inotify_c.InotifyConstants.IN_DELETE_SELF
        )
        return wd < 0 and ctypes.get_errno() == errno.ENOSPC
    finally:
        os.close(fd)
