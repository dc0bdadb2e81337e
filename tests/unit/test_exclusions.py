"""Things a user removes stay removed: exclusions, and forget while an index run goes on."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from desktop_app.core.indexing.pipeline import Progress
from desktop_app.core.library import Library
from desktop_app.core.storage.exclusions import Exclusions, normalise
from tests.support.photos import write_shape_photos
from tests.support.shapes import caption_for_text, render

RED = "a red circle on the left"


def test_paths_names_and_globs_match_what_they_say() -> None:
    ex = Exclusions.of(["node_modules", "*.tmp", "/home/a/Private", "/home/a/*/cache"])
    assert ex.excludes(Path("/x/node_modules/pic.jpg"))
    assert not ex.excludes(Path("/x/node_modules_not/pic.jpg"))
    assert ex.excludes(Path("/x/y/z.tmp")) and not ex.excludes(Path("/x/y/z.tmp.jpg"))
    assert ex.excludes(Path("/home/a/Private")) and ex.excludes(Path("/home/a/Private/b/c.png"))
    assert not ex.excludes(Path("/home/a/PrivateNot/c.png"))
    assert ex.excludes(Path("/home/a/web/cache/c.png")) and not ex.excludes(Path("/home/a/c.png"))
    assert normalise("node_modules") == "node_modules"
    assert normalise("~/x/../y").endswith("/y") and normalise("~/y").startswith("/")


def _library_files(library: Library) -> set[str]:
    return {r.path.name for r in library.catalog.files_under(Path("/")).values()}


def _consistent(library: Library) -> None:
    status = library.status()
    assert status.vectors == status.index_size
    space = library.catalog.get_meta("space") or ""
    assert np.array_equal(
        np.sort(library.catalog.vector_ids(space)), np.sort(library.store.index.ids())
    )


def test_default_exclusions_and_forget_stay_out_of_later_runs(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text("a blue square at the top")).save(photos / "blue.png")
    (photos / "node_modules" / "pkg").mkdir(parents=True)
    render(caption_for_text(RED)).save(photos / "node_modules" / "pkg" / "logo.png")
    summary = tiny_library.index([photos])
    assert summary.seen == 2 and _library_files(tiny_library) == {"red.png", "blue.png"}

    forgotten = tiny_library.forget(photos / "red.png")
    assert (forgotten.removed, forgotten.vectors_removed) == ((photos / "red.png",), 1)
    assert "red.png" not in {h.file.path.name for h in tiny_library.search(RED, 5).hits}
    render(caption_for_text(RED), seed=3).save(photos / "red.png")  # changed on disk, too
    summary = tiny_library.index()
    assert summary.seen == 1 and summary.new == 0  # never looked at again
    assert _library_files(tiny_library) == {"blue.png"}
    assert str(photos / "red.png") in tiny_library.exclusions()

    assert tiny_library.include(str(photos / "red.png"))
    tiny_library.index()
    assert _library_files(tiny_library) == {"red.png", "blue.png"}
    _consistent(tiny_library)


def test_a_name_pattern_takes_matching_files_out_of_results_at_once(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos / "keep", seeds=(1,))
    write_shape_photos(photos / "drafts", seeds=(1,))
    tiny_library.index([photos])
    assert any(
        "drafts" in str(h.file.path) for h in tiny_library.search(RED, 10, show_all=True).hits
    )
    removed = tiny_library.exclude("draft*")
    assert removed.vectors_removed == 72
    assert len(removed.removed) == 72 and all("drafts" in str(p) for p in removed.removed)
    hits = tiny_library.search(RED, 200, show_all=True).hits
    assert hits and not any("drafts" in str(h.file.path) for h in hits)
    assert tiny_library.index().new == 0
    _consistent(tiny_library)


def test_forget_takes_effect_while_an_index_run_goes_on(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos / "a", seeds=(1, 2))
    write_shape_photos(photos / "b", seeds=(1, 2))
    forgotten = threading.Event()
    outcome: dict[str, object] = {}

    def progress(p: Progress) -> None:
        # The run stops here, holding its writer slot, until forget has returned: a forget that
        # waited for the run to end would never return, and this wait would fail the run.
        if p.phase == "indexing" and not forgotten.is_set():
            outcome["waited"] = forgotten.wait(120)

    def run() -> None:
        outcome["summary"] = tiny_library.index([photos], progress)

    runner = threading.Thread(target=run)
    runner.start()
    try:
        while "waited" not in outcome and runner.is_alive():
            runner.join(0.05)
            if tiny_library.status().indexed:
                tiny_library.forget(photos / "b")
                forgotten.set()
                break
        assert runner.is_alive()  # forget returned while the run was still going
    finally:
        forgotten.set()
        runner.join(300)
    assert outcome.get("waited") is True
    names = {str(p) for p in tiny_library.catalog.files_under(photos)}
    assert names and not any(n.startswith(str(photos / "b")) for n in names)
    hits = tiny_library.search(RED, 500, show_all=True).hits
    assert hits and all(h.file.path.is_relative_to(photos / "a") for h in hits)
    _consistent(tiny_library)
    assert tiny_library.index().new == 0  # and it does not come back
