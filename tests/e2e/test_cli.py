"""End to end: the `lumen` command on real files in temp dirs, with the tiny trained model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IndexedShapes
from tests.support.photos import (
    file_name,
    write_awkward_files,
    write_exif_rotated_jpeg,
    write_png_with_alpha,
    write_shape_photos,
)
from tests.support.shapes import caption_for_text
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


class Lumen:
    """Runs the installed `lumen` entry point against one data dir."""

    def __init__(self, data_dir: Path, weights: Path) -> None:
        self.data_dir = data_dir
        self.weights = weights

    def __call__(
        self, *args: str, model: bool = True, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        prefix = ["--data-dir", str(self.data_dir)]
        if model:
            prefix += ["--model", "lumen-tiny", "--weights", str(self.weights)]
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        proc = subprocess.run(
            [sys.executable, "-m", "desktop_app.cli", *prefix, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if check:
            assert proc.returncode == 0, f"lumen {args} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def json(self, *args: str, **kw: Any) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self(*args, "--json", **kw).stdout)
        return out


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    write_shape_photos(root / "shapes")
    write_png_with_alpha(root / "transparent.png", caption_for_text("a green square at the top"))
    write_exif_rotated_jpeg(root / "sideways.jpg", caption_for_text("a blue circle on the left"))
    write_awkward_files(root / "awkward")
    return root


def test_index_search_similar_move_delete_reopen(
    photos: Path, tmp_path: Path, tiny_weights: Path
) -> None:
    lumen = Lumen(tmp_path / "data", tiny_weights)

    first = lumen("index", str(photos))
    assert "149 new" in first.stdout, first.stdout  # 144 shapes + alpha + rotated + 3 awkward
    assert "3 failed" in first.stdout
    assert "files/s" in first.stdout

    status = lumen.json("status", "--errors", model=False)
    assert status["files"] == {"indexed": 146, "pending": 0, "failed": 3, "offline": 0}
    reasons = {Path(e["path"]).name: e["error"] for e in status["errors"]}
    assert set(reasons) == {"corrupt.jpg", "empty.jpg", "huge.png"}
    assert "too large" in reasons["huge.png"]
    assert status["vectors"] == status["index_size"] == 146

    # A text query finds its photos first; later commands need no --model (it was remembered).
    hits = lumen.json("search", "a red circle on the left", "-k", "5", model=False)["results"]
    assert hits and all(h["relevant"] for h in hits)
    red_circles = {
        file_name(caption_for_text("a red circle on the left"), seed) for seed in (101, 102)
    }
    assert Path(hits[0]["path"]).name in red_circles

    rotated = lumen.json("search", "a blue circle on the left", "-k", "3", model=False)["results"]
    assert "sideways.jpg" in [Path(h["path"]).name for h in rotated]
    sideways = next(h for h in rotated if Path(h["path"]).name == "sideways.jpg")
    assert (sideways["width"], sideways["height"]) == (160, 120)  # stored 120×160, shown upright

    transparent = lumen.json("search", "a green square at the top", "-k", "3", model=False)[
        "results"
    ]
    assert "transparent.png" in [Path(h["path"]).name for h in transparent]

    # Find similar: the query file itself is excluded, its twin (same caption) comes first.
    query = photos / "shapes" / file_name(caption_for_text("a yellow triangle at the bottom"), 101)
    similar = lumen.json("similar", str(query), "-k", "3", model=False)["results"]
    assert str(query) not in [h["path"] for h in similar]
    assert Path(similar[0]["path"]).name == file_name(
        caption_for_text("a yellow triangle at the bottom"), 102
    )

    # Rename + move into a new subfolder: the vector is kept, nothing is re-embedded.
    moved_dir = photos / "shapes" / "sorted"
    moved_dir.mkdir()
    old = photos / "shapes" / file_name(caption_for_text("a purple square on the right"), 101)
    new = moved_dir / "favourite.jpg"
    old.rename(new)
    second = lumen("index", model=False)
    assert "0 new" in second.stdout and "1 moved" in second.stdout, second.stdout
    assert "Indexed" not in second.stdout  # no embedding happened
    hits = lumen.json("search", "a purple square on the right", "-k", "2", model=False)["results"]
    assert str(new) in [h["path"] for h in hits]
    assert str(old) not in [h["path"] for h in hits]

    # Delete: gone from results after the next index.
    gone = photos / "shapes" / file_name(caption_for_text("a black circle at the top"), 102)
    gone.unlink()
    third = lumen("index", model=False)
    assert "1 removed" in third.stdout, third.stdout
    hits = lumen.json("search", "a black circle at the top", "-k", "20", "--all", model=False)[
        "results"
    ]
    assert str(gone) not in [h["path"] for h in hits]

    # Re-open: the same library answers the same way; counts are consistent.
    status = lumen.json("status", model=False)
    assert status["files"]["indexed"] == 145
    assert status["vectors"] == status["index_size"] == 145


def test_missing_model_fails_clearly_and_writes_nothing(photos: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), "index", str(photos)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "--weights" in proc.stderr and "ViT-B-32" in proc.stderr
    assert "Traceback" not in proc.stderr
    status = Lumen(data, Path("unused")).json("status", model=False)
    assert status["folders"] == [] and status["files"]["pending"] == 0 and status["vectors"] == 0


def test_missing_weights_file_is_reported(tmp_path: Path, photos: Path) -> None:
    lumen = Lumen(tmp_path / "data", tmp_path / "nope.safetensors")
    proc = lumen("index", str(photos), check=False)
    assert proc.returncode == 1
    assert "nope.safetensors does not exist" in proc.stderr


def test_a_killed_index_run_leaves_a_consistent_library(tmp_path: Path, tiny_weights: Path) -> None:
    import signal
    import sqlite3

    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1, 2, 3, 4))
    lumen = Lumen(tmp_path / "data", tiny_weights)
    cmd = [
        sys.executable,
        "-m",
        "desktop_app.cli",
        "--data-dir",
        str(lumen.data_dir),
        "--model",
        "lumen-tiny",
        "--weights",
        str(tiny_weights),
        "--quiet",
        "index",
        str(photos),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    catalog = lumen.data_dir / "catalog.sqlite3"

    def indexed() -> int:
        try:
            with sqlite3.connect(catalog, timeout=1) as db:
                count: int = db.execute(
                    "select count(*) from files where status='indexed'"
                ).fetchone()[0]
                return count
        except sqlite3.OperationalError:  # not created yet, or busy
            return 0

    wait_until(
        lambda: proc.poll() is not None or (catalog.exists() and indexed()),
        timeout=120,
        what="the run to embed its first files",
    )
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert indexed(), "the run never got to embedding"

    status = lumen.json("status", model=False)
    assert status["vectors"] == status["index_size"]  # reconciled on open
    finished = lumen("index", model=False)
    assert "Indexed" in finished.stdout or proc.returncode == 0
    status = lumen.json("status", model=False)
    assert status["files"]["indexed"] == 288 and status["files"]["pending"] == 0
    assert status["vectors"] == status["index_size"] == 288
    hits = lumen.json("search", "a green circle at the bottom", "-k", "4", model=False)["results"]
    green = {
        file_name(caption_for_text("a green circle at the bottom"), seed) for seed in (1, 2, 3, 4)
    }
    assert Path(hits[0]["path"]).name in green


def test_results_piped_into_a_reader_that_stops_early_end_quietly(
    tmp_path: Path, indexed_shapes: IndexedShapes
) -> None:
    """`lumen search … | head -2`: no traceback when the reader closes the pipe."""
    # A library of the 144 shape photos (indexed once a session, copied for this test).
    settings, _shapes = indexed_shapes.copy(tmp_path / "models", seeds=(101, 102))
    settings.save()  # the model and weights, as `lumen index` remembers them
    command = [
        sys.executable, "-m", "desktop_app.cli", "--data-dir", str(settings.data_dir),
        "search", "a red circle on the left", "--all", "-k", "200",
    ]  # fmt: skip
    # The reader is gone before the first line (reading a line first raced the search: on a
    # loaded machine all results fit the pipe's buffer before the reader closed it).
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen(
            command,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=dict(os.environ, HF_HUB_OFFLINE="1"),
        )
    finally:
        os.close(write_end)
    assert proc.stderr is not None
    errors = proc.stderr.read().decode()
    assert proc.wait(120) == 141, errors
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
