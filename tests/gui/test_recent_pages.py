"""An empty search field shows the newest files a page at a time: more as the user scrolls."""

from __future__ import annotations

from pathlib import Path

from pytest import MonkeyPatch
from pytestqt.qtbot import QtBot

from desktop_app.gui import search_presenter
from desktop_app.gui.results_model import SORT_NAME, SORT_NEWEST
from desktop_app.host.protocol import Col
from tests.gui.conftest import WindowFactory, scroll_to_the_end, wait_for_result
from tests.support.shapes import Caption

PAGE = 50


def test_clearing_the_field_shows_the_newest_files_then_more_as_the_grid_scrolls(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.setattr(search_presenter, "RECENT_PAGE", PAGE)
    window = windows.open()
    window.resize(700, 500)  # a few rows of thumbnails: the first page fills more than that
    wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    qtbot.keyClicks(window.search, "red")
    wait_for_result(qtbot, window, lambda r: r.query.text == "red")
    newest = [r.path for r in windows.libraries[-1].recent(1000)]
    assert len(newest) == len(photos) > 2 * PAGE

    window.clear_search()
    first = wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    assert [item.path for item in window.model.items()] == newest[:PAGE]  # the newest first
    assert first.query.limit == PAGE and window.model.more
    # The summary does not pass a page off as the whole library.
    assert f"the newest {PAGE}, more as you scroll" in window.summary.label.text()

    scroll_to_the_end(window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2 * PAGE)
    scroll_to_the_end(window)
    qtbot.waitUntil(lambda: window.model.rowCount() == len(photos))
    assert [item.path for item in window.model.items()] == newest  # pages in order, none twice
    assert not window.model.more  # the last page was short: nothing more to ask for
    assert f"Recent files · {len(photos)}" in window.summary.label.text()
    dates = [row[Col.DATE] for row in window.model.result.rows]  # type: ignore[union-attr]
    # The listing orders files to the second of their time rounded to the millisecond (SQLite's
    # datetime()): 12:00:02.9996 counts as 12:00:03.
    seconds = [round(d * 1000) // 1000 for d in dates]
    assert seconds == sorted(seconds, reverse=True)

    # Asked again (the library changed), the listing keeps every row loaded.
    window.query.refresh()
    qtbot.waitUntil(lambda: window.query.settled)
    assert window.model.rowCount() == len(photos)


def test_the_listing_sorted_by_name_holds_every_file(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.setattr(search_presenter, "RECENT_PAGE", PAGE)
    window = windows.open()
    first = wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    assert len(first.rows) == PAGE
    window.filters.set_sort_mode(SORT_NAME)
    wait_for_result(qtbot, window, lambda r: r.query.is_recent and len(r.rows) == len(photos))
    names = [item.path.name for item in window.model.items()]
    assert names == sorted(p.name for p in photos)  # the first names of all, not of a page
    window.filters.set_sort_mode(SORT_NEWEST)
    assert window.model.rowCount() == len(photos)
