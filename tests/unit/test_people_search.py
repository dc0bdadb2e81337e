"""People in searches on a real library: ``person:NAME``, ``-person:NAME`` and a name typed in
the query keep or leave out that person's photos, ranked by the rest of the query, and each
hit says who is in it."""

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
from desktop_app.core.people.query import parse_person_terms
from desktop_app.core.people.store import Person
from tests.support.faces import write_people_photos
from tests.support.settings import tiny_model_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def named(
    tmp_path_factory: pytest.TempPathFactory, tiny_weights: Path, tiny_embedder: Embedder
) -> Iterator[tuple[Library, dict[str, set[Path]]]]:
    """A library of both people's photos and photos without anyone, indexed (the face pass
    runs after the vectors), the two people named Eileen Collins and Grace. Searched only."""
    base = tmp_path_factory.mktemp("people")
    photos = write_people_photos(base / "photos")
    library = Library.open(
        tiny_model_settings(base, tiny_weights), embedder_loader=lambda _s: tiny_embedder
    )
    assert library.index([base / "photos"]).failed == 0
    for person, name in (("astronaut", "Eileen Collins"), ("hopper", "Grace")):
        (face,) = library.people.in_file(photos[person][0])
        assert face.person_id is not None
        library.people.name(face.person_id, name)
    yield library, {k: set(v) for k, v in photos.items()}
    library.close()


def paths(library: Library, query: str) -> list[Path]:
    return [h.file.path for h in library.search(query, k=100, show_all=True).hits]


def test_person_filter_keeps_their_photos(named: tuple[Library, dict[str, set[Path]]]) -> None:
    library, photos = named
    assert set(paths(library, "person:Grace")) == photos["hopper"]
    assert set(paths(library, 'person:"eileen collins"')) == photos["astronaut"]
    assert set(paths(library, "Eileen Collins")) == photos["astronaut"]  # the name alone


def test_a_name_in_a_query_filters_and_the_rest_ranks(
    named: tuple[Library, dict[str, set[Path]]],
) -> None:
    library, photos = named
    everything = paths(library, "a red circle")
    hers = paths(library, "Grace a red circle")
    assert hers == [p for p in everything if p in photos["hopper"]]
    (hit, *_rest) = library.search("Grace a red circle", k=100, show_all=True).hits
    assert hit.why.people == ("Grace",) and hit.why.person_terms == ("Grace",)
    assert hit.why.describe().startswith("Grace is in it")


def test_without_a_person_and_unknown_people(named: tuple[Library, dict[str, set[Path]]]) -> None:
    library, photos = named
    everything = set(paths(library, "a red circle"))
    assert set(paths(library, "a red circle -person:Grace")) == everything - photos["hopper"]
    assert paths(library, "person:Nobody") == []
    assert paths(library, "person:Nobody a red circle") == []


def test_a_quoted_name_is_words_not_a_person(named: tuple[Library, dict[str, set[Path]]]) -> None:
    library, _photos = named
    assert all(not h.why.people for h in library.search('"Grace"', k=100, show_all=True).hits)


def test_person_terms_are_read_from_the_query() -> None:
    people = [Person(1, "Ann", 3, 3, None), Person(2, "Ann Lee", 2, 2, None)]
    terms = parse_person_terms("ann lee at the beach", people)
    assert [p.id for p in terms.wanted] == [2] and terms.rest == "at the beach"
    terms = parse_person_terms("beach -person:Ann person:2", people)
    assert [p.id for p in terms.unwanted] == [1] and [p.id for p in terms.wanted] == [2]
    assert terms.rest == "beach"
    assert parse_person_terms("annual report", people).wanted == ()  # not a word of its own
    assert parse_person_terms("person:Bob", people).unknown == ("Bob",)


def test_people_from_the_command_line(
    named: tuple[Library, dict[str, set[Path]]], tmp_path: Path
) -> None:
    library, photos = named
    library.settings.save()
    data_dir = tmp_path / "library"
    shutil.copytree(library.settings.data_dir, data_dir)  # this test changes its copy

    def lumen(*args: str) -> str:
        command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data_dir), *args]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert not done.stderr
        return done.stdout

    listed = json.loads(lumen("people", "--json"))["people"]
    assert [(p["name"], p["count"]) for p in listed] == [("Eileen Collins", 8), ("Grace", 8)]
    assert {Path(f) for f in listed[1]["files"]} == photos["hopper"]
    text = lumen("people")
    assert "Eileen Collins  8 photos  e.g. " in text and "Grace  8 photos" in text
    hopper = sorted(photos["hopper"])[0]
    assert lumen("people", str(hopper)).startswith("Grace  [")
    assert lumen("people", str(sorted(photos[""])[0])).startswith("No faces found")
    found = json.loads(lumen("search", "Grace a red circle", "--json", "--all"))["results"]
    assert {Path(r["path"]) for r in found} == photos["hopper"]
    assert found[0]["why"]["people"] == ["Grace"] and found[0]["why"]["person_terms"] == ["Grace"]
    assert "why: Grace is in it" in lumen("search", "Grace a red circle")
    grace, eileen = listed[1]["id"], listed[0]["id"]
    assert "is now Gracie" in lumen("people", "name", str(grace), "Gracie")
    assert "Merged into person" in lumen("people", "merge", str(grace), str(eileen))
    assert [p["count"] for p in json.loads(lumen("people", "--json"))["people"]] == [16]
    assert "16 face descriptors" in lumen("people", "--off")
    assert json.loads(lumen("people", "--json"))["people"] == []
    assert lumen("people").startswith("Face recognition is off")


def test_a_person_the_cli_does_not_know_is_a_plain_error(
    named: tuple[Library, dict[str, set[Path]]],
) -> None:
    library, _photos = named
    library.settings.save()
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir"]
    command += [str(library.settings.data_dir), "people", "name", "999", "Nobody"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "lumen: There is no person 999; `lumen people --all` lists them"


def test_a_name_typed_is_understood_as_a_person_and_can_be_taken_back(
    named: tuple[Library, dict[str, set[Path]]],
) -> None:
    library, photos = named
    results = library.search_understood("Grace a red circle", 100, show_all=True)
    assert results.understood is not None and results.understood.people == ("Grace",)
    assert ("person", "👤 Grace") in results.understood.chips()
    assert {f.file.path for f in results.files} <= photos["hopper"]
    back = library.search_understood(
        "Grace a red circle", 100, show_all=True, literal=frozenset({"person"})
    )
    assert back.understood is not None and back.understood.people == ()
    assert {f.file.path for f in back.files} - photos["hopper"]  # the name is a word again
    explicit = library.search_understood("person:Grace", 100, show_all=True)
    assert explicit.understood is not None and explicit.understood.people == ()  # typed syntax
