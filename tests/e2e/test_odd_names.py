"""End to end: files whose names are not valid UTF-8, very long or hold newlines, and blank queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import child, reap
from tests.support.shapes import caption_for_text, render
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

RED = "a red circle on the left"
BLUE = "a blue square at the top"
GREEN = "a green triangle on the right"


def raw(path: Path, name: bytes) -> Path:
    """``path / name`` where ``name`` is raw bytes, as Python sees such a file."""
    return Path(os.fsdecode(os.fsencode(path) + b"/" + name))


def lumen(
    data: Path, weights: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data)]
    cmd += ["--model", "lumen-tiny", "--weights", str(weights), "--quiet", *args]
    # A strict UTF-8 stdout (as under PYTHONIOENCODING=utf-8) must not break printing.
    base = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8")
    return subprocess.run(cmd, capture_output=True, env=env or base, timeout=300)


def top_path(data: Path, weights: Path, query: str) -> bytes:
    """The first result's path, as bytes, read back from ``--json``."""
    out = lumen(data, weights, "search", query, "-k", "1", "--json")
    assert out.returncode == 0, out.stderr
    return os.fsencode(json.loads(out.stdout)["results"][0]["path"])


def test_non_utf8_long_and_newline_names_are_indexed_found_moved_and_forgotten(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    latin1_dir = raw(photos, b"Urlaub \xe9t\xe9")  # a Latin-1 folder name
    latin1_dir.mkdir(parents=True)
    red = raw(latin1_dir, b"caf\xe9.png")
    render(caption_for_text(RED)).save(red)
    long_name = "b" * 251 + ".png"  # 255 bytes, the most Linux allows
    render(caption_for_text(BLUE)).save(photos / long_name)
    newline = photos / "two\nlines.png"
    render(caption_for_text(GREEN)).save(newline)
    data = tmp_path / "data"

    indexed = lumen(data, tiny_weights, "index", str(photos))
    assert indexed.returncode == 0, indexed.stderr
    assert b"3 new" in indexed.stdout and b"0 failed" in indexed.stdout
    assert b"Traceback" not in indexed.stderr

    # The path comes back as the very same bytes, in --json and in plain output.
    assert top_path(data, tiny_weights, RED) == os.fsencode(red)
    assert top_path(data, tiny_weights, BLUE) == os.fsencode(photos / long_name)
    assert top_path(data, tiny_weights, GREEN) == os.fsencode(newline)
    plain = lumen(data, tiny_weights, "search", RED, "-k", "1")
    assert plain.returncode == 0 and os.fsencode(red) in plain.stdout
    listed = lumen(data, tiny_weights, "folders", "list")
    assert listed.stdout.strip() == os.fsencode(photos)

    # Moved to another undecodable name: the same file, found at its new bytes.
    moved = raw(latin1_dir, b"k\xf6ln.png")
    red.rename(moved)
    again = lumen(data, tiny_weights, "index")
    assert again.returncode == 0 and b"1 moved" in again.stdout, again.stdout
    assert top_path(data, tiny_weights, RED) == os.fsencode(moved)

    # Forgetting the undecodable folder drops its file and keeps the others.
    forgot = lumen(data, tiny_weights, "forget", str(latin1_dir))
    assert forgot.returncode == 0, forgot.stderr
    status = json.loads(lumen(data, tiny_weights, "status", "--json").stdout)
    assert status["files"]["indexed"] == 2 and status["vectors"] == status["index_size"] == 2

    # Deleted from disk: gone from the library at the next run.
    (photos / long_name).unlink()
    assert b"1 removed" in lumen(data, tiny_weights, "index").stdout
    assert top_path(data, tiny_weights, BLUE) != os.fsencode(photos / long_name)


def test_watch_indexes_and_prints_a_non_utf8_name(tmp_path: Path, tiny_weights: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), "--model"]
    cmd += ["lumen-tiny", "--weights", str(tiny_weights), "watch", str(photos), "--settle", "0.3"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8")
    with child(cmd, env=env) as watch:
        wait_until(lambda: watch.said("up to date"), timeout=120, what="the first rescan")
        red = raw(photos, b"r\xf6t.png")
        render(caption_for_text(RED)).save(red)
        wait_until(lambda: watch.said("indexed", str(red)), what="the Latin-1 name to be indexed")
        red.unlink()
        wait_until(lambda: watch.said("removed", str(red)), what="its removal")
        assert reap(watch.proc) == 0, watch.stderr
    assert "Traceback" not in watch.stderr


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_a_blank_query_is_a_usage_error(tmp_path: Path, tiny_weights: Path, query: str) -> None:
    out = lumen(tmp_path / "data", tiny_weights, "search", query)
    assert out.returncode == 2
    assert out.stdout == b""
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "empty" in lines[0]
