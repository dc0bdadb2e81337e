"""Queries first: background work (indexing) waits at its checkpoints while a query runs.

The library host serves the window's queries and indexes in the same process. Lowering the whole
process's priority (``nice``) makes indexing give way to every other program on a busy machine;
instead, indexing's threads pass :meth:`QueryPriority.checkpoint` between small steps (before a
file is decoded, before each attention and MLP step of the image tower), and a query holds
:meth:`QueryPriority.query` while it runs, so for that time the cores are the query's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["QueryPriority"]

# A query that never ends (a bug, a stuck disk) must not stop indexing for good.
MAX_WAIT_S = 5.0


class QueryPriority:
    """A gate shared by one library's queries and its background threads."""

    def __init__(self, max_wait_s: float = MAX_WAIT_S) -> None:
        self.max_wait_s = max_wait_s
        self._changed = threading.Condition()
        self._running = 0
        self._local = threading.local()
        self.waits = 0  # how many times background work stood aside (for benchmarks and tests)

    @contextmanager
    def query(self) -> Iterator[None]:
        """Hold while answering a query: background threads pause at their next checkpoint."""
        with self._changed:
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    @property
    def query_running(self) -> bool:
        """Whether a query holds the gate now."""
        return self._running > 0

    def mark_background(self) -> None:
        """Make the calling thread one that gives way to queries at its checkpoints."""
        self._local.background = True

    @contextmanager
    def background(self) -> Iterator[None]:
        """Run the block as background work (checkpoints in it give way to queries)."""
        before = getattr(self._local, "background", False)
        self._local.background = True
        try:
            yield
        finally:
            self._local.background = before

    def checkpoint(self) -> None:
        """In a background thread: wait while a query runs (at most ``max_wait_s``).

        Anywhere else (a query's own thread, say when it embeds a picture) it returns at once.
        """
        if not self._running or not getattr(self._local, "background", False):
            return
        deadline = time.monotonic() + self.max_wait_s
        with self._changed:
            if self._running:
                self.waits += 1
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)
