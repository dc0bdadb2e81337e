"""A search shows its best files a page at a time: a screenful first, more as the grid scrolls."""

from __future__ import annotations

from pathlib import Path

from pytest import MonkeyPatch
from pytestqt.qtbot import QtBot

from desktop_app.gui import search_presenter
from desktop_app.gui.results_model import SORT_NEWEST, SORT_RELEVANCE
from tests.gui.conftest import WindowFactory, scroll_to_the_end, wait_for_result
from tests.support.shapes import Caption

PAGE = 8
QUERY = "red"  # 46 of the 144 photos pass the relevance cutoff with the tiny model


def test_a_search_shows_a_screenful_first_then_the_rest_in_order_as_the_grid_scrolls(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.setattr(search_presenter, "SEARCH_PAGE", PAGE)
    window = windows.open()
    window.resize(700, 500)
    qtbot.waitUntil(lambda: window.grid.viewport().height() > 100)
    best = [f.file.path for f in windows.libraries[-1].search_understood(QUERY, 200).files]
    assert 3 * PAGE < len(best) < len(photos)  # relevant files enough for pages, not all

    qtbot.keyClicks(window.search, QUERY)
    first = wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)
    screenful = window.grid.cells_in_view()
    assert first.query.limit == max(PAGE, screenful) < len(best)
    assert [item.path for item in window.model.items()] == best[: first.query.limit]
    assert window.model.more
    assert "more as you scroll" in window.summary.label.text()
    assert not window.summary.more.isVisibleTo(window)  # no "Show more" button for a page

    scroll_to_the_end(window)  # the next pages come until the relevant files are all there
    qtbot.waitUntil(lambda: window.model.rowCount() == len(best))
    assert [item.path for item in window.model.items()] == best  # in order, none twice
    qtbot.waitUntil(lambda: not window.model.more)
    assert "more as you scroll" not in window.summary.label.text()
    assert f"{len(best)} results" in window.summary.label.text()

    # Asked again (the library changed), the search keeps every row loaded.
    window.query.refresh()
    qtbot.waitUntil(lambda: window.query.settled)
    assert [item.path for item in window.model.items()] == best


def test_a_search_sorted_by_date_reads_its_best_files_at_once(
    qtbot: QtBot, windows: WindowFactory, monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.setattr(search_presenter, "SEARCH_PAGE", PAGE)
    monkeypatch.setattr(search_presenter, "SEARCH_LIMIT", 40)
    window = windows.open()
    window.resize(700, 500)
    qtbot.keyClicks(window.search, QUERY)
    first = wait_for_result(qtbot, window, lambda r: r.query.text == QUERY)
    assert len(first.rows) < 40

    # Pages in order of relevance would land among rows sorted by date: all 40 come at once.
    window.filters.set_sort_mode(SORT_NEWEST)
    dated = wait_for_result(qtbot, window, lambda r: r.query.limit == 40)
    assert len(dated.rows) == 40 and not window.model.more
    best = {f.file.path for f in windows.libraries[-1].search_understood(QUERY, 40).files}
    assert {item.path for item in window.model.items()} == best

    assert "more as you scroll" not in window.summary.label.text()
    window.filters.set_sort_mode(SORT_RELEVANCE)  # the rows loaded stay; more come on scrolling
    assert window.model.rowCount() == 40 and window.model.more
    assert "more as you scroll" in window.summary.label.text()
    assert not window.summary.more.isVisibleTo(window)
