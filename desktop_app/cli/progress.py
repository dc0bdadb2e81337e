"""Progress on stderr: the indexing bar (or a plain line every few seconds in a log) and the
model download's bar."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from desktop_app.core.embedding.weights import DownloadProgress
from desktop_app.core.records import Progress, duration_words

PLAIN_EVERY_S = 5.0  # a line this often when stderr is not a terminal
# phases with a total to count towards
COUNTED = ("indexing", "deeper pass", "re-embedding", "faces")
LABELS = {"faces": "looking for faces"}  # a phase's words where its name is not enough


class ProgressBar:
    """One tqdm bar per indexing phase (scanning, indexing, …), drawn only when enabled."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._phase = ""

    def update(self, progress: Progress) -> None:
        """Show ``progress`` (a new phase starts a new bar)."""
        if not self._enabled:
            return
        from tqdm import tqdm

        if progress.phase != self._phase:
            self.close()
            self._phase = progress.phase
            counted = progress.phase in COUNTED
            self._bar = tqdm(
                total=progress.total if counted else None,
                desc=LABELS.get(progress.phase, progress.phase),
                unit=" files",
                file=sys.stderr,
                # the pace is Lumen's (files lately, not per update of the bar)
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
                if counted
                else "{desc}: {n_fmt} files [{elapsed}]",
            )
        if self._bar is not None:
            if progress.total and self._bar.total != progress.total:
                self._bar.total = progress.total
            self._bar.n = progress.done
            self._bar.set_postfix_str(pace(progress), refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        """Finish the bar on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class DownloadBar:
    """The model download's progress on stderr (bytes, speed, time left)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def update(self, progress: DownloadProgress) -> None:
        """Show ``progress``; the bar closes when the download has finished."""
        if not self._enabled:
            return
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=progress.total_bytes,
                desc="downloading model",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
            )
        self._bar.n = progress.done_bytes
        self._bar.refresh()
        if progress.finished:
            self._bar.close()
            self._bar = None


class IndexProgress:
    """An index run's progress on stderr: a bar on a terminal, else (a log) a plain line every
    few seconds; nothing with ``quiet``, and nothing more once ``stopped`` is set (Ctrl-C).

    ``update`` is called from the indexing thread, ``tick`` and ``say`` from the main thread.
    """

    def __init__(
        self,
        quiet: bool,
        terminal: bool,
        stopped: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quiet = quiet
        self._bar = ProgressBar(enabled=not quiet and terminal)
        self._plain = not quiet and not terminal
        self._stopped = stopped
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: Progress | None = None
        self._latest_at = clock()
        self._last_line = clock()  # the first line comes after PLAIN_EVERY_S: short runs have none

    def update(self, progress: Progress) -> None:
        """Show ``progress`` (the bar at once; the plain line at the next tick that is due)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._latest, self._latest_at = progress, self._clock()
            self._bar.update(progress)

    def tick(self) -> None:
        """Print the plain line when one is due."""
        with self._lock:
            now = self._clock()
            if not self._plain or self._latest is None or self._stopped.is_set():
                return
            if now - self._last_line < PLAIN_EVERY_S:
                return
            self._last_line = now
            line = plain_line(counted_down(self._latest, now - self._latest_at))
        if line:
            print(f"{datetime.now():%H:%M:%S} {line}", file=sys.stderr, flush=True)

    def say(self, line: str) -> None:
        """A line of its own (the bar ends first), unless quiet."""
        with self._lock:
            self._bar.close()
        if not self._quiet:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Finish the bar on screen."""
        with self._lock:
            self._bar.close()


def counted_down(progress: Progress, since_s: float) -> Progress:
    """``progress`` ``since_s`` seconds after it was reported: the time left counts down
    between reports (a batch of long documents can take a minute), and is left out once
    spent rather than shown as none."""
    if progress.eta_s is None or since_s <= 0:
        return progress
    left = progress.eta_s - since_s
    return dataclasses.replace(progress, eta_s=left if left >= 1 else None)


def pace(progress: Progress) -> str:
    """'11.2 files/s, about 5 min left, 3 failed' (what is known of it)."""
    parts = []
    if progress.rate > 0:
        parts.append(f"{progress.rate:.1f} files/s")
    if progress.eta_s is not None and progress.eta_s >= 1 and progress.done < progress.total:
        parts.append(f"about {duration_words(progress.eta_s)} left")
    if progress.failed:
        parts.append(f"{progress.failed:,} failed")
    return ", ".join(parts)


def plain_line(progress: Progress) -> str:
    """Where a run stands, in a log's words ("" for a phase not worth a line)."""
    if progress.phase == "scanning":
        return f"scanning: {progress.done:,} files seen"
    if progress.phase == "loading model":
        if progress.total:  # until the first batch is stored
            return f"loading the model and reading the first files ({progress.total:,} to index)"
        return "loading the model"
    if progress.phase == "saving":
        return "saving the index"
    if progress.phase in COUNTED:
        label = LABELS.get(progress.phase, progress.phase)
        counts = f"{label}: {progress.done:,} of {progress.total:,} files"
        return ", ".join(filter(None, (counts, pace(progress))))
    return ""
