"""Open the Lumen window on a sample folder and save PNGs of its main states.

Run under a display (``xvfb-run -a python scripts/screenshots.py OUT_DIR``): menus are
separate windows, so the context menu is captured from the screen, not from the window.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from desktop_app.config import Settings  # noqa: E402
from desktop_app.gui import icons  # noqa: E402
from desktop_app.gui.main_window import MainWindow  # noqa: E402
from desktop_app.gui.results_model import PixmapRole  # noqa: E402
from desktop_app.gui.workers import LibraryBridge  # noqa: E402
from desktop_app.host.client import ProcessBackend  # noqa: E402
from desktop_app.host.protocol import MODEL_LOADING  # noqa: E402

QUERY = "a red circle on the left"


def spin_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    """Run the event loop until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    app = QApplication.instance()
    assert app is not None
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(seconds: float = 0.4) -> None:
    """Let the event loop run for a while (animations, late paints)."""
    end = time.monotonic() + seconds
    app = QApplication.instance()
    assert app is not None
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.01)


def save(widget: QWidget, path: Path, from_screen: bool = False) -> None:
    """Save ``widget`` as a PNG; ``from_screen``: with the popups over it (menus, tooltips)."""
    settle(0.3)
    if from_screen:
        area = widget.frameGeometry()
        screen = QGuiApplication.primaryScreen()
        pixmap = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
    else:
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"saved {path}")


def write_samples(folder: Path) -> None:
    from tests.support.photos import write_shape_photos

    write_shape_photos(folder, seeds=tuple(range(101, 107)), size=(320, 240))


def thumbnails_done(window: MainWindow) -> bool:
    """Every result in view has its thumbnail (or is known to have none)."""
    grid = window.grid
    area = grid.viewport().rect()
    for row in range(window.model.rowCount()):
        index = window.model.index(row)
        if not grid.visualRect(index).intersects(area):
            continue
        item = window.model.item(row)
        if (
            item is not None
            and index.data(PixmapRole) is None
            and not window.model.thumbnail_failed(item)
        ):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="folder for the PNGs")
    parser.add_argument("--sample", type=Path, help="folder of photos (default: generated shapes)")
    parser.add_argument(
        "--weights", type=Path, default=REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
    )
    parser.add_argument("--model", default="lumen-tiny")
    parser.add_argument(
        "--dark", action="store_true", help="also capture the window in a dark palette"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lumen-shots-"))
    sample = args.sample or work / "Photos"
    if args.sample is None:
        write_samples(sample)

    QGuiApplication.setApplicationName("Lumen")
    QGuiApplication.setOrganizationName("Lumen")
    app = QApplication([sys.argv[0]])
    app.setWindowIcon(icons.icon(icons.APP))
    settings = Settings(
        data_dir=work / "library",
        model=args.model,
        weights=args.weights,
        model_cache_dir=work / "models",
        device="cpu",
    )
    bridge = LibraryBridge(lambda sink: ProcessBackend(settings, sink))
    window = MainWindow(settings, bridge)
    window.resize(1180, 760)
    window.show()
    window.start()
    try:
        spin_until(lambda: bridge.is_ready, 60, "the library")
        spin_until(
            lambda: window.model_state is not None and window.model_state.state != MODEL_LOADING,
            120,
            "the model",
        )
        save(window, args.out / "01-empty-state.png")

        finished: list[object] = []
        bridge.index_finished.connect(finished.append)
        progress_seen: list[object] = []
        bridge.index_progress.connect(progress_seen.append)
        window.add_folders([sample])
        spin_until(
            lambda: (
                bool(finished)
                or (
                    window.model.rowCount() > 20
                    and any(getattr(p, "phase", "") == "indexing" for p in progress_seen)
                )
            ),
            60,
            "indexing",
        )
        spin_until(lambda: thumbnails_done(window), 30, "thumbnails")
        save(window, args.out / "02-indexing.png")
        spin_until(lambda: bool(finished), 300, "the end of indexing")

        shown: list[object] = []
        window.results_shown.connect(shown.append)
        window.search.setFocus()
        QTest.keyClicks(window.search, QUERY)
        spin_until(
            lambda: any(getattr(r, "query", None) and r.query.text == QUERY for r in shown),
            30,
            "results",
        )
        spin_until(lambda: thumbnails_done(window), 30, "thumbnails")
        save(window, args.out / "03-results.png")

        grid = window.grid
        rect = grid.visualRect(window.model.index(1))
        menu = window.context_menu_for(1)
        menu.popup(grid.viewport().mapToGlobal(rect.center()))
        settle(0.5)
        save(window, args.out / "04-context-menu.png", from_screen=True)
        menu.close()

        grid.setFocus()
        grid.setCurrentIndex(window.model.index(0))
        window.set_preview_visible(True)
        spin_until(
            lambda: (
                window.preview.picture.pixmap() is not None
                and not window.preview.picture.pixmap().isNull()
            ),
            30,
            "the preview",
        )
        save(window, args.out / "05-preview.png")

        window.find_similar(window.model.item(2).path)  # type: ignore[union-attr]
        spin_until(lambda: bool(shown) and shown[-1].query.similar_to is not None, 30, "similar")
        spin_until(lambda: thumbnails_done(window), 30, "thumbnails")
        save(window, args.out / "06-similar.png")

        window.set_preview_visible(False)
        window.set_thumbnail_size(96)
        window.clear_search()
        spin_until(lambda: bool(shown) and shown[-1].query.is_recent, 30, "recent files")
        spin_until(lambda: thumbnails_done(window), 30, "thumbnails")
        save(window, args.out / "07-recent-small.png")

        if args.dark:
            palette = QPalette()
            for role, colour in (
                (QPalette.ColorRole.Window, "#202124"),
                (QPalette.ColorRole.WindowText, "#e8eaed"),
                (QPalette.ColorRole.Base, "#17181a"),
                (QPalette.ColorRole.AlternateBase, "#26272a"),
                (QPalette.ColorRole.Text, "#e8eaed"),
                (QPalette.ColorRole.Button, "#2d2e31"),
                (QPalette.ColorRole.ButtonText, "#e8eaed"),
                (QPalette.ColorRole.Highlight, "#8ab4f8"),
                (QPalette.ColorRole.HighlightedText, "#202124"),
                (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
            ):
                palette.setColor(role, colour)
            app.setPalette(palette)
            window.set_thumbnail_size(144)
            QTest.keyClicks(window.search, "a blue square")
            spin_until(
                lambda: bool(shown) and shown[-1].query.text == "a blue square", 30, "results"
            )
            spin_until(lambda: thumbnails_done(window), 30, "thumbnails")
            save(window, args.out / "08-dark.png")
    finally:
        window.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
