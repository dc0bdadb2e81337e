"""The window's searches, latest wins: the newest query is sent at once, beside one typed past
that is stopping; typed faster still, the newest waits for one of them to end.

A waiting query is sent the moment a query in flight ends, from the thread its answer arrives
on (the host's pipe reader), not after a hop through the GUI thread. Before, one query was in
flight and the next went out from the GUI thread once the older one's answer came back there:
typed at once, the first key's query ran on to its next checkpoint (up to 40 ms in a SQLite
read) and the GUI thread, busy with the keystrokes and the grid, took another 10–50 ms to send
the newest text (measured at 100k files, load ~3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from desktop_app.host.client import BackendError, Call, LibraryClient
from desktop_app.host.protocol import Query, QueryResult

Deliver = Callable[[int, Query, "Future[QueryResult]"], None]


# Queries in flight at most: the newest, and one typed past that is stopping (it stops at its
# next step, which may be a 10-40 ms SQLite read that lets the newest one run beside it).
IN_FLIGHT = 2


class SearchLane:
    """Sends the window's queries, the newest first; thread-safe.

    A query asked while another is in flight is sent at once and the older one told to stop;
    with ``IN_FLIGHT`` queries in flight already, it waits (replacing any query waiting) until
    one of them ends. ``client`` gives the typed client (None when the library is not open);
    ``deliver`` hears each query sent, with its generation and the future of its answer (from
    any thread); ``failed`` a query that could not be sent, and why.
    """

    def __init__(
        self,
        client: Callable[[], LibraryClient | None],
        deliver: Deliver,
        failed: Callable[[Query, str], None],
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self._client = client
        self._deliver = deliver
        self._failed = failed
        self._most = in_flight
        self._lock = threading.Lock()
        self._flying: set[object] = set()  # a token per query sent (or being sent), not ended
        self._live: Call[QueryResult] | None = None  # the newest query sent, not told to stop
        self._queued: tuple[int, Query] | None = None
        self.generation = 0  # of the newest query asked for

    @property
    def busy(self) -> bool:
        """Whether a query is being answered or waits for its turn."""
        return bool(self._flying) or self._queued is not None

    def ask(self, query: Query) -> int:
        """Send ``query`` (now, or when a query in flight ends); the older ones are told to
        stop, their answers would be dropped. Its generation."""
        with self._lock:
            self.generation += 1
            entry = (self.generation, query)
            older, self._live = self._live, None
            token = self._take_slot()
            self._queued = None if token is not None else entry
        if older is not None:
            older.cancel()
        if token is not None:
            self._send(token, *entry)
        return entry[0]

    def reset(self) -> None:
        """Forget the queries in flight and the one waiting (the library closed or died)."""
        with self._lock:
            self._flying, self._live, self._queued = set(), None, None

    def _take_slot(self) -> object | None:
        """A token for one more query in flight, if there is room (hold the lock)."""
        if len(self._flying) >= self._most:
            return None
        token = object()
        self._flying.add(token)
        return token

    def _send(self, token: object, generation: int, query: Query) -> None:
        client = self._client()
        try:
            if client is None:  # (closed meanwhile: nothing to show it in)
                self.reset()
                return
            call = client.query(query)
        except BackendError as exc:
            self._ended(token, None)
            self._failed(query, str(exc))
            return
        with self._lock:
            newest = generation == self.generation and token in self._flying
            if newest:
                self._live = call
        if not newest:  # typed on while it was being sent
            call.cancel()
        self._deliver(generation, query, call.future)
        call.future.add_done_callback(lambda _f: self._ended(token, call))

    def _ended(self, token: object, call: Call[QueryResult] | None) -> None:
        with self._lock:
            if token not in self._flying:
                return  # (reset meanwhile)
            self._flying.discard(token)
            if call is not None and self._live is call:
                self._live = None
            queued, next_token = self._queued, None
            if queued is not None:
                next_token = self._take_slot()
                self._queued = None
        if queued is not None and next_token is not None:
            self._send(next_token, *queued)
