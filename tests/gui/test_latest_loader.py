"""The preview's loader: newest request wins, and a picture or strip that cannot come says why."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from desktop_app.gui.latest_loader import LatestLoader, Picture, Strip, frame_strip, picture
from desktop_app.host.client import LibraryClient


def test_a_newer_request_replaces_one_not_started_yet(qtbot: QtBot) -> None:
    loader = LatestLoader(lambda: None)
    answers: list[tuple[int, object]] = []
    loader.loaded.connect(lambda ticket, answer: answers.append((ticket, answer)))
    release = threading.Event()
    first = loader.load(lambda _client: release.wait(10) and "first")
    loader.load(lambda _client: "second")  # replaced before it starts
    last = loader.load(lambda _client: "third")
    release.set()
    qtbot.waitUntil(lambda: len(answers) == 2)
    assert answers == [(first, "first"), (last, "third")]
    assert loader.wait()


class _Refusing:
    """A client whose calls fail as a host that went away does."""

    def picture(self, *_args: Any) -> Any:
        raise ConnectionError("the library process stopped")

    def video_strip(self, *_args: Any) -> Any:
        raise ConnectionError("the library process stopped")


def test_a_picture_that_cannot_come_says_why_and_a_strip_is_empty() -> None:
    closed = picture(Path("a.jpg"), "image", 512)(None)
    assert isinstance(closed, Picture) and closed.image.isNull()
    assert closed.details == {"error": "The library is not open"}
    client: LibraryClient = _Refusing()  # type: ignore[assignment]
    failed = picture(Path("a.jpg"), "image", 512)(client)
    assert isinstance(failed, Picture) and failed.image.isNull()
    assert "the library process stopped" in failed.details["error"]
    strip = frame_strip(Path("clip.mp4"), 8, 96)(client)
    assert strip == Strip(None, [])
