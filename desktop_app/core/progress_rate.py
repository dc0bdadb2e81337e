"""Items per second over the last half minute, and the time left at that pace (an index run's
files, a rebuild's vectors)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

RATE_WINDOW_S = 30.0  # recent enough to follow a change of pace (photos, then long documents)


class RateMeter:
    """Turns (time, files done) samples into a rate and an estimate of the time left.

    The rate is taken over the last ``window_s`` seconds (from the start while the run is
    younger), so a run that moves from quick photos to long documents soon shows its new pace.
    """

    def __init__(
        self, window_s: float = RATE_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock(), 0)])

    def add(self, done: int) -> None:
        """Record that ``done`` files are finished now."""
        now = self._clock()
        self._samples.append((now, done))
        # keep one sample at or before the window's start, so the window is always covered
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._window_s:
            self._samples.popleft()

    @property
    def rate(self) -> float:
        """Files per second over the window (0.0 before any time has passed)."""
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end > start else 0.0

    def eta_s(self, remaining: int) -> float | None:
        """Seconds until ``remaining`` more files are done at the current rate (None: unknown)."""
        if remaining <= 0:
            return 0.0
        rate = self.rate
        return remaining / rate if rate > 0 else None
