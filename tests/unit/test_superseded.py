"""A query the user typed past stops at its next step; one nobody cancelled answers as before."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.query_tower import QueryTower
from desktop_app.core.errors import LumenError
from desktop_app.core.library import Library
from desktop_app.core.superseded import QuerySuperseded, cancellable
from desktop_app.host.dispatcher import Dispatcher
from desktop_app.host.protocol import READ, Col, Query
from desktop_app.host.service import LibraryService
from tests.conftest import IndexedShapes
from tests.support.shapes import Caption, caption_for_text

QUERY = "a red circle on the left"


@pytest.fixture
def indexed(
    tmp_path: Path, indexed_shapes: IndexedShapes, tiny_embedder: Embedder
) -> tuple[Library, dict[Path, Caption]]:
    settings, written = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    library = Library.open(settings, embedder_loader=lambda _s: tiny_embedder)
    library.models.embedder()  # loaded, as after the index run that made the library
    return library, written


def test_a_cancelled_query_stops_and_an_uncancelled_one_answers(
    indexed: tuple[Library, dict[Path, Caption]],
) -> None:
    library, _captions = indexed
    cancel = threading.Event()
    with cancellable(cancel):
        found = library.search_understood(QUERY, 5)
        cancel.set()
        with pytest.raises(QuerySuperseded):
            library.search_understood(QUERY, 5)
    assert found.files  # the same query, not cancelled, found the photos
    assert library.search_understood(QUERY, 5).files  # outside: never stopped
    library.close()


def test_a_query_typed_past_before_it_searched_reads_no_keyword_index(
    indexed: tuple[Library, dict[Path, Caption]],
) -> None:
    library, _captions = indexed
    read: list[str] = []
    catalog = library.catalog
    real = catalog.keyword_search

    def keyword_search(match: str, *args: Any, **kwargs: Any) -> Any:
        read.append(match)
        return real(match, *args, **kwargs)

    catalog.keyword_search = keyword_search  # type: ignore[method-assign]
    cancel = threading.Event()
    cancel.set()  # typed past while it was being understood
    with cancellable(cancel), pytest.raises(QuerySuperseded):
        library.search_understood(QUERY, 5)
    assert read == []  # (a short word's first keyword read can take 10-40 ms at 100k files)
    library.search_understood(QUERY, 5)
    assert read  # not typed past: searched by its words too
    library.close()


def test_the_host_stops_a_query_the_window_cancelled(
    indexed: tuple[Library, dict[Path, Caption]],
) -> None:
    library, captions = indexed
    service = LibraryService(library)
    started, release = threading.Event(), threading.Event()
    real = library.query.search

    def slow(*args: object, **kwargs: object) -> object:
        started.set()  # the query is being answered when the newer one arrives
        assert release.wait(10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    library.query.search = slow  # type: ignore[method-assign]
    dispatcher = Dispatcher(service, on_change=lambda _c: None)
    old = dispatcher.submit(1, READ, "query", (Query(text=QUERY, limit=5),), print)
    assert started.wait(10)
    dispatcher.cancel(1)
    release.set()
    with pytest.raises(QuerySuperseded):
        old.result(timeout=30)

    library.query.search = real  # type: ignore[method-assign]
    newer = dispatcher.submit(2, READ, "query", (Query(text=QUERY, limit=5),), print)
    rows = newer.result(timeout=30).rows
    top = captions[Path(rows[0][Col.PATH])]
    assert top == caption_for_text(QUERY)
    dispatcher.shutdown()


def test_a_query_typed_past_while_it_waits_for_a_thread_never_runs(
    indexed: tuple[Library, dict[Path, Caption]],
) -> None:
    library, _captions = indexed
    service = LibraryService(library)
    dispatcher = Dispatcher(service, on_change=lambda _c: None)
    asked: list[str] = []
    real = library.query.search

    def search(text: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(text)
        return real(text, *args, **kwargs)

    library.query.search = search  # type: ignore[method-assign]
    hold = threading.Event()
    real_failures = service.failures
    service.failures = lambda: (hold.wait(10), real_failures())[1]  # type: ignore[method-assign]
    # Both reading threads busy: the queries below wait for one.
    busy = [dispatcher.submit(n, READ, "failures", (), print) for n in (3, 4)]
    typed_past = dispatcher.submit(5, READ, "query", (Query(text="a red", limit=5),), print)
    latest = dispatcher.submit(6, READ, "query", (Query(text=QUERY, limit=5),), print)
    dispatcher.cancel(5)
    hold.set()
    with pytest.raises(QuerySuperseded):
        typed_past.result(timeout=30)
    assert latest.result(timeout=30).rows
    assert asked == [QUERY]  # the superseded query gave its turn away without running
    assert all(f.result(timeout=30) == () for f in busy)
    dispatcher.shutdown()


def test_the_stop_crosses_the_hosts_pipe() -> None:
    came_back = pickle.loads(pickle.dumps(QuerySuperseded()))
    assert isinstance(came_back, QuerySuperseded) and str(came_back) == str(QuerySuperseded())


class _TakesNoMessage(LumenError):
    def __init__(self) -> None:
        super().__init__("a user-facing error whose class cannot be rebuilt from its message")


def test_an_error_that_cannot_cross_the_pipe_comes_back_as_its_words() -> None:
    from desktop_app.host.serve import _portable

    sent = _portable(_TakesNoMessage())
    came_back = pickle.loads(pickle.dumps(sent))  # what the window's reader does
    assert "cannot be rebuilt" in str(came_back)
    assert isinstance(_portable(QuerySuperseded()), QuerySuperseded)


def test_a_query_typed_past_stops_inside_the_text_tower(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.embedding import text_encoder

    assert text_encoder.write_manifest(tmp_path, tiny_embedder, tiny_weights)
    tower = text_encoder.load_numpy_text_encoder(
        tmp_path, "lumen-tiny", tiny_weights, tiny_embedder.space
    )
    assert tower is not None
    cancel = threading.Event()
    blocks: list[int] = []
    real = QueryTower._block

    def block(self: QueryTower, *args: Any, **kwargs: Any) -> Any:
        blocks.append(1)
        if len(blocks) == 1:
            cancel.set()  # the user types on while the first block runs
        return real(self, *args, **kwargs)

    monkeypatch.setattr(QueryTower, "_block", block)
    with cancellable(cancel), pytest.raises(QuerySuperseded):
        tower.encode_text(QUERY)
    assert len(blocks) == 1  # the next block never ran: the newer query's turn comes sooner
    cancel.clear()
    with cancellable(cancel):
        assert tower.encode_text(QUERY).shape == (tower.dim,)  # not cancelled: answers
