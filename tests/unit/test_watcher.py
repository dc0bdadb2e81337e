"""Watcher pieces without a model: settling and coalescing of events, which events count."""

from __future__ import annotations

import threading
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from desktop_app.core.indexing.coalescer import Coalescer, StatKey
from desktop_app.core.indexing.watcher import _EventHandler


class FakeDisk:
    """A clock and a stat function the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.keys: dict[Path, StatKey] = {}

    def clock(self) -> float:
        return self.now

    def stat(self, path: Path) -> StatKey:
        return self.keys.get(path)

    def coalescer(self, settle_s: float = 1.0) -> Coalescer:
        return Coalescer(settle_s, clock=self.clock, stat=self.stat)


A, B, C = Path("/w/a.jpg"), Path("/w/b.jpg"), Path("/w/c.jpg")


def test_many_events_for_one_file_become_one_path_once_it_settles() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    disk.keys[A] = (10, 1)
    for _ in range(50):  # created, modified many times, closed
        coalescer.add(A)
    assert coalescer.take_ready() == []
    assert coalescer.next_due() == 1.0
    disk.now += 0.99
    assert coalescer.take_ready() == []
    disk.now += 0.02
    assert coalescer.take_ready() == [A]
    assert len(coalescer) == 0
    assert coalescer.next_due() is None


def test_a_file_still_growing_is_held_back_until_size_and_mtime_settle() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    disk.keys[A] = (10, 1)
    coalescer.add(A)
    for size in (20, 30, 40):  # a slow copy: no event reached us, but the file keeps changing
        disk.now += 1.5
        disk.keys[A] = (size, size)
        assert coalescer.take_ready() == []
    disk.now += 1.5  # unchanged for a whole settle time
    assert coalescer.take_ready() == [A]


def test_a_new_event_restarts_the_settle_time() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    coalescer.add(A)
    disk.now += 0.8
    coalescer.add(A)
    disk.now += 0.8
    assert coalescer.take_ready() == []
    disk.now += 0.3
    assert coalescer.take_ready() == [A]


def test_deleted_paths_settle_too() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    coalescer.add(A)  # gone: stat key None
    disk.now += 1.0
    assert coalescer.take_ready() == [A]


def test_a_folder_waits_while_anything_below_it_is_still_changing() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    folder = Path("/w/new")
    inner = folder / "1.jpg"
    disk.keys[folder] = "dir"
    coalescer.add(folder)
    disk.now += 0.5
    disk.keys[inner] = (1, 1)
    coalescer.add(inner)
    disk.now += 0.6
    assert coalescer.take_ready() == []  # the folder is due but its file is not
    disk.now += 0.5
    assert coalescer.take_ready() == [inner]
    disk.now += 1.0
    assert coalescer.take_ready() == [folder]


def test_both_ends_of_a_move_are_released_together() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    coalescer.add(A)
    disk.now += 0.9
    coalescer.add_move(B, C)
    disk.now += 0.2
    assert coalescer.take_ready() == [A]
    coalescer.add(B)  # B changes again: its partner C must wait for it
    disk.now += 0.9
    assert coalescer.take_ready() == []
    disk.now += 0.2
    assert sorted(coalescer.take_ready()) == [B, C]
    assert len(coalescer) == 0


def test_batches_are_capped_and_the_rest_follows() -> None:
    disk = FakeDisk()
    coalescer = disk.coalescer()
    paths = [Path(f"/w/{i}.jpg") for i in range(25)]
    for path in paths:
        coalescer.add(path)
    disk.now += 1.0
    first = coalescer.take_ready(limit=10)
    assert first == paths[:10]
    assert coalescer.next_due() == 0.0
    assert coalescer.take_ready(limit=10) == paths[10:20]
    assert coalescer.take_ready(limit=10) == paths[20:]


def test_the_handler_ignores_reads_hidden_temporary_and_unsupported_files(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    disk = FakeDisk()
    coalescer = disk.coalescer()
    wake = threading.Event()
    handler = _EventHandler(root, coalescer, wake)
    ignored = [
        FileOpenedEvent(str(root / "a.jpg")),
        FileClosedNoWriteEvent(str(root / "a.jpg")),
        DirModifiedEvent(str(root)),
        FileCreatedEvent(str(root / ".hidden.jpg")),
        FileCreatedEvent(str(root / ".git" / "x.jpg")),
        FileCreatedEvent(str(root / "download.jpg.crdownload")),
        FileModifiedEvent(str(root / "notes.xyz")),
        FileCreatedEvent(str(tmp_path / "elsewhere.jpg")),
    ]
    for event in ignored:
        handler.dispatch(event)
    assert len(coalescer) == 0 and not wake.is_set()

    handler.dispatch(FileCreatedEvent(str(root / "sub" / "b.JPG")))
    handler.dispatch(DirCreatedEvent(str(root / "2024")))
    handler.dispatch(FileDeletedEvent(str(root / "gone.png")))
    # A finished download renamed into place: only the real name counts.
    handler.dispatch(FileMovedEvent(str(root / "c.jpg.part"), str(root / "c.jpg")))
    handler.dispatch(FileMovedEvent(str(root / "d.jpg"), str(root / "e.jpg")))
    assert wake.is_set()
    disk.now += 1.0
    assert sorted(coalescer.take_ready()) == sorted(
        [
            root / "sub" / "b.JPG",
            root / "2024",
            root / "gone.png",
            root / "c.jpg",
            root / "d.jpg",
            root / "e.jpg",
        ]
    )
