"""A query a newer one replaced stops early: the window's typing asks a query per key, and the
answer to an older one would only be dropped.

The host runs each window query under :func:`cancellable` with an event the window sets (through
the pipe's "cancel" message) when the user has typed on; the search policy calls
:func:`stop_if_superseded` between its steps (the text tower, the vector search, the keyword
search, the rows), so a superseded query gives the cores back within one step instead of running
to its end while the newer one waits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from desktop_app.core.errors import LumenError

__all__ = ["QuerySuperseded", "cancellable", "stop_if_superseded"]

_current: ContextVar[threading.Event | None] = ContextVar("lumen_query_cancel", default=None)


class QuerySuperseded(LumenError):
    """A newer query replaced this one before it was answered."""

    def __init__(self, message: str = "A newer search replaced this one.") -> None:
        super().__init__(message)  # the message argument: it crosses the host's pipe pickled


@contextmanager
def cancellable(cancel: threading.Event) -> Iterator[None]:
    """Run the block as a query that stops at its next step once ``cancel`` is set."""
    token = _current.set(cancel)
    try:
        yield
    finally:
        _current.reset(token)


def stop_if_superseded() -> None:
    """Between a query's steps: raise ``QuerySuperseded`` when a newer query replaced it.

    Outside :func:`cancellable` (the CLI, tests, indexing) it never raises.
    """
    cancel = _current.get()
    if cancel is not None and cancel.is_set():
        raise QuerySuperseded()
