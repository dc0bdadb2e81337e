"""The face model on real photos: one face per person's variant, none without people, tiny
faces skipped, and plain words when the model is missing or damaged."""

from __future__ import annotations

import itertools
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop_app import doctor
from desktop_app.core.people import model as face_model
from desktop_app.core.people.clustering import THRESHOLD
from desktop_app.core.people.model import (
    DESCRIPTOR_FILE,
    LANDMARKS_FILE,
    FaceModel,
    FaceModelError,
    FaceModelMissingError,
    load_face_model,
    models_folder,
)
from tests.support.faces import NO_FACES, PEOPLE, many_faces, photo, variants


@pytest.fixture(scope="module")
def model() -> FaceModel:
    return load_face_model()


@pytest.fixture(scope="module")
def descriptors(model: FaceModel) -> dict[tuple[str, str], np.ndarray]:
    """The one face of every variant of both people."""
    out = {}
    for person in PEOPLE:
        for name, image in variants(person).items():
            faces = model.faces(image)
            assert len(faces) == 1, f"{person} {name}: {len(faces)} faces"
            out[(person, name)] = faces[0].descriptor
    return out


def test_each_variant_shows_one_face_and_the_same_person(
    descriptors: dict[tuple[str, str], np.ndarray],
) -> None:
    for a, b in itertools.combinations(descriptors, 2):
        distance = float(np.linalg.norm(descriptors[a] - descriptors[b]))
        if a[0] == b[0]:
            assert distance < THRESHOLD, (a, b, distance)
        else:
            assert distance > THRESHOLD, (a, b, distance)


def test_the_box_is_where_the_face_is_in_the_original_picture(model: FaceModel) -> None:
    image = photo("astronaut.jpg")  # Eileen Collins' face: about x 175-265, y 75-165
    (face,) = model.faces(image)
    centre = (face.box.left + face.box.width / 2, face.box.top + face.box.height / 2)
    assert 190 < centre[0] < 250 and 90 < centre[1] < 150
    assert 70 < face.box.width < 110
    larger = image.resize((1024, 1024))
    (big,) = model.faces(larger)
    assert (
        abs(big.box.left - 2 * face.box.left) < 12 and abs(big.box.width - 2 * face.box.width) < 12
    )


def test_photos_without_people_have_no_faces(model: FaceModel) -> None:
    for name in NO_FACES:
        assert model.faces(photo(name)) == []


def test_tiny_faces_are_skipped(model: FaceModel) -> None:
    assert model.faces(many_faces(200, face_px=30)) == []
    assert model.faces(photo("hopper.jpg").resize((32, 32))) == []


def test_a_crowd_is_described_up_to_a_bound(
    model: FaceModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    crowd = many_faces(12, face_px=110, columns=4, gap=1.15)  # faces big enough to describe
    monkeypatch.setattr(face_model, "MAX_FACES", 3)
    assert len(model.faces(crowd)) == 3
    monkeypatch.setattr(face_model, "DESCRIBE_BUDGET_S", 0.0)  # past the budget at once
    assert len(model.faces(crowd)) == 1


def test_no_dlib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # as if not installed: importing it fails
    with pytest.raises(FaceModelMissingError, match="pip install dlib-bin"):
        load_face_model()


def test_no_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(face_model.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(FaceModelMissingError, match="face-recognition-models"):
        load_face_model()
    finding = doctor.faces_finding()  # `lumen doctor` says so too, without blocking anything
    assert finding.state == doctor.WARN and "dlib is missing" in finding.detail
    assert finding.advice == "People need it: pip install dlib-bin face-recognition-models"


def test_a_missing_or_damaged_model_file_is_named(tmp_path: Path) -> None:
    shutil.copy(models_folder() / LANDMARKS_FILE, tmp_path / LANDMARKS_FILE)
    with pytest.raises(FaceModelMissingError, match=DESCRIPTOR_FILE):
        load_face_model(tmp_path)
    damaged = tmp_path / DESCRIPTOR_FILE
    damaged.write_bytes((models_folder() / DESCRIPTOR_FILE).read_bytes()[:50_000])
    model = load_face_model(tmp_path)
    with pytest.raises(FaceModelError, match=str(damaged)):
        model.faces(photo(PEOPLE["astronaut"]))  # the first face needs the describing files


def test_photos_without_faces_are_looked_at_without_the_describing_files(tmp_path: Path) -> None:
    """Only the detector decides that a photo shows nobody: a run of such photos never reads
    the landmark and descriptor models (a damaged one does not stop it)."""
    shutil.copy(models_folder() / LANDMARKS_FILE, tmp_path / LANDMARKS_FILE)
    (tmp_path / DESCRIPTOR_FILE).write_bytes(b"not a model")
    model = load_face_model(tmp_path)
    assert [len(model.faces(photo(name))) for name in NO_FACES] == [0] * len(NO_FACES)
