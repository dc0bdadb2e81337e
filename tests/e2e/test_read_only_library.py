"""A search never writes: `lumen search`, `similar` and `related` leave every file of the data dir
as it was, and a data dir nobody may write (a backup, a read-only disk) answers them.

When the tests run as root (who may write anything) the commands run as root without the
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

RED = "a red circle on the left"
BLUE = "a blue square at the top"


def _state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file's bytes, modification time and mode, and the folder's mode.

    (SQLite's journal files come and go while a catalog is open: the folder's own stamp moves.)
    """
    state = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
        for p in sorted(folder.iterdir())
    }
    state["."] = (b"", 0, folder.stat().st_mode)
    return state


def _searches(data: Path, weights: Path, photos: Path) -> None:
    found = lumen(data, weights, "search", RED, "-k", "1", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == str(photos / "red.png")
    for command in ("similar", "related"):
        done = lumen(data, weights, command, str(photos / "blue.png"), "--json")
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(
    os.name != "posix" or (os.geteuid() == 0 and shutil.which("setpriv") is None),
    reason="needs POSIX permissions (and setpriv when run as root)",
)
def test_searches_write_nothing_and_a_read_only_data_dir_answers_them(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    data = tmp_path / "data"
    assert lumen(data, tiny_weights, "index", str(photos)).returncode == 0

    before = _state(data)
    _searches(data, tiny_weights, photos)
    assert _state(data) == before  # no index save, no catalog write, not even a stamp

    for path in (data, *data.iterdir()):
        path.chmod(path.stat().st_mode & ~0o222)
    before = _state(data)
    try:
        _searches(data, tiny_weights, photos)
        assert _state(data) == before
    finally:
        for path in (data, *data.iterdir()):
            path.chmod(path.stat().st_mode | 0o200)
