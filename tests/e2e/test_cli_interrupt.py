"""Ctrl-C during `lumen index`: the run stops, keeps the finished files, prints its summary and
exits 130 — no traceback, and no progress bar drawn after the user pressed it."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

FILES = 160  # batches of 32: far more than one batch is left when the first is stored

WORDS = (
    "river",
    "mountain",
    "invoice",
    "contract",
    "garden",
    "bicycle",
    "harbour",
    "lantern",
    "orchard",
    "meadow",
    "violin",
    "thunder",
    "pepper",
    "marble",
    "canyon",
    "copper",
    "tulip",
    "glacier",
)


def write_long_notes(folder: Path, count: int) -> None:
    """``count`` text files of many paragraphs each: a few hundred passages per file."""
    rng = random.Random(3)
    folder.mkdir(parents=True)
    for i in range(count):
        paragraphs = [
            "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) + "." for _ in range(6))
            for _ in range(60)
        ]
        (folder / f"notes_{i:03d}.txt").write_text("\n\n".join(paragraphs))


def lumen(data: Path, weights: Path) -> list[str]:
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
    ]


def indexed(data: Path, weights: Path) -> int:
    """How many files `lumen status` says are indexed."""
    proc = subprocess.run(
        [*lumen(data, weights), "status", "--json"], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return 0
    count: int = json.loads(proc.stdout)["files"]["indexed"]
    return count


def test_ctrl_c_while_documents_are_embedded_stops_with_the_summary(
    tmp_path: Path, tiny_weights: Path
) -> None:
    notes, data = tmp_path / "notes", tmp_path / "data"
    write_long_notes(notes, FILES)
    # stderr on a terminal (100 columns), so the progress bar is drawn
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [*lumen(data, tiny_weights), "index", str(notes)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1", COLUMNS="100"),
    )
    os.close(terminal)
    drawn: list[bytes] = []

    def files_done() -> int:
        """The last count of embedded files the bar shows."""
        bars = re.findall(rf"indexing.*?(\d+)/{FILES}", b"".join(drawn).decode("utf-8", "replace"))
        return int(bars[-1]) if bars else 0

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its end
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        wait_until(lambda: files_done() > 0, timeout=240, what="a first batch embedded")
        kept = files_done()
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    os.close(master)
    err = b"".join(drawn).decode("utf-8", "replace")
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    assert f"Seen {FILES} files: {FILES} new" in out and "Stopped before the end" in out, out
    # what the user sees after pressing Ctrl-C: the stop message, no bar drawn again
    after = err.rsplit("stopping", 1)[-1]
    assert "stopping" in err and "%|" not in after and "indexing" not in after, err
    assert kept <= indexed(data, tiny_weights) < FILES


@pytest.mark.parametrize("after_s", [1.5, 4.0])
def test_ctrl_c_while_lumen_starts_ends_quietly(
    tmp_path: Path, tiny_weights: Path, after_s: float
) -> None:
    notes, data = tmp_path / "notes", tmp_path / "data"
    write_long_notes(notes, 4)
    proc = subprocess.Popen(
        [*lumen(data, tiny_weights), "index", str(notes)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    try:
        # somewhere in start-up: imports, opening, scanning, the model (not Python's own
        # start-up, before any of Lumen runs: a Ctrl-C there is Python's to report)
        time.sleep(after_s)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130), out + err  # 0: it had finished already
    assert "Traceback" not in err, err
