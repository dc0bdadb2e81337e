"""What the results show and why: the query state, the results model, and how they change.

``SearchPresenter`` owns no widgets. The window tells it what the user did (typed, changed a
filter, asked for similar files, asked for more) and reads the search text and filters through
``QueryInputs``; it asks the library through the bridge and announces answers with
``results_ready`` / ``failed``. A new query parameter (a filter, a mode) goes into
``current_query``; its widget only has to call ``filters_changed`` (or ``run_query``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.gui.results_model import SORT_NEWEST, SORT_RELEVANCE, ResultsModel
from desktop_app.gui.workers import LibraryBridge
from desktop_app.host.protocol import FileChanges, FileFilter, ItemRow, Query, QueryResult

REFRESH_MS = 1500  # while indexing, the current query is re-run at most this often
BUSY_MS = 300  # an answer slower than this says "Searching…"
# A search shows its best files a page at a time, as the recent listing does: the first page
# fills the grid and a row more, at least SEARCH_PAGE files; scrolled to its last row, the grid
# asks for PAGE_GROWTH times the rows it has. A first page of 60 instead of 200 answers a
# keystroke sooner (fewer owners, rows and tags read, fewer rows sent; the graph is searched as
# widely, see ``query.fetch_sizes``): at 100k files, bench_big_library.py's window p95 for
# common words and documents went from 113 / 113 ms to 78 / 79 ms (7 Dec).
SEARCH_PAGE = 60
PAGE_GROWTH = 4
# Sorted other than by relevance, a search reads this many of its best files at once (pages
# that arrive later would land among the rows shown).
SEARCH_LIMIT = 200
# An empty query shows the newest files a page at a time: the grid asks for the next page as
# the user scrolls to its last row (a library of 100k files answered 20,000 rows in ~1.3 s).
RECENT_PAGE = 500
# Sorted by name or oldest first, the listing is read whole, up to this many files.
RECENT_LIMIT = 20_000
_PAGED_SORTS = (SORT_RELEVANCE, SORT_NEWEST)  # the listing's own order

log = logging.getLogger(__name__)


class QueryInputs(Protocol):
    """Where the user's query is read from (the window's search field and filter bar)."""

    def query_text(self) -> str: ...

    def query_filters(self) -> FileFilter: ...

    def cells_in_view(self) -> int:
        """Results the grid shows at once, with a row more."""
        ...


class SearchPresenter(QObject):
    """The current query and its results; call it on the GUI thread."""

    results_ready = Signal(object)  # QueryResult of the latest query, already in ``model``
    failed = Signal(object, str)  # Query, message
    busy = Signal()  # the answer is slow in coming
    results_changed = Signal(object)  # QueryResult: rows of the shown result changed in place

    def __init__(self, bridge: LibraryBridge, model: ResultsModel, inputs: QueryInputs) -> None:
        super().__init__()
        self.bridge = bridge
        self.model = model
        self._inputs = inputs
        self.similar_to: Path | None = None
        self.similar_at: float | None = None  # a video's moment to look from
        # The similar-to file is a picture the user gave (dropped, pasted, chosen): words typed
        # then are added to it ("this photo, but at night") instead of replacing it.
        self.picture_query = False
        self.show_all = False
        self.search_rows = 0  # rows of a search asked for (pages loaded); 0: the first page
        self.recent_rows = RECENT_PAGE  # rows of the recent listing asked for (pages loaded)
        # Understood parts the user took back (removed chips): searched as words (issue 21).
        self.literal: frozenset[str] = frozenset()
        self.last_query: Query | None = None
        self.active = False  # the results are on screen (not the welcome or an error page)
        self._closed = False
        self._refresh_pending = False
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._busy = QTimer(self, singleShot=True, interval=BUSY_MS)
        self._refresh.timeout.connect(self._refresh_cooled_down)
        self._busy.timeout.connect(self.busy.emit)
        bridge.results.connect(self._arrived)
        bridge.query_failed.connect(self._failed)
        bridge.files_changed.connect(self.files_changed)
        model.more_wanted.connect(self._next_page)

    # -- the query ------------------------------------------------------------------------

    def current_query(self) -> Query:
        """The query the window's state asks for now."""
        filters = self._inputs.query_filters()
        text = self._inputs.query_text().strip()
        if self.similar_to is not None and self.picture_query and text:
            return Query(
                text=text,
                similar_to=self.similar_to,
                filters=filters,
                limit=self._search_limit(),
                show_all=self.show_all,
            )
        if self.similar_to is not None:
            return Query(
                similar_to=self.similar_to,
                similar_at=self.similar_at,
                filters=filters,
                limit=self._search_limit(),
                show_all=self.show_all,
            )
        limit = self._search_limit() if text else self._recent_limit()
        return Query(
            text=text, filters=filters, limit=limit, show_all=self.show_all, literal=self.literal
        )

    def run_query(self, query: Query | None = None) -> None:
        """Ask for the current query's results (``results_ready`` follows); ``query``: the
        current query, when the caller has it already.

        Sent at once: while an earlier query is still being answered, the bridge keeps only the
        latest one waiting (typing coalesces, latest wins) and drops answers to older ones.
        """
        if not self.active or self._closed:
            return
        query = query if query is not None else self.current_query()
        self.last_query = query
        self.bridge.search(query)
        self._busy.start()

    def _search_limit(self) -> int:
        rows = self.search_rows or max(SEARCH_PAGE, self._inputs.cells_in_view())
        if self.model.sort_mode != SORT_RELEVANCE:
            return max(rows, SEARCH_LIMIT)
        return rows

    def pages(self, result: QueryResult) -> bool:
        """Whether the grid asks for more of ``result`` as it scrolls to its last row: a full
        page of the recent listing, or of a search in order of relevance."""
        query = result.query
        full = len(result.rows) >= query.limit > 0
        return full and (query.is_recent or self.model.sort_mode == SORT_RELEVANCE)

    def _recent_limit(self) -> int:
        if self.model.sort_mode in _PAGED_SORTS:
            return self.recent_rows
        return max(self.recent_rows, RECENT_LIMIT)

    def sort_changed(self) -> None:
        """The grid's sort changed: the recent listing sorted by name or oldest first is read
        whole (its pages come newest first), a search sorted other than by relevance up to
        SEARCH_LIMIT files (its pages come best first)."""
        shown = self.model.result
        if shown is None or len(shown.rows) < shown.query.limit:
            return
        if self.current_query().limit > shown.query.limit:
            self.run_query()
        elif self.model.more != self.pages(shown):  # pages again, or no longer: say so
            self.model.more = not self.model.more
            self.results_changed.emit(shown)

    def typed(self) -> None:
        """The search text changed: a new text query, asked for now (no typing pause); with a
        picture the user gave, the words are added to the picture. A space typed at either end
        asks nothing new."""
        if self.picture_query and self.similar_to is not None:
            self.show_all = False
            self.search_rows = 0
        else:
            self._reset(similar_to=None)
        self.literal = frozenset()  # new words: read them afresh
        query = self.current_query()
        if query == self.last_query:
            return  # only spaces at either end changed: the same search, asked already
        self.run_query(query)

    def take_back(self, part: str) -> None:
        """A chip was removed: search again with that part ("date", "place", "kind") as words."""
        self.literal = self.literal | {part}
        self.show_all = False
        self.search_rows = 0
        self.run_query()

    def filters_changed(self) -> None:
        """A filter changed: ask again now, from the first page of results."""
        self.show_all = False
        self.search_rows = 0
        self.recent_rows = RECENT_PAGE
        self.run_query()

    def show_more(self) -> None:
        """Show the less relevant results that were hidden, or more of them."""
        result = self.model.result
        if result is None:
            return
        if result.hidden and not self.show_all:
            self.show_all = True
        else:
            self.search_rows = PAGE_GROWTH * result.query.limit
        self.run_query()

    def clear(self) -> None:
        """Back to the recent files (the window empties the search field)."""
        self._reset(similar_to=None)
        self.run_query()

    def find_similar(self, path: Path, at_s: float | None = None, picture: bool = False) -> None:
        """Replace the results with files that look like ``path`` (indexed or not); for a
        video, like its frame at ``at_s`` seconds when given. ``picture``: the user gave it
        (dropped, pasted or chose it): words typed next are added to it.
        """
        self._reset(similar_to=Path(path), similar_at=at_s)
        self.picture_query = picture
        self.run_query()

    def _reset(self, similar_to: Path | None, similar_at: float | None = None) -> None:
        if similar_to is None:
            self.picture_query = False
        self.similar_to = similar_to
        self.similar_at = similar_at
        self.show_all = False
        self.search_rows = 0
        self.recent_rows = RECENT_PAGE

    # -- answers --------------------------------------------------------------------------

    def _arrived(self, result: QueryResult) -> None:
        self._busy.stop()
        query = result.query
        if query.offset:
            self._page_arrived(result)
            return
        if not query.is_recent and query == self.last_query:
            self.search_rows = query.limit  # a refresh asks for as many (a sort's 200, say)
        self.results_ready.emit(result)  # the window shows it, with ``pages(result)``

    def _next_page(self) -> None:
        """The grid reached the last row of a paged result: ask for its next page."""
        shown = self.model.result
        if self._closed or shown is None or shown.query != self.last_query:
            return
        loaded = len(shown.rows)
        size = RECENT_PAGE if shown.query.is_recent else (PAGE_GROWTH - 1) * max(loaded, 1)
        page = dataclasses.replace(shown.query, limit=size, offset=loaded)
        self.bridge.search(page)
        self._busy.start()

    def _page_arrived(self, result: QueryResult) -> None:
        shown = self.model.result
        query = result.query
        if shown is None or dataclasses.replace(query, limit=shown.query.limit, offset=0) != (
            shown.query
        ):
            return  # the page of another listing
        whole = dataclasses.replace(shown.query, limit=shown.query.limit + query.limit)
        if query.is_recent:  # a refresh asks for every row loaded
            self.recent_rows = whole.limit
        else:
            self.search_rows = whole.limit
        self.last_query = whole
        self.model.append(dataclasses.replace(result, query=whole))
        past = len(result.rows) - (0 if query.is_recent else query.offset)  # a search's: all
        self.model.more = past >= query.limit
        self.results_changed.emit(self.model.result)

    def _failed(self, query: Query, message: str) -> None:
        self._busy.stop()
        self.failed.emit(query, message)

    # -- the library changed --------------------------------------------------------------

    def refresh(self) -> None:
        """Re-run the current query (files changed or were indexed)."""
        if self._closed:
            return
        self.run_query()

    def refresh_now(self) -> None:
        """Re-run the current query now, e.g. when an indexing run ended."""
        self._refresh.stop()
        self._refresh_pending = False
        self.refresh()

    def files_changed(self, changes: FileChanges | None = None) -> None:
        """Files changed (an edit, the watcher or the indexer): update the shown rows, or ask
        again (throttled).

        Applied to the rows without a new query: a removed (deleted, forgotten, excluded) file's
        row goes, as do the rows of a folder gone offline; a moved file's row takes its new
        path; a shown file that was embedded again, failed, got other tags or a place gets fresh
        details (its row is refreshed in place). Only a file that is not shown yet (added, or changed
        so that it may match now, or in a folder back online) makes the query run again: where
        it belongs among the results is the ranking's to say, which only the core knows, and
        that at most once per ``REFRESH_MS``.
        """
        if changes is None or not self._apply(changes):
            self._refresh_later()

    def _apply(self, changes: FileChanges) -> bool:
        """Show ``changes`` in the rows; False when only a new query can show all of them."""
        model = self.model
        if model.result is None:
            return False
        touched = model.remove_paths(changes.removed) + model.remove_under(changes.offline)
        touched += model.rename(changes.moved)
        failed = [path for path, _why in changes.failed]
        refreshed = (*changes.indexed, *failed, *changes.tags, *changes.located)
        shown = [path for path in dict.fromkeys(refreshed) if model.row_of(path) is not None]
        if shown:
            self.bridge.run(
                lambda c: c.rows(shown),
                done=self._fresh_rows,
                failed=lambda exc: log.info("Cannot update the changed files: %s", exc),
            )
        if touched:
            self.results_changed.emit(model.result)
        new = [path for path in changes.indexed if model.row_of(path) is None]
        return not new and not changes.online

    def _fresh_rows(self, rows: tuple[ItemRow | None, ...]) -> None:
        if self.model.update_rows(rows):
            self.results_changed.emit(self.model.result)

    def _refresh_later(self) -> None:
        if self._refresh.isActive():
            self._refresh_pending = True
            return
        self.refresh()
        self._refresh_pending = False
        self._refresh.start()

    @property
    def settled(self) -> bool:
        """No query is waiting to be asked (refresh throttle) or answered."""
        waiting = self.bridge.searching or self._busy.isActive() or self._refresh_pending
        return not waiting

    def _refresh_cooled_down(self) -> None:
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh()
            self._refresh.start()

    def forget(self, paths: list[Path], done: Callable[[], None] | None = None) -> None:
        """Take ``paths`` out of the index (the files stay on disk); they leave the results now
        (and the files below a forgotten folder when the library says which they were)."""
        self.model.remove_paths(paths)

        def forgotten(changes: FileChanges) -> None:
            self.files_changed(changes)
            if done is not None:
                done()

        self.bridge.run(lambda c: c.forget(paths), done=forgotten)

    def set_tag(self, path: Path, tag: str, present: bool = True) -> None:
        """Give a file a tag of the user's (or take it away); its row shows it, no new query."""
        self.bridge.run(lambda c: c.set_tag(path, tag, present), done=self.files_changed)

    def close(self) -> None:
        """Stop asking: the window is closing."""
        self._closed = True
        self._refresh.stop()
        self._busy.stop()
