"""Permission-denied files and folders, for real: `lumen index` runs without the right to read them,
in a watched folder it may not write to.

When the tests run as root (who may read anything) the command runs as root without the
capabilities that let it ignore file permissions (``setpriv``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.shapes import caption_for_text, render
from tests.support.unprivileged import lumen

pytestmark = pytest.mark.slow

RED = "a red circle on the left"
BLUE = "a blue square at the top"


@pytest.mark.skipif(
    os.name != "posix" or (os.geteuid() == 0 and shutil.which("setpriv") is None),
    reason="needs POSIX permissions (and setpriv when run as root)",
)
def test_unreadable_files_fail_and_an_unreadable_folder_keeps_its_files(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    private = photos / "private"
    private.mkdir(parents=True)
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    render(caption_for_text(RED)).save(private / "red.png")
    render(caption_for_text(RED), seed=3).save(photos / "locked.png")
    (photos / "locked.png").chmod(0)
    data = tmp_path / "data"
    photos.chmod(0o555)  # and Lumen may not write in the watched folder (as on a read-only disk)
    try:
        _index_without_read_rights(data, photos, private, tiny_weights)
    finally:
        private.chmod(0o755)
        photos.chmod(0o755)


def _index_without_read_rights(data: Path, photos: Path, private: Path, tiny_weights: Path) -> None:
    first = lumen(data, tiny_weights, "index", str(photos))
    assert first.returncode == 0, first.stderr
    assert (
        "3 new" in first.stdout and "Indexed 2 files" in first.stdout and "1 failed" in first.stdout
    )
    assert f"{photos / 'locked.png'}: permission denied" in first.stdout
    assert "Traceback" not in first.stderr

    private.chmod(0)  # the folder can no longer be listed: its file is kept, not removed
    second = lumen(data, tiny_weights, "index")
    assert second.returncode == 0, second.stderr
    assert "0 removed" in second.stdout
    assert f"{private}: Permission denied" in second.stdout
    assert [line for line in second.stderr.splitlines() if str(private) in line] == [
        f"WARNING: Skipped {private}: Permission denied"
    ]
    found = lumen(data, tiny_weights, "search", RED, "-k", "1", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == str(private / "red.png")

    private.chmod(0o755)  # readable again: nothing to redo
    third = lumen(data, tiny_weights, "index")
    assert third.returncode == 0, third.stderr
    assert "0 new" in third.stdout and "0 removed" in third.stdout
    status = json.loads(lumen(data, tiny_weights, "status", "--json").stdout)
    assert status["files"]["indexed"] == 2 and status["vectors"] == status["index_size"] == 2
