"""The facade the GUI and the CLI both use: folders, indexing, search, status.

It owns nothing itself: each concern is a part with its own state and lock, handed in by
``Library.open`` (or a test):

- ``store`` (``storage.store``): the catalog and the vector index, kept in step;
- ``writer`` (``indexing.writer``): the one thread every mutation runs on, and the data dir's
  writer role between processes;
- ``models`` (``embedding.model_slot``): which model answers, loaded on first use;
- ``query`` (``query.policy``): the whole search policy; it only reads;
- ``tagging`` (``embedding.tagging``), ``folders`` (``indexing.folders``) and ``runs``
  (``indexing.runs``: full runs, watcher batches, model switches).

Every mutation is a writer operation and returns the ``FileChanges`` it made.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import (
    EmbedderLoader,
    ModelSlot,
    default_embedder_loader,
)
from desktop_app.core.embedding.tagging import Tagging
from desktop_app.core.errors import LumenError
from desktop_app.core.indexing.folders import Folders
from desktop_app.core.indexing.writer import Writer
from desktop_app.core.library_status import read_status
from desktop_app.core.people.service import People
from desktop_app.core.priority import QueryPriority
from desktop_app.core.query.duplicates import DUPLICATE_COSINE, DuplicateGroup
from desktop_app.core.query.query_text import SearchResults
from desktop_app.core.query.results import QueryResults
from desktop_app.core.records import (
    FileChanges,
    FileFilter,
    FileRecord,
    Folder,
    IndexSummary,
    LibraryStatus,
    Progress,
    Tag,
)
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.exclusions import Exclusions
from desktop_app.core.storage.store import Store
from desktop_app.core.understanding.records import BY_RELEVANCE, Understood

if TYPE_CHECKING:
    from desktop_app.core.indexing.pipeline import ChangeCallback
    from desktop_app.core.indexing.runs import IndexRuns
    from desktop_app.core.query.policy import QueryPolicy

__all__ = ["Library", "LibraryStatus", "default_embedder_loader"]

log = logging.getLogger(__name__)


class Library:
    """One Lumen library (a data dir): its catalog, vector index and model.

    Methods may be called from any thread; writes run on the writer's one thread, in order.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        writer: Writer,
        models: ModelSlot,
        priority: QueryPriority | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = store.catalog
        self.writer = writer
        self.models = models
        self.priority = priority or QueryPriority()  # queries go first: indexing waits
        # People (issue 23): faces found, grouped and named; their writes are the writer's.
        self.people = People(store.catalog.session, commit=writer.run, reads=store.catalog.reader)
        self.tagging = Tagging(store, models, (settings.model_cache_dir, settings.data_dir))
        self.watched = Folders(store, [settings.data_dir, settings.model_cache_dir])

    # The search policy and the index runs are made (and their modules imported) on first use:
    # a `lumen search` never needs the indexing pipeline, a `lumen index` never the query
    # understanding (each 20-50 ms of a fresh command's start-up).

    @functools.cached_property
    def query(self) -> QueryPolicy:
        """The whole search policy (reads only)."""
        from desktop_app.core.query.policy import QueryPolicy

        return QueryPolicy(self.store, self.models, self.priority, self.people)

    @functools.cached_property
    def runs(self) -> IndexRuns:
        """Full runs, watcher batches and model switches."""
        from desktop_app.core.indexing.runs import IndexRuns

        return IndexRuns(
            self.settings,
            self.store,
            self.writer,
            self.models,
            self.tagging,
            self.watched,
            self.priority,
            self.people,
        )

    @classmethod
    def open(
        cls, settings: Settings, embedder_loader: EmbedderLoader = default_embedder_loader
    ) -> Library:
        """Open (creating if needed) the library in ``settings.data_dir``.

        Opening only reads: the index is reconciled with the catalog in memory, and written
        back by the writer when this process writes.
        """
        make_private(settings.data_dir)
        store = Store.open(Catalog.open(settings.catalog_path), settings.index_path)
        return cls(
            settings,
            store,
            Writer(store, settings.data_dir),
            ModelSlot(settings, store, embedder_loader),
        )

    def close(self) -> None:
        """Save the index if this process wrote, release the catalog and the writer role."""
        if "query" in self.__dict__:  # made: its threads go
            self.query.close()
        self.writer.close()
        self.catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the writer role ------------------------------------------------------------------

    def claim_writer(self, holder: str | None = None) -> None:
        """Become this data dir's one indexing process (until ``close``); ``LibraryBusyError``
        names the process that already is. ``holder``: what others are told ("lumen watch")."""
        self.writer.claim(holder)

    def release_writer(self) -> None:
        """Stop being the indexing process until the next ``index``/``update_paths`` (the
        window does, paused): another Lumen may index meanwhile, instead of waiting."""
        self.writer.release()

    @property
    def is_writer(self) -> bool:
        """Whether this process is the data dir's indexing process now."""
        return self.writer.claimed

    def name_writer(self, holder: str) -> None:
        """What other processes are told while this one is the writer ("the Lumen window")."""
        self.writer.role.holder = holder

    def set_following(self, on: bool) -> None:
        """Say whether a folder watcher follows changes here: other processes then hand their
        indexing to this one instead of waiting for it to end."""
        self.writer.role.set_watching(on)

    def writer_follows_changes(self) -> bool:
        """Whether the process that is the writer follows file changes (see ``set_following``)."""
        return self.writer.role.holder_watches()

    def describe_writer(self) -> str:
        """Who is the writer now, in words (``lumen watch (pid 12)``)."""
        return self.writer.describe()

    def rescan_wanted(self) -> bool:
        """Whether another process handed a full run to this one, the writer, and awaits it."""
        return self.writer.rescan_wanted()

    # -- the model ------------------------------------------------------------------------

    @property
    def embedder_loaded(self) -> bool:
        return self.models.loaded is not None

    def embedder(self) -> Embedder:
        """The model, loaded on first use (raises ModelUnavailableError with advice)."""
        return self.models.embedder()

    @property
    def queries_ready(self) -> bool:
        """Whether a text query can be answered by meaning without waiting for a model load."""
        return self.models.queries_ready

    def warm_queries(self) -> str:
        """Make text queries quick (the torch-free text encoder where there is one); the key."""
        return self.models.warm_queries()

    def model_switch(self) -> Progress | None:
        """How a running switch to another model stands (phase "re-embedding"), else None."""
        return self.models.switching

    # -- folders and exclusions (each a writer operation) ---------------------------------

    def add_folder(self, path: Path) -> Folder:
        """Watch a folder (its files are indexed by the next ``index`` run)."""
        return self.writer.run(lambda: self.watched.add(path))[0]

    def remove_folder(self, path: Path) -> FileChanges:
        """Stop watching a folder and forget its files (``vectors_removed``: how many went)."""
        return self._edit(lambda: self.watched.remove(path))

    def set_folder_paused(self, path: Path, paused: bool) -> FileChanges:
        """Pause (skip in indexing runs) or resume a watched folder; its indexed files stay."""
        return self.writer.run(lambda: self.watched.set_paused(path, paused))

    def folders(self) -> list[Folder]:
        return self.watched.all()

    def exclusions(self) -> list[str]:
        """Patterns and paths never indexed (``Exclusions`` says how they match)."""
        return self.watched.exclusions()

    def exclude(self, pattern: str) -> FileChanges:
        """Never read what ``pattern`` matches again; its files leave results now.

        A path (``/x/y``, ``~/x``, ``./x``) excludes that file or folder; a name (``node_modules``,
        ``*.tmp``) any file or folder so named.
        """
        return self._edit(lambda: self.watched.exclude(pattern))

    def include(self, pattern: str) -> FileChanges:
        """Stop excluding ``pattern`` (its files come back at the next scan); empty if unknown."""
        return self.writer.run(lambda: self.watched.include(pattern))

    def forget(self, path: Path) -> FileChanges:
        """Remove a file or everything under a path from the index for good (it is excluded;
        ``include`` undoes that)."""
        return self._edit(lambda: self.watched.forget(path))

    def current_exclusions(self) -> Exclusions:
        """The exclusions now (re-read when another process changed them; cheap to call often)."""
        return self.watched.current_exclusions()

    def _edit(self, edit: Callable[[], FileChanges]) -> FileChanges:
        """Run an edit that removes files; save the index at once unless a run is going on
        (it saves when it ends, and other processes must see the files gone)."""

        def edit_and_save() -> FileChanges:
            changes = edit()
            if changes.vectors_removed and not self.writer.run_lock.locked():
                self.runs.save()
            return changes

        return self.writer.run(edit_and_save)

    # -- indexing -------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path] | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        on_change: ChangeCallback | None = None,
        *,
        hand_off: bool = False,
    ) -> IndexSummary:
        """Index ``paths`` (added as folders) or every watched folder; only new/changed files work.

        ``on_change`` hears what each step changed (see ``FileChanges``), on the writer's thread.

        Only one process indexes a data dir. Another one's call raises ``LibraryBusyError``,
        or with ``hand_off`` hands the run to the process that is indexing: ``paths`` are added
        as folders and, when that process follows changes (``lumen watch``, the window), it
        runs it and this call returns its figures; otherwise this call waits for it to end and
        then runs itself. Meanwhile ``progress`` hears phase "waiting" with a ``note`` saying
        for whom; ``cancel`` stops waiting (the handed-over run still happens).
        """
        if hand_off:
            handed = self.writer.hand_off(paths, self.add_folder, progress, cancel)
            if handed is not None:
                return handed
        return self.runs.index(paths, progress, cancel, on_change)

    def update_paths(
        self,
        paths: Iterable[Path],
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        on_change: ChangeCallback | None = None,
    ) -> IndexSummary:
        """Bring just ``paths`` up to date: files, or folders and what is below them.

        What the folder watcher calls with each settled batch of changed paths. Only those paths
        are looked at (a path that no longer exists stands for the files that were at or below
        it): new and changed files are embedded, touched ones are not, a vanished file whose
        content reappears elsewhere in the same call is a move and keeps its vector, and a folder
        found unreachable goes offline. Its writes are the writer's, between other operations.
        The index file is saved at most every ``SAVE_EVERY_S`` seconds and on ``close``.
        """
        return self.runs.update_paths(paths, progress, cancel, on_change)

    # -- tags -----------------------------------------------------------------------------

    def update_tags(self) -> int:
        """Tag the photos not tagged yet (``index`` does this itself); returns how many."""
        return len(self.runs.update_tags().tags)

    def tags(self) -> list[tuple[str, int]]:
        """Every tag in use with how many files carry it, most used first."""
        return self.tagging.counts()

    def file_tags(self, path: Path) -> list[Tag]:
        """A file's tags: the user's, then the automatic ones by score (raises if not indexed)."""
        return self.tagging.of(self._indexed(path))

    def set_tag(self, path: Path, tag: str, present: bool = True) -> FileChanges:
        """Give a file a tag of the user's, or take one away (an automatic tag taken away stays
        away when the photo is tagged again). Empty (false) when nothing changed."""
        record = self._indexed(path)
        return self.writer.run(lambda: self.tagging.set(record, tag, present))

    def _indexed(self, path: Path) -> FileRecord:
        record = self.file(path)
        if record is None:
            raise LumenError(f"{path} is not in the library")
        return record

    # -- search (``QueryPolicy``: reads only) ---------------------------------------------

    def search(
        self,
        text: str,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        like: Path | None = None,
    ) -> SearchResults:
        """Files that match ``text`` by meaning or by its exact words, best first.

        Words and "quoted phrases" found in a file's text, name or folder names lift it (a
        quoted phrase must be there, literally); document hits carry their best page and passage.
        ``-word`` leaves out what matches it, ``word:2`` weighs a part (see ``parse_query``), and
        ``like`` adds a picture (or document) to the query: "this photo, but at night".
        """
        return self.query.search(text, k, file_filter, show_all, like)

    def search_understood(
        self,
        text: str,
        limit: int,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        *,
        like: Path | None = None,
        load_model: bool = True,
        sort: str = BY_RELEVANCE,
        literal: frozenset[str] = frozenset(),
        now: datetime | None = None,
    ) -> QueryResults:
        """What a typed query shows: the dates, places and kinds it names ("beach July 2023 in
        Lisbon") become filters, the rest is searched; a filter that leaves nothing falls back
        to the whole query and says so. ``sort="date"``: newest first; ``literal``: understood
        parts the user took back ("place"), searched as words."""
        return self.query.search_understood(
            text,
            limit,
            file_filter,
            show_all,
            like=like,
            load_model=load_model,
            sort=sort,
            literal=literal,
            now=now,
        )

    def understand(self, text: str) -> Understood:
        """How ``text`` reads: its dates, places and kinds, and the rest to search by meaning."""
        return self.query.understand(text)

    def similar(
        self,
        path: Path,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        at_s: float | None = None,
    ) -> SearchResults:
        """Files that look like ``path``; an indexed file reuses its stored vector.

        For a video, ``at_s`` picks the frame nearest that time (else all its frames count).
        """
        return self.query.similar(path, k, file_filter, show_all, at_s)

    def related_documents(
        self,
        path: Path,
        k: int = 10,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
    ) -> SearchResults:
        """Documents whose passages are closest to ``path`` (a photo: image → text retrieval)."""
        return self.query.related_documents(path, k, file_filter, show_all)

    def similar_to_vector(
        self, query: np.ndarray, k: int = 50, file_filter: FileFilter | None = None
    ) -> SearchResults:
        return self.query.similar_to_vector(query, k, file_filter)

    def duplicates(
        self,
        threshold: float = DUPLICATE_COSINE,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of photos that are the same picture (copies, edits, bursts), biggest first."""
        return self.query.duplicates(threshold, progress)

    def recent(
        self,
        k: int = 100,
        file_filter: FileFilter | None = None,
        *,
        offset: int = 0,
        pending: bool = False,
    ) -> list[FileRecord]:
        """Newest indexed files (what an empty query shows), ``k`` from position ``offset``;
        ``pending``: files not embedded yet follow them."""
        return self.query.recent(k, file_filter, offset=offset, pending=pending)

    def find_by_name(
        self,
        words: Sequence[str],
        limit: int = 100,
        file_filter: FileFilter | None = None,
        *,
        pending_only: bool = False,
    ) -> list[FileRecord]:
        """Indexed or not-yet-embedded files whose name holds every word (no model needed)."""
        return self.query.find_by_name(words, limit, file_filter, pending_only=pending_only)

    def has_pending(self) -> bool:
        """Whether files wait to be embedded."""
        return self.query.has_pending()

    def file(self, path: Path) -> FileRecord | None:
        return self.query.file(path)

    # -- status ---------------------------------------------------------------------------

    def status(self) -> LibraryStatus:
        """What the library holds (see ``library_status.read_status``)."""
        switching = self.models.switching
        return read_status(self.settings, self.store, self.priority, switching)

    def failures(self) -> list[FileRecord]:
        return self.catalog.failed_files()


def make_private(data_dir: Path) -> None:
    """Create the data dir readable by its owner only (catalog, thumbnails, pasted images)."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = data_dir.stat()
        # Only others' rights are taken away: a folder made read-only stays read-only.
        if os.name == "posix" and info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(data_dir, info.st_mode & 0o700)
    except OSError as exc:  # Catalog.open reports a data dir that cannot be used at all
        log.warning("Could not make %s private: %s", data_dir, exc.strerror or exc)
