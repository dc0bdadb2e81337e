"""Every document findable after an index run's first pass; its other passages embedded by the
second, or by the next run when the first was stopped (core/indexing/two_pass.py)."""

from __future__ import annotations

import argparse
import sqlite3
import threading
from pathlib import Path

import pytest

from desktop_app.cli import status as status_command
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.indexing.two_pass import DEEP_PHASE
from desktop_app.core.library import Library
from desktop_app.core.records import FileFilter, Progress
from tests.support.documents import write_text_pdf

RED_CIRCLE = "a red circle on the left"  # a caption the tiny model knows
DOCUMENTS = FileFilter(kinds=frozenset({"document"}))


def _write_documents(folder: Path) -> Path:
    """A 4-page guide whose caption is on page 4 only, a note of a few paragraphs, and a one-line
    to-do list (one passage: nothing left for a second pass)."""
    folder.mkdir()
    pages = [f"Chapter {n}: timetables of the ferries and the trains." for n in range(1, 5)]
    pages[3] = RED_CIRCLE
    pages[2] += " The booking reference is QX-7781."
    write_text_pdf(folder / "guide.pdf", pages, title="Ferry guide")
    notes = [f"Paragraph {n} about the harbour, its boats and the weather." * 4 for n in range(6)]
    (folder / "notes.md").write_text("# Harbour notes\n\n" + "\n\n".join(notes), encoding="utf-8")
    (folder / "todo.txt").write_text("call the plumber\n", encoding="utf-8")
    return folder


def _index_first_pass_only(library: Library, folder: Path) -> None:
    """Index ``folder`` and stop the run as its second pass begins (as Ctrl-C there would)."""
    cancel = threading.Event()

    def stop_at_the_second_pass(progress: Progress) -> None:
        if progress.phase == DEEP_PHASE:
            cancel.set()

    summary = library.index([folder], stop_at_the_second_pass, cancel)
    assert summary.cancelled and summary.failed == 0 and summary.embedded == 3


def _vectors(library: Library) -> dict[str, list[tuple[str, int | None, str | None]]]:
    """Each file's vectors: (role, page, passage), sorted."""
    space = library.catalog.get_meta("space") or ""
    out = {}
    for record in library.catalog.files_with_status("indexed"):
        stored = library.catalog.file_vectors(record.id, space)
        out[record.path.name] = sorted(
            ((o.role, o.page, o.passage) for o, _ in stored), key=lambda v: repr(v)
        )
    return out


def _waiting_rows(library: Library) -> int:
    with sqlite3.connect(library.settings.catalog_path) as db:
        return int(db.execute("SELECT count(*) FROM deep_pending").fetchone()[0])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return _write_documents(tmp_path / "documents")


@pytest.fixture
def one_pass(tiny_library: Library, folder: Path, tmp_path: Path, tiny_embedder: Embedder):  # type: ignore[no-untyped-def]
    """What a run that was never stopped stores, in a library of its own."""
    settings = tiny_library.settings.replace(data_dir=tmp_path / "whole")
    with Library.open(settings, lambda _s: tiny_embedder) as whole:
        summary = whole.index([folder])
        assert summary.embedded == 3 and not summary.cancelled
        assert whole.status().deeper_pass == 0 and _waiting_rows(whole) == 0
        return _vectors(whole)


def test_after_the_first_pass_every_document_is_findable_and_the_status_says_what_waits(
    tiny_library: Library, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _index_first_pass_only(tiny_library, folder)
    status = tiny_library.status()
    assert status.indexed == 3 and status.pending == 0
    assert status.deeper_pass == 2  # the guide and the notes; the to-do list is whole
    status_command.run(tiny_library, argparse.Namespace(json=False, errors=False))
    assert "2 documents await their deeper pass" in capsys.readouterr().out
    vectors = _vectors(tiny_library)
    assert all(len(v) == 1 for v in vectors.values())  # one vector each: its opening
    assert vectors["guide.pdf"][0][:2] == ("text", 1)  # not the cover: that comes later
    # Every word is findable already, page 3's too.
    found = tiny_library.search("QX-7781", k=3)
    assert found.hits[0].file.path.name == "guide.pdf" and found.hits[0].page == 3
    assert tiny_library.search("plumber", k=3).hits[0].file.path.name == "todo.txt"
    assert tiny_library.search("harbour", k=3).hits[0].file.path.name == "notes.md"


def test_the_next_run_embeds_what_waited_and_stores_what_one_run_would(
    tiny_library: Library,
    folder: Path,
    tmp_path: Path,
    tiny_embedder: Embedder,
    one_pass: dict[str, list[tuple[str, int | None, str | None]]],
) -> None:
    _index_first_pass_only(tiny_library, folder)
    summary = tiny_library.index([folder])
    assert not summary.cancelled and summary.failed == 0
    assert summary.embedded == 0  # nothing new: only the deeper pass ran
    assert tiny_library.status().deeper_pass == 0 and _waiting_rows(tiny_library) == 0
    assert _vectors(tiny_library) == one_pass  # the same vectors, none twice
    # Meaning search finds the guide by its last page now, and `related` too.
    query = tiny_embedder.encode_text(RED_CIRCLE)
    hit = tiny_library.similar_to_vector(query, k=3, file_filter=DOCUMENTS).hits[0]
    assert hit.file.path.name == "guide.pdf" and hit.page == 4 and hit.role == "text"
    caption = tmp_path / "caption.txt"  # a file outside the library, as `lumen related` takes
    caption.write_text(RED_CIRCLE, encoding="utf-8")
    top = tiny_library.related_documents(caption, k=3).hits[0]
    assert top.file.path.name == "guide.pdf" and top.page == 4


def test_a_document_changed_or_deleted_while_it_waits_is_not_embedded_from_its_old_text(
    tiny_library: Library,
    folder: Path,
    tmp_path: Path,
    tiny_embedder: Embedder,
) -> None:
    _index_first_pass_only(tiny_library, folder)
    (folder / "notes.md").write_text("# Harbour notes\n\nsold the boat\n", encoding="utf-8")
    (folder / "guide.pdf").unlink()
    summary = tiny_library.index([folder])
    assert summary.embedded == 1 and summary.removed == 1 and not summary.cancelled
    assert tiny_library.status().deeper_pass == 0 and _waiting_rows(tiny_library) == 0
    vectors = _vectors(tiny_library)
    assert set(vectors) == {"notes.md", "todo.txt"}
    assert [passage for _, _, passage in vectors["notes.md"]] == ["Harbour notes sold the boat"]
