"""Dates, places and kinds in the search box filter a real library of geotagged photos: the
filters find what they name, a filter that finds nothing falls back and says so, results can be
ordered by date taken, and an older library gets its places without embedding anything again."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.query.results import QueryResults, search_files
from desktop_app.core.records import FileChanges
from desktop_app.core.understanding.records import PLACE
from tests.conftest import IndexedShapes
from tests.support.documents import write_docx, write_text_pdf
from tests.support.geotagged import (
    LISBON,
    NEW_YORK,
    PORTO,
    TOKYO,
    write_geotagged_photo,
    write_geotagged_video,
)
from tests.support.shapes import caption_for_text, render

RED = caption_for_text("a red circle on the left")
BLUE = caption_for_text("a blue square on the right")
NOW = datetime(2026, 12, 6, 12)


def write_trips(root: Path) -> dict[str, Path]:
    """Photos of a trip to Lisbon (July 2023), Porto (Christmas 2022), Tokyo (summer 2021),
    New York (a HEIC), a video in Tokyo, and one photo with neither date nor place."""
    files = {
        "lisbon1": write_geotagged_photo(root / "l1.jpg", RED, 1, datetime(2023, 7, 10), LISBON),
        "lisbon2": write_geotagged_photo(root / "l2.jpg", RED, 2, datetime(2023, 7, 20), LISBON),
        "porto": write_geotagged_photo(root / "p1.jpg", RED, 3, datetime(2022, 12, 25), PORTO),
        "tokyo": write_geotagged_photo(root / "t1.jpg", BLUE, 4, datetime(2021, 7, 5), TOKYO),
        "newyork": write_geotagged_photo(root / "n1.heic", RED, 5, datetime(2019, 5, 1), NEW_YORK),
        "video": write_geotagged_video(root / "tokyo.mp4", BLUE, TOKYO),
        "nowhere": write_geotagged_photo(root / "x1.jpg", RED, 6),
    }
    os.utime(files["nowhere"], (datetime(2024, 3, 1).timestamp(),) * 2)
    os.utime(files["video"], (datetime(2021, 7, 6).timestamp(),) * 2)
    return files


@pytest.fixture
def trips(tmp_path: Path) -> dict[str, Path]:
    """The trips' files (``write_trips``), not indexed yet."""
    return write_trips(tmp_path / "trips")


@pytest.fixture
def indexed_trips(
    indexed_shapes: IndexedShapes, tiny_embedder: Embedder, tmp_path: Path
) -> Iterator[tuple[Library, dict[str, Path]]]:
    """A library of the trips' files (indexed once a session, copied for this test)."""
    settings, files = indexed_shapes.copy_of("trips", "trips", write_trips, tmp_path / "models")
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        yield library, dict(files)


def paths(results: QueryResults) -> set[Path]:
    return {f.file.path for f in results.files}


def search(library: Library, query: str, **kw: object) -> QueryResults:
    """Every file that passes the filters (below the relevance cutoff too, unless told)."""
    kw.setdefault("show_all", True)
    return library.search_understood(query, 20, now=NOW, **kw)  # type: ignore[arg-type]


def test_places_are_read_while_indexing(tiny_library: Library, trips: dict[str, Path]) -> None:
    changes: list[FileChanges] = []
    assert tiny_library.index([trips["lisbon1"].parent], on_change=changes.append).failed == 0
    # The window hears which files got a place (it refreshes those rows); not the one without.
    located = {p for c in changes for p in c.located}
    assert located == set(trips.values()) - {trips["nowhere"]}
    counts = {(c.country, c.city): c.files for c in tiny_library.catalog.place_counts()}
    assert counts == {
        ("Portugal", "Lisbon"): 2,
        ("Portugal", "Porto"): 1,
        ("Japan", "Tokyo"): 2,  # the photo and the video
        ("United States", "New York City"): 1,
    }


