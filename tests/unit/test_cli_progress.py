"""A long `lumen index` whose output goes to a log shows one plain line every few seconds with
files/s and the time left; nothing with -q, and nothing after Ctrl-C."""

from __future__ import annotations

import re
import threading

import pytest

from desktop_app.cli.progress import PLAIN_EVERY_S, IndexProgress
from desktop_app.core.records import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_a_log_gets_a_line_every_few_seconds_with_the_pace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock, stopped = Clock(), threading.Event()
    display = IndexProgress(quiet=False, terminal=False, stopped=stopped, clock=clock)
    display.update(Progress("scanning", done=1200))
    display.tick()
    assert lines(capsys) == []  # a short run prints no progress at all
    clock.now += PLAIN_EVERY_S
    display.tick()
    (line,) = lines(capsys)
    assert re.fullmatch(r"\d\d:\d\d:\d\d scanning: 1,200 files seen", line)
    display.update(Progress("indexing", 340, 5000, failed=3, rate=11.24, eta_s=414.6))
    clock.now += 1
    display.tick()
    assert lines(capsys) == []
    clock.now += PLAIN_EVERY_S
    display.tick()
    (line,) = lines(capsys)
    assert line.endswith("indexing: 340 of 5,000 files, 11.2 files/s, about 7 min left, 3 failed")
    stopped.set()  # Ctrl-C
    display.update(Progress("indexing", 372, 5000))
    clock.now += PLAIN_EVERY_S
    display.tick()
    assert lines(capsys) == []


@pytest.mark.parametrize(("quiet", "terminal"), [(True, False), (False, True)])
def test_quiet_and_terminal_runs_print_no_plain_lines(
    capsys: pytest.CaptureFixture[str], quiet: bool, terminal: bool
) -> None:
    clock = Clock()
    display = IndexProgress(quiet, terminal, threading.Event(), clock)
    display.update(Progress("loading model", 0, 10))
    clock.now += 2 * PLAIN_EVERY_S
    display.tick()
    display.close()
    assert "loading the model" not in capsys.readouterr().err  # (a terminal gets the bar)


def test_a_log_shows_the_face_pass_with_its_pace(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    display = IndexProgress(quiet=False, terminal=False, stopped=threading.Event(), clock=clock)
    display.update(Progress("faces", 120, 5000, rate=3.1, eta_s=1574.0))
    clock.now += PLAIN_EVERY_S
    display.tick()
    (line,) = lines(capsys)
    assert line.endswith("looking for faces: 120 of 5,000 files, 3.1 files/s, about 26 min left")


def test_the_time_left_counts_down_between_reports(capsys: pytest.CaptureFixture[str]) -> None:
    # a batch of long documents can take a minute: the line must not stand still meanwhile
    clock = Clock()
    display = IndexProgress(quiet=False, terminal=False, stopped=threading.Event(), clock=clock)
    display.update(Progress("indexing", 32, 100, rate=0.5, eta_s=100.0))
    for _ in range(4):
        clock.now += PLAIN_EVERY_S * 3
        display.tick()
    got = [line.split(", ", 2)[-1] for line in lines(capsys)]
    assert got == ["about 1 min left", "about 1 min left", "about 55 s left", "about 40 s left"]
    clock.now += 200
    display.tick()
    (line,) = lines(capsys)
    assert line.endswith("indexing: 32 of 100 files, 0.5 files/s")  # spent: not "0 s left"


def test_the_last_second_is_not_shown_as_none_left() -> None:
    from desktop_app.cli.progress import pace

    assert pace(Progress("faces", 19, 20, rate=2.8, eta_s=0.36)) == "2.8 files/s"
    assert pace(Progress("faces", 18, 20, rate=2.8, eta_s=0.7)) == "2.8 files/s"
    assert pace(Progress("faces", 17, 20, rate=2.8, eta_s=1.1)) == "2.8 files/s, about 1 s left"
