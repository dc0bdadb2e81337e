"""The host's service: it answers with the core's query policy, the same as `lumen search`."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.query.results import BY_MEANING, BY_NAME
from desktop_app.core.records import FileFilter, Progress
from desktop_app.host.client import LibraryClient, LocalBackend
from desktop_app.host.protocol import MODEL_READY, READY, Col, Query
from desktop_app.host.service import LibraryService
from tests.conftest import IndexedShapes
from tests.support.geotagged import LISBON, write_geotagged_photo
from tests.support.photos import write_shape_photos
from tests.support.settings import tiny_model_settings
from tests.support.shapes import caption_for_text


def test_the_window_and_lumen_search_rank_a_query_the_same(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    settings = tiny_model_settings(tmp_path, tiny_weights)
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(101,))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([photos])
        # Found by the scanner, not embedded yet: only its name can find it.
        folder = library.folders()[0]
        late = photos / "red circle notes.jpg"
        late.write_bytes(b"not embedded yet")
        library.catalog.add_file(
            folder_id=folder.id, path=late, size=16, mtime_ns=1, inode=None,
            fingerprint="", kind="image",
        )  # fmt: skip

    query = "red circle"
    cli = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(settings.data_dir),
         "--weights", str(tiny_weights), "search", query, "-k", "8", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )  # fmt: skip
    by_cli = [(h["path"], h["match"]) for h in json.loads(cli.stdout)["results"]]

    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        assert service.warm_model().state == MODEL_READY
        result = service.query(Query(text=query, limit=8))
        service.close()
    by_window = [(row[Col.PATH], row[Col.MATCH]) for row in result.rows]

    assert by_window == by_cli
    assert by_cli[0][1] == BY_MEANING
    assert by_cli[-1] == (str(late), BY_NAME)


def test_the_windows_forget_and_exclude_take_effect_while_it_indexes(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos / "a", seeds=(1,))
    write_shape_photos(photos / "b", seeds=(1,))
    ready = threading.Event()
    backend = LocalBackend(
        lambda: LibraryService(tiny_library),
        lambda kind, _value: ready.set() if kind == READY else None,
        close_library=False,
    )
    backend.start()
    assert ready.wait(60)
    client = LibraryClient(backend)
    edited = threading.Event()
    held: list[bool] = []

    def progress(p: Progress) -> None:
        # The run holds the writer lane here until the edits are done: edits that waited for
        # that lane would never finish, and this wait would give up.
        if p.phase == "indexing" and not held:
            held.append(edited.wait(120))

    run = client.index([photos], progress)
    try:
        while not tiny_library.status().indexed and not run.future.done():
            time.sleep(0.05)
        forgotten = client.forget([photos / "b"]).result(timeout=60)
        assert set(forgotten.removed) == set((photos / "b").iterdir())  # each of b's files
        assert not client.exclude("*.tmp").result(timeout=60).removed
        assert not run.future.done()  # the edits finished while the run was still going
    finally:
        edited.set()
        run.result(timeout=300)
        backend.close()
    assert held == [True]
    assert {"*.tmp", str(photos / "b")} <= set(tiny_library.exclusions())
    assert not any(p.is_relative_to(photos / "b") for p in tiny_library.catalog.files_under(photos))


def test_thumbnails_wait_while_a_query_is_answered(
    tmp_path: Path, indexed_shapes: IndexedShapes, tiny_embedder: Embedder
) -> None:
    """The window asks for a screenful of thumbnails as results arrive; the next keystroke's
    query must not queue behind them for the cores."""
    from tests.support.waiting import wait_until

    # 72 photos, indexed once a session (a copy of their library)
    settings, _shapes = indexed_shapes.copy(tmp_path / "models", seeds=(1,))
    photos = settings.data_dir.parent / "photos"
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        wanted = [(p, f"{i:032x}", "image", None) for i, p in enumerate(sorted(photos.iterdir()))]
        made: list[list[str | None]] = []
        with library.priority.query():  # a query is being answered
            worker = threading.Thread(target=lambda: made.append(service.thumbnails(wanted)))
            worker.start()
            wait_until(lambda: library.priority.waits > 0, what="the thumbnails to stand aside")
            assert not made
        worker.join(30)
        service.close()
    assert made and len(made[0]) == len(wanted) and all(made[0])


def test_the_status_read_after_an_index_run_waits_while_a_query_is_answered(
    tmp_path: Path, indexed_shapes: IndexedShapes, tiny_embedder: Embedder
) -> None:
    """The window reads the library's status when an index run ends, often as the user types:
    its counts (~0.2 s at 100k files) must not share the cores with the first query."""
    from tests.support.waiting import wait_until

    # 72 photos, indexed once a session (a copy of their library)
    settings, _shapes = indexed_shapes.copy(tmp_path / "models", seeds=(1,))
    photos = settings.data_dir.parent / "photos"
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        read: list[int] = []
        with library.priority.query():  # a query is being answered
            worker = threading.Thread(target=lambda: read.append(service.info().indexed))
            worker.start()
            wait_until(lambda: library.priority.waits > 0, what="the status read to stand aside")
            assert not read
        worker.join(30)
        service.close()
    assert read == [len(list(photos.iterdir()))]


def test_a_refreshed_row_says_where_its_photo_was_taken(
    tiny_library: Library, tmp_path: Path
) -> None:
    photo = write_geotagged_photo(
        tmp_path / "trip" / "l1.jpg", caption_for_text("a red circle on the left"), 1, None, LISBON
    )
    tiny_library.index([photo.parent])
    service = LibraryService(tiny_library)
    try:
        (row,) = service.rows([photo])  # what the window asks for a file a change names
        found = service.query(Query(text="a red circle on the left", limit=5))
    finally:
        service.close()
    assert row is not None and row[Col.PLACE] == "Lisbon, Portugal"
    assert [r[Col.PLACE] for r in found.rows] == ["Lisbon, Portugal"]


def test_the_model_warm_up_searches_once_and_writes_nothing(
    tmp_path: Path, indexed_shapes: IndexedShapes, tiny_embedder: Embedder
) -> None:
    # 72 photos, indexed once a session (a copy of their library)
    settings, _shapes = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.models.embedder()  # loaded, as after the index run that made the library
        asked: list[str] = []
        search = library.search_understood

        def spy(text: str, *args: object, **kwargs: object) -> object:
            asked.append(text)
            return search(text, *args, **kwargs)  # type: ignore[arg-type]

        library.search_understood = spy  # type: ignore[method-assign,assignment]
        catalog = settings.catalog_path
        before = (catalog.stat().st_mtime_ns, library.catalog.write_count)
        service = LibraryService(library)
        assert service.warm_model().state == MODEL_READY
        assert service.warm_model().state == MODEL_READY  # asked again: no second warm-up
        space, photos = library.store.space, FileFilter(kinds=frozenset({"image"}))
        deadline = time.monotonic() + 60
        while library.catalog.known_allowed_vector_ids(space, photos) is None:
            assert time.monotonic() < deadline, "the photos filter was not resolved ahead"
            time.sleep(0.05)
        service.close()
        assert asked == ["warm up"]  # the ranking's caches are read before the first query
        assert (catalog.stat().st_mtime_ns, library.catalog.write_count) == before


def test_a_search_page_past_the_first_holds_the_best_files_up_to_its_end(
    tmp_path: Path, indexed_shapes: IndexedShapes, tiny_embedder: Embedder
) -> None:
    settings, shapes = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        try:
            assert service.warm_model().state == MODEL_READY
            like = sorted(shapes)[0]
            for asked in (Query(text="red", show_all=True), Query(similar_to=like, show_all=True)):
                whole = service.query(dataclasses.replace(asked, limit=30))
                first = service.query(dataclasses.replace(asked, limit=10))
                rest = service.query(dataclasses.replace(asked, limit=20, offset=10))
                paths = [row[Col.PATH] for row in whole.rows]
                assert len(paths) == 30  # enough files for three pages
                assert [row[Col.PATH] for row in first.rows] == paths[:10]
                # The rows shown come again: the window keeps those it has, adds the rest.
                assert [row[Col.PATH] for row in rest.rows] == paths
                assert rest.hidden == whole.hidden
        finally:
            service.close()
