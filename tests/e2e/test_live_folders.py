"""Live folders: the real watcher and the tiny model on real files; each test checks search."""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.indexing.pipeline import FileChanges
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.library import Library
from tests.support.processes import child, reap
from tests.support.shapes import Caption, all_captions, caption_for_text, render
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

RED = caption_for_text("a red circle on the left")
BLUE = caption_for_text("a blue square on the right")
GREEN = caption_for_text("a green triangle at the top")
YELLOW = caption_for_text("a yellow circle at the bottom")
PURPLE = caption_for_text("a purple square on the left")
BLACK = caption_for_text("a black triangle on the right")
BACKGROUND = (RED, BLUE, GREEN, YELLOW)


def png(caption: Caption, seed: int = 1, size: int = 64) -> bytes:
    buffer = io.BytesIO()
    render(caption, (size, size), seed=seed).save(buffer, format="PNG")
    return buffer.getvalue()


class Live:
    """A library, one watched folder and a running watcher, with helpers that wait on search."""

    def __init__(self, library: Library, root: Path) -> None:
        self.library = library
        self.root = root
        self.changes: list[FileChanges] = []
        self.callback_threads: set[str] = set()
        self.watcher: FolderWatcher | None = None

    def start(self, **options: Any) -> FolderWatcher:
        settings: dict[str, Any] = {"settle_s": 0.3, "recheck_s": 0.2, "reconcile_every_s": None}
        settings.update(options)
        self.watcher = FolderWatcher(self.library, on_change=self._heard, **settings)
        self.watcher.start()
        assert self.watcher.wait_idle(60), "the first rescan did not finish"
        return self.watcher

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            assert self.watcher.error is None
            self.watcher = None

    def _heard(self, changes: FileChanges) -> None:
        self.callback_threads.add(threading.current_thread().name)
        self.changes.append(changes)

    def write(self, relative: str, caption: Caption, seed: int = 1) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png(caption, seed))
        return path

    def results(self, caption: Caption, k: int = 3) -> list[Path]:
        return [hit.file.path for hit in self.library.search(caption.text, k, show_all=True).hits]

    def wait_found(self, path: Path, caption: Caption) -> None:
        wait_until(lambda: path in self.results(caption), what=f"{path.name} in results")

    def wait_gone(self, path: Path, caption: Caption) -> None:
        wait_until(lambda: path not in self.results(caption, k=100), what=f"{path.name} gone")

    def vector_ids(self, path: Path) -> list[int]:
        record = self.library.file(path)
        assert record is not None
        space = self.library.catalog.get_meta("space") or ""
        return [owner.vector_id for owner, _ in self.library.catalog.file_vectors(record.id, space)]


@pytest.fixture
def live(tiny_library: Library, tmp_path: Path) -> Iterator[Live]:
    root = tmp_path / "photos"
    root.mkdir()
    helper = Live(tiny_library, root)
    for i, caption in enumerate(BACKGROUND):
        helper.write(f"old_{i}.png", caption)
    tiny_library.add_folder(root)
    helper.start()
    yield helper
    helper.stop()
    # never the caller's thread: the watcher's, or the writer's (which commits its writes)
    assert helper.callback_threads <= {"lumen-watch", "lumen-writer_0"}


def test_saved_files_become_searchable_in_the_folder_and_its_subfolders(live: Live) -> None:
    for path in (live.root / "old_0.png", live.root / "old_1.png"):
        assert path in live.results(RED if path.name == "old_0.png" else BLUE)
    top = live.write("purple.png", PURPLE)
    deep = live.write("2024/summer/black.png", BLACK)
    live.wait_found(top, PURPLE)
    live.wait_found(deep, BLACK)
    assert live.results(PURPLE, k=1) == [top]
    wait_until(  # and a view was told (just after the files became searchable)
        lambda: {top, deep} <= {p for c in live.changes for p in c.indexed}, what="on_change"
    )


