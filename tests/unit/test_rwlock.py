"""Tests for the readers-writer lock the vector index uses: sharing, exclusion, no starvation."""

from __future__ import annotations

import threading

from desktop_app.core.storage.rwlock import RWLock
from tests.support.waiting import wait_until

WAIT = 10.0  # seconds; only reached when the lock is broken


def test_readers_share_and_a_writer_waits_for_them() -> None:
    lock = RWLock()
    events: list[str] = []
    with lock.read(), lock.read():  # two readers at once (a deadlock would hang here)
        writer_done = threading.Event()

        def write() -> None:
            with lock.write():
                events.append("write")
            writer_done.set()

        thread = threading.Thread(target=write)
        thread.start()
        assert not writer_done.wait(0.05)
        events.append("readers left")
    assert writer_done.wait(WAIT)
    thread.join(WAIT)
    assert events == ["readers left", "write"]


def test_a_waiting_writer_goes_before_new_readers_and_then_waiting_readers_go() -> None:
    lock = RWLock()
    order: list[str] = []
    first_reader = lock.read()
    first_reader.__enter__()
    writer_waiting = threading.Event()

    def write() -> None:
        writer_waiting.set()
        with lock.write():
            order.append("writer")

    def read() -> None:
        with lock.read():
            order.append("reader")

    writer = threading.Thread(target=write)
    writer.start()
    assert writer_waiting.wait(WAIT)
    wait_until(lambda: lock._writers_waiting, what="the writer to queue on the lock")
    reader = threading.Thread(target=read)
    reader.start()
    wait_until(lambda: lock._readers_waiting, what="the new reader to wait behind the writer")
    assert order == []
    first_reader.__exit__(None, None, None)
    writer.join(WAIT)
    reader.join(WAIT)
    assert order == ["writer", "reader"]
