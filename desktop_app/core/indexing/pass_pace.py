"""Files per second and the time left for each pass of an index run (issue 22).

A run makes every file findable first (the first pass: a photo's vector, a document's opening
passage), then embeds the rest of the documents' passages (the second pass). The time left
shown during the first pass is the whole run's: its own files at its pace, plus the second
pass's vectors at the pace the first pass embeds them. During the second pass it is that
pass's vectors left at its own pace (files differ a lot in how many they have).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from desktop_app.core.progress_rate import RateMeter
from desktop_app.core.records import FileRecord

__all__ = ["DeepPassPace", "Embeddable", "FilesPace", "FirstPassPace", "Pace"]


class Embeddable(Protocol):
    """A file as a pass stored it (``prepare.PreparedFile``)."""

    @property
    def record(self) -> FileRecord: ...

    @property
    def units(self) -> int:
        """Vectors this pass embedded for the file."""
        ...

    @property
    def deferred(self) -> int:
        """Vectors left for the second pass."""
        ...


class Pace(Protocol):
    """Turns a pass's stored batches into (files per second, seconds left or None)."""

    def after(self, done: int, items: Sequence[Embeddable]) -> tuple[float, float | None]:
        """``done`` files of the pass are finished, ``items`` the batch just stored."""
        ...


class FilesPace:
    """One pass whose files cost about the same: the time left is its files at their pace."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._total = total
        self._meter = RateMeter(clock=clock)

    def after(self, done: int, items: Sequence[Embeddable]) -> tuple[float, float | None]:
        """Files per second lately, and the files left at that pace."""
        self._meter.add(done)
        return self._meter.rate, self._meter.eta_s(self._total - done)


class FirstPassPace:
    """The first pass: its files per second; the time left until the run ends, second pass
    included (its vectors, those known so far and those the files left will defer at the same
    share, at the pace the first pass makes vectors lately)."""

    def __init__(
        self, total: int, waiting_units: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._total = total
        self._waiting = waiting_units  # left by an earlier run
        self._files = RateMeter(clock=clock)
        self._vectors = RateMeter(clock=clock)  # the pace vectors are made lately
        self._embedded = 0
        self._deferred = 0

    def after(self, done: int, items: Sequence[Embeddable]) -> tuple[float, float | None]:
        """Files per second lately, and the run's time left."""
        self._files.add(done)
        self._embedded += sum(item.units for item in items)
        self._vectors.add(self._embedded)
        self._deferred += sum(item.deferred for item in items)
        first = self._files.eta_s(self._total - done)
        later = self._vectors.eta_s(
            round(self._deferred + self._deferred / max(1, done) * (self._total - done))
            + self._waiting
        )
        if first is None or later is None:
            return self._files.rate, first
        return self._files.rate, first + later


class DeepPassPace:
    """The second pass: files per second; the time left is the vectors its files still have
    to add (as the first pass counted them) at the pace vectors are added lately."""

    def __init__(self, units: Mapping[int, int], clock: Callable[[], float] = time.monotonic):
        self._units = units  # file id → vectors to add
        self._left = sum(units.values())
        self._added = 0
        self._files = RateMeter(clock=clock)
        self._vectors = RateMeter(clock=clock)

    def after(self, done: int, items: Sequence[Embeddable]) -> tuple[float, float | None]:
        """Files per second lately, and the vectors left at their pace."""
        added = sum(self._units.get(item.record.id, 0) for item in items)
        self._added += added
        self._left -= added
        self._files.add(done)
        self._vectors.add(self._added)
        return self._files.rate, self._vectors.eta_s(self._left)
