"""A query's step run beside it: its answer or its error comes back to the query, and a query
typed past stops the step too."""

from __future__ import annotations

import threading

import pytest

from desktop_app.core.errors import DataDirError
from desktop_app.core.query.beside import Beside
from desktop_app.core.superseded import QuerySuperseded, cancellable, stop_if_superseded


def test_the_step_runs_on_another_thread_and_its_answer_comes_back() -> None:
    caller = threading.get_ident()
    step = Beside(lambda a, b: (a + b, threading.get_ident()), 2, b=3)
    value, ran_on = step.result()
    assert value == 5 and ran_on != caller
    assert step.result()[0] == 5  # asked again: the same answer


def test_what_the_step_raised_is_raised_to_the_query() -> None:
    def broken() -> None:
        raise DataDirError("the catalog is locked")

    step = Beside(broken)
    with pytest.raises(DataDirError, match="locked"):
        step.result()


def test_a_step_of_a_query_typed_past_stops_at_its_next_step() -> None:
    cancel = threading.Event()
    started, go_on = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        go_on.wait(10)
        stop_if_superseded()
        return "ran to its end"

    with cancellable(cancel):
        step = Beside(slow)
    assert started.wait(10)
    cancel.set()  # the user typed on
    go_on.set()
    with pytest.raises(QuerySuperseded):
        step.result()


def test_outside_a_query_the_step_never_stops() -> None:
    assert Beside(lambda: (stop_if_superseded(), "done")[1]).result() == "done"
