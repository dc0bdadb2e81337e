"""Start the window: options, QApplication, the library backend, and the first paint."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop_app import __version__
from desktop_app.config import DATA_DIR_ENV, Settings
from desktop_app.gui import icons
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.workers import LibraryBridge
from desktop_app.host.client import Backend, EventSink, LocalBackend, ProcessBackend
from desktop_app.host.protocol import MODEL_LOADING, ModelState, QueryResult

log = logging.getLogger("desktop_app")

EXIT_AFTER = ("shown", "ready", "model", "indexed", "answered")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lumen-gui", description="Search your own photos and documents by meaning, locally."
    )
    parser.add_argument("--version", action="version", version=f"lumen-gui {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where the library lives")
    parser.add_argument("--model", help="embedding model, e.g. ViT-B-32/laion2b_s34b_b79k")
    parser.add_argument(
        "--weights", type=Path, help="load the model's weights from this local file"
    )
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda", "mps"], help="where the model runs"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the library in the window's process (the window may stall while the model loads)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="a photo to find similar ones to, or a folder to add (a file manager's Open with)",
    )
    # For benchmarks: print timing events as JSON lines and quit after one of them.
    parser.add_argument("--report-timings", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--exit-after", choices=EXIT_AFTER, help=argparse.SUPPRESS)
    # ... and type this query as soon as the window shows ("answered": its answer by meaning)
    parser.add_argument("--type-query", metavar="TEXT", help=argparse.SUPPRESS)
    return parser


def resolve_settings(args: argparse.Namespace) -> Settings:
    """Settings from the data dir, with the command line's overrides for this run."""
    data_dir = args.data_dir.expanduser().absolute() if args.data_dir else None
    if data_dir is None and not os.environ.get(DATA_DIR_ENV):
        from desktop_app.gui.settings_dialog import remembered_data_dir

        data_dir = remembered_data_dir()
    settings = Settings.load(data_dir)
    return settings.with_overrides(model=args.model, weights=args.weights, device=args.device)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lumen-gui`` and ``python -m desktop_app``."""
    started = time.perf_counter()
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    QGuiApplication.setApplicationName("Lumen")
    QGuiApplication.setOrganizationName("Lumen")
    QGuiApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("lumen")
    app = QApplication(sys.argv[:1])
    app.setWindowIcon(icons.icon(icons.APP))
    settings = resolve_settings(args)
    holder: dict[str, MainWindow] = {}

    def make_backend(sink: EventSink) -> Backend:
        current = holder["window"].settings if "window" in holder else settings
        if args.in_process:
            return LocalBackend.for_settings(current, sink)
        return ProcessBackend(current, sink, level)

    bridge = LibraryBridge(make_backend, watch=True)
    window = MainWindow(settings, bridge)
    holder["window"] = window
    if args.report_timings or args.exit_after:
        _report_timings(window, bridge, started, args.exit_after, args.type_query)
    window.show()
    QTimer.singleShot(0, window.start)
    if args.paths:
        opened = [p.expanduser().absolute() for p in args.paths]
        QTimer.singleShot(0, lambda: window.handle_dropped(opened))
    _close_on_sigint(window)
    # What exists now lives as long as the window: keep it out of the cyclic collector's full
    # passes, which otherwise walk it all and stall the event loop.
    gc.freeze()
    return app.exec()


def _close_on_sigint(window: MainWindow) -> None:
    """Ctrl+C in the terminal closes the window properly (saving what was indexed)."""
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer(window)
    heartbeat.timeout.connect(lambda: None)  # lets Python run its signal handlers
    heartbeat.start(250)


def _report_timings(
    window: MainWindow,
    bridge: LibraryBridge,
    started: float,
    exit_after: str | None,
    type_query: str | None = None,
) -> None:
    """Print when the window was shown, the library opened, the model loaded and (with
    ``type_query``, typed when the window shows) the query was answered by meaning (JSON lines)."""

    def report(event: str) -> None:
        payload = {
            "event": event,
            "wall": time.time(),
            "since_main_s": time.perf_counter() - started,
        }
        print(json.dumps(payload), flush=True)
        if event == exit_after:
            QTimer.singleShot(0, window.close)

    window.shown.connect(lambda _t: report("shown"))
    if type_query:

        def type_it(_t: object) -> None:
            window.search.setText(type_query)
            window.search.textEdited.emit(type_query)  # as a user's typing does

        def answered(result: QueryResult) -> None:
            if result.semantic and result.query.text == type_query:
                bridge.results.disconnect(answered)
                report("answered")

        window.shown.connect(type_it)
        bridge.results.connect(answered)
    bridge.ready.connect(lambda _i: report("ready"))

    def model(state: ModelState) -> None:
        if state.state != MODEL_LOADING:
            report("model")

    bridge.model_state.connect(model)
    bridge.index_finished.connect(lambda _o: report("indexed"))
