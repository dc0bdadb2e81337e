"""A data dir that cannot take more bytes: one clear message, the last good state kept, searches work.

A full disk is simulated with a file-size limit (RLIMIT_FSIZE) on the `lumen` process: every
write past it fails as it would on a full disk (EFBIG instead of ENOSPC), without root.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.photos import write_shape_photos

pytestmark = pytest.mark.slow

# Room for SQLite's 32 KB shared-memory file and a few pages of its log, so the catalog opens
# and the run starts; the first checkpoint or a longer log write fails.
LIMIT_BYTES = 64 * 1024


def lumen(
    data: Path, weights: Path, *args: str, full: bool = False
) -> subprocess.CompletedProcess[str]:
    def fill_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))

    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), "--model"]
    cmd += ["lumen-tiny", "--weights", str(weights), "--quiet", *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
        timeout=300,
        preexec_fn=fill_disk if full else None,
    )


def test_a_full_disk_keeps_the_last_good_state_and_searches_go_on(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos, data = tmp_path / "photos", tmp_path / "data"
    write_shape_photos(photos / "first", seeds=(1,))
    assert lumen(data, tiny_weights, "index", str(photos)).returncode == 0
    before = json.loads(lumen(data, tiny_weights, "status", "--json").stdout)
    assert before["files"]["indexed"] == 72

    write_shape_photos(photos / "second", seeds=(2, 3))
    failed = lumen(data, tiny_weights, "index", full=True)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    said = [line for line in failed.stderr.splitlines() if line.startswith("lumen:")]
    assert len(said) == 1 and "Cannot write to the library" in said[0], failed.stderr
    assert "Nothing was lost" in failed.stderr and "Traceback" not in failed.stderr

    found = lumen(data, tiny_weights, "search", "a red circle on the left", "--json", full=True)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"]

    after = json.loads(lumen(data, tiny_weights, "status", "--json").stdout)
    assert after["files"]["indexed"] >= 72 and after["vectors"] == after["index_size"]
    done = lumen(data, tiny_weights, "index")
    assert done.returncode == 0, done.stderr
    final = json.loads(lumen(data, tiny_weights, "status", "--json").stdout)
    assert final["files"]["indexed"] == 216 and final["files"]["pending"] == 0
    assert final["vectors"] == final["index_size"] == 216