def test_each_place_form_filters(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, trips = indexed_trips
    in_lisbon = search(tiny_library, "a red circle on the left in Lisbon")
    assert in_lisbon.understood is not None and in_lisbon.understood.place is not None
    assert in_lisbon.understood.place.label == "Lisbon, Portugal"
    assert paths(in_lisbon) == {trips["lisbon1"], trips["lisbon2"]}
    assert paths(search(tiny_library, "a red circle Portugal")) == {
        trips["lisbon1"],
        trips["lisbon2"],
        trips["porto"],
    }
    assert paths(search(tiny_library, "in Japan")) == {trips["tokyo"], trips["video"]}
    assert paths(search(tiny_library, "videos from Tokyo")) == {trips["video"]}


def test_each_date_form_filters(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, trips = indexed_trips
    assert paths(search(tiny_library, "a red circle July 2023")) == {
        trips["lisbon1"],
        trips["lisbon2"],
    }
    assert paths(search(tiny_library, "christmas 2022")) == {trips["porto"]}
    assert paths(search(tiny_library, "summer 2021")) == {trips["tokyo"], trips["video"]}
    assert paths(search(tiny_library, "2019")) == {trips["newyork"]}
    # Everything but New York (2019); the photo without a capture date by its modification
    # time (March 2024).
    assert paths(search(tiny_library, "a red circle in the 2020s")) == set(trips.values()) - {
        trips["newyork"]
    }


def test_a_subject_that_looks_like_a_place_does_not_filter(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, _trips = indexed_trips
    results = search(tiny_library, "Lisbon circle")
    assert results.understood is not None and not results.understood.any


def test_a_filter_that_finds_nothing_falls_back_and_says_so(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, _trips = indexed_trips
    results = search(tiny_library, "a red circle on the left in Iceland")
    assert results.files  # the whole query, by meaning
    assert results.notice is not None and "Iceland" in results.notice
    assert results.understood is not None and results.understood.place is not None


def test_a_removed_chip_searches_its_words_again(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, trips = indexed_trips
    taken_back = search(tiny_library, "a red circle in Lisbon", literal=frozenset({PLACE}))
    assert taken_back.understood is not None and taken_back.understood.place is None
    assert trips["porto"] in paths(taken_back)


def test_sorted_by_date_newest_first(
    indexed_trips: tuple[Library, dict[str, Path]],
) -> None:
    tiny_library, trips = indexed_trips
    everything = search(tiny_library, "a red circle on the left", sort="date")
    names = ("nowhere", "lisbon2", "lisbon1", "porto", "video", "tokyo", "newyork")
    assert [f.file.path for f in everything.files] == [trips[k] for k in names]
    shown = search(tiny_library, "a red circle on the left", sort="date", show_all=False)
    by_relevance = search(tiny_library, "a red circle on the left", show_all=False)
    assert paths(shown) == paths(by_relevance)  # the relevance cutoff still applies


def test_an_older_library_gets_places_without_embedding_again(
    indexed_trips: tuple[Library, dict[str, Path]], tiny_embedder: Embedder
) -> None:
    tiny_library, _trips = indexed_trips
    catalog_path = tiny_library.settings.catalog_path
    settings = tiny_library.settings
    tiny_library.close()
    with sqlite3.connect(catalog_path) as db:  # as a library written before places existed
        db.execute("DROP TABLE places")
        db.execute("PRAGMA user_version = 6")
    with Library.open(settings, lambda _s: tiny_embedder) as reopened:
        assert reopened.catalog.place_counts() == []
        summary = reopened.index()
        assert summary.embedded == 0
        assert len(reopened.catalog.place_counts()) == 4


def test_words_without_meaning_are_no_reason(tiny_library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "the photos on a table"
    write_geotagged_photo(folder / "IMG_1.jpg", RED, 1)
    tiny_library.index([folder])
    results = search_files(tiny_library, "a red circle on the left", 10)
    why = results.files[0].hit
    assert why is not None
    assert not {"a", "on", "the"} & set(why.why.words)


def test_kinds_named_in_the_query_filter(tiny_library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shot = folder / "Screenshot 2024-03-01 at 10.00.png"
    photo = write_geotagged_photo(folder / "beach.jpg", RED, 1, datetime(2024, 3, 1))
    render(RED, seed=7).save(shot)
    write_text_pdf(folder / "taxes.pdf", ["Income tax return for the year, a red circle"])
    write_docx(folder / "notes.docx", "Notes", ["a red circle on the left"], ["red"], "Notes")
    assert tiny_library.index([folder]).failed == 0
    assert paths(search(tiny_library, "screenshots")) == {shot}
    assert paths(search(tiny_library, "a red circle screenshots")) == {shot}
    assert paths(search(tiny_library, "pdfs about a red circle")) == {folder / "taxes.pdf"}
    assert photo in paths(search(tiny_library, "photos of a red circle"))
    assert paths(search(tiny_library, "documents about a red circle")) == {
        folder / "taxes.pdf",
        folder / "notes.docx",
    }


def test_places_another_process_changed_are_read_within_seconds(
    tiny_library: Library, trips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.query import understood

    tiny_library.index([trips["lisbon1"].parent])  # this process wrote: read at once
    in_lisbon = search(tiny_library, "in Lisbon")
    assert in_lisbon.understood is not None and in_lisbon.understood.place is not None
    with sqlite3.connect(tiny_library.settings.catalog_path) as db:  # another Lumen's change
        db.execute("DELETE FROM places WHERE city = 'Lisbon'")
    monkeypatch.setattr(understood, "RECHECK_S", 0.0)  # the seconds have passed
    again = search(tiny_library, "in Lisbon")
    assert again.understood is None or again.understood.place is None
