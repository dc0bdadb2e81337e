"""`lumen` with videos and RAW photos: --type video/raw, the matching moment printed, similar
from a frame, the file of a RAW+JPEG shot that opens, status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.photos import write_shape_photos
from tests.support.raw import write_dng
from tests.support.shapes import caption_for_text, render
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
    # One shot kept as RAW + JPEG, the RAW's name lower-cased by the computer it was copied with.
    shot = render(caption_for_text("a yellow square on the left"), (320, 240), seed=6)
    write_dng(folder / "dsc_0042.nef", shot)
    shot.save(folder / "DSC_0042.JPG", quality=90)
    data = tmp_path / "data"
    assert "75 new" in _lumen(data, tiny_weights, "index", str(folder))

    out = _lumen(data, tiny_weights, "search", "a blue square on the right", "--type", "video")
    hit = next(line for line in out.splitlines() if "party.mp4" in line)
    assert "[at 0:0" in hit, out
    similar = _lumen(
        data, tiny_weights, "similar", str(folder / "party.mp4"), "--at", "0:06", "--type", "image"
    )
    results = [line for line in similar.splitlines() if "/roll/" in line]
    assert results and "IMG_" in results[0], similar

    def raw_hits() -> list[dict[str, object]]:
        out = _lumen(data, tiny_weights, "search", "a yellow square", "--type", "raw", "--json")
        return list(json.loads(out)["results"])

    [raw] = raw_hits()  # the RAW only, with the JPEG of its shot; Open shows the JPEG
    assert Path(str(raw["path"])).name == "dsc_0042.nef"
    assert [Path(p).name for p in raw["companions"]] == ["DSC_0042.JPG"]  # type: ignore[attr-defined]
    assert Path(str(raw["opens"])).name == "DSC_0042.JPG"
    settings = data / "settings.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "open_raw": True}))
    assert Path(str(raw_hits()[0]["opens"])).name == "dsc_0042.nef"

    status = _lumen(data, tiny_weights, "status")
    assert "74 photos (1 RAW), 1 video" in status
    assert "up to 16 frames per video" in status
