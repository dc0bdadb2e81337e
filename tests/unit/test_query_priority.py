"""Queries go first: while one runs, indexing stands aside; afterwards it finishes everything."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from pathlib import Path

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.records import IndexSummary, Progress
from tests.support.photos import write_shape_photos
from tests.support.shapes import caption_for_text
from tests.support.waiting import wait_until

BATCH = 8


def test_indexing_stands_aside_while_a_query_runs_and_then_finishes(
    tmp_path: Path, tiny_settings: Settings, tiny_embedder: Embedder
) -> None:
    photos = write_shape_photos(tmp_path / "Pictures", seeds=(1, 2))  # 144 photos
    settings = dataclasses.replace(tiny_settings, batch_size=BATCH)
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.add_folder(tmp_path / "Pictures")
        library.priority.max_wait_s = 600  # the query below lasts as long as this test wants
        query = contextlib.ExitStack()
        held_at: list[int] = []

        def on_progress(progress: Progress) -> None:
            # the first stored batch: a query starts now (in another thread of the app)
            if progress.phase == "indexing" and progress.done and not held_at:
                query.enter_context(library.priority.query())
                held_at.append(progress.done)

        outcome: list[IndexSummary] = []
        run = threading.Thread(target=lambda: outcome.append(library.index(progress=on_progress)))
        run.start()
        try:
            # decoding threads and the model have reached their checkpoints and wait there
            wait_until(lambda: library.priority.waits >= 2, 120, "indexing to stand aside")
            indexed = library.status().indexed
            # at most the batches the model had already taken are stored; nothing new starts
            assert held_at and indexed <= held_at[0] + 2 * BATCH < len(photos)
            assert run.is_alive()
        finally:
            query.close()  # the query is answered
        run.join(120)
        assert not run.is_alive()
        assert outcome[0].embedded == len(photos)
        assert library.status().indexed == len(photos)
        best = library.search("a blue triangle on the left").hits[0]
        assert photos[best.file.path] == caption_for_text("a blue triangle on the left")


def test_queries_and_find_similar_are_answered_while_indexing_runs(
    tmp_path: Path, tiny_settings: Settings, tiny_embedder: Embedder
) -> None:
    photos = write_shape_photos(tmp_path / "Pictures", seeds=(1, 2, 3))
    outside = write_shape_photos(tmp_path / "Elsewhere", seeds=(9,))
    settings = dataclasses.replace(tiny_settings, batch_size=BATCH)
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.add_folder(tmp_path / "Pictures")
        library.index()  # a first run, so the library has a vector space
        more = write_shape_photos(tmp_path / "Pictures", seeds=(4, 5))
        answers: list[tuple[str, Path]] = []

        def ask(progress: Progress) -> None:
            # in the middle of the run: a query by meaning, and "find similar" on a photo that
            # is not in the library (its picture goes through the image tower on this thread)
            if progress.phase == "indexing" and len(answers) < 2:
                text = "a red circle at the top"
                answers.append((text, library.search(text).hits[0].file.path))
                picture = next(p for p, c in outside.items() if c == caption_for_text(text))
                answers.append(("similar", library.similar(picture).hits[0].file.path))

        summary = library.index(progress=ask)
        assert summary.embedded == len(more)
        assert len(answers) == 2
        everything = photos | more
        for _what, found in answers:
            assert everything[found] == caption_for_text("a red circle at the top")


def test_the_folder_walk_stands_aside_while_a_query_runs(
    tmp_path: Path, tiny_settings: Settings, tiny_embedder: Embedder
) -> None:
    # The start-up run walks every folder: the window's first queries must not wait for it.
    photos = write_shape_photos(tmp_path / "Pictures", seeds=(1,))
    with Library.open(tiny_settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.add_folder(tmp_path / "Pictures")
        library.priority.max_wait_s = 600
        phases: list[str] = []
        outcome: list[IndexSummary] = []
        with contextlib.ExitStack() as query:
            query.enter_context(library.priority.query())
            run = threading.Thread(
                target=lambda: outcome.append(
                    library.index(progress=lambda p: phases.append(p.phase))
                )
            )
            run.start()
            wait_until(lambda: library.priority.waits >= 1, 60, "the walk to stand aside")
            assert run.is_alive() and set(phases) == {"scanning"}
            assert library.status().pending == 0  # nothing found yet has been applied
        run.join(120)
        assert not run.is_alive()
        assert outcome[0].embedded == len(photos)
