"""One writer: every mutation runs on its one thread, in order, and says what it changed."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from desktop_app.core.indexing.writer import Writer
from desktop_app.core.library import Library
from desktop_app.core.records import FileChanges
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.store import Store
from tests.support.shapes import caption_for_text, render

RED = "a red circle on the left"
BLUE = "a blue square at the top"


def test_operations_run_on_one_thread_in_the_order_they_were_handed_in(tmp_path: Path) -> None:
    store = Store.open(Catalog.open(tmp_path / "catalog.sqlite3"), tmp_path / "vectors.hnsw")
    writer = Writer(store, tmp_path)
    ran: list[tuple[int, int]] = []

    def operation(n: int) -> int:
        ran.append((n, threading.get_ident()))
        return n * 10

    futures = [writer.submit(operation, n) for n in range(20)]
    callers = [threading.Thread(target=writer.run, args=(lambda: operation(99),)) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert [f.result() for f in futures] == [n * 10 for n in range(20)]
    assert [n for n, _ in ran[:20]] == list(range(20))  # in order
    assert len({thread for _, thread in ran}) == 1  # on one thread
    assert ran[0][1] != threading.get_ident()
    # An operation that runs another runs it at once (not queued behind itself).
    assert writer.run(lambda: writer.run(lambda: 7)) == 7
    writer.close()
    store.catalog.close()


def test_every_edit_returns_what_it_changed(tiny_library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "kept").mkdir(parents=True)
    (photos / "drafts").mkdir()
    render(caption_for_text(RED)).save(photos / "kept" / "red.png")
    render(caption_for_text(BLUE)).save(photos / "kept" / "blue.png")
    render(caption_for_text(RED), seed=2).save(photos / "drafts" / "red-2.png")
    seen: list[FileChanges] = []
    tiny_library.index([photos], on_change=seen.append)
    everything = FileChanges()
    for changes in seen:
        everything += changes
    files = {
        photos / "kept" / "red.png",
        photos / "kept" / "blue.png",
        photos / "drafts" / "red-2.png",
    }
    assert set(everything.added) == files and not everything.changed
    assert set(everything.tags) == files  # tagged by the run

    red = photos / "kept" / "red.png"
    assert tiny_library.set_tag(red, "holiday") == FileChanges(tags=(red,))
    assert not tiny_library.set_tag(red, "holiday")  # already there: nothing changed
    assert tiny_library.set_tag(red, "holiday", present=False) == FileChanges(tags=(red,))

    excluded = tiny_library.exclude("drafts")
    assert excluded.removed == (photos / "drafts" / "red-2.png",)
    assert excluded.exclusions == ("drafts",) and excluded.vectors_removed == 1
    assert tiny_library.include("drafts") == FileChanges(exclusions=("drafts",))
    assert not tiny_library.include("never-excluded")

    forgotten = tiny_library.forget(red)
    assert forgotten.removed == (red,) and forgotten.vectors_removed == 1
    assert forgotten.exclusions == (str(red),)

    paused = tiny_library.set_folder_paused(photos, True)
    assert paused == FileChanges(folders=(photos.resolve(),))
    removed = tiny_library.remove_folder(photos)
    assert removed.removed == (photos / "kept" / "blue.png",) and removed.vectors_removed == 1
    assert removed.folders == (photos.resolve(),)
    assert tiny_library.status().indexed == 0


def test_a_watcher_batch_says_which_files_were_added_changed_moved_and_removed(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    tiny_library.index([photos])
    seen: list[FileChanges] = []

    render(caption_for_text(BLUE), seed=5).save(photos / "blue.png")  # changed
    shutil.move(photos / "red.png", photos / "crimson.png")  # moved
    render(caption_for_text(RED), seed=7).save(photos / "new.png")  # added
    paths = [photos / "blue.png", photos / "red.png", photos / "crimson.png", photos / "new.png"]
    tiny_library.update_paths(paths, on_change=seen.append)
    batch = FileChanges()
    for changes in seen:
        batch += changes
    assert batch.moved == ((photos / "red.png", photos / "crimson.png"),)
    assert batch.added == (photos / "new.png",)
    assert batch.changed == (photos / "blue.png",)
    assert not batch.removed

    (photos / "new.png").unlink()
    seen.clear()
    tiny_library.update_paths([photos / "new.png"], on_change=seen.append)
    assert [c.removed for c in seen if c.removed] == [(photos / "new.png",)]
