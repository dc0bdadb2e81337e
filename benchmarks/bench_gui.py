"""Benchmark the window: startup, keystroke to results on a 10k library, stalls while indexing.

One command, printing one line per figure:

    python benchmarks/bench_gui.py [--workdir DIR] [--items 10000] [--only indexing ...]

It runs offscreen with the tiny test model. The 10k-photo library is built once (rendered
shapes, indexed by ``lumen index``) and kept in the work dir for later runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WEIGHTS = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
MODEL_ARGS = ["--model", "lumen-tiny", "--weights", str(WEIGHTS), "--device", "cpu"]
QUERIES = (
    "a red circle on the left",
    "a blue square at the top",
    "a green triangle at the bottom",
    "a yellow circle on the right",
    "a purple square on the left",
    "a black triangle at the top",
    "a red square at the bottom",
    "a blue triangle on the right",
)

FIGURES = ("startup", "keystrokes", "indexing", "model-load")


def render_photos(folder: Path, count: int, size: tuple[int, int] = (96, 72)) -> None:
    """``count`` captioned shape photos (captions cycle, seeds vary)."""
    from tests.support.shapes import all_captions, render

    folder.mkdir(parents=True, exist_ok=True)
    captions = all_captions()
    for number in range(count):
        path = folder / f"photo_{number:05d}.jpg"
        if not path.exists():
            caption = captions[number % len(captions)]
            render(caption, size, seed=number).save(path, quality=85)


def build_library(work: Path, items: int) -> Path:
    """A data dir with ``items`` indexed photos (reused when it is already there)."""
    data = work / (f"library-{items}" if MODEL_ARGS[1] == "lumen-tiny" else f"vit-b-32-{items}")
    if (data / "ready").exists():
        return data
    shutil.rmtree(data, ignore_errors=True)
    photos = work / f"photos-{items}"
    started = time.perf_counter()
    render_photos(photos, items)
    print(f"  (rendered {items} photos in {time.perf_counter() - started:.0f} s)", flush=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), *MODEL_ARGS]
    subprocess.run([*command, "-q", "index", str(photos)], check=True, cwd=REPO)
    print(f"  (indexed them in {time.perf_counter() - started:.0f} s)", flush=True)
    (data / "ready").touch()
    return data


# -- startup ----------------------------------------------------------------------------------


def startup(data: Path, runs: int) -> None:
    """Process start to window shown, library open and model ready (``python -m desktop_app``)."""
    shown: list[float] = []
    ready: list[float] = []
    model: list[float] = []
    for _ in range(runs):
        started = time.time()
        command = [sys.executable, "-m", "desktop_app", "--data-dir", str(data), *MODEL_ARGS]
        output = subprocess.run(
            [*command, "--report-timings", "--exit-after", "model"],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        ).stdout
        events = {e["event"]: e["wall"] for e in map(json.loads, output.splitlines())}
        shown.append(events["shown"] - started)
        ready.append(events["ready"] - started)
        model.append(events["model"] - started)
    print(
        f"startup (median of {runs}, from process start): window shown "
        f"{statistics.median(shown):.2f} s, library open {statistics.median(ready):.2f} s, "
        f"model ready {statistics.median(model):.2f} s"
    )
    answered: list[float] = []
    for _ in range(runs):
        command = [sys.executable, "-m", "desktop_app", "--data-dir", str(data), *MODEL_ARGS]
        output = subprocess.run(
            [*command, "--type-query", QUERIES[0], "--exit-after", "answered"],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        ).stdout
        events = {e["event"]: e["wall"] for e in map(json.loads, output.splitlines())}
        answered.append(events["answered"] - events["shown"])
    print(
        f"first query after launch (typed when the window shows; median of {runs}): answered "
        f"by meaning {statistics.median(answered):.2f} s after the window shows "
        f"(all: {', '.join(f'{a:.2f}' for a in answered)})"
    )


# -- the window in this process -----------------------------------------------------------------


class Loop:
    """Drives the Qt event loop from a script; measures how late a 10 ms timer fires."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        self.gaps: list[float] = []
        self._last: float | None = None
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(max(0.0, now - self._last - 0.010))
        self._last = now

    def measure(self, on: bool) -> None:
        """Start (clearing what was measured) or stop measuring."""
        if on:
            self.gaps, self._last = [], None
            self._timer.start()
        else:
            self._timer.stop()

    def run_until(self, done: Callable[[], bool], timeout: float = 120.0) -> None:
        """Run the event loop until ``done()``, sleeping between events as a window does.

        (``processEvents(flags, maxtime)`` ignores WaitForMoreEvents: the loop this replaces
        spun a whole core, which the library process on a 2-core machine had to share: it made
        every query through the window look 2–3× slower than the same query in the host.)
        """
        from PySide6.QtCore import QEventLoop, QTimer

        deadline = time.monotonic() + timeout
        waker = QTimer()  # wakes the wait below, so ``done`` is checked at least every 2 ms
        waker.setInterval(2)
        waker.start()
        try:
            while not done():
                if time.monotonic() > deadline:
                    raise TimeoutError("the window did not get there in time")
                self.app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        finally:
            waker.stop()

    def worst_ms(self) -> float:
        return 1000 * max(self.gaps, default=0.0)

    def p99_ms(self) -> float:
        ordered = sorted(self.gaps) or [0.0]
        return 1000 * ordered[int(0.99 * (len(ordered) - 1))]


