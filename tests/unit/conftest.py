"""Fixtures several unit-test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.pictures import quadrants, save


@pytest.fixture(scope="session")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-megapixel photo-sized JPEG (4000×3000) whose every turn shows, made once."""
    path = tmp_path_factory.mktemp("big") / "big photo.jpg"
    return save(quadrants(4000, 3000), path, quality=90)
