"""`lumen duplicates`: edited copies of a photo group with it, distinct photos stay apart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from desktop_app.core.library import Library
from tests.support.photos import file_name, write_shape_photos
from tests.support.shapes import caption_for_text

pytestmark = pytest.mark.slow

RED = caption_for_text("a red circle on the left")
GREEN = caption_for_text("a green triangle at the top")


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