def open_window(loop: Loop, data: Path, process: bool = True) -> Any:
    from desktop_app.config import Settings
    from desktop_app.gui.main_window import MainWindow
    from desktop_app.gui.workers import LibraryBridge
    from desktop_app.host.client import LocalBackend, ProcessBackend
    from desktop_app.host.protocol import MODEL_LOADING

    settings = Settings.load(data).replace(model="lumen-tiny", weights=WEIGHTS, device="cpu")
    if process:
        bridge = LibraryBridge(lambda sink: ProcessBackend(settings, sink), watch=True)
    else:
        from desktop_app.core.library import Library
        from desktop_app.host.service import LibraryService

        bridge = LibraryBridge(
            lambda sink: LocalBackend(lambda: LibraryService(Library.open(settings)), sink)
        )
    window = MainWindow(settings, bridge)
    window.resize(1280, 800)
    window.show()
    window.start()
    loop.run_until(lambda: bridge.is_ready)
    loop.run_until(
        lambda: window.model_state is not None and window.model_state.state != MODEL_LOADING
    )
    gc.freeze()  # as the app does once its window is up
    return window


def visible_thumbnails_loaded(window: Any) -> bool:
    from PySide6.QtCore import QPoint

    from desktop_app.gui.results_model import PixmapRole

    grid, model = window.grid, window.model
    area = grid.viewport().rect()
    first = grid.indexAt(QPoint(8, 8)).row()
    for row in range(max(0, first), model.rowCount()):
        index = model.index(row)
        if not grid.visualRect(index).intersects(area):
            if grid.visualRect(index).top() > area.bottom():
                break
            continue
        item = model.item(row)
        if index.data(PixmapRole) is None and not model.thumbnail_failed(item):
            return False
    return True


