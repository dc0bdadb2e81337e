"""End to end: `lumen places`, and `lumen search` saying how it read a query (issue 21)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.geotagged import LISBON, PORTO, TOKYO, write_geotagged_photo
from tests.support.shapes import caption_for_text

pytestmark = pytest.mark.slow

RED = caption_for_text("a red circle on the left")


def lumen(data_dir: Path, weights: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data_dir)]
    cmd += ["--model", "lumen-tiny", "--weights", str(weights), *args]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"lumen {args} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_places_and_understood_queries(tmp_path: Path, tiny_weights: Path) -> None:
    photos = tmp_path / "photos"
    write_geotagged_photo(photos / "l1.jpg", RED, 1, datetime(2023, 7, 10), LISBON)
    write_geotagged_photo(photos / "l2.jpg", RED, 2, datetime(2023, 7, 11), LISBON)
    write_geotagged_photo(photos / "p1.jpg", RED, 3, datetime(2022, 12, 25), PORTO)
    write_geotagged_photo(photos / "t1.jpg", RED, 4, datetime(2021, 7, 5), TOKYO)
    undated = write_geotagged_photo(photos / "x1.jpg", RED, 5)
    os.utime(undated, (datetime(2024, 3, 1).timestamp(),) * 2)
    data = tmp_path / "data"
    lumen(data, tiny_weights, "index", str(photos))

    listing = lumen(data, tiny_weights, "places").splitlines()
    assert listing[0] == "Portugal  3"
    assert listing[1].strip().startswith("Lisbon") and listing[1].endswith("  2")
    assert "Japan  1" in listing

    out = lumen(data, tiny_weights, "search", "a red circle July 2023 in Lisbon", "--all")
    assert out.splitlines()[0] == (
        "understood: date July 2023 · place Lisbon, Portugal · “a red circle”"
    )
    assert "in Lisbon, Portugal" in out
    assert "p1.jpg" not in out and "t1.jpg" not in out

    found = json.loads(
        lumen(data, tiny_weights, "search", "a red circle in Portugal", "--json", "--all")
    )
    assert found["understood"]["place"]["key"] == "PT"
    assert {Path(r["path"]).name for r in found["results"]} == {"l1.jpg", "l2.jpg", "p1.jpg"}
    assert all(r["place"]["country"] == "Portugal" for r in found["results"])

    timeline = lumen(data, tiny_weights, "search", "a red circle", "--sort", "date", "--all")
    names = [line.split("/")[-1] for line in timeline.splitlines() if line.endswith(".jpg")]
    assert names == ["x1.jpg", "l2.jpg", "l1.jpg", "p1.jpg", "t1.jpg"]
    assert "modified 2024-03-01 (no capture date)" in timeline
