"""Tagging: photos not tagged yet get the model's labels (said as changes), encoded labels are
kept on disk for the next start, and a user's tag edit names the one file it changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import ModelSlot
from desktop_app.core.embedding.tagging import Tagging
from desktop_app.core.errors import LumenError
from desktop_app.core.library import Library
from desktop_app.core.records import FileChanges
from desktop_app.core.storage.catalog_tables import FileRow
from tests.support.shapes import caption_for_text, render

RED = "a red circle on the left"
BLUE = "a blue square at the top"


@pytest.fixture
def photos(tiny_library: Library, tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    render(caption_for_text(RED)).save(folder / "red.png")
    render(caption_for_text(BLUE)).save(folder / "blue.png")
    tiny_library.index([folder])
    return folder


def test_untagged_photos_are_tagged_and_reported(tiny_library: Library, photos: Path) -> None:
    tagging = tiny_library.tagging
    assert not tagging.tag_pending()  # the run tagged them already
    with tiny_library.catalog.session() as s:
        s.execute(update(FileRow).values(tags_version=None))  # as if the labels changed
    changes = tagging.tag_pending()
    assert set(changes.tags) == {photos / "red.png", photos / "blue.png"}
    red = tiny_library.file(photos / "red.png")
    assert red is not None and any(t.source == "auto" for t in tagging.of(red))


def test_the_labels_are_encoded_once_and_kept(tiny_library: Library, photos: Path) -> None:
    first = tiny_library.tagging.vocabulary()
    kept = list((tiny_library.settings.data_dir / "tag_vectors").glob("*.npy"))
    assert [p.stem for p in kept] == [first.version]
    # A new start reads them from disk: no model is needed for it.
    settings = tiny_library.settings
    no_model = ModelSlot(settings, tiny_library.store, _no_model)
    again = Tagging(tiny_library.store, no_model, settings.data_dir).vocabulary()
    assert again.version == first.version and again.labels == first.labels


def _no_model(_settings: Settings) -> Embedder:
    raise AssertionError("the model was loaded to encode labels that are on disk")


def test_a_tag_edit_names_the_file_it_changed(tiny_library: Library, photos: Path) -> None:
    red = tiny_library.file(photos / "red.png")
    assert red is not None
    tagging = tiny_library.tagging
    assert tagging.set(red, "Summer  Trip", True) == FileChanges(tags=(red.path,))
    assert "summer trip" in {t.name for t in tagging.of(red)}
    assert tagging.set(red, "summer trip", True) == FileChanges()  # already there
    with pytest.raises(LumenError):
        tagging.set(red, "   ", True)