def keystrokes(loop: Loop, data: Path, items: int, rounds: int, beside_run: bool) -> None:
    """Last keystroke to results in the grid, on a library of ``items`` photos (each query
    typed ``rounds`` times, at the speed QTest types: a fast typist). Typing begins once the
    window's start-up index run has ended, unless ``beside_run``."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = open_window(loop, data)
    # Warm: the recent files are on screen with their thumbnails before the first key.
    loop.run_until(lambda: window.model.rowCount() > 0, 60)
    loop.run_until(lambda: visible_thumbnails_loaded(window), 60)
    # The window's start-up index run (a walk of every folder) may still go on. Typed beside
    # it, the first queries share the cores with it, as a user's would; but how far typing
    # overlaps it depends on how soon the window was ready, so two codes compare only after it.
    if window.bridge.indexing and beside_run:
        print("  (typing begins while the window's start-up index run still goes on)")
    elif window.bridge.indexing:
        began = time.perf_counter()
        loop.run_until(lambda: not window.bridge.indexing, 300)
        waited = time.perf_counter() - began
        print(f"  (typing begins after the window's start-up index run: waited {waited:.1f} s)")
    shown: list[tuple[float, Any]] = []
    window.results_shown.connect(lambda r: shown.append((time.perf_counter(), r)))

    def wait_for(text: str) -> tuple[float, Any]:
        loop.run_until(lambda: bool(shown) and shown[-1][1].query.text == text)
        at, result = shown[-1]
        return at, result

    typed, entered, thumbs, host = [], [], [], []
    for text in QUERIES * rounds:
        window.search.clear()
        window.search.setFocus()
        QTest.keyClicks(window.search, text)
        last_key = time.perf_counter()
        at, result = wait_for(text)
        typed.append(at - last_key)
        host.append(result.elapsed_s)
        loop.run_until(lambda: visible_thumbnails_loaded(window), 60)
        thumbs.append(time.perf_counter() - last_key)
    for text in QUERIES:
        text = f"a photo of {text}"  # not asked before: no answer ready anywhere
        window.search.setText(text)
        pressed = time.perf_counter()
        QTest.keyClick(window.search, Qt.Key.Key_Return)
        at, _result = wait_for(text)
        entered.append(at - pressed)

    def summary(values: list[float]) -> str:
        ms = sorted(1000 * v for v in values)
        p95 = ms[round(0.95 * (len(ms) - 1))]
        return (
            f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, worst {ms[-1]:.0f} ms "
            f"({len(ms)} queries)"
        )

    print(f"keystroke to results, {items} items, typing: {summary(typed)}")
    print(f"  each, in order (ms): {' '.join(f'{1000 * t:.0f}' for t in typed)}")
    print(f"keystroke to results, {items} items, Enter: {summary(entered)}")
    print(f"  of which the search in the library process: {summary(host)}")
    print(f"  each, in order (ms): {' '.join(f'{1000 * t:.0f}' for t in host)}")
    print(f"keystroke to first screen of thumbnails, {items} items: {summary(thumbs)}")

    # All items in one grid: delivery, then scrolling it end to end a page at a time.
    loop.measure(True)
    window.clear_search()
    loop.run_until(lambda: bool(shown) and shown[-1][1].query.is_recent)
    delivered = len(shown[-1][1].rows)
    loop.measure(False)
    stall = loop.worst_ms()
    loop.run_until(lambda: visible_thumbnails_loaded(window), 60)
    bar = window.grid.verticalScrollBar()
    frames: list[float] = []
    loop.measure(True)
    while bar.value() < bar.maximum():
        started = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep())
        window.grid.viewport().repaint()
        frames.append(time.perf_counter() - started)
        loop.app.processEvents()
    loop.measure(False)
    frames.sort()
    scrolled = (
        f"scrolling it page by page ({len(frames)} pages): median frame "
        f"{1000 * statistics.median(frames):.1f} ms, worst {1000 * frames[-1]:.1f} ms"
        if frames
        else "it fits on one screen (nothing to scroll)"
    )
    print(
        f"grid of {delivered} items: worst event-loop stall while it arrived {stall:.0f} ms; {scrolled}"
    )
    window.close()


def indexing_stalls(loop: Loop, work: Path, count: int, process: bool) -> None:
    """Worst event-loop stall while the window indexes ``count`` new photos."""
    photos = work / f"fresh-{count}"
    render_photos(photos, count, size=(320, 240))
    data = Path(tempfile.mkdtemp(prefix="lumen-bench-data-", dir=work))
    try:
        window = open_window(loop, data, process=process)
        finished: list[Any] = []
        window.bridge.index_finished.connect(finished.append)
        loop.measure(True)
        started = time.perf_counter()
        window.add_folders([photos])
        loop.run_until(lambda: bool(finished), 600)
        elapsed = time.perf_counter() - started
        loop.measure(False)
        where = "library in a host process (the app)" if process else "library in-process"
        print(
            f"indexing {count} photos with the window open, {where}: {elapsed:.1f} s, "
            f"event loop worst stall {loop.worst_ms():.0f} ms, p99 {loop.p99_ms():.0f} ms, "
            f"{sum(g > 0.1 for g in loop.gaps)} of {len(loop.gaps)} ticks late by > 100 ms"
        )
        window.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)


# -- loading the model: in a thread of the window's process, or in another process ----------


def _load_model() -> None:
    """Import torch and open_clip, create the tiny model, encode a few queries."""
    from desktop_app.core.embedding.embedder import load_embedder

    embedder = load_embedder("lumen-tiny", WEIGHTS, Path(tempfile.gettempdir()), "cpu")
    for _ in range(3):
        embedder.encode_text("a photo of a dog")


def model_load_probe(where: str) -> None:
    """Child mode: time the event loop while the model loads ``where`` (thread or process)."""
    import multiprocessing

    loop = Loop()
    done = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            if where == "thread":
                _load_model()
            else:
                child = multiprocessing.get_context("spawn").Process(target=_load_model)
                child.start()
                child.join()
        except BaseException as exc:
            failed.append(exc)
        finally:
            done.set()

    loop.measure(True)
    threading.Thread(target=run).start()
    loop.run_until(done.is_set, 300)
    loop.measure(False)
    if failed:
        raise failed[0]
    print(json.dumps({"worst_ms": loop.worst_ms(), "over_100": sum(g > 0.1 for g in loop.gaps)}))


def model_load(runs: int) -> None:
    for where in ("thread", "process"):
        worst, over = [], []
        for _ in range(runs):
            output = subprocess.run(
                [sys.executable, __file__, "--model-load-probe", where],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
                timeout=300,
            ).stdout
            figures = json.loads(output.strip().splitlines()[-1])
            worst.append(figures["worst_ms"])
            over.append(figures["over_100"])
        print(
            f"importing torch + open_clip and loading the model in a {where}: event loop worst "
            f"stall {max(worst):.0f} ms (runs: {', '.join(f'{w:.0f}' for w in worst)}), "
            f"stalls over 100 ms per run: {', '.join(map(str, over))}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-gui"
    )
    parser.add_argument("--items", type=int, default=10_000, help="photos in the big library")
    parser.add_argument(
        "--index", type=int, default=500, help="photos indexed with the window open"
    )
    parser.add_argument("--runs", type=int, default=3, help="repeats of the subprocess figures")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is typed")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURES,
        help="measure only these figures (repeatable); all of them by default",
    )
    parser.add_argument(
        "--beside-run",
        action="store_true",
        help="type while the window's start-up index run goes on (by default typing waits for "
        "it to end, so that two codes are measured alike)",
    )
    parser.add_argument("--model-load-probe", choices=["thread", "process"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--vit-b-32",
        action="store_true",
        help="the startup figures with the default model (random full-size ViT-B-32 weights in "
        "the Hugging Face cache layout, HF_HUB_OFFLINE=1) instead of the tiny one",
    )
    args = parser.parse_args()
    if args.vit_b_32:
        from benchmarks.fake_model_cache import make_fake_cache

        cache = Path(tempfile.gettempdir()) / "lumen-bench-models"
        make_fake_cache(cache)
        os.environ.update(HF_HUB_OFFLINE="1", LUMEN_MODEL_CACHE=str(cache))
        MODEL_ARGS[:] = ["--model", "ViT-B-32/laion2b_s34b_b79k", "--device", "cpu"]
        if "keystrokes" in (args.only or FIGURES) or "indexing" in (args.only or FIGURES):
            parser.error("--vit-b-32 measures the startup figures only (--only startup)")
    if args.model_load_probe:
        model_load_probe(args.model_load_probe)
        return 0
    wanted = set(args.only or FIGURES)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    if wanted & {"startup", "keystrokes"}:
        data = build_library(args.workdir, args.items)
        if "startup" in wanted:
            startup(data, args.runs)
    loop = Loop()
    if "keystrokes" in wanted:
        keystrokes(loop, data, args.items, args.rounds, args.beside_run)
    if "indexing" in wanted:
        indexing_stalls(loop, args.workdir, args.index, process=True)
        indexing_stalls(loop, args.workdir, args.index, process=False)
    if "model-load" in wanted:
        model_load(args.runs)
    print(
        f"load average at the end {os.getloadavg()[0]:.1f} (other work on this machine skews all)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
