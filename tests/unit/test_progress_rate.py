"""The pace an indexing run shows: files per second lately, and the time left at that pace."""

from __future__ import annotations

from desktop_app.core.progress_rate import RateMeter
from desktop_app.core.records import duration_words


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_steady_run_shows_its_rate_and_the_time_left() -> None:
    clock = Clock()
    meter = RateMeter(window_s=30, clock=clock)
    for _ in range(10):
        clock.now += 2
        meter.add(round((clock.now - 1000) * 5))  # 5 files a second
    assert meter.rate == 5.0
    assert meter.eta_s(500) == 100.0
    assert meter.eta_s(0) == 0.0


def test_the_rate_follows_a_change_of_pace_within_the_window() -> None:
    clock = Clock()
    meter = RateMeter(window_s=30, clock=clock)
    done = 0
    for _ in range(60):  # a minute of photos at 10 files/s
        clock.now += 1
        done += 10
        meter.add(done)
    for _ in range(60):  # then long documents at 1 file/s
        clock.now += 1
        done += 1
        meter.add(done)
    assert meter.rate == 1.0  # the whole run's average (5.5) would promise far too little time
    assert meter.eta_s(120) == 120.0


def test_nothing_known_before_the_first_file() -> None:
    clock = Clock()
    meter = RateMeter(clock=clock)
    assert meter.rate == 0.0 and meter.eta_s(10) is None
    clock.now += 5
    meter.add(0)
    assert meter.rate == 0.0 and meter.eta_s(10) is None


def test_durations_in_words() -> None:
    assert duration_words(12.4) == "12 s"
    assert duration_words(185) == "3 min"
    assert duration_words(80 * 60) == "1 h 20 min"
    assert duration_words(-3) == "0 s"
