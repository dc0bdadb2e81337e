"""Opening a video hit at the moment that matched, in a player that takes a start time."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop_app.gui import actions


def _fake_player(folder: Path, name: str) -> Path:
    """An executable called ``name`` that writes the arguments it was started with."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{folder / (name + ".args")}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder / (name + ".args")


@pytest.mark.parametrize(
    ("players", "started", "arguments"),
    [
        (("mpv", "vlc"), "mpv", ["--start=65.500", "--", "{video}"]),
        (("vlc",), "vlc", ["--start-time=65.500", "{video}"]),
        (("smplayer",), "smplayer", ["-start", "65", "{video}"]),
    ],
)
@pytest.mark.skipif(os.name != "posix", reason="fake players are shell scripts")
def test_a_video_hit_starts_playing_at_its_moment(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    players: tuple[str, ...],
    started: str,
    arguments: list[str],
) -> None:
    bin_dir = tmp_path / "bin"
    recorded = {name: _fake_player(bin_dir, name) for name in players}
    monkeypatch.setenv("PATH", str(bin_dir))
    video = tmp_path / "party at the lake.mp4"
    video.write_bytes(b"")
    assert actions.open_at_time(video, 65.5)
    qtbot.waitUntil(recorded[started].exists, timeout=10_000)
    qtbot.waitUntil(lambda: recorded[started].read_text().count("\n") == len(arguments))
    assert recorded[started].read_text().splitlines() == [a.format(video=video) for a in arguments]


def test_without_a_time_or_a_player_the_video_opens_normally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    video = tmp_path / "clip.mov"
    assert actions.player_command(video, 12.0) is None  # no player that takes a time
    assert not actions.open_at_time(video, 12.0)
    _fake_player(tmp_path / "bin", "mpv")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert actions.player_command(video, None) is None  # a video found by its name or date
    assert actions.player_command(video, 0.0) is None  # the start: any player does that
