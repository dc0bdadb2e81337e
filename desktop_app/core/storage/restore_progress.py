"""Where a rebuild of the vector index from the catalog stands: a plain line every few seconds.

An index file of an older format (or lost, or behind the catalog) is rebuilt from the catalog's
vectors when a library opens: minutes at 1M vectors, before the first search or index run can
start. As an index run does in a log (``cli.progress``), a line comes every ``EVERY_S`` seconds,
the first only after that long (a short rebuild has none): vectors done, the pace, the time left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from desktop_app.core.progress_rate import RateMeter
from desktop_app.core.records import duration_words

__all__ = ["EVERY_S", "RestoreProgress"]

log = logging.getLogger(__name__)

EVERY_S: Final = 5.0


class RestoreProgress:
    """Counts the vectors copied into the index and logs how far it has got, now and then."""

    def __init__(
        self,
        total: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        doing: str = "Rebuilding the vector index",
    ) -> None:
        self._total = total
        self._doing = doing
        self._clock = clock
        self._meter = RateMeter(clock=clock)
        self._started = self._last = clock()

    def update(self, done: int) -> None:
        """``done`` of the vectors are in the index: a line when one is due."""
        self._meter.add(done)
        now = self._clock()
        if done >= self._total or now - self._last < EVERY_S or now <= self._started:
            return
        self._last = now
        eta_s = self._meter.eta_s(self._total - done)
        left = f", about {duration_words(eta_s)} left" if eta_s is not None else ""
        log.warning(
            "%s: %s of %s vectors, %s vectors/s%s",
            self._doing,
            f"{done:,}",
            f"{self._total:,}",
            f"{self._meter.rate:,.0f}",
            left,
        )
