"""Typing searches, results fill the grid; similar by menu, drop and paste; show more; filters."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from pytest import MonkeyPatch
from pytestqt.qtbot import QtBot

from desktop_app.core.query.query_text import SearchResults
from desktop_app.core.superseded import QuerySuperseded
from desktop_app.gui.library_pages import PAGE_RESULTS
from desktop_app.host.client import LibraryClient
from desktop_app.host.protocol import FileFilter, Query
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.documents import write_text_pdf
from tests.support.shapes import Caption, caption_for_text, render

QUERY = "a red circle on the left"


def captions_of(window_items: list[object], photos: dict[Path, Caption]) -> list[Caption]:
    return [photos[item.path] for item in window_items]  # type: ignore[attr-defined]


def test_typing_a_query_fills_the_grid_with_the_right_files(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    assert window.pages.currentIndex() == PAGE_RESULTS
    recent = wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    assert len(recent.items) == len(photos)  # empty query: recent files
    seen: list[str] = []
    window.bridge.results.connect(lambda r: seen.append(r.query.text))

    qtbot.keyClicks(window.search, QUERY)
    result = wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)

    # No answer to a partial query reaches the grid: the burst of keystrokes coalesced.
    assert [text for text in seen if text] == [QUERY]
    top = captions_of(window.model.items()[:2], photos)
    assert top == [caption_for_text(QUERY)] * 2
    assert result.semantic and result.notice is None
    assert window.model.rowCount() == len(result.items)
    assert "“a red circle on the left”" in window.summary.label.text()


def test_typing_sends_at_once_and_coalesces_keystrokes_while_a_query_runs(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], monkeypatch: MonkeyPatch
) -> None:
    window = windows.open()
    wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    qtbot.waitUntil(lambda: window.query.settled)
    library = windows.libraries[-1]
    asked: list[str] = []
    real_search = library.query.search  # the search policy answers the window's queries
    typed_all = threading.Event()

    def search(text: str, *args: Any, **kwargs: Any) -> SearchResults:
        asked.append(text)
        # A query is answered once the last key is typed (however fast the machine): none
        # ends while the keys arrive, so the ones typed meanwhile have to wait their turn.
        typed_all.wait(timeout=10)
        return real_search(text, *args, **kwargs)

    monkeypatch.setattr(library.query, "search", search)
    sent: list[str] = []
    real_query = LibraryClient.query

    def query(client: LibraryClient, asked_for: Query) -> Any:
        sent.append(asked_for.text)
        return real_query(client, asked_for)

    monkeypatch.setattr(LibraryClient, "query", query)
    shown: list[str] = []
    window.bridge.results.connect(lambda r: shown.append(r.query.text))

    # The first key is sent at once (nothing was running), the next one beside it while it
    # stops; the keys typed while those are in flight replace each other, and only the latest
    # text is sent next. (A query superseded may stop before the search policy sees it.)
    qtbot.keyClicks(window.search, QUERY)
    typed_all.set()
    wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)
    qtbot.waitUntil(lambda: window.query.settled)
    assert sent[0] == QUERY[0] and sent[-1] == QUERY
    assert len(sent) < len(QUERY) / 2  # the keystrokes coalesced
    assert all(older != newer for older, newer in itertools.pairwise(sent))  # no space re-sent
    assert asked[-1] == QUERY and set(asked) <= set(sent)
    # The answer to the first key came back after newer text was typed: it was never shown.
    assert shown == [QUERY]
    assert photos[window.model.items()[0].path] == caption_for_text(QUERY)

    # A space at the end is the same search: nothing is asked.
    sent.clear()
    qtbot.keyClicks(window.search, " ")
    assert sent == [] and window.query.settled

    # Typing again when idle: asked at once, shown (no pause before sending).
    qtbot.keyClicks(window.search, "!")
    wait_for_result(qtbot, window, lambda r: r.query.text == QUERY + " !")
    assert asked[-1] == QUERY + " !"


def test_enter_searches_at_once_and_history_walks_back(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    for text in ("a blue square at the top", "a green triangle at the bottom"):
        window.search.setText(text)
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
        wait_for_result(qtbot, window, lambda r, t=text: r.query.text == t)
        assert photos[window.model.items()[0].path] == caption_for_text(text)

    qtbot.keyClick(window.search, Qt.Key.Key_Up)
    assert window.search.text() == "a green triangle at the bottom"
    qtbot.keyClick(window.search, Qt.Key.Key_Up)
    assert window.search.text() == "a blue square at the top"
    wait_for_result(qtbot, window, lambda r: r.query.text == "a blue square at the top")
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert window.search.text() == "a green triangle at the bottom"


def test_find_similar_from_the_context_menu_replaces_the_results(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    qtbot.keyClicks(window.search, "a blue square at the top")
    wait_for_result(qtbot, window, lambda r: r.query.text == "a blue square at the top")
    chosen = window.model.items()[0]

    menu = window.context_menu_for(0)
    labels = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    assert labels == [
        "Find Similar",
        "Open",
        "Show in Folder",
        "Copy Path",
        "Copy Image",
        "Remove from Index…",
    ]
    next(a for a in menu.actions() if a.text().replace("&", "") == "Find Similar").trigger()

    result = wait_for_result(qtbot, window, lambda r: r.query.similar_to == chosen.path)
    neighbours = [item.path for item in result.items]
    assert chosen.path not in neighbours
    twin = next(p for p, c in photos.items() if c == photos[chosen.path] and p != chosen.path)
    assert twin in neighbours[:3]
    assert window.search.text() == ""
    assert "look like" in window.summary.label.text()
    assert window.summary.back.isVisibleTo(window)


def _drop(target: object, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(20, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    target.dropEvent(event)  # type: ignore[attr-defined]
    assert event.isAccepted()


def test_dropping_an_image_file_finds_similar_files(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], tmp_path: Path
) -> None:
    window = windows.open()
    caption = Caption("green", "triangle", "bottom")
    outsider = tmp_path / "not indexed.png"
    render(caption, (160, 120), seed=999).save(outsider)

    _drop(window, outsider)
    result = wait_for_result(qtbot, window, lambda r: r.query.similar_to == outsider)
    assert photos[result.items[0].path] == caption

    caption = Caption("yellow", "circle", "right")
    other = tmp_path / "dropped on the search bar.jpg"
    render(caption, (160, 120), seed=998).save(other)
    _drop(window.search, other)
    result = wait_for_result(qtbot, window, lambda r: r.query.similar_to == other)
    assert photos[result.items[0].path] == caption


def test_pasting_an_image_finds_similar_files(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], tmp_path: Path
) -> None:
    window = windows.open()
    caption = Caption("purple", "square", "left")
    picture = tmp_path / "clip.png"
    render(caption, (160, 120), seed=997).save(picture)
    QGuiApplication.clipboard().setImage(QImage(str(picture)))

    window.grid.setFocus()
    window.commands.paste_image.trigger()
    result = wait_for_result(qtbot, window, lambda r: r.query.similar_to is not None)
    assert photos[result.items[0].path] == caption


def test_show_more_reveals_results_below_the_cutoff(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.open()
    qtbot.keyClicks(window.search, QUERY)
    first = wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)
    assert first.hidden > 0 and window.summary.more.isVisibleTo(window)
    assert all(item.relevant for item in first.items)

    qtbot.mouseClick(window.summary.more, Qt.MouseButton.LeftButton)
    more = wait_for_result(qtbot, window, lambda r: r.query.show_all)
    assert len(more.items) == len(first.items) + first.hidden
    assert any(not item.relevant for item in more.items)  # drawn dimmed, after the cutoff


def test_filters_restrict_results(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], tmp_path: Path
) -> None:
    window = windows.open()
    papers = tmp_path / "Papers"
    papers.mkdir()
    report = write_text_pdf(papers / "report.pdf", ["Quarterly report, summary."])
    with qtbot.waitSignal(window.bridge.index_finished, timeout=60_000):
        window.add_folders([papers])
    wait_for_result(  # the library now holds photos and a document
        qtbot, window, lambda r: r.query.is_recent and len(r.items) == len(photos) + 1
    )
    kind = window.filters.kind

    kind.setCurrentIndex(kind.findData("document"))
    result = wait_for_result(qtbot, window, lambda r: r.query.filters.kinds == {"document"})
    assert [item.path for item in result.items] == [report]  # every photo filtered out

    kind.setCurrentIndex(kind.findData("video"))
    result = wait_for_result(qtbot, window, lambda r: r.query.filters.kinds == {"video"})
    assert result.items == ()
    assert window.no_results.isVisibleTo(window)

    kind.setCurrentIndex(kind.findData("image"))
    result = wait_for_result(qtbot, window, lambda r: r.query.filters.kinds == {"image"})
    assert {item.path for item in result.items} == set(photos)  # the document filtered out

    kind.setCurrentIndex(kind.findData(None))  # any kind, one folder
    folder = window.filters.folder

    def offered() -> list[Path | None]:
        return [Path(d) if d else None for d in map(folder.itemData, range(folder.count()))]

    qtbot.waitUntil(lambda: papers in offered())  # the folder list follows the library's info
    folder.setCurrentIndex(offered().index(papers))
    result = wait_for_result(qtbot, window, lambda r: r.query.filters.folders is not None)
    assert result.query.filters == FileFilter(folders=(papers,))
    assert [item.path for item in result.items] == [report]


def test_a_query_the_user_typed_past_stops_early_instead_of_running_to_its_end(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], monkeypatch: MonkeyPatch
) -> None:
    window = windows.open()
    wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    qtbot.waitUntil(lambda: window.query.settled)
    library = windows.libraries[-1]
    typed_on, running = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}
    real_search = library.query.search

    def search(text: str, *args: Any, **kwargs: Any) -> SearchResults:
        if text == QUERY[0]:  # the first key's query: still running when the rest is typed
            running.set()
            assert typed_on.wait(10)
            try:
                found = real_search(text, *args, **kwargs)
            except QuerySuperseded:
                outcome[text] = "stopped"
                raise
            outcome[text] = "ran to its end"
            return found
        return real_search(text, *args, **kwargs)

    monkeypatch.setattr(library.query, "search", search)
    shown: list[str] = []
    window.bridge.results.connect(lambda r: shown.append(r.query.text))
    failures: list[str] = []
    window.bridge.query_failed.connect(lambda _q, message: failures.append(message))

    qtbot.keyClicks(window.search, QUERY[0])
    qtbot.waitUntil(running.is_set)  # (a query superseded before it starts never runs)
    qtbot.keyClicks(window.search, QUERY[1:])
    typed_on.set()
    wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)

    assert outcome == {QUERY[0]: "stopped"}
    assert shown == [QUERY] and failures == []  # the stopped query says nothing to the user
    assert photos[window.model.items()[0].path] == caption_for_text(QUERY)
