"""`lumen duplicates`: edited copies of a photo group with it, distinct photos stay apart, and a
group is tight: every photo in it is close to the photo the group keeps, not only to a neighbour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from desktop_app.core.library import Library
from desktop_app.core.query.duplicates import DUPLICATE_COSINE, find_duplicates
from desktop_app.core.storage.catalog import Catalog, NewVector
from desktop_app.core.storage.vector_index import VectorIndex
from tests.support.catalog import SPACE, add
from tests.support.photos import file_name, write_shape_photos
from tests.support.shapes import caption_for_text

RED = caption_for_text("a red circle on the left")
GREEN = caption_for_text("a green triangle at the top")


@pytest.mark.slow
def test_edited_copies_group_with_their_original_biggest_group_first(
    tiny_library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1,), size=(320, 240))  # 72 distinct photos
    red = Image.open(photos / file_name(RED, 1))
    red.resize((160, 120)).save(photos / "red small.jpg", quality=40)
    w, h = red.size
    red.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(photos / "red cropped.jpg")
    ImageEnhance.Brightness(red).enhance(1.3).save(photos / "red brighter.jpg")
    green = Image.open(photos / file_name(GREEN, 1))
    green.save(photos / "green copy.png")
    assert tiny_library.index([photos]).failed == 0

    groups = tiny_library.duplicates()
    names = [{f.path.name for f in g.files} for g in groups]
    assert names == [
        {file_name(RED, 1), "red small.jpg", "red cropped.jpg", "red brighter.jpg"},
        {file_name(GREEN, 1), "green copy.png"},
    ]
    assert all(0.9 <= g.similarity <= 1.0 for g in groups)

    tiny_library.settings.save()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop_app.cli",
            "--data-dir",
            str(tiny_library.settings.data_dir),
            "duplicates",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [len(g["files"]) for g in json.loads(out)["groups"]] == [4, 2]


def _photos_at_angles(tmp_path: Path, degrees: dict[str, tuple[float, int]]) -> list[list[str]]:
    """The duplicate groups (names, the kept photo first) of photos at these angles in one plane.

    ``degrees``: name -> (angle, width); the photos are 4:3, so the widest has most pixels.
    """
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    index = VectorIndex(4)
    for name, (angle, width) in degrees.items():
        file_id = add(catalog, tmp_path / name)
        rad = np.radians(angle)
        vector = np.array([np.cos(rad), np.sin(rad), 0, 0], np.float32)
        ids, _old = catalog.store_embeddings(
            file_id, SPACE, [NewVector("image", vector)], width=width, height=width * 3 // 4
        )
        index.add(ids, vector[None, :])
    groups = find_duplicates(catalog, index, SPACE)
    for group in groups:  # every photo is close to the one the group keeps (listed first)
        kept = catalog.file_vectors(group.files[0].id, SPACE)[0][1]
        for record in group.files[1:]:
            other = catalog.file_vectors(record.id, SPACE)[0][1]
            assert float(kept @ other) >= DUPLICATE_COSINE
    catalog.close()
    return [[f.path.name for f in g.files] for g in groups]


def test_a_chain_of_look_alikes_whose_ends_differ_is_not_one_group(tmp_path: Path) -> None:
    # A≈B, B≈C, C≈D (20° apart: cosine 0.94), but A and D are 60° apart (cosine 0.5).
    chain = {"a.jpg": (0, 800), "b.jpg": (20, 800), "c.jpg": (40, 800), "d.jpg": (60, 800)}
    groups = [set(group) for group in _photos_at_angles(tmp_path, chain)]
    assert not any({"a.jpg", "d.jpg"} <= group for group in groups)
    # Both pairs are equally alike (their order is the stored vectors' rounding's to break).
    assert sorted(map(sorted, groups)) == [["a.jpg", "b.jpg"], ["c.jpg", "d.jpg"]]


def test_a_burst_groups_around_its_biggest_photo_however_many_shots(tmp_path: Path) -> None:
    # 30 shots within 6° of the biggest one: more than the neighbours looked at per photo.
    burst = {f"shot {n:02d}.jpg": (n * 0.2, 640) for n in range(30)}
    burst["shot 15.jpg"] = (3.0, 4000)  # the biggest: the one to keep
    burst["far.jpg"] = (90, 640)
    (group,) = _photos_at_angles(tmp_path, burst)
    assert group[0] == "shot 15.jpg"
    assert set(group) == {f"shot {n:02d}.jpg" for n in range(30)}
