"""One relevance 0–100 that orders the results, carries the cutoff, and says why a file matched."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.query.query_text import SearchResults, found_terms
from desktop_app.core.query.search import RELEVANCE_CUTOFF
from tests.support.photos import file_name, write_shape_photos
from tests.support.settings import tiny_model_settings
from tests.support.shapes import all_captions, caption_for_text

pytestmark = pytest.mark.slow

BLUE_SQUARE = caption_for_text("a blue square at the top")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mixed")
    write_shape_photos(root / "photos", seeds=(1, 2))
    notes = root / "notes"
    notes.mkdir()
    (notes / "drawing plan.md").write_text(f"{BLUE_SQUARE.text}\n")
    (notes / "plumber.md").write_text("# Plumber\n\nCall the plumber about the kitchen sink.\n")
    (notes / "invoice.txt").write_text("Invoice 2023-0147. Total due: 120 EUR.\n")
    return root


@pytest.fixture(scope="module")
def library(
    folder: Path,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_weights: Path,
    tiny_embedder: Embedder,
) -> Iterator[Library]:
    settings = tiny_model_settings(tmp_path_factory.mktemp("data"), tiny_weights)
    with Library.open(settings, lambda _s: tiny_embedder) as library:
        assert library.index([folder]).failed == 0
        yield library


def _check_one_scale(results: SearchResults) -> None:
    """Relevance orders the list and decides, alone, what is relevant."""
    values = [h.relevance for h in results.hits]
    assert values == sorted(values, reverse=True), values
    assert all(0.0 <= v <= 100.0 for v in values)
    for hit in results.hits:
        assert hit.relevant == (hit.relevance >= RELEVANCE_CUTOFF), (hit.file.path, hit.relevance)


def test_a_hybrid_query_is_ordered_by_one_relevance_with_the_cutoff_on_it(
    library: Library, folder: Path
) -> None:
    everything = library.search(BLUE_SQUARE.text, k=40, show_all=True)
    _check_one_scale(everything)
    names = [h.file.path.name for h in everything.hits]
    relevant = [h for h in everything.hits if h.relevant]
    # The note holds the words (a keyword hit), the photos only look like the words: both kinds
    # pass the same cutoff, and the unrelated note does not.
    assert "drawing plan.md" in {h.file.path.name for h in relevant}
    photos = [h for h in relevant if h.file.kind == "image"]
    assert photos and all(h.role == "image" for h in photos)
    blue = {file_name(c, seed) for c in all_captions() if c.colour == "blue" for seed in (1, 2)}
    assert {h.file.path.name for h in photos} <= blue
    assert {h.file.path.name for h in photos[:2]} == {file_name(BLUE_SQUARE, s) for s in (1, 2)}
    assert "plumber.md" not in {h.file.path.name for h in relevant}
    # The default page is the relevant prefix of the full list; the rest is counted as hidden.
    default = library.search(BLUE_SQUARE.text, k=40)
    assert [h.file.path.name for h in default.hits] == names[: len(default.hits)]
    assert default.hidden == len(everything.hits) - len(default.hits)
    assert default.cutoff == RELEVANCE_CUTOFF


def test_photos_and_passages_share_the_scale(library: Library, tiny_embedder: Embedder) -> None:
    # Pure meaning (no words to find): the note's passage and the blue-square photos are both
    # relevant, and each hit's raw cosine is kept apart from its relevance.
    results = library.similar_to_vector(tiny_embedder.encode_text(BLUE_SQUARE.text), k=30)
    _check_one_scale(results)
    kinds = {h.file.kind for h in results.hits if h.relevant}
    assert kinds == {"image", "document"}, [(h.file.path.name, h.relevance) for h in results.hits]
    assert any(h.score != h.relevance for h in results.hits)


def test_a_copy_of_a_photo_is_always_relevant_and_first(
    library: Library, folder: Path, tmp_path: Path
) -> None:
    original = folder / "photos" / file_name(caption_for_text("a red circle on the left"), 1)
    copy = tmp_path / "copy of it.jpg"
    shutil.copy(original, copy)
    results = library.similar(copy, k=10)
    top = results.hits[0]
    assert top.file.path == original and top.relevant and top.relevance >= 99
    _check_one_scale(results)


def test_why_a_file_matched(library: Library) -> None:
    invoice = library.search("invoice 2023-0147", k=5).hits[0]
    assert invoice.file.path.name == "invoice.txt"
    assert invoice.why.keyword and "invoice" in invoice.why.in_name
    assert set(invoice.why.in_text) == {"invoice", "2023-0147"}
    assert invoice.why.text_source == "passage" and invoice.passage is not None
    photo = library.search("a green triangle on the right", k=3).hits[0]
    assert photo.file.kind == "image" and photo.why.role == "image"
    assert photo.why.similarity == photo.score and "looks like" in photo.why.describe()


def test_found_terms_match_whole_words_case_and_accents_folded() -> None:
    assert found_terms(("café", "Plan", "an"), "CAFE_plan.md banana") == ("café", "Plan")
    assert found_terms(("blue square",), "a blue  square") == ("blue square",)
    assert found_terms(("blue square",), "square blue") == ()


def test_cli_shows_relevance_why_and_keeps_the_cosine_in_json(
    library: Library, folder: Path
) -> None:
    data_dir = str(library.settings.data_dir)
    base = [sys.executable, "-m", "desktop_app.cli", "--data-dir", data_dir]
    base += ["--model", "lumen-tiny", "--weights", str(library.settings.weights)]
    library.settings.save()
    text = subprocess.run(
        [*base, "search", "plumber"], capture_output=True, text=True, check=True
    ).stdout
    assert text.splitlines()[0].startswith("1 result for “plumber”") or "results for" in text
    assert "why: “plumber” in the name" in text
    raw = subprocess.run(
        [*base, "search", "plumber", "--json"], capture_output=True, text=True, check=True
    ).stdout
    hit = json.loads(raw)["results"][0]
    assert hit["path"].endswith("plumber.md") and hit["relevance"] >= RELEVANCE_CUTOFF
    assert -1.0 <= hit["cosine"] <= 1.0 and hit["why"]["in_text"] == ["plumber"]
