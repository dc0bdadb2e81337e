"""A fresh `lumen search` (and `similar`, `related`, `status`) reads the catalog through plain SQLite: it
finds the same files without importing SQLAlchemy (about half a second of its start-up), on a
writable data dir and on one nobody may write. Writes still go through the ORM (`lumen index`).

When the tests run as root the read-only search runs without the capabilities that let root
ignore file permissions (``setpriv``), as in ``test_read_only_library``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.shapes import caption_for_text, render
from tests.support.unprivileged import NO_OVERRIDE, lumen

RED = "a red circle on the left"
BLUE = "a blue square at the top"
ORM_NOTE = "sqlalchemy imported: "
# `lumen` itself, then whether SQLAlchemy was ever imported, as its last line of stderr.
_SEARCH_THEN_SAY = (
    "import sys\n"
    "from desktop_app.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print({ORM_NOTE!r} + str('sqlalchemy' in sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _search(
    data: Path, weights: Path, *args: str, command: str = "search"
) -> tuple[dict[str, object], bool]:
    """`lumen search ARGS --json` (or another command) in a fresh process: its answer, and
    whether it imported SQLAlchemy."""
    cmd = [sys.executable, "-c", _SEARCH_THEN_SAY, "--data-dir", str(data)]
    cmd += ["--model", "lumen-tiny", "--weights", str(weights), command, *args, "--json"]
    if os.geteuid() == 0:
        cmd = NO_OVERRIDE + cmd
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    note = [line for line in done.stderr.splitlines() if line.startswith(ORM_NOTE)]
    assert len(note) == 1, done.stderr
    return json.loads(done.stdout), note[0] == ORM_NOTE + "True"


def _paths(answer: dict[str, object]) -> list[str]:
    results = answer["results"]
    assert isinstance(results, list)
    return [str(hit["path"]) for hit in results]


def _library(tmp_path: Path, weights: Path) -> tuple[Path, Path]:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    data = tmp_path / "data"
    indexed = lumen(data, weights, "index", str(photos))
    assert indexed.returncode == 0, indexed.stderr
    return data, photos


def _answers_without_the_orm(data: Path, weights: Path, photos: Path) -> None:
    by_meaning, orm = _search(data, weights, RED, "-k", "1")
    assert _paths(by_meaning) == [str(photos / "red.png")]
    assert not orm
    # A filter (kind and folder), a file's name, and an FTS5 expression it cannot parse.
    filtered, orm = _search(
        data, weights, BLUE, "-k", "1", "--type", "image", "--folder", str(photos)
    )
    assert _paths(filtered) == [str(photos / "blue.png")]
    assert not orm
    named, orm = _search(data, weights, "blue.png")
    assert _paths(named)[0] == str(photos / "blue.png")
    assert not orm
    _, orm = _search(data, weights, 'blue AND OR ("')
    assert not orm
    # A photo like another, and the files related to one.
    for command in ("similar", "related"):
        _, orm = _search(data, weights, str(photos / "blue.png"), command=command)
        assert not orm
    status, orm = _search(data, weights, command="status")
    assert status["files"] == {"indexed": 2, "pending": 0, "failed": 0, "offline": 0}
    assert not orm


def test_a_fresh_search_finds_its_files_without_importing_sqlalchemy(
    tmp_path: Path, tiny_weights: Path
) -> None:
    data, photos = _library(tmp_path, tiny_weights)
    _answers_without_the_orm(data, tiny_weights, photos)


@pytest.mark.skipif(
    os.name != "posix" or (os.geteuid() == 0 and shutil.which("setpriv") is None),
    reason="needs POSIX permissions (and setpriv when run as root)",
)
def test_a_read_only_data_dir_answers_a_fresh_search_without_sqlalchemy(
    tmp_path: Path, tiny_weights: Path
) -> None:
    data, photos = _library(tmp_path, tiny_weights)
    for path in (data, *data.iterdir()):
        path.chmod(path.stat().st_mode & ~0o222)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(data.iterdir())}
    try:
        _answers_without_the_orm(data, tiny_weights, photos)
        after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(data.iterdir())}
        assert after == before  # not one byte written
    finally:
        for path in (data, *data.iterdir()):
            path.chmod(path.stat().st_mode | 0o200)