def test_new_content_is_embedded_again_but_a_touch_is_not(live: Live) -> None:
    path = live.root / "old_0.png"  # shows the red circle
    twin = live.write("red twin.png", RED, seed=2)
    live.wait_found(twin, RED)
    record = live.library.file(path)
    assert record is not None and record.indexed_at is not None
    vectors = live.vector_ids(path)

    st = path.stat()  # touched: mtime changes, bytes do not
    later = st.st_mtime_ns + 7_000_000_000
    os.utime(path, ns=(st.st_atime_ns, later))
    wait_until(
        lambda: (r := live.library.file(path)) is not None and r.mtime_ns == later,
        what="the touch to be noticed",
    )
    touched = live.library.file(path)
    assert touched is not None and touched.indexed_at == record.indexed_at
    assert live.vector_ids(path) == vectors
    assert path in live.results(RED)

    path.write_bytes(png(PURPLE))  # same path, new picture
    wait_until(lambda: live.results(PURPLE, k=1) == [path], what="the new picture to be found")
    assert live.results(RED, k=1) == [twin]
    assert live.vector_ids(path) != vectors


def test_renames_and_moves_keep_the_row_and_vector(live: Live) -> None:
    old = live.root / "old_2.png"  # green triangle
    record = live.library.file(old)
    assert record is not None
    vectors = live.vector_ids(old)

    renamed = live.root / "green triangle.png"
    old.rename(renamed)
    live.wait_found(renamed, GREEN)
    (live.root / "sorted" / "shapes").mkdir(parents=True)
    moved = live.root / "sorted" / "shapes" / "triangle.png"
    renamed.rename(moved)
    live.wait_found(moved, GREEN)

    assert live.results(GREEN, k=100).count(moved) == 1
    assert old not in live.results(GREEN, k=100) and renamed not in live.results(GREEN, k=100)
    after = live.library.file(moved)
    assert after is not None and after.id == record.id and after.indexed_at == record.indexed_at
    assert live.vector_ids(moved) == vectors
    wait_until(lambda: len([m for c in live.changes for m in c.moved]) == 2, what="on_change")
    assert [(a.name, b.name) for c in live.changes for a, b in c.moved] == [
        ("old_2.png", "green triangle.png"),
        ("green triangle.png", "triangle.png"),
    ]

    # A whole folder renamed: every file in it keeps its row.
    (live.root / "sorted").rename(live.root / "archive")
    kept = live.root / "archive" / "shapes" / "triangle.png"
    live.wait_found(kept, GREEN)
    again = live.library.file(kept)
    assert again is not None and again.id == record.id


def test_moving_out_is_a_delete_and_moving_in_is_new(live: Live, tmp_path: Path) -> None:
    outside = tmp_path / "not watched"
    outside.mkdir()
    leaving = live.root / "old_3.png"  # yellow circle
    leaving.rename(outside / "old_3.png")
    live.wait_gone(leaving, YELLOW)
    assert live.library.file(outside / "old_3.png") is None

    arriving = outside / "black.png"
    arriving.write_bytes(png(BLACK))
    arriving.rename(live.root / "black.png")
    live.wait_found(live.root / "black.png", BLACK)
    assert live.library.status().indexed == len(BACKGROUND)


def test_deleted_files_and_folders_vanish_from_results(live: Live) -> None:
    album = [live.write(f"album/{i}.png", PURPLE, seed=i) for i in range(3)]
    for path in album:
        live.wait_found(path, PURPLE) if path == album[0] else None
    wait_until(lambda: all(live.library.file(p) for p in album), what="the album to be indexed")

    (live.root / "old_1.png").unlink()
    live.wait_gone(live.root / "old_1.png", BLUE)
    shutil.rmtree(live.root / "album")
    wait_until(
        lambda: not set(album) & set(live.results(PURPLE, k=100)), what="the album to be gone"
    )
    assert live.library.status().indexed == len(BACKGROUND) - 1


