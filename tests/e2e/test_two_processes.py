"""Two Lumen processes on one data dir: one writer (others hand it their work or wait), readers
always work; newer data refused."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.indexing.writer_lock import WriterLock
from tests.support.processes import child, reap
from tests.support.shapes import caption_for_text, render
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

RED = "a red circle on the left"
BLUE = "a blue square at the top"
GREEN = "a green triangle on the right"


def command(data: Path, weights: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "desktop_app.cli",
        "--data-dir",
        str(data),
        "--model",
        "lumen-tiny",
        "--weights",
        str(weights),
        *args,
    ]


def run(data: Path, weights: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cmd = command(data, weights, *args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_a_second_writer_hands_its_work_to_the_watcher_while_readers_and_forget_work(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text(BLUE)).save(photos / "blue.png")
    more = tmp_path / "more"
    more.mkdir()
    render(caption_for_text(GREEN)).save(more / "green.png")
    later = tmp_path / "later"
    later.mkdir()
    data = tmp_path / "data"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    watch_cmd = command(data, tiny_weights, "watch", str(photos), "--settle", "0.3")
    with child(watch_cmd, env=env) as watch:
        wait_until(lambda: watch.said("up to date", "2 new"), timeout=120, what="the first scan")

        # `lumen index` of a new folder: the watcher does it, this command reports its figures.
        second = run(data, tiny_weights, "index", str(more))
        assert second.returncode == 0, second.stderr
        assert "Handed to lumen watch (pid" in second.stderr
        assert "1 new" in second.stdout and "Traceback" not in second.stderr
        assert watch.said("indexed", str(more / "green.png"))
        # A second `lumen watch`: the running one follows the new folder too.
        other_watch = run(data, tiny_weights, "watch", str(later))
        assert other_watch.returncode == 0, other_watch.stderr
        assert "lumen watch (pid" in other_watch.stdout and str(later) in other_watch.stdout
        render(caption_for_text(GREEN), seed=2).save(later / "green2.png")
        wait_until(lambda: watch.said("indexed", "green2.png"), what="the handed-over folder")

        found = run(data, tiny_weights, "search", RED, "-k", "1", "--json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["results"][0]["path"] == str(photos / "red.png")

        before_forget = len(watch.lines)
        forgot = run(data, tiny_weights, "forget", str(photos / "red.png"))
        assert forgot.returncode == 0, forgot.stderr
        (photos / "red.png").touch()  # the watcher sees it change, and must leave it out
        render(caption_for_text(RED), seed=5).save(photos / "red2.png")
        wait_until(lambda: watch.said("indexed", "red2.png"), what="a later change")
        after = watch.lines[before_forget:]
        assert not any(line.endswith("indexed " + str(photos / "red.png")) for line in after)
        assert reap(watch.proc) == 0, watch.stderr

    again = run(data, tiny_weights, "index")
    assert again.returncode == 0, again.stderr
    status = json.loads(run(data, tiny_weights, "status", "--json").stdout)
    assert status["files"]["indexed"] == 4  # blue, red2, green, green2; red stays forgotten
    assert status["vectors"] == status["index_size"] == 4


def test_without_a_watcher_index_waits_its_turn_and_watch_is_refused(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    data = tmp_path / "data"
    assert run(data, tiny_weights, "exclude", "list").returncode == 0  # creates the library
    busy = WriterLock(data, holder="lumen index")  # another run that does not follow changes
    assert busy.try_acquire()
    try:
        refused = run(data, tiny_weights, "watch", str(photos))
        assert refused.returncode == 1
        assert "Another Lumen is updating this library (lumen index, pid" in refused.stderr
        assert "run this again when it has finished" in refused.stderr
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        with child(command(data, tiny_weights, "index", str(photos)), env=env) as waiting:
            wait_until(
                lambda: "Waiting for lumen index (pid" in waiting.stderr, what="the waiting notice"
            )
            busy.release()  # that run ends: this one takes the library and indexes
            wait_until(lambda: waiting.said("1 new"), timeout=120, what="its own run")
            assert waiting.proc.wait(timeout=60) == 0, waiting.stderr
    finally:
        busy.release()


def test_a_library_from_a_newer_lumen_is_refused_untouched(
    tmp_path: Path, tiny_weights: Path
) -> None:
    data = tmp_path / "data"
    assert run(data, tiny_weights, "exclude", "list").returncode == 0  # creates the library
    catalog = data / "catalog.sqlite3"
    with sqlite3.connect(catalog) as db:
        db.execute("PRAGMA user_version = 999")
    db.close()
    refused = run(data, tiny_weights, "status")
    assert refused.returncode == 1
    assert "newer Lumen" in refused.stderr and "Update Lumen" in refused.stderr
    assert "Traceback" not in refused.stderr
    with sqlite3.connect(catalog) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 999  # left as it was
    db.close()


def test_a_library_from_before_exclusions_is_migrated(tmp_path: Path, tiny_weights: Path) -> None:
    data = tmp_path / "data"
    assert run(data, tiny_weights, "exclude", "list").returncode == 0  # creates the library
    with sqlite3.connect(data / "catalog.sqlite3") as db:
        db.execute("DROP TABLE exclusions")
        db.execute("PRAGMA user_version = 3")
    db.close()
    listed = run(data, tiny_weights, "exclude", "list")
    assert listed.returncode == 0, listed.stderr
    assert "node_modules" in listed.stdout.splitlines()
