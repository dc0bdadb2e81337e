"""The face detector is built once and then read from the model cache (a run that indexes one
photo no longer decodes it from dlib's text): the same faces, and a damaged copy is rebuilt."""

from __future__ import annotations

import shutil
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


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[int, int, int, int]], Path]:
    """The faces found by a detector built into an empty cache, and that cache (copied by each
    test: finding the faces takes seconds)."""
    cache = tmp_path_factory.mktemp("detector")
    return _found(cache), cache


def test_the_kept_detector_finds_the_same_faces(
    built: tuple[list[tuple[int, int, int, int]], Path], tmp_path: Path
) -> None:
    boxes, cache = built
    (kept,) = cache.glob("*frontal-face-detector.svm")
    assert kept.stat().st_size > 0
    shutil.copytree(cache, tmp_path, dirs_exist_ok=True)
    assert _found(tmp_path) == boxes  # now read from the copy
    assert boxes


def test_a_damaged_copy_is_built_again(
    built: tuple[list[tuple[int, int, int, int]], Path], tmp_path: Path
) -> None:
    expected, cache = built
    shutil.copytree(cache, tmp_path, dirs_exist_ok=True)
    (kept,) = tmp_path.glob("*frontal-face-detector.svm")
    kept.write_bytes(kept.read_bytes()[:500])
    assert _found(tmp_path) == expected
    assert kept.stat().st_size > 500
