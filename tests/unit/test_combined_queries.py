"""Combined queries: negatives (-word), weights (word:2), and a picture plus words (--like)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.query.query_text import SearchResults, parse_query
from tests.support.photos import file_name, write_shape_photos
from tests.support.settings import tiny_model_settings
from tests.support.shapes import Caption, caption_for_text

pytestmark = pytest.mark.slow

RED_LEFT = caption_for_text("a red circle on the left")
RED_TOP = caption_for_text("a red circle at the top")
BLUE_RIGHT = caption_for_text("a blue square on the right")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("combined")
    write_shape_photos(root / "photos", seeds=(1, 2))
    notes = root / "notes"
    notes.mkdir()
    (notes / "trip.md").write_text("A day at the beach with lots of people.\n")
    (notes / "quiet.md").write_text("An empty beach in winter.\n")
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


def _photos_of(caption: Caption) -> set[str]:
    return {file_name(caption, seed) for seed in (1, 2)}


def _best_rank(results: SearchResults, caption: Caption) -> int:
    names = [h.file.path.name for h in results.hits]
    return min(names.index(n) for n in _photos_of(caption) if n in names)


def test_the_syntax_is_parsed_into_parts_weights_and_negatives() -> None:
    parsed = parse_query('dog:2 snow -people -"red car" 10:30')
    assert parsed.parts == (("snow 10:30", 1.0), ("dog", 2.0))
    assert parsed.negatives == ("people", "red car")
    assert parsed.match == '"dog" "snow" "10:30" NOT "people" NOT "red car"'
    assert parse_query("-people").parts == () and parse_query("-people").match is None
    assert parse_query("well-known - x").text == "well-known - x"


def test_a_negative_term_leaves_out_what_matches_it(library: Library) -> None:
    plain = library.search(RED_LEFT.text, k=144, show_all=True)
    assert _photos_of(RED_TOP) & {h.file.path.name for h in plain.hits}
    without = library.search(f'{RED_LEFT.text} -"{RED_TOP.text}"', k=144, show_all=True)
    names = [h.file.path.name for h in without.hits]
    assert not _photos_of(RED_TOP) & set(names)
    assert set(names[:2]) == _photos_of(RED_LEFT)


def test_a_negative_word_leaves_out_files_that_hold_it(library: Library) -> None:
    assert {"trip.md", "quiet.md"} <= {h.file.path.name for h in library.search("beach").hits}
    names = {h.file.path.name for h in library.search("beach -people", show_all=True).hits}
    assert "quiet.md" in names and "trip.md" not in names


def test_weights_decide_which_part_leads(library: Library) -> None:
    red = library.search(f'"{RED_LEFT.text}":3 {BLUE_RIGHT.text}', k=10, show_all=True)
    blue = library.search(f'"{RED_LEFT.text}":0.3 {BLUE_RIGHT.text}', k=10, show_all=True)
    assert {h.file.path.name for h in red.hits[:2]} == _photos_of(RED_LEFT)
    assert {h.file.path.name for h in blue.hits[:2]} == _photos_of(BLUE_RIGHT)


def test_a_photo_and_words_together_find_what_has_both(library: Library, folder: Path) -> None:
    # "this photo, but at the top": a red circle at the top ranks higher than with either alone.
    photo = folder / "photos" / file_name(RED_LEFT, 1)
    both = library.search("at the top", k=144, show_all=True, like=photo)
    words = library.search("at the top", k=144, show_all=True)
    looks = library.similar(photo, k=144, show_all=True)
    assert photo not in {h.file.path for h in both.hits}
    rank = _best_rank(both, RED_TOP)
    assert rank < _best_rank(words, RED_TOP) and rank < _best_rank(looks, RED_TOP)
    values = [h.relevance for h in both.hits]
    assert values == sorted(values, reverse=True)


def test_cli_takes_a_photo_with_the_words(library: Library, folder: Path) -> None:
    library.settings.save()
    photo = folder / "photos" / file_name(RED_LEFT, 1)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app.cli",
            "--data-dir",
            str(library.settings.data_dir),
            "search",
            "at the top",
            "--like",
            str(photo),
            "-k",
            "3",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines()[0].endswith(f"look like {photo.name} for “at the top”")
    assert str(photo) not in out
