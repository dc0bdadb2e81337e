"""A step of a query run on a thread of its own while the query goes on with another.

The keyword search (SQLite, which lets other threads run while it reads) needs no query vector,
and the text tower (numpy, likewise) needs no keyword hit: side by side on a 2-core machine a
query costs the longer of the two instead of both. The step sees the query's cancel event, so a
query typed past stops both.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

__all__ = ["Beside"]


class Beside(Generic[T]):
    """``function(*args, **kwargs)`` started now on a thread of its own; ``result`` waits for
    it and returns its value or raises what it raised."""

    def __init__(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()  # the query's cancel event (``superseded``)

        def run() -> None:
            try:
                self._value = context.run(function, *args, **kwargs)
            except BaseException as exc:  # handed to the caller of ``result``
                self._error = exc

        # A daemon: an abandoned step (its query typed past) never holds up the process's exit.
        self._thread = threading.Thread(target=run, name="lumen-query-step", daemon=True)
        self._thread.start()

    def result(self) -> T:
        """The step's value, once it is done (what it raised, raised here)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
