"""Steps of a query run beside it, on a few threads of their own, while the query goes on.

The keyword search (SQLite, which lets other threads run while it reads) needs no query vector,
and the text tower (numpy, likewise) needs no keyword hit: side by side on a 2-core machine a
query costs the longer of the two instead of both. A step sees its query's cancel event, so a
query typed past stops its steps too.

The threads are few and kept (not one per step): each holds a catalog connection of its own,
and a read-only catalog's connection pool closes connections beyond its size.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

# Threads for steps: one step at a time per query, and the window's host answers two queries
# side by side (the newest, and one typed past that is stopping), the CLI one. 0: every step
# runs in its query's own thread, in turn. 0 on this measure (quiet 2-core EPYC,
# `bench_big_library.py --compare-steps`): side by side p50 93 vs 79 ms at 3k files, 118 vs
# 131 ms at 100k; and the window competes for the same two cores.
STEP_THREADS = 0

__all__ = ["STEP_THREADS", "QuerySteps"]


class QuerySteps:
    """Where a query's steps run beside it; thread-safe."""

    def __init__(self, threads: int = STEP_THREADS) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None  # started with the first step
        self._lock = threading.Lock()

    def start(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """``function(*args, **kwargs)`` started beside the caller, in the caller's context (its
        query's cancel event); the future's ``result`` gives its value or raises its error."""
        if self._threads <= 0:
            return _done(function, *args, **kwargs)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, "lumen-query-step")
            pool = self._pool
        context = contextvars.copy_context()

        def step() -> T:
            return context.run(function, *args, **kwargs)

        return pool.submit(step)

    def close(self) -> None:
        """Let the threads go once their steps are done (a step started later gets new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _done(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """``function(*args, **kwargs)`` run now, as a finished future."""
    future: Future[T] = Future()
    try:
        future.set_result(function(*args, **kwargs))
    except BaseException as exc:  # raised by the future's ``result``, as from a thread
        future.set_exception(exc)
    return future
