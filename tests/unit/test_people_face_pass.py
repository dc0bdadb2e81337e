"""The face pass on a real catalog: each person's photos form one person, the two people never
merge, photos without people get none, a video's face is found; naming, merging, forgetting
and the off switch do what they say."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.library import Library
from desktop_app.core.people import model as model_module
from desktop_app.core.people.model import (
    FaceModel,
    FaceModelMissingError,
    face_model_problem,
    load_face_model,
)
from desktop_app.core.people.service import People
from desktop_app.core.records import INDEXED
from desktop_app.core.storage.catalog import Catalog
from tests.support.faces import photo, write_face_video, write_people_photos
from tests.support.photos import write_shape_photos


def catalogue(catalog: Catalog, paths: list[Path]) -> None:
    """Put ``paths`` in the catalog as indexed files (the face pass needs no vectors)."""
    for path in paths:
        kind = "video" if path.suffix == ".mp4" else "image"
        file_id = catalog.add_file(
            folder_id=None,
            path=path,
            size=path.stat().st_size,
            mtime_ns=path.stat().st_mtime_ns,
            inode=None,
            fingerprint=f"fp-{path.name}",
            kind=kind,
        )
        catalog.update_file(file_id, status=INDEXED)


@pytest.fixture(scope="module")
def model() -> FaceModel:
    return load_face_model()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, model: FaceModel) -> tuple[Path, dict]:
    """A catalog whose photos (and one video) went through the face pass; its file, and the
    photo paths by person ("video" for the video)."""
    folder = tmp_path_factory.mktemp("photos")
    photos: dict[str, list[Path]] = write_people_photos(folder)
    photos["video"] = [write_face_video(folder / "clip.mp4", "hopper")]
    db = tmp_path_factory.mktemp("library") / "catalog.sqlite3"
    catalog = Catalog.open(db)
    catalogue(catalog, [p for paths in photos.values() for p in paths])
    summary = People(catalog.session, lambda: model).scan_pending()
    assert summary.failed == []
    catalog.close()
    return db, photos


@pytest.fixture
def people(scanned: tuple[Path, dict], tmp_path: Path, model: FaceModel) -> Iterator[People]:
    """A copy of the scanned catalog, opened."""
    db = tmp_path / "catalog.sqlite3"
    shutil.copy(scanned[0], db)
    catalog = Catalog.open(db)
    yield People(catalog.session, lambda: model)
    catalog.close()


def photos_of(people: People) -> dict[int, set[str]]:
    found = people.store.files_of(p.id for p in people.listed(everyone=True))
    return {person: {p.name for p in paths} for person, paths in found.items()}


def test_each_person_is_one_person_and_the_two_never_merge(
    people: People, scanned: tuple[Path, dict]
) -> None:
    _db, photos = scanned
    groups = photos_of(people)
    astronaut = {p.name for p in photos["astronaut"]}
    hopper = {p.name for p in photos["hopper"]} | {"clip.mp4"}
    assert sorted(groups.values(), key=len) == sorted([astronaut, hopper], key=len)
    listed = people.listed()
    assert [p.photos for p in listed] == [9, 8]  # eight variants, and the video for Hopper
    assert all(p.name is None and p.label == "unnamed" for p in listed)
    assert listed[0].example is not None and listed[0].example.name.startswith("hopper")


def test_photos_without_people_have_no_faces(people: People, scanned: tuple[Path, dict]) -> None:
    for path in scanned[1][""]:
        assert people.in_file(path) == []


def test_a_videos_face_is_found_with_its_time(people: People, scanned: tuple[Path, dict]) -> None:
    (video,) = scanned[1]["video"]
    faces = people.in_file(video)
    assert len(faces) == 1 and faces[0].at_s is not None


def test_naming_and_asking_who_is_in_a_photo(people: People, scanned: tuple[Path, dict]) -> None:
    astronaut = scanned[1]["astronaut"][0]
    (face,) = people.in_file(astronaut)
    assert face.person_id is not None
    named = people.name(face.person_id, "  Eileen   Collins ")
    assert named.name == "Eileen Collins" and named.photos == 8
    assert [f.name for f in people.in_file(astronaut)] == ["Eileen Collins"]


def test_merging_makes_one_person_with_the_name(people: People) -> None:
    first, second = people.listed()
    people.name(second.id, "Grace")
    merged = people.merge(first.id, [second.id])
    assert merged.name == "Grace" and merged.photos == first.photos + second.photos
    assert [p.id for p in people.listed(everyone=True)] == [first.id]


def test_a_rescan_keeps_a_merge(people: People, model: FaceModel) -> None:
    first, second = people.listed()
    people.merge(first.id, [second.id])
    from desktop_app.core.people.face_pass import regroup

    regroup(people.store)
    assert len(people.listed(everyone=True)) == 1


def test_forgetting_a_person_deletes_their_faces_for_good(people: People) -> None:
    first, second = people.listed()
    assert people.forget(first.id) == first.faces
    assert [p.id for p in people.listed(everyone=True)] == [second.id]
    assert people.scan_pending().files == 0  # their photos are not looked at again


def test_turning_off_deletes_every_descriptor_and_stops_the_pass(
    people: People, scanned: tuple[Path, dict]
) -> None:
    assert people.turn_off() == 17  # 16 photos, and the video's face seen once
    assert people.listed(everyone=True) == []
    assert people.store.all_faces().face_ids == []
    assert people.scan_pending().files == 0
    people.turn_on()
    assert people.store.pending_count() == 19  # 16 + 2 without faces + the video
    assert people.scan_pending(max_files=3).files == 3  # a share of them (a watcher batch)
    assert people.store.pending_count() == 16


def test_an_unknown_person_is_a_plain_error(people: People) -> None:
    with pytest.raises(Exception, match="There is no person 999"):
        people.name(999, "Nobody")


def test_without_dlib_indexing_and_search_work_and_people_say_why(
    tiny_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # as if dlib were not installed
    monkeypatch.setattr(model_module.importlib.util, "find_spec", _no_dlib_spec)
    photos = tmp_path / "photos"
    written = write_shape_photos(photos, seeds=(1,))
    assert tiny_library.index([photos]).failed == 0
    assert tiny_library.search("a red circle", k=5).hits
    assert face_model_problem() == (
        "Face recognition is not installed (dlib is missing); run: "
        "pip install dlib-bin face-recognition-models"
    )
    with pytest.raises(FaceModelMissingError, match="dlib is missing"):
        tiny_library.people.scan_pending()
    assert tiny_library.people.store.pending_count() == len(written)  # once dlib is there


_real_find_spec = importlib.util.find_spec


def _no_dlib_spec(name: str, *args: Any) -> Any:
    return None if name == "dlib" else _real_find_spec(name, *args)


def test_a_large_photos_face_box_is_in_its_own_pixels(tmp_path: Path, model: FaceModel) -> None:
    """Faces are looked for on a smaller copy; the box is given in the photo's full size."""
    path = tmp_path / "large.jpg"
    photo("astronaut.jpg").resize((2560, 2560)).save(path, quality=90)
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    catalogue(catalog, [path])
    file_id = catalog.file_by_path(path).id  # type: ignore[union-attr]
    catalog.update_file(file_id, width=2560, height=2560)  # as the indexer records it
    people = People(catalog.session, lambda: model)
    people.scan_pending()
    (face,) = people.in_file(path)
    assert 5 * 170 < face.box.left < 5 * 185 and 5 * 80 < face.box.width < 5 * 100
    catalog.close()
