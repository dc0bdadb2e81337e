"""The window's searches: one in flight, the newest waiting, sent the moment the one in flight
ends, from the thread its answer arrives on (the GUI thread may be busy painting)."""

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
    for text in ("li", "lic", "licence"):
        lane.ask(Query(text=text))
    assert [text for text, _ in client.sent] == ["l"]  # one query in flight at a time
    assert client.cancelled == ["l", "l", "l"]  # told to stop: its answer would be dropped
    assert lane.busy

    _end(client.calls[0])  # answered (or stopped) on the pipe reader's thread

    # The newest text went out from that thread at once, not after a hop through the GUI's
    # event loop (nothing here runs one).
    assert [text for text, _ in client.sent] == ["l", "licence"]
    assert client.sent[1][1] != threading.get_ident()
    assert delivered == [(1, "l"), (4, "licence")]
    _end(client.calls[1])
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
    lane.ask(Query(text="a"))
    lane.ask(Query(text="ab"))
    lane.reset()  # the library process died
    _end(client.calls[0])
    assert [text for text, _ in client.sent] == ["a"]
    assert not lane.busy
