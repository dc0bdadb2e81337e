"""Files per second and the time left that each pass of an index run reports
(core/indexing/pass_pace.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.cli.progress import plain_line
from desktop_app.core.indexing.pass_pace import DeepPassPace, FilesPace, FirstPassPace
from desktop_app.core.indexing.two_pass import DEEP_PHASE
from desktop_app.core.records import FileRecord, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(file_id: int) -> FileRecord:
    return FileRecord(
        file_id, 1, Path(f"/docs/{file_id}.pdf"), 1, 1, None, "", "document", "indexed",
        None, None, None, None, None, None, None, None,
    )  # fmt: skip


@dataclass
class Stored:
    """A file as a pass stored it: the vectors it got now and those left for later."""

    file_id: int
    units: int = 1
    deferred: int = 0
    record: FileRecord = field(init=False)

    def __post_init__(self) -> None:
        self.record = _record(self.file_id)


def test_photos_alone_take_the_files_left_at_their_pace() -> None:
    clock = Clock()
    pace = FilesPace(20, clock)
    clock.now = 10.0
    rate, eta = pace.after(10, [])
    assert rate == 1.0 and eta == 10.0
    first = FirstPassPace(20, clock=clock)
    clock.now = 20.0
    assert first.after(10, [Stored(n) for n in range(10)]) == (1.0, 10.0)  # nothing deferred


def test_the_first_pass_counts_the_second_pass_in_the_time_left() -> None:
    clock = Clock()
    pace = FirstPassPace(20, waiting_units=5, clock=clock)
    clock.now = 10.0
    # 10 of 20 documents findable in 10 s, one vector each, 3 more each left for later
    rate, eta = pace.after(10, [Stored(n, units=1, deferred=3) for n in range(10)])
    assert rate == 1.0
    # the 10 files left (10 s), then 30 + 30 deferred vectors and 5 from an earlier run at 1 s
    assert eta == 10.0 + 65.0


def test_the_second_pass_takes_the_vectors_left_at_their_pace() -> None:
    clock = Clock()
    pace = DeepPassPace({1: 2, 2: 8, 3: 10}, clock)
    clock.now = 2.0
    rate, eta = pace.after(1, [Stored(1)])  # 2 vectors in 2 s: 18 left
    assert rate == 0.5 and eta == 18.0
    clock.now = 10.0
    rate, eta = pace.after(2, [Stored(2)])
    assert rate == 0.2 and eta == 10.0


def test_the_second_pass_has_its_own_line_in_a_log() -> None:
    line = plain_line(Progress(DEEP_PHASE, 3, 10, rate=0.5, eta_s=70.0))
    assert line == "deeper pass: 3 of 10 files, 0.5 files/s, about 1 min left"
