"""`lumen` with videos: --type video, the matching moment printed, similar from a frame, status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.photos import write_shape_photos
from tests.support.shapes import caption_for_text
from tests.support.videos import write_shape_video

pytestmark = pytest.mark.slow


def _lumen(data: Path, weights: Path, *args: str) -> str:
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data)]
    command += ["--model", "lumen-tiny", "--weights", str(weights), *args]
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
        timeout=300,
    )
    assert proc.returncode == 0, f"lumen {args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_video_hits_print_their_moment(tmp_path: Path, tiny_weights: Path) -> None:
    folder = tmp_path / "roll"
    write_shape_photos(folder, seeds=(101,))
    write_shape_video(
        folder / "party.mp4",
        [
            (caption_for_text("a red circle on the left"), 4),
            (caption_for_text("a blue square on the right"), 4),
        ],
    )
    data = tmp_path / "data"
    assert "73 new" in _lumen(data, tiny_weights, "index", str(folder))

    out = _lumen(data, tiny_weights, "search", "a blue square on the right", "--type", "video")
    hit = next(line for line in out.splitlines() if "party.mp4" in line)
    assert "[at 0:0" in hit, out
    similar = _lumen(
        data, tiny_weights, "similar", str(folder / "party.mp4"), "--at", "0:06", "--type", "image"
    )
    results = [line for line in similar.splitlines() if "/roll/" in line]
    assert results and "IMG_" in results[0], similar

    status = _lumen(data, tiny_weights, "status")
    assert "72 photos, 1 video" in status
    assert "up to 16 frames per video" in status
