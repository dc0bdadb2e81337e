"""Progress on stderr: the indexing bar and the model download's bar."""

from __future__ import annotations

import sys
from typing import Any

from desktop_app.core.embedding.weights import DownloadProgress
from desktop_app.core.indexing.pipeline import Progress


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
            total = progress.total if progress.phase in ("indexing", "re-embedding") else None
            self._bar = tqdm(total=total, desc=progress.phase, unit=" files", file=sys.stderr)
        if self._bar is not None:
            if progress.total and self._bar.total != progress.total:
                self._bar.total = progress.total
            self._bar.n = progress.done
            if progress.failed:
                self._bar.set_postfix(failed=progress.failed, refresh=False)
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