def test_partly_written_files_wait_until_they_are_complete(live: Live) -> None:
    live.stop()
    live.start(settle_s=1.0)  # a generous settle time: the writer below pauses 0.1 s at most
    path = live.root / "camera import.png"
    data = png(PURPLE)
    with open(path, "wb") as handle:
        for start in range(0, len(data), len(data) // 8 + 1):
            handle.write(data[start : start + len(data) // 8 + 1])
            handle.flush()
            assert live.library.file(path) is None, "read while still being written"
            time.sleep(0.1)  # a slow writer
    live.wait_found(path, PURPLE)

    # A browser download: written under a temporary name, renamed when complete.
    part = live.root / "download.png.crdownload"
    part.write_bytes(png(BLACK))
    hidden = live.root / ".thumbnail.png"
    hidden.write_bytes(png(BLACK, seed=2))
    final = live.root / "download.png"
    part.rename(final)
    live.wait_found(final, BLACK)
    assert live.library.file(part) is None and live.library.file(hidden) is None
    status = live.library.status()
    assert status.failed == 0 and status.indexed == len(BACKGROUND) + 2


def test_a_burst_of_files_is_batched(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    update_paths = live.library.update_paths

    def counting(paths: Any, *args: Any, **kwargs: Any) -> Any:
        paths = list(paths)
        calls.append(len(paths))
        return update_paths(paths, *args, **kwargs)

    monkeypatch.setattr(live.library, "update_paths", counting)
    pictures = [png(caption, seed=1000, size=32) for caption in all_captions()]
    burst = live.root / "burst"
    burst.mkdir()
    for i in range(2000):  # a copy of 2,000 photos; the suffix makes each file's bytes unique
        picture = pictures[i % len(pictures)]
        (burst / f"{i:04d}.png").write_bytes(picture + i.to_bytes(4, "big"))
    wait_until(
        lambda: live.library.status().indexed == len(BACKGROUND) + 2000,
        timeout=240,
        what="2,000 files to be indexed",
    )
    assert sum(calls) >= 2000 and len(calls) < 100, calls  # batches, not one call per file
    hits = live.results(PURPLE, k=10)
    assert sum(p.parent == burst for p in hits) >= 5
    assert live.library.status().failed == 0


def test_a_folder_that_goes_away_is_hidden_not_forgotten(live: Live, tmp_path: Path) -> None:
    red = live.root / "old_0.png"
    live.root.rename(tmp_path / "unplugged")  # the drive is unplugged
    live.wait_gone(red, RED)
    status = live.library.status()
    assert status.offline == len(BACKGROUND) and status.indexed == 0
    assert [f.online for f in status.folders] == [False]
    assert live.library.file(red) is not None  # kept

    (tmp_path / "unplugged" / "old_1.png").unlink()  # changed while it was away
    (tmp_path / "unplugged").rename(live.root)  # plugged in again
    live.wait_found(red, RED)
    live.wait_gone(live.root / "old_1.png", BLUE)
    status = live.library.status()
    assert status.offline == 0 and status.indexed == len(BACKGROUND) - 1
    assert [f.online for f in status.folders] == [True]
    assert any(c.offline for c in live.changes)
    wait_until(lambda: any(c.online for c in live.changes), what="on_change")

    later = live.write("after.png", PURPLE)  # and it is watched again
    live.wait_found(later, PURPLE)


def test_files_waiting_in_an_unplugged_folder_are_kept(
    tiny_library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "drive"
    root.mkdir()
    waiting = root / "purple.png"
    waiting.write_bytes(png(PURPLE))
    (root / "red.png").write_bytes(png(RED))
    tiny_library.index([root])
    record = tiny_library.file(waiting)
    assert record is not None
    tiny_library.catalog.update_file(record.id, status="pending")  # as if a run was interrupted
    root.rename(tmp_path / "unplugged")
    tiny_library.index()
    assert tiny_library.file(waiting) is not None  # not taken for deleted
    (tmp_path / "unplugged").rename(root)
    tiny_library.index()
    assert [h.file.path for h in tiny_library.search(PURPLE.text, 1).hits] == [waiting]
    assert tiny_library.status().indexed == 2


def test_changes_made_while_stopped_are_caught_on_start(live: Live) -> None:
    moved_record = live.library.file(live.root / "old_2.png")
    live.stop()
    new = live.write("new.png", PURPLE)
    (live.root / "old_0.png").unlink()
    (live.root / "sub").mkdir()
    moved = live.root / "sub" / "green.png"
    (live.root / "old_2.png").rename(moved)
    (live.root / "old_3.png").write_bytes(png(BLACK))
    assert live.library.file(new) is None

    live.start()
    assert new in live.results(PURPLE)
    assert live.root / "old_0.png" not in live.results(RED, k=100)
    assert moved in live.results(GREEN)
    after = live.library.file(moved)
    assert moved_record is not None and after is not None and after.id == moved_record.id
    assert live.results(BLACK, k=1) == [live.root / "old_3.png"]


def test_symlink_loops_and_clutter_do_not_stop_the_watcher(live: Live) -> None:
    (live.root / "a").mkdir()
    (live.root / "a" / "loop").symlink_to(live.root, target_is_directory=True)
    (live.root / ".cache").mkdir()
    (live.root / ".cache" / "x.png").write_bytes(png(BLACK))
    (live.root / "notes.tmp").write_bytes(b"temp")
    path = live.write("a/black.png", BLACK)
    live.wait_found(path, BLACK)
    live.library.index()  # a full rescan walks the loop once
    assert live.library.status().indexed == len(BACKGROUND) + 1
    assert live.library.file(live.root / ".cache" / "x.png") is None


def test_a_catalog_locked_too_long_is_reported_and_the_watcher_goes_on(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_update = live.library.update_paths
    calls: list[int] = []

    def locked_the_first_time(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # what SQLite says when its busy timeout runs out
            reason = sqlite3.OperationalError("database is locked")
            raise OperationalError("UPDATE files", {}, reason)
        return real_update(*args, **kwargs)

    monkeypatch.setattr(live.library, "update_paths", locked_the_first_time)
    with caplog.at_level(logging.ERROR, logger="desktop_app.core.indexing.watcher"):
        live.write("purple.png", PURPLE)
        wait_until(lambda: calls, what="the watcher to update the index")
        assert live.watcher is not None and live.watcher.wait_idle(30)
    assert "stayed locked by another program (database is locked)" in caplog.text
    assert str(live.library.settings.data_dir) in caplog.text  # which library
    assert live.watcher.running and live.watcher.error is None  # not taken for a bug

    later = live.write("black.png", BLACK)
    live.wait_found(later, BLACK)  # the next change is indexed as usual


class _NoWatchesLeft(Observer):  # type: ignore[misc,valid-type]
    """An inotify observer on a system whose fs.inotify.max_user_watches is used up."""

    def schedule(self, *args: Any, **kwargs: Any) -> ObservedWatch:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


def test_without_inotify_watches_a_folder_is_polled(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    live.stop()
    with caplog.at_level(logging.WARNING, logger="desktop_app.core.indexing.watcher"):
        watcher = live.start(observer_factory=_NoWatchesLeft, poll_interval_s=0.2)
    assert watcher.polling_folders == [live.root]
    assert "fs.inotify.max_user_watches" in caplog.text and str(live.root) in caplog.text
    path = live.write("polled.png", PURPLE)
    live.wait_found(path, PURPLE)
    path.rename(live.root / "renamed.png")
    live.wait_found(live.root / "renamed.png", PURPLE)


def test_the_watcher_tells_once_its_writes_have_settled_not_while_changes_wait(
    live: Live,
) -> None:
    live.stop()
    settled: list[int] = []  # changes heard when on_settled was called
    live.start(on_settled=lambda: settled.append(len(live.changes)))
    wait_until(lambda: len(settled) == 1, what="the start's rescan to settle")
    paths = [live.write(f"burst_{i}.png", PURPLE, seed=i) for i in range(3)]
    for path in paths:
        live.wait_found(path, PURPLE)
    # told after the burst's last change (one batch, unless the writes straddled two)
    wait_until(
        lambda: len(settled) >= 2 and settled[-1] == len(live.changes),
        what="the burst's writes to settle",
    )
    told = len(settled)
    time.sleep(1.0)  # five folder checks of the watcher's, nothing written
    assert len(settled) == told  # not told again


def test_lost_events_and_a_timer_trigger_a_full_rescan(live: Live, tmp_path: Path) -> None:
    live.stop()
    rescans: list[int] = []
    live.start(on_reconciled=lambda s: rescans.append(s.seen))
    assert len(rescans) == 1  # on start
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(png(BLACK))
    linked = live.root / "linked.png"
    os.link(outside, linked)  # one file, two names: one watched, one not
    wait_until(lambda: live.results(BLACK, k=1) == [linked], what="the linked file")
    outside.write_bytes(png(PURPLE))  # rewritten through the unwatched name: no event
    # watchdog's warning when the kernel's event queue overflows and events are lost
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    wait_until(lambda: live.results(PURPLE, k=1) == [linked], what="the rescan to see it")
    wait_until(lambda: len(rescans) == 2, what="the rescan to end")

    live.stop()
    rescans.clear()
    live.start(reconcile_every_s=0.5, on_reconciled=lambda s: rescans.append(s.seen))
    wait_until(lambda: len(rescans) >= 3, what="periodic rescans")


def test_lumen_watch_logs_changes_and_stops_on_ctrl_c(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    (root / "red.png").write_bytes(png(RED))
    (root / "blue.png").write_bytes(png(BLUE))
    data = tmp_path / "data"
    base = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data)]
    model = ["--model", "lumen-tiny", "--weights", str(tiny_weights)]
    with child(
        [*base, *model, "watch", str(root), "--settle", "0.3"],
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    ) as watch:
        said = watch.said
        wait_until(lambda: said("up to date", "2 new"), timeout=120, what="the first rescan")
        assert said("Watching 1 folder") and said(str(root))
        (root / "purple.png").write_bytes(png(PURPLE))
        wait_until(lambda: said("indexed", "purple.png"), what="purple.png to be indexed")
        (root / "purple.png").rename(root / "violet.png")
        wait_until(lambda: said("moved", "purple.png ->", "violet.png"), what="the move")
        (root / "blue.png").unlink()
        wait_until(lambda: said("removed", "blue.png"), what="the delete")
        status = reap(watch.proc)  # Ctrl-C
    assert status == 0, watch.stderr
    assert "Stopped." in watch.lines[-1] and "Traceback" not in watch.stderr

    settings = Settings(data_dir=data, model="lumen-tiny", weights=tiny_weights, device="cpu")
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as reopened:
        found = reopened.search(PURPLE.text, 1).hits
        assert [h.file.path for h in found] == [root / "violet.png"]
        assert reopened.status().indexed == 2


def test_a_file_saved_the_moment_watching_starts_is_not_missed(
    tiny_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``start`` returns once the folders are watched, even when placing the watches takes a
    while (a big tree): the window starts watching without a rescan, so a change made in
    between would otherwise wait for the next one (15 minutes)."""
    root = tmp_path / "photos"
    root.mkdir()
    helper = Live(tiny_library, root)
    helper.write("old_0.png", RED)
    tiny_library.index([root])
    slow_sync = FolderWatcher._sync_folders

    def slow(watcher: FolderWatcher, initial: bool) -> None:
        if initial:
            time.sleep(0.5)
        slow_sync(watcher, initial)

    monkeypatch.setattr(FolderWatcher, "_sync_folders", slow)
    watcher = FolderWatcher(tiny_library, settle_s=0.3, recheck_s=0.2, reconcile_every_s=None)
    watcher.start(reconcile=False)  # as the window does after its own index run
    try:
        new = helper.write("purple.png", PURPLE)
        helper.wait_found(new, PURPLE)
    finally:
        watcher.stop()
    assert watcher.error is None
