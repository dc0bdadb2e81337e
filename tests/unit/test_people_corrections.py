"""Correcting single faces on real photos: "This is…" gives a face to a named or a new person,
"Not this person" takes it out into a person of its own, and a re-cluster leaves both be."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.errors import LumenError
from desktop_app.core.people.face_pass import regroup
from desktop_app.core.people.model import FaceModel, load_face_model
from desktop_app.core.people.service import People
from desktop_app.core.storage.catalog import Catalog
from tests.support.faces import write_people_photos
from tests.unit.test_people_face_pass import catalogue


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Path]]]:
    """A catalog of both people's photos after the face pass; its file and the photos."""
    model: FaceModel = load_face_model()
    photos = write_people_photos(tmp_path_factory.mktemp("photos"))
    db = tmp_path_factory.mktemp("library") / "catalog.sqlite3"
    catalog = Catalog.open(db)
    catalogue(catalog, [p for paths in photos.values() for p in paths])
    People(catalog.session, lambda: model).scan_pending()
    catalog.close()
    return db, photos


@pytest.fixture
def people(scanned: tuple[Path, dict[str, list[Path]]], tmp_path: Path) -> Iterator[People]:
    shutil.copy(scanned[0], tmp_path / "catalog.sqlite3")
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    yield People(catalog.session)
    catalog.close()


def test_this_is_a_named_person_moves_the_face_to_them(
    people: People, scanned: tuple[Path, dict[str, list[Path]]]
) -> None:
    photos = scanned[1]
    (hopper,) = people.in_file(photos["hopper"][0])
    (astronaut,) = people.in_file(photos["astronaut"][0])
    assert hopper.person_id is not None and astronaut.person_id is not None
    people.name(hopper.person_id, "Grace")
    person = people.this_is(astronaut.id, name="  grace ")  # any case: the same person
    assert person.id == hopper.person_id and person.photos == 9
    assert [f.name for f in people.in_file(photos["astronaut"][0])] == ["Grace"]
    regroup(people.store)  # the user's word holds against re-clustering
    assert [f.name for f in people.in_file(photos["astronaut"][0])] == ["Grace"]


def test_this_is_a_new_name_starts_a_named_person(
    people: People, scanned: tuple[Path, dict[str, list[Path]]]
) -> None:
    (face,) = people.in_file(scanned[1]["hopper"][1])
    person = people.this_is(face.id, name="Grace Hopper")
    assert person.name == "Grace Hopper" and person.photos == 1
    assert sorted(p.photos for p in people.listed()) == [1, 7, 8]
    with pytest.raises(LumenError, match="at least one letter"):
        people.this_is(face.id, name="   ")


def test_not_this_person_takes_the_face_out(
    people: People, scanned: tuple[Path, dict[str, list[Path]]]
) -> None:
    photo = scanned[1]["astronaut"][2]
    (face,) = people.in_file(photo)
    before = people.person(face.person_id or 0)
    alone = people.not_this_person(face.id)
    assert alone.id != before.id and alone.name is None and alone.photos == 1
    assert people.person(before.id).photos == before.photos - 1
    regroup(people.store)  # it does not go back
    assert people.in_file(photo)[0].person_id == alone.id
    people.this_is(face.id, before.id)  # and "This is…" puts it back
    assert people.person(before.id).photos == before.photos
    assert all(p.id != alone.id for p in people.listed(everyone=True))  # the empty one is gone


def test_an_unknown_face_is_a_plain_error(people: People) -> None:
    with pytest.raises(LumenError, match="no face 99999"):
        people.not_this_person(99999)


def test_an_unnamed_person_is_found_by_their_id(
    people: People, scanned: tuple[Path, dict[str, list[Path]]]
) -> None:
    """The People view searches ``person:ID`` for someone not named yet: their photos."""
    (face,) = people.in_file(scanned[1]["hopper"][0])
    terms = people.terms(f"person:{face.person_id} a red circle")
    assert [p.id for p in terms.wanted] == [face.person_id] and not terms.unknown
    assert terms.rest == "a red circle"
    assert [p.id for p in people.terms(f"-person:{face.person_id}").unwanted] == [face.person_id]
