"""An index run's face pass says how far it is, file by file, with its pace and the time left
(the CLI's log line and the window's status bar show them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.people.model import face_model_problem
from desktop_app.core.records import Progress
from tests.support.photos import write_shape_photos


@pytest.mark.skipif(face_model_problem() is not None, reason="no face model installed")
def test_the_face_pass_reports_each_file_with_its_pace(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = write_shape_photos(tmp_path / "photos", seeds=(101,))
    seen: list[Progress] = []
    with Library.open(tiny_settings, lambda _s: tiny_embedder) as library:
        library.index([tmp_path / "photos"], seen.append)
    faces = [p for p in seen if p.phase == "faces"]
    done = [p.done for p in faces]
    assert done == sorted(done) and set(done) == set(range(1, len(photos) + 1))
    assert all(p.total == len(photos) for p in faces)
    assert faces[-1].rate > 0
    assert faces[0].eta_s is not None and faces[0].eta_s > 0
