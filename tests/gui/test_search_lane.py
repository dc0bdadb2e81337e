"""The window's searches: the newest sent at once beside one that is stopping, faster typing
waits for one of them to end and is then sent from the thread that answer arrives on (the GUI
thread may be busy painting)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, cast

from desktop_app.gui.search_lane import SearchLane
from desktop_app.host.client import Call, LibraryClient
from desktop_app.host.protocol import Query, QueryResult


class FakeClient:
    """Answers nothing by itself: the test ends each call's future."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []  # (text, thread that sent it)
        self.calls: list[Call[QueryResult]] = []
        self.cancelled: list[str] = []

    def query(self, query: Query) -> Call[QueryResult]:
        self.sent.append((query.text, threading.get_ident()))
        future: Future[QueryResult] = Future()
        call = Call(future, lambda: self.cancelled.append(query.text))
        self.calls.append(call)
        return call


def lane_for(client: FakeClient) -> tuple[SearchLane, list[tuple[int, str]], list[str]]:
    delivered: list[tuple[int, str]] = []
    failed: list[str] = []
    lane = SearchLane(
        lambda: cast(LibraryClient, client),
        lambda generation, query, _future: delivered.append((generation, query.text)),
        lambda query, _why: failed.append(query.text),
    )
    return lane, delivered, failed


def _end(call: Call[QueryResult], value: Any = None) -> None:
    done = threading.Thread(target=lambda: call.future.set_result(value))
    done.start()
    done.join()


def test_keys_typed_while_a_query_runs_send_only_the_newest_text_when_it_ends() -> None:
    client = FakeClient()
    lane, delivered, failed = lane_for(client)
    lane.ask(Query(text="l"))
    lane.ask(Query(text="li"))
    # Sent at once beside the first key's query, which is told to stop (its answer would be
    # dropped; it may be in the middle of a step).
    assert [text for text, _ in client.sent] == ["l", "li"]
    assert client.cancelled == ["l"]
    for text in ("lic", "licence"):
        lane.ask(Query(text=text))
    assert [text for text, _ in client.sent] == ["l", "li"]  # two in flight at most
    assert client.cancelled == ["l", "li"]
    assert lane.busy

    _end(client.calls[0])  # the first key's query stopped, on the pipe reader's thread

    # The newest text went out from that thread at once, not after a hop through the GUI's
    # event loop (nothing here runs one); the texts between were never sent.
    assert [text for text, _ in client.sent] == ["l", "li", "licence"]
    assert client.sent[2][1] != threading.get_ident()
    assert delivered == [(1, "l"), (2, "li"), (4, "licence")]
    assert client.cancelled == ["l", "li"]  # the newest is not told to stop
    _end(client.calls[1])
    _end(client.calls[2])
    assert not lane.busy and not failed


def test_a_query_asked_when_idle_is_sent_at_once() -> None:
    client = FakeClient()
    lane, delivered, _failed = lane_for(client)
    lane.ask(Query(text="harbour"))
    _end(client.calls[0])
    lane.ask(Query(text="harbour lights"))
    assert [text for text, _ in client.sent] == ["harbour", "harbour lights"]
    assert client.cancelled == []
    assert delivered == [(1, "harbour"), (2, "harbour lights")]


def test_after_a_reset_nothing_waiting_is_sent() -> None:
    client = FakeClient()
    lane, _delivered, _failed = lane_for(client)
    for text in ("a", "ab", "abc"):
        lane.ask(Query(text=text))
    lane.reset()  # the library process died
    _end(client.calls[0])
    assert [text for text, _ in client.sent] == ["a", "ab"]
    assert not lane.busy
