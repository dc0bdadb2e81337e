"""A second writer hands its run to the process that indexes the library, or waits its turn."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.indexing.pipeline import IndexSummary, Progress
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.indexing.writer_lock import LibraryBusyError
from desktop_app.core.library import Library
from desktop_app.host.service import LibraryService
from tests.support.shapes import caption_for_text, render
from tests.support.waiting import wait_until

RED = "a red circle on the left"
BLUE = "a blue square at the top"
GREEN = "a green triangle on the right"


def _folder(base: Path, name: str, captions: dict[str, str]) -> Path:
    folder = base / name
    folder.mkdir()
    for file_name, caption in captions.items():
        render(caption_for_text(caption)).save(folder / file_name)
    return folder


def _open(settings: Settings, embedder: Embedder) -> Library:
    return Library.open(settings, embedder_loader=lambda _s: embedder)


def test_a_run_is_handed_to_the_watching_writer_and_its_results_are_seen_here(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = _folder(tmp_path, "photos", {"red.png": RED, "blue.png": BLUE})
    more = _folder(tmp_path, "more", {"green.png": GREEN})
    writer = _open(tiny_settings, tiny_embedder)  # e.g. `lumen watch`
    writer.add_folder(photos)
    writer.claim_writer("lumen watch")
    watcher = FolderWatcher(writer, settle_s=0.1, recheck_s=0.1, reconcile_every_s=None)
    other = _open(tiny_settings, tiny_embedder)  # e.g. the window, or `lumen index more`
    heard: list[Progress] = []
    try:
        watcher.start()
        assert watcher.wait_idle(60)
        with pytest.raises(LibraryBusyError, match=r"lumen watch, pid \d+"):
            other.index([more])  # without hand_off: refused, saying who indexes

        summary = other.index([more], heard.append, hand_off=True)

        assert summary.new == 1 and summary.seen == 3 and not summary.cancelled
        assert not other.is_writer  # the watcher did the run
        waiting = [p for p in heard if p.phase == "waiting"]
        assert waiting and waiting[0].note.startswith("Handed to lumen watch (pid")
        # What the writer indexed is searchable here at once, and the new folder is watched.
        assert other.search(GREEN, 1).hits[0].file.path == more / "green.png"
        wait_until(lambda: more in watcher.watched_folders, what="the new folder to be watched")
        render(caption_for_text(RED), seed=4).save(more / "red2.png")
        wait_until(
            lambda: (
                writer.file(more / "red2.png") is not None
                and writer.file(more / "red2.png").status == "indexed"
            ),  # type: ignore[union-attr]
            what="the watcher to index a file in the handed-over folder",
        )
    finally:
        watcher.stop()
        other.close()
        writer.close()


def test_without_a_watcher_the_second_run_waits_its_turn_then_runs_itself(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = _folder(tmp_path, "photos", {"red.png": RED, "blue.png": BLUE})
    first = _open(tiny_settings, tiny_embedder)  # e.g. a long `lumen index`
    first.claim_writer("lumen index")
    second = _open(tiny_settings, tiny_embedder)
    heard: list[Progress] = []
    outcome: list[IndexSummary] = []
    worker = threading.Thread(
        target=lambda: outcome.append(second.index([photos], heard.append, hand_off=True))
    )
    worker.start()
    try:
        wait_until(lambda: any(p.phase == "waiting" for p in heard), what="the waiting notice")
        note = next(p.note for p in heard if p.phase == "waiting")
        assert note.startswith("Waiting for lumen index (pid") and "starts then" in note
        assert not outcome and not second.is_writer
        first.close()  # the first run ends: the second one takes the library and runs
        worker.join(60)
        assert outcome and outcome[0].new == 2 and second.is_writer
        assert second.search(RED, 1).hits[0].file.path == photos / "red.png"
    finally:
        worker.join(60)
        second.close()
        first.close()


def test_stopping_to_wait_keeps_the_handed_folder_for_the_writer(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = _folder(tmp_path, "photos", {"red.png": RED})
    first = _open(tiny_settings, tiny_embedder)
    first.claim_writer("lumen index")
    second = _open(tiny_settings, tiny_embedder)
    cancel = threading.Event()
    try:
        summary = second.index(
            [photos],
            lambda p: cancel.set() if p.phase == "waiting" else None,
            cancel,
            hand_off=True,
        )
        assert summary.cancelled and summary.seen == 0
        # The writer's next full run takes the handed folder.
        assert first.index().new == 1
        assert second.rescan_wanted() is False
    finally:
        second.close()
        first.close()


def test_a_paused_window_lets_lumen_index_run_and_takes_in_its_work_on_resume(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = _folder(tmp_path, "photos", {"red.png": RED, "blue.png": BLUE})
    more = _folder(tmp_path, "more", {"green.png": GREEN})
    window = _open(tiny_settings, tiny_embedder)
    service = LibraryService(window)
    cli = _open(tiny_settings, tiny_embedder)
    try:
        window.index([photos])
        assert service.set_watching(True, lambda _c: None)
        assert service.set_watching(False, lambda _c: None) is False  # the user paused
        assert not window.is_writer

        summary = cli.index([more], hand_off=True)  # runs at once: nothing to wait for
        assert summary.new == 1 and cli.is_writer
        cli.close()

        resumed = window.index()  # resume: the window is the writer again, up to date
        assert window.is_writer and resumed.new == 0 and resumed.unchanged == 3
        assert window.search(GREEN, 1).hits[0].file.path == more / "green.png"
        status = window.status()
        assert status.vectors == status.index_size == 3
    finally:
        service.close()
        cli.close()
        window.close()
