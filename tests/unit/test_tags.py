"""Automatic tags: photos get labels naming what they show, findable as words and as a filter;
the user's own tags join them, and an automatic tag the user removed stays away."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.tags import (
    everyday_tags,
    keep_tag_vectors,
    stored_tag_vectors,
    vocabulary_labels,
)
from desktop_app.core.library import Library
from desktop_app.core.models import get_model_spec
from desktop_app.core.storage.catalog import Catalog
from tests.conftest import IndexedShapes
from tests.support.photos import file_name
from tests.support.shapes import all_captions, caption_for_text

pytestmark = pytest.mark.slow

CAPTIONS = {file_name(c, 1): c for c in all_captions()}


@pytest.fixture
def tagged(
    indexed_shapes: IndexedShapes, tiny_embedder: Embedder, tmp_path: Path
) -> Iterator[Library]:
    """A library of 72 indexed photos (one per caption) beside them, in ``data_dir.parent``."""
    settings, _written = indexed_shapes.copy(tmp_path / "models", seeds=(1,))
    library = Library.open(settings, embedder_loader=lambda _s: tiny_embedder)
    yield library
    library.close()


def _tags(library: Library) -> dict[str, set[str]]:
    return {
        name: {
            t.name for t in library.file_tags(library.settings.data_dir.parent / "photos" / name)
        }
        for name in CAPTIONS
    }


def test_indexing_tags_each_photo_with_what_it_shows(tagged: Library) -> None:
    tags = _tags(tagged)
    given = [(name, tag) for name, found in tags.items() for tag in found]
    right = [(n, t) for n, t in given if t in (CAPTIONS[n].colour, CAPTIONS[n].shape)]
    assert len(right) >= 0.8 * len(given)  # most tags are right …
    assert len(right) >= 0.5 * 2 * len(CAPTIONS)  # … and half of the colours and shapes found
    assert sum(1 for found in tags.values() if found) >= 0.8 * len(CAPTIONS)
    assert all(len(found) <= 5 for found in tags.values())
    counts = dict(tagged.tags())
    assert counts == {
        tag: sum(1 for found in tags.values() if tag in found)
        for tag in set().union(*tags.values())
    }
    assert list(counts.values()) == sorted(counts.values(), reverse=True)


def test_tags_are_a_filter_and_searchable_words(tagged: Library) -> None:
    tags = _tags(tagged)
    red = {name for name, found in tags.items() if "red" in found}
    assert len(red) >= 6

    by_tag = tagged.search("tag:red", k=100)
    assert {h.file.path.name for h in by_tag.hits} == red
    assert all(h.why.in_tags == ("red",) and "red" in h.tags for h in by_tag.hits)

    circles_not_red = tagged.search("circle -tag:red", k=100, show_all=True)
    assert circles_not_red.hits and not red & {h.file.path.name for h in circles_not_red.hits}

    # The word "red" finds the photos tagged red as keyword hits (relevant), saying why.
    words = tagged.search("red", k=100)
    found = {h.file.path.name: h for h in words.hits}
    assert red <= set(found)
    assert all(found[n].relevant and "“red” in the tags" in found[n].why.describe() for n in red)


def test_own_tags_join_and_a_removed_automatic_tag_stays_away(tagged: Library) -> None:
    photos = tagged.settings.data_dir.parent / "photos"
    name = file_name(caption_for_text("a blue square on the right"), 1)
    photo = photos / name
    assert tagged.set_tag(photo, "Holiday  Trip")
    assert not tagged.set_tag(photo, "holiday trip")  # already there
    assert tagged.file_tags(photo)[0].name == "holiday trip"
    assert tagged.file_tags(photo)[0].source == "user"
    hits = tagged.search('"holiday trip"').hits
    assert [h.file.path.name for h in hits] == [name]
    assert hits[0].why.in_tags == ("holiday trip",)
    assert [h.file.path.name for h in tagged.search("tag:holiday_trip").hits] == []
    assert [h.file.path.name for h in tagged.search('tag:"holiday trip"').hits] == [name]

    automatic = next(t.name for t in tagged.file_tags(photo) if t.source == "auto")
    assert tagged.set_tag(photo, automatic, present=False)
    record = tagged.file(photo)
    assert record is not None
    tagged.catalog.update_file(record.id, tags_version=None)  # as after a change of model
    assert tagged.update_tags() == 1
    assert automatic not in {t.name for t in tagged.file_tags(photo)}
    assert name not in {h.file.path.name for h in tagged.search(f"tag:{automatic}", k=100).hits}


def test_tags_from_the_command_line(tagged: Library) -> None:
    tagged.settings.save()
    photo = tagged.settings.data_dir.parent / "photos" / file_name(all_captions()[0], 1)

    def lumen(*args: str) -> str:
        command = [sys.executable, "-m", "desktop_app.cli"]
        command += ["--data-dir", str(tagged.settings.data_dir), *args]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = json.loads(lumen("tags", "--json"))["tags"]
    assert [(t["tag"], t["files"]) for t in listed] == tagged.tags()
    assert "holiday added" in lumen("tags", "add", str(photo), "holiday")
    assert lumen("tags", str(photo)).startswith("holiday (yours)")
    found = json.loads(lumen("search", "tag:holiday", "--json"))["results"]
    assert [(r["path"], r["why"]["in_tags"]) for r in found] == [(str(photo), ["holiday"])]
    assert "tags: holiday" in lumen("search", "holiday")


def test_a_catalog_from_before_tags_gains_them(tagged: Library) -> None:
    path = tagged.settings.catalog_path
    tagged.catalog.close()
    with sqlite3.connect(path) as db:  # as format 5 left it: no tags, keyword index without them
        db.execute("DROP TABLE tags")
        db.execute("ALTER TABLE files DROP COLUMN tags_version")
        db.execute(
            "CREATE VIRTUAL TABLE old_keywords USING fts5(body, name, folder, page UNINDEXED, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        db.execute(
            "INSERT INTO old_keywords (rowid, body, name, folder, page) "
            "SELECT rowid, body, name, folder, page FROM keyword_index"
        )
        db.execute("DROP TABLE keyword_index")
        db.execute("ALTER TABLE old_keywords RENAME TO keyword_index")
        db.execute("PRAGMA user_version = 5")
    db.close()
    catalog = Catalog.open(path)
    try:
        name = file_name(all_captions()[0], 1)
        assert [h.file_id for h in catalog.keyword_search(f'"{name}"', 5)]  # names still found
        assert catalog.tag_counts() == []
        assert len(catalog.files_to_tag(tagged.store.space, "any version")) == len(CAPTIONS)
    finally:
        catalog.close()


def test_the_vocabulary_is_everyday_words_and_the_tiny_model_has_its_own() -> None:
    words = everyday_tags()
    assert 300 <= len(words) <= 500
    assert {"beach", "receipt", "cat", "screenshot", "document", "food", "snow"} <= set(words)
    assert vocabulary_labels(get_model_spec("ViT-B-32/laion2b_s34b_b79k")) == words
    assert set(vocabulary_labels(get_model_spec("lumen-tiny"))) >= {"red", "circle"}


def test_tag_vectors_are_kept_once_for_every_library_of_a_model(tmp_path: Path) -> None:
    models, first, second = tmp_path / "models", tmp_path / "library1", tmp_path / "library2"
    vectors = np.eye(3, 4, dtype=np.float32)
    keep_tag_vectors((models, first), "v1", vectors)
    found = stored_tag_vectors((models, second), "v1", 3)  # another library, the same model
    assert found is not None and np.array_equal(found, vectors)
    assert stored_tag_vectors((models, second), "v1", 4) is None  # other labels: encode again
    assert stored_tag_vectors((models, second), "v2", 3) is None


def test_tag_vectors_go_to_the_library_when_the_model_cache_is_read_only(tmp_path: Path) -> None:
    models, library = tmp_path / "models", tmp_path / "library"
    models.write_text("not a folder")  # cannot hold tag_vectors/
    keep_tag_vectors((models, library), "v1", np.ones((2, 4), dtype=np.float32))
    assert (library / "tag_vectors" / "v1.npy").exists()
    assert stored_tag_vectors((models, library), "v1", 2) is not None
