"""The window's keystroke → results on real-sized libraries: 3k files with 20k+ passages, 100k files.

    python benchmarks/bench_big_library.py [--workdir DIR] [--only docs|mixed] [--rounds 3] [--tree DIR]

Builds two libraries once into the work dir (kept for later runs) through the storage layer's
own write API (``Store.store_embedded``: file rows, vectors, passages in the keyword index, as
indexing writes them), with clustered random 512-d vectors in the space of the default model
(ViT-B-32, random weights in the Hugging Face cache layout, ``HF_HUB_OFFLINE=1``):

- docs: 3,000 files like a system's documentation tree plus icons and photos (1,000 documents
  with 24 passages each on average, 2,000 pictures): ~24k passages, ~9k vectors;
- mixed: 100,000 files (90,000 photos, 10,000 documents of 8 passages): ~80k passages.

"license" is in ~40 % of the passages, "harbour" in a few, "qx7781" in one file. For each
library it prints p50/p95 per query kind next to the targets, for the path the window takes
(a host process, its pipe, the ``SearchPresenter`` and results model of an offscreen window:
last key → results in the grid: its first page, a screenful) and for the core alone
(``Library.search_understood``, 200 files).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.big_library_build import (  # noqa: E402
    LIBRARIES,
    MODEL,
    build_library,
    model_env,
)

TARGET_WARM_MS = 100.0  # warm keystroke → results, p95
TARGET_FIRST_MS = 500.0  # first query after the last key

# 21 texts of each kind: seven a round, so three rounds ask no text twice (the host keeps the
# vectors of the last query texts: a text asked again skips the text tower); more rounds repeat.
# With 21 queries, p95 is the second slowest, not the slowest of nine as before (±30 ms).
QUERIES: dict[str, tuple[str, ...]] = {
    "common word": (
        "license",
        "copyright",
        "the configuration",
        "the license",
        "license for the file",
        "copyright of the source",
        "license and copyright",
        "the default value",
        "the system file",
        "the default configuration",
        "license of the library",
        "the source file",
        "copyright notice",
        "the user manual",
        "the file system",
        "license for the package",
        "the system library",
        "version of the file",
        "the command option",
        "the license file",
        "default value of the option",
    ),
    "rare word": (
        "harbour",
        "qx7781",
        "zeppelin",
        "harbour lights",
        "qx7781 manual",
        "zeppelin flight",
        "the harbour",
        "harbour master",
        "qx7781 notes",
        "zeppelin over the harbour",
        "harbour at night",
        "qx7781 setup",
        "zeppelin hangar",
        "harbour wall",
        "qx7781 error",
        "the zeppelin",
        "harbour map",
        "qx7781 parts",
        "zeppelin crew",
        "harbour boats",
        "qx7781 firmware",
    ),
    "photos only": (
        "a photo of a dog",
        "sunset at the beach",
        "children playing in snow",
        "a photo of a cat",
        "mountains at dawn",
        "a red car in the street",
        "photos of birds",
        "a family dinner",
        "city lights at night",
        "a horse in a field",
        "a bowl of fruit",
        "a snowy forest",
        "a child on a bicycle",
        "a boat on a lake",
        "flowers in a garden",
        "a wedding party",
        "an old bridge",
        "a cup of coffee",
        "a dog in the park",
        "a plate of pasta",
        "the night sky with stars",
    ),
    "document-heavy": (
        "how to configure the server",
        "release notes for the package",
        "install the module from source",
        "how to build the library",
        "configure the network service",
        "read the user manual",
        "set the default option",
        "compile the source code",
        "write the log file",
        "open a network socket",
        "debug the kernel driver",
        "set the file permission",
        "read the output buffer",
        "login to the shell",
        "change the display font",
        "query the database table",
        "encode the unicode string",
        "test the binary package",
        "list the directory",
        "start the service daemon",
        "check the security policy",
    ),
}
PER_ROUND = 7
TYPED = ["licence terms", "a picture of a horse"]  # typed key by key, each key's answer timed


def _round(queries: tuple[str, ...], n: int) -> tuple[str, ...]:
    """The texts round ``n`` asks (rounds past the third repeat the texts)."""
    count = min(PER_ROUND, len(queries))
    return tuple(queries[(n * PER_ROUND + i) % len(queries)] for i in range(count))


def _ms(values: list[float]) -> str:
    ms = sorted(1000 * v for v in values)
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    return f"p50 {statistics.median(ms):6.0f} ms  p95 {p95:6.0f} ms  ({len(ms)})"


def core_only(data: Path, rounds: int) -> None:
    """``Library.search_understood`` as the host calls it, in this process."""
    from desktop_app.config import Settings
    from desktop_app.core.library import Library

    try:  # numpy's BLAS threads as the host sets them
        from desktop_app.host.serve import one_blas_thread

        one_blas_thread()
    except ImportError:  # code from before it
        pass
    settings = Settings.load(data).replace(model=MODEL, device="cpu")
    library = Library.open(settings)
    library.search_understood("warm up", 200)
    for kind, queries in QUERIES.items():
        times, cpu = [], []
        for n in range(rounds):
            for q in _round(queries, n):
                started, cpu_started = time.perf_counter(), time.process_time()
                library.search_understood(q, 200)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
        print(f"  core {kind:15s} {_ms(times)}; CPU {_ms(cpu)}  (200 files)")
    times = []
    for q in TYPED:
        for end in range(1, len(q) + 1):
            started = time.perf_counter()
            library.search_understood(q[:end], 200)
            times.append(time.perf_counter() - started)
    if times:
        print(f"  core {'typing, each key':15s} {_ms(times)}")
    library.close()


def steps_compared(data: Path, rounds: int) -> None:
    """The core's queries with their steps side by side (the keyword search beside the text
    tower, the two modalities together) and in turn, alternating in one process, every text
    encoded afresh: side by side pays only where a second core is free."""
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.core.query.beside import QuerySteps
    from desktop_app.core.query.query_vectors import QueryVectors
    from desktop_app.host.serve import one_blas_thread

    one_blas_thread()
    library = Library.open(Settings.load(data).replace(model=MODEL, device="cpu"))
    policy = library.query
    policy._vectors = QueryVectors(0)  # the text tower runs for every query
    texts = [q for queries in QUERIES.values() for q in queries]
    for text in texts[:4]:
        library.search_understood(text, 200)
    modes = {"side by side": QuerySteps(), "in turn": QuerySteps(threads=0)}
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for mode, steps in modes.items():
            policy._steps = steps
            policy._search()._steps = steps
            for text in texts:
                started = time.perf_counter()
                library.search_understood(text, 200)
                times[mode].append(time.perf_counter() - started)
    for mode, values in times.items():
        print(f"  core steps {mode:12s} {_ms(values)}")
    library.close()


def _open_window(loop: Any, data: Path) -> Any:
    from desktop_app.config import Settings
    from desktop_app.gui.main_window import MainWindow
    from desktop_app.gui.workers import LibraryBridge
    from desktop_app.host.client import ProcessBackend
    from desktop_app.host.protocol import MODEL_LOADING

    settings = Settings.load(data).replace(model=MODEL, device="cpu")
    bridge = LibraryBridge(lambda sink: ProcessBackend(settings, sink), watch=False)
    window = MainWindow(settings, bridge)
    window.resize(1280, 800)
    window.show()
    window.start()
    loop.run_until(lambda: bridge.is_ready, 300)
    loop.run_until(
        lambda: window.model_state is not None and window.model_state.state != MODEL_LOADING, 300
    )
    # The window's start-up index run (tags, faces of files not seen yet) writes while it runs:
    # the figures below are those of a library at rest.
    started = time.perf_counter()
    loop.run_until(lambda: not bridge.indexing, 600)
    print(f"  (the window's start-up index run ended {time.perf_counter() - started:.1f} s later)")
    gc.freeze()
    return window


def window_path(data: Path, rounds: int) -> None:
    """Last key → results in the grid, through the host process and the window's presenter."""
    from PySide6.QtTest import QTest

    from benchmarks.bench_gui import Loop

    loop = Loop()
    window = _open_window(loop, data)
    loop.run_until(lambda: window.model.rowCount() > 0, 120)
    shown: list[tuple[float, Any]] = []
    window.results_shown.connect(lambda r: shown.append((time.perf_counter(), r)))

    def answered(text: str) -> Callable[[], bool]:
        return lambda: bool(shown) and shown[-1][1].query.text == text

    def ask(text: str) -> tuple[float, float]:
        window.search.clear()
        window.search.setFocus()
        QTest.keyClicks(window.search, text)
        last_key = time.perf_counter()
        loop.run_until(answered(text), 120)
        at, result = shown[-1]
        return at - last_key, result.elapsed_s

    first, _host = ask("the license of this package")
    print(
        f"  window first query after the last key: {1000 * first:.0f} ms   target ≤ {TARGET_FIRST_MS:.0f} ms"
    )
    page = window.model.rowCount()
    if window.model.more:  # (code from before search pages shows all 200 at once)
        bar = window.grid.verticalScrollBar()
        started = time.perf_counter()
        bar.setValue(bar.maximum())  # the grid's last row: the next page is asked for
        loop.run_until(lambda: window.model.rowCount() > page, 60)
        print(
            f"  window first page {page} rows (a screenful and a row more of 1280×800); the next"
            f" {window.model.rowCount() - page} after scrolling to the end: "
            f"{1000 * (time.perf_counter() - started):.0f} ms"
        )
    else:
        print(f"  window shows {page} rows at once")
    beyond: list[float] = []  # each query's time in the window less its time in the host
    for kind, queries in QUERIES.items():
        times, host = [], []
        for n in range(rounds):
            for q in _round(queries, n):
                took, in_host = ask(q)
                times.append(took)
                host.append(in_host)
                beyond.append(took - in_host)
        print(
            f"  window {kind:15s} {_ms(times)}   target p95 ≤ {TARGET_WARM_MS:.0f} ms;"
            f" in the host {_ms(host)}"
        )
    # What the window adds to the host's answer (the first key's query typed past, the pipe,
    # the GUI thread): less swayed by other work on the machine than the host's own time.
    print(f"  window beyond the host, typed at once {_ms(beyond)}")
    times = []
    for q in TYPED:
        window.clear_search()
        window.search.setFocus()
        loop.run_until(lambda: bool(shown) and shown[-1][1].query.is_recent, 60)
        for ch in q:
            QTest.keyClicks(window.search, ch)
            pressed = time.perf_counter()
            text = window.search.text().strip()
            loop.run_until(answered(text), 60)
            times.append(shown[-1][0] - pressed)
    if times:
        print(
            f"  window {'typing, each key':15s} {_ms(times)}   target p95 ≤ {TARGET_WARM_MS:.0f} ms"
        )
    window.close()
    loop.app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-big"
    )
    parser.add_argument("--only", action="append", choices=sorted(LIBRARIES))
    parser.add_argument("--rounds", type=int, default=3, help="times each query is asked")
    parser.add_argument("--core-only", action="store_true", help="skip the window's figures")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--compare-steps",
        action="store_true",
        help="only the core, its query steps side by side and in turn (alternating)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one query of each kind, no typing (slow code)"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        help="measure the Lumen of this source tree (e.g. a worktree of an older commit) "
        "with this benchmark's code",
    )
    args = parser.parse_args()
    if args.tree is not None:  # (nothing of desktop_app is imported yet; the host inherits it)
        assert "desktop_app" not in sys.modules
        sys.path.insert(0, str(args.tree.resolve()))
    if args.quick:
        for kind, queries in QUERIES.items():
            QUERIES[kind] = queries[:1]
        TYPED[:] = []
        args.rounds = 1
    model_env()
    args.workdir.mkdir(parents=True, exist_ok=True)
    import desktop_app

    tree = Path(desktop_app.__file__).resolve().parent.parent
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; Lumen from {tree}",
        flush=True,
    )
    for name in args.only or sorted(LIBRARIES):
        data = build_library(args.workdir, name)
        if args.build_only:
            continue
        files, documents, per_doc = LIBRARIES[name]
        print(f"library {name!r}: {files} files, {documents} documents (~{per_doc} passages each)")
        if args.compare_steps:
            steps_compared(data, args.rounds)
            continue
        core_only(data, args.rounds)
        if not args.core_only:
            window_path(data, args.rounds)
        import sqlite3

        with sqlite3.connect(data / "catalog.sqlite3") as db:
            left = db.execute("SELECT count(*) FROM files WHERE status = 'indexed'").fetchone()[0]
        if left < files:
            print(f"  WARNING: only {left} files are left indexed: the figures above are void")
    print(
        f"load average at the end {os.getloadavg()[0]:.1f} (other work on this machine skews all)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
