"""The face detector is built once and then read from the model cache (a run that indexes one
photo no longer decodes it from dlib's text): the same faces, and a damaged copy is rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.people.model import face_model_problem, load_face_model
from tests.support.faces import PEOPLE, photo, variants

pytestmark = pytest.mark.skipif(face_model_problem() is not None, reason="no face model")


def _found(cache: Path) -> list[tuple[int, int, int, int]]:
    model = load_face_model(detector_cache=cache)
    pictures = [photo("astronaut.jpg"), photo("coffee.jpg")]
    pictures += [image for person in PEOPLE for image in variants(person).values()]
    boxes = []
    for picture in pictures:
        for face in model.faces(picture):
            boxes.append((face.box.left, face.box.top, face.box.width, face.box.height))
    return boxes


def test_the_kept_detector_finds_the_same_faces(tmp_path: Path) -> None:
    built = _found(tmp_path)
    (kept,) = tmp_path.glob("*frontal-face-detector.svm")
    assert kept.stat().st_size > 0
    assert _found(tmp_path) == built  # now read from the copy
    assert built


def test_a_damaged_copy_is_built_again(tmp_path: Path) -> None:
    expected = _found(tmp_path)
    (kept,) = tmp_path.glob("*frontal-face-detector.svm")
    kept.write_bytes(kept.read_bytes()[:500])
    assert _found(tmp_path) == expected
    assert kept.stat().st_size > 500
