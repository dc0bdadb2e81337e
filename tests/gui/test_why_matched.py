"""The preview says why a result matched: the query's words found in its tags, name or text (in
bold), and how much it looks like the query; tag filters and a dropped photo plus typed words
work from the search field."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import highlight
from desktop_app.host.protocol import Item
from tests.gui.conftest import WindowFactory, wait_for_result
from tests.support.shapes import Caption, render


def _search(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.search.setText(text)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    wait_for_result(qtbot, window, lambda r: r.query.text == text and bool(r.items))


def _preview_first(qtbot: QtBot, window: MainWindow) -> None:
    window.grid.setFocus()
    window.grid.setCurrentIndex(window.model.index(0))
    if not window.preview.isVisible():
        qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    assert window.preview.isVisible()
    assert window.preview.title.text() == window.model.items()[0].name


def test_the_preview_says_why_a_photo_matched(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    _search(qtbot, window, "red")
    top = window.model.items()[0]
    assert photos[top.path].colour == "red"
    assert "red" in top.tags

    _preview_first(qtbot, window)
    why = window.preview.fields["why"]
    assert window.preview._form.isRowVisible(why)
    assert "“<b>red</b>” in the tags" in why.text()
    assert "looks like the query (similarity 0." in why.text()
    assert "<b>red</b>" in window.preview.fields["tags"].text()
    assert window.preview.fields["match"].text().startswith("relevance ")
    tip = window.model.data(window.model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert "Why: “red” in the tags" in tip and "Tags: red" in tip  # the thumbnail's tooltip

    # A description: its words among the tags, and how much the picture looks like it.
    _search(qtbot, window, "a blue square at the top")
    _preview_first(qtbot, window)
    top = window.model.items()[0]
    assert (photos[top.path].colour, photos[top.path].shape) == ("blue", "square")
    why = window.preview.fields["why"].text()
    assert "looks like the query (similarity 0." in why
    assert all(f"<b>{tag}</b>" in why for tag in top.tags if tag in ("blue", "square"))


def test_a_tag_filter_typed_in_the_search_field(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption]
) -> None:
    window = windows.open()
    _search(qtbot, window, "tag:circle -tag:red")
    items = window.model.items()
    assert all("circle" in item.tags and "red" not in item.tags for item in items)
    shapes = [photos[item.path].shape for item in items]
    assert shapes.count("circle") >= 0.8 * len(shapes)


def test_highlight_escapes_and_bolds_whole_words() -> None:
    assert highlight("a <red> reddish red", ("red",)) == "a &lt;<b>red</b>&gt; reddish <b>red</b>"


def test_drop_a_photo_and_type_words_to_add_to_it(
    qtbot: QtBot, windows: WindowFactory, photos: dict[Path, Caption], tmp_path: Path
) -> None:
    """ "This photo, but at the top": a dropped red circle on the left plus the words."""
    window = windows.open()
    dropped = tmp_path / "red on the left.png"
    render(Caption("red", "circle", "left"), (160, 120), seed=997).save(dropped)
    window.handle_dropped([dropped])
    looks = wait_for_result(qtbot, window, lambda r: r.query.similar_to == dropped)
    assert "Add words to the picture" in window.search.placeholderText()
    rank_by_looks = _rank_of(looks.items, photos, Caption("red", "circle", "top"))

    qtbot.keyClicks(window.search, "at the top")
    both = wait_for_result(
        qtbot, window, lambda r: r.query.similar_to == dropped and r.query.text == "at the top"
    )
    assert _rank_of(both.items, photos, Caption("red", "circle", "top")) < rank_by_looks
    top = photos[both.items[0].path]
    assert (top.colour, top.shape, top.position) == ("red", "circle", "top")
    assert "like <b>red on the left.png</b> + <b>“at the top”</b>" in window.summary.label.text()

    window.commands.clear.trigger()  # Esc: back to the recent files, the picture let go
    wait_for_result(qtbot, window, lambda r: r.query.is_recent)
    assert "Add words" not in window.search.placeholderText()
    qtbot.keyClicks(window.search, "red")
    words = wait_for_result(qtbot, window, lambda r: r.query.text == "red")
    assert words.query.similar_to is None


def _rank_of(items: tuple[Item, ...], photos: dict[Path, Caption], caption: Caption) -> int:
    """Where the first photo of ``caption`` stands (after the end: not shown at all)."""
    ranks = (n for n, item in enumerate(items) if photos.get(item.path) == caption)
    return next(ranks, len(items))
