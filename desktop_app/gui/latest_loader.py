"""Pictures and frame strips for the preview and the duplicates view, newest request first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop_app.gui.workers import FETCH_TIMEOUT_S, Fetch, describe
from desktop_app.host.client import LibraryClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Picture:
    """A file's large picture (null: none) and its details (EXIF…, or ``error``: why none)."""

    image: QImage
    details: dict[str, Any]


@dataclass(frozen=True)
class Strip:
    """A video's frame strip: its duration (None: unknown) and (seconds, frame) pairs."""

    duration: float | None
    frames: list[tuple[float, QImage]]


Request = Callable[[LibraryClient | None], object]
"""What a ``LatestLoader`` runs on its thread with the client (None: the library is not open)."""


def picture(path: Path, kind: str, max_side: int, at_s: float | None = None) -> Request:
    """A request for ``path``'s picture (a video's frame at ``at_s`` when given): a ``Picture``."""

    def request(client: LibraryClient | None) -> Picture:
        if client is None:
            return Picture(QImage(), {"error": "The library is not open"})
        try:
            data, details = client.picture(path, kind, max_side, at_s).result(FETCH_TIMEOUT_S)
        except Exception as exc:
            return Picture(QImage(), {"error": describe(exc)[0]})
        return Picture(QImage.fromData(data) if data else QImage(), details)

    return request


def frame_strip(path: Path, count: int, side: int) -> Request:
    """A request for ``count`` frames spread over the video ``path``, longest side ``side``: a
    ``Strip`` (empty when there is none: the preview still shows the picture and details)."""

    def request(client: LibraryClient | None) -> Strip:
        if client is None:
            return Strip(None, [])
        try:
            duration, encoded = client.video_strip(path, count, side).result(FETCH_TIMEOUT_S)
        except Exception as exc:
            log.info("No frame strip for %s: %s", path.name, exc)
            return Strip(None, [])
        return Strip(duration, [(at_s, QImage.fromData(data)) for at_s, data in encoded])

    return request


class LatestLoader(QObject):
    """Runs one request at a time on its own thread; a newer request replaces any not started.

    ``loaded(ticket, answer)`` arrives on the GUI thread; a caller keeps the ticket ``load``
    returned and ignores answers to older ones.
    """

    loaded = Signal(int, object)  # ticket, the request's answer (a Picture, a Strip)

    def __init__(self, fetch: Fetch) -> None:
        super().__init__()
        self._fetch = fetch
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._ticket = 0

    def load(self, request: Request) -> int:
        """Run ``request`` (``picture(…)``, ``frame_strip(…)``) after the one running; a ticket."""
        self._ticket += 1
        ticket = self._ticket
        self._pool.clear()  # a request asked for before this one is no longer wanted
        self._pool.start(lambda: self.loaded.emit(ticket, request(self._fetch())))
        return ticket

    def wait(self, msecs: int = 10_000) -> bool:
        """Drop the requests not started and wait for the running one."""
        self._pool.clear()
        return self._pool.waitForDone(msecs)
