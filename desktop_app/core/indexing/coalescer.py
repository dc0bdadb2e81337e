"""Dirty paths settle before they are read: many events for one file become one, a file still
being written waits, and both ends of a move are released together."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_BATCH", "Coalescer", "StatKey", "stat_key"]

MAX_BATCH = 2000  # paths handed to the library at once

StatKey = tuple[int, int] | str | None


def stat_key(path: Path) -> StatKey:
    """What must not change for ``path`` to count as settled: (size, mtime), "dir", or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    return (st.st_size, st.st_mtime_ns)


@dataclass
class _Dirty:
    key: StatKey
    changed_at: float


class Coalescer:
    """Dirty paths, each released once it has been quiet and unchanged on disk for ``settle_s``.

    Many events for one path (a file written in chunks, created then modified then closed)
    collapse into one entry. A file still being written keeps changing size or mtime and is
    held back; a folder is held back while anything below it is. Both paths of a move are
    released together, so the library sees the move whole. ``add``/``add_move`` may be called
    from any thread (the watchdog thread); ``take_ready`` from one consumer.
    """

    def __init__(
        self,
        settle_s: float,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[Path], StatKey] = stat_key,
    ) -> None:
        self.settle_s = settle_s
        self._clock = clock
        self._stat = stat
        self._lock = threading.Lock()
        self._dirty: OrderedDict[Path, _Dirty] = OrderedDict()  # oldest change first
        self._partners: dict[Path, set[Path]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._dirty)

    def add(self, path: Path) -> None:
        """Something happened to ``path``: (re)start its settle time."""
        key = self._stat(path)
        now = self._clock()
        with self._lock:
            self._refresh(path, key, now)

    def _refresh(self, path: Path, key: StatKey, now: float) -> None:
        """Restart the settle time of ``path`` and of the other end of its moves."""
        self._dirty.pop(path, None)
        self._dirty[path] = _Dirty(key, now)
        for partner in self._partners.get(path, ()):
            entry = self._dirty.pop(partner, None)
            if entry is not None:
                self._dirty[partner] = _Dirty(entry.key, now)

    def add_move(self, src: Path, dest: Path) -> None:
        """``src`` was renamed to ``dest``: both are dirty, and are released together."""
        keys = self._stat(src), self._stat(dest)
        now = self._clock()
        with self._lock:
            self._partners.setdefault(src, set()).add(dest)
            self._partners.setdefault(dest, set()).add(src)
            self._refresh(src, keys[0], now)
            self._refresh(dest, keys[1], now)

    def next_due(self) -> float | None:
        """Seconds until the oldest entry may be ready (0: now), or None when nothing is dirty."""
        with self._lock:
            if not self._dirty:
                return None
            oldest = next(iter(self._dirty.values()))
        return max(0.0, oldest.changed_at + self.settle_s - self._clock())

    def take_ready(self, limit: int = MAX_BATCH) -> list[Path]:
        """Remove and return up to ``limit`` settled paths (plus their move partners)."""
        now = self._clock()
        with self._lock:
            due: list[tuple[Path, _Dirty]] = []
            for path, entry in self._dirty.items():
                if entry.changed_at + self.settle_s > now or len(due) >= limit:
                    break
                due.append((path, entry))
        keys = {path: self._stat(path) for path, _ in due}  # outside the lock: may be slow
        now = self._clock()
        ready: list[Path] = []
        with self._lock:
            for path, entry in due:
                if self._dirty.get(path) is not entry:  # changed again meanwhile, or released
                    continue
                key = keys[path]
                if key != entry.key or (key == "dir" and self._dirty_below(path)):
                    self._refresh(path, key, now)  # still changing: wait another settle time
                    continue
                self._release(path, ready)
        return ready

    def _dirty_below(self, folder: Path) -> bool:
        prefix = str(folder).rstrip(os.sep) + os.sep
        return any(str(p).startswith(prefix) for p in self._dirty)

    def _release(self, path: Path, ready: list[Path]) -> None:
        if self._dirty.pop(path, None) is None:
            return
        ready.append(path)
        for partner in self._partners.pop(path, ()):
            others = self._partners.get(partner)
            if others is not None:
                others.discard(path)
                if not others:
                    del self._partners[partner]
            self._release(partner, ready)
