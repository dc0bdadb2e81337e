"""A query's steps run beside it: their answers and errors come back to the query, a query typed
past stops its steps too, and the steps share a few threads instead of one each."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.errors import DataDirError
from desktop_app.core.library import Library
from desktop_app.core.query.beside import QuerySteps
from desktop_app.core.query.query_text import parse_query
from desktop_app.core.superseded import QuerySuperseded, cancellable, stop_if_superseded
from tests.support.documents import write_text_pdf


def test_a_step_runs_on_another_thread_and_its_answer_comes_back() -> None:
    steps = QuerySteps(threads=2)
    caller = threading.get_ident()
    step = steps.start(lambda a, b: (a + b, threading.get_ident()), 2, b=3)
    value, ran_on = step.result(10)
    assert value == 5 and ran_on != caller
    steps.close()


def test_what_a_step_raised_is_raised_to_the_query() -> None:
    def broken() -> None:
        raise DataDirError("the catalog is locked")

    steps = QuerySteps()
    with pytest.raises(DataDirError, match="locked"):
        steps.start(broken).result(10)
    steps.close()


def test_a_step_of_a_query_typed_past_stops_at_its_next_step() -> None:
    steps = QuerySteps(threads=2)
    cancel = threading.Event()
    started, go_on = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        go_on.wait(10)
        stop_if_superseded()
        return "ran to its end"

    with cancellable(cancel):
        step = steps.start(slow)
    assert started.wait(10)
    cancel.set()  # the user typed on
    go_on.set()
    with pytest.raises(QuerySuperseded):
        step.result(10)
    assert steps.start(lambda: (stop_if_superseded(), "done")[1]).result(10) == "done"
    steps.close()


def test_with_no_threads_a_step_runs_in_the_querys_own_thread() -> None:
    steps = QuerySteps(threads=0)
    assert steps.start(threading.get_ident).result(10) == threading.get_ident()
    with pytest.raises(DataDirError):
        steps.start(lambda: (_ for _ in ()).throw(DataDirError("locked"))).result(10)


def test_many_steps_share_a_few_threads() -> None:
    steps = QuerySteps(threads=2)
    threads = {steps.start(threading.get_ident).result(10) for _ in range(20)}
    assert len(threads) <= 2  # (each thread keeps one catalog connection)
    steps.close()
    assert steps.start(lambda: "again").result(10) == "again"  # after close: new threads
    steps.close()


def test_a_words_search_answers_the_same_whether_its_keyword_half_ran_beside_or_not(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_text_pdf(docs / "lease.pdf", ["The lease of the flat ends in March."])
    write_text_pdf(docs / "invoice.pdf", ["Invoice for the car repair, due in May."])
    (docs / "notes.txt").write_text("A red circle on the left, and the lease again.\n")
    with Library.open(tiny_settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([docs])
        beside = library.search("lease", 10)
        library.query.close()  # (a step after close starts new threads)
        again = library.search("lease", 10)
        service = library.query._search()
        service._steps = None  # the modalities one after the other, the keyword half inline
        vector = library.query._models.query_encoder().encode_text("lease")
        inline = service.hybrid(vector, parse_query("lease"), 10)
    names = [h.file.path.name for h in beside.hits]
    assert set(names[:2]) == {"notes.txt", "lease.pdf"}  # the files holding the word first
    assert [h.file.path for h in again.hits] == [h.file.path for h in beside.hits]
    assert [h.file.path for h in inline.hits] == [h.file.path for h in beside.hits]
