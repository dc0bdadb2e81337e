"""The window shows what the search box understood as chips; removing one searches again
without it; the Places filter narrows to a country; the preview names the place; sorted by
date, the first photo of each month carries its month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.results_model import SORT_NEWEST
from desktop_app.gui.timeline import HeaderRole
from desktop_app.gui.understood_chips import readable_chip
from tests.gui.conftest import WindowFactory, tiny_settings_for, wait_for_result
from tests.support.geotagged import LISBON, PORTO, TOKYO, write_geotagged_photo
from tests.support.shapes import caption_for_text

RED = caption_for_text("a red circle on the left")
BLUE = caption_for_text("a blue square on the right")


@pytest.fixture
def travels(
    qtbot: QtBot, tmp_path: Path, tiny_embedder: Embedder
) -> Iterator[tuple[WindowFactory, dict[str, Path]]]:
    """A library of photos from Lisbon (July 2023), Porto (December 2022) and Tokyo (2021)."""
    folder = tmp_path / "Travels"
    files = {
        "lisbon1": write_geotagged_photo(folder / "a.jpg", RED, 1, datetime(2023, 7, 10), LISBON),
        "lisbon2": write_geotagged_photo(folder / "b.jpg", RED, 2, datetime(2023, 7, 20), LISBON),
        "porto": write_geotagged_photo(folder / "c.jpg", RED, 3, datetime(2022, 12, 25), PORTO),
        "tokyo": write_geotagged_photo(folder / "d.jpg", BLUE, 4, datetime(2021, 7, 5), TOKYO),
    }
    data = tmp_path / "indexed"
    settings = tiny_settings_for(data, tmp_path / "models")
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([folder])
    factory = WindowFactory(qtbot, tmp_path / "windows", tiny_embedder, data)
    yield factory, files
    factory.close()


def _search(qtbot: QtBot, window: MainWindow, text: str) -> set[Path]:
    window.search.setText(text)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    result = wait_for_result(qtbot, window, lambda r: r.query.text == text and r.understood)
    return {item.path for item in result.items}


def test_chips_show_what_was_understood_and_come_off(
    qtbot: QtBot, travels: tuple[WindowFactory, dict[str, Path]]
) -> None:
    factory, files = travels
    window = factory.open()
    found = _search(qtbot, window, "a red circle in Lisbon")
    assert found and found <= {files["lisbon1"], files["lisbon2"]}
    assert window.chips.isVisible()
    assert window.chips.labels() == [readable_chip("📍 Lisbon, Portugal") + "  ×"]

    qtbot.mouseClick(window.chips.chips[0], Qt.MouseButton.LeftButton)
    result = wait_for_result(qtbot, window, lambda r: r.query.literal == {"place"})
    assert result.understood is not None and result.understood.place is None
    assert not window.chips.isVisible()
    assert files["porto"] in {item.path for item in result.items}  # the results come back

    _search(qtbot, window, "a red circle July 2023")
    assert window.chips.labels() == [readable_chip("📅 July 2023") + "  ×"]


def test_places_filter_preview_and_month_headers(
    qtbot: QtBot, travels: tuple[WindowFactory, dict[str, Path]]
) -> None:
    factory, files = travels
    window = factory.open()
    place = window.filters.place
    qtbot.waitUntil(lambda: place.count() > 1)
    assert place.isVisible()
    entries = [place.itemText(i) for i in range(place.count())]
    assert entries[:3] == ["All places", "Portugal (3)", "    Lisbon (2)"]

    place.setCurrentIndex(place.findData("JP"))
    result = wait_for_result(qtbot, window, lambda r: r.query.filters.place == "JP")
    assert {item.path for item in result.items} == {files["tokyo"]}

    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    if not window.preview.isVisible():
        qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.preview.fields["place"].text() == "Tokyo, Japan")

    place.setCurrentIndex(0)
    wait_for_result(qtbot, window, lambda r: r.query.filters.place is None and len(r.rows) == 4)
    window.filters.set_sort_mode(SORT_NEWEST)
    headers = [window.model.index(i).data(HeaderRole) for i in range(window.model.rowCount())]
    assert headers == ["July 2023", None, "December 2022", "July 2021"]


def test_the_preview_shows_where_a_photo_matches(
    qtbot: QtBot, travels: tuple[WindowFactory, dict[str, Path]]
) -> None:
    factory, _files = travels
    window = factory.open()
    _search(qtbot, window, "a red circle on the left in Lisbon")
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    if not window.preview.isVisible():
        qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    button = window.preview.heat
    qtbot.waitUntil(lambda: window.preview.picture.pixmap() is not None)
    qtbot.waitUntil(lambda: not window.preview.picture.pixmap().isNull())
    assert button.isVisible()
    plain = window.preview.picture._source.toImage()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: button.toolTip().startswith("Computed in"), timeout=20_000)
    tinted = window.preview.picture._source.toImage()
    assert tinted.size() == plain.size() and tinted != plain
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # off: the photo as it is
    assert window.preview.picture._source.toImage() == plain


def test_a_chip_says_what_it_is_in_words_where_no_font_draws_its_symbol() -> None:
    assert readable_chip("📅 July 2023", emoji=False) == "Date: July 2023"
    assert readable_chip("📍 Lisbon, Portugal", emoji=False) == "Place: Lisbon, Portugal"
    assert readable_chip("👤 Grace", emoji=False) == "Person: Grace"
    assert readable_chip("📅 July 2023", emoji=True) == "📅 July 2023"
