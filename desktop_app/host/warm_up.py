"""The search's caches read ahead of the window's queries, in the background.

Once the model is ready: the library's index and catalog read into the page cache
(``core/storage/read_ahead.py``), one search nobody waits for (each modality's vector ids, the
score samples) and the kinds a query or a chip names ("photos", "videos", "documents") resolved
to their vectors. The catalog keeps a resolved filter until it is written to, so after an index
run that wrote, the kinds are resolved again: the first "a photo of a dog" after the window's
start-up run otherwise resolved its filter itself (0.2–0.6 s at 100k files) halfway through
typing. Background work: a query typed meanwhile goes first (``QueryPriority``).
"""

from __future__ import annotations

import logging
import threading

from desktop_app.core.library import Library
from desktop_app.core.records import FileFilter
from desktop_app.core.storage.read_ahead import read_ahead
from desktop_app.core.superseded import cancellable, stop_if_superseded

log = logging.getLogger(__name__)

WARM_UP_QUERY = "warm up"  # no date, place, kind or person in it: the plain ranking
WARM_KINDS = ("image", "document", "video")  # filters resolved ahead of the first query


class SearchWarmUp:
    """Reads the search's caches ahead on a thread of its own; ``close`` stops it."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._searched = False  # the warm-up search ran (or is running)
        self._again = False  # the kinds are to be resolved once more after this pass

    def start(self) -> None:
        """Warm up once the model is ready: the search, then the kinds (once per library)."""
        self._run(search=True)

    def after_writes(self) -> None:
        """The catalog was written to (an index run ended): resolve the kinds again, if the
        warm-up ran (a library whose model is not ready is not searched by meaning yet)."""
        self._run(search=False)

    def close(self) -> None:
        """Stop at the next step and wait for the thread (10 s at most)."""
        with self._lock:
            self._cancel.set()
            thread = self._thread
        if thread is not None:
            thread.join(10)

    def _run(self, search: bool) -> None:
        with self._lock:
            if self._cancel.is_set() or (search and self._searched):
                return
            if not search and not self._searched:
                return
            self._searched = True
            if self._thread is not None and self._thread.is_alive():
                self._again = True  # the pass under way may have read before the writes
                return
            self._thread = threading.Thread(
                target=self._work, args=(search,), name="lumen-warm-search", daemon=True
            )
            self._thread.start()

    def _work(self, search: bool) -> None:
        try:
            with cancellable(self._cancel):
                if search:
                    self._read_files_ahead()
                    self._library.search_understood(WARM_UP_QUERY, 1)
                while True:
                    self._resolve_kinds()
                    with self._lock:
                        if not self._again:
                            return
                        self._again = False
        except Exception:  # only a head start: the first real query reads what it needs
            log.debug("warming the search up stopped", exc_info=True)

    def _read_files_ahead(self) -> None:
        """The vector index, then the catalog, into the page cache (after a reboot the first
        queries read them from disk a page at a time); a query asked meanwhile goes first."""
        library = self._library
        priority = library.priority

        def checkpoint() -> None:
            stop_if_superseded()
            priority.checkpoint()

        with priority.background():
            settings = library.settings
            read_ahead([settings.index_path, settings.catalog_path], checkpoint)

    def _resolve_kinds(self) -> None:
        """The kinds resolved to their vectors, kept by the catalog until it changes (a kind
        resolved already since is not read again)."""
        library = self._library
        catalog, space, priority = library.catalog, library.store.space, library.priority
        with priority.background():
            priority.checkpoint()
            present = catalog.indexed_kinds()
            for kind in WARM_KINDS:
                stop_if_superseded()
                priority.checkpoint()
                if space and present.get(kind):
                    catalog.allowed_vector_ids(space, FileFilter(kinds=frozenset({kind})))
