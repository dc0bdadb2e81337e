"""Clearing the search field on a big library: last key → the newest files in the grid.

    python benchmarks/bench_clear_field.py [--workdir DIR] [--only docs|mixed] [--rounds 10]

Uses the libraries ``bench_big_library`` builds (3k files with 24k passages, 100k files),
through the window's path: a host process, its pipe, the presenter and the grid of an
offscreen window. Each round types a word, waits for its results, then empties the field as a
user does (select all, Backspace) and times the key → the recent files shown, with the time
the host took and the rows it sent; then scrolls the grid to its end and times the next page
(when the window reads the listing in pages). Target: ≤ 100 ms p95, like any keystroke.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TARGET_MS = 100.0
WORDS = ("license", "harbour", "a photo of a dog", "configure the server")


def _ms(values: list[float]) -> str:
    ms = sorted(1000 * v for v in values)
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    return f"p50 {statistics.median(ms):5.0f} ms  p95 {p95:5.0f} ms  ({len(ms)})"


def measure(data: Path, rounds: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from benchmarks.bench_big_library import _open_window
    from benchmarks.bench_gui import Loop

    loop = Loop()
    window = _open_window(loop, data)
    loop.run_until(lambda: window.model.rowCount() > 0, 120)
    shown: list[tuple[float, Any]] = []
    window.results_shown.connect(lambda r: shown.append((time.perf_counter(), r)))
    cleared, host, rows, pages = [], [], [], []
    for n in range(rounds):
        word = WORDS[n % len(WORDS)]
        window.search.setFocus()
        QTest.keyClicks(window.search, word)
        loop.run_until(lambda w=word: bool(shown) and shown[-1][1].query.text == w, 120)
        window.search.selectAll()
        QTest.keyClick(window.search, Qt.Key.Key_Backspace)
        pressed = time.perf_counter()
        loop.run_until(lambda: shown[-1][1].query.is_recent, 120)
        at, result = shown[-1]
        cleared.append(at - pressed)
        host.append(result.elapsed_s)
        rows.append(len(result.rows))
        if getattr(window.model, "more", False):  # the listing comes in pages
            before = window.model.rowCount()
            bar = window.grid.verticalScrollBar()
            started = time.perf_counter()
            bar.setValue(bar.maximum())
            loop.run_until(lambda b=before: window.model.rowCount() > b, 120)
            pages.append(time.perf_counter() - started)
    print(
        f"  clear the field → newest files shown {_ms(cleared)}   target p95 ≤ {TARGET_MS:.0f} ms"
    )
    print(f"  in the host {_ms(host)}; rows sent {statistics.median(rows):.0f}")
    if pages:
        print(f"  scrolled to the end → next page shown {_ms(pages)}")
    window.close()
    loop.app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-big"
    )
    parser.add_argument("--only", action="append", choices=("docs", "mixed"))
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from benchmarks.big_library_build import build_library, model_env

    model_env()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.only or ("docs", "mixed"):
        print(f"library {name!r}")
        measure(build_library(args.workdir, name), args.rounds)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
