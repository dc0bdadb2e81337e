"""The results model: rows leave, move and change in place, keeping the user's place."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_app.gui.results_model import SORT_NAME, ResultsModel
from desktop_app.gui.workers import ThumbnailLoader
from desktop_app.host.protocol import BY_MEANING, Col, ItemRow, Query, QueryResult


def row(path: str, score: float, size: int = 100, key: str = "k") -> ItemRow:
    """A result row: a 64×48 photo at ``path`` with relevance ``score``."""
    values = {
        Col.PATH: path, Col.KIND: "image", Col.SIZE: size, Col.MODIFIED: 1.0e9,
        Col.DATE: 1.0e9, Col.THUMB_KEY: f"{key}{path}", Col.INDEXED: True, Col.WIDTH: 64,
        Col.HEIGHT: 48, Col.SCORE: score, Col.RELEVANT: True, Col.MATCH: BY_MEANING,
        Col.COMPANIONS: (),
    }  # fmt: skip
    columns = max(v for k, v in vars(Col).items() if k.isupper()) + 1
    return tuple(values.get(number) for number in range(columns))


def model_with(qtbot: QtBot, *rows: ItemRow) -> ResultsModel:
    model = ResultsModel(ThumbnailLoader(lambda: None))
    model.set_result(QueryResult(Query(text="cat"), rows))
    return model


def paths(model: ResultsModel) -> list[str]:
    return [str(item.path) for item in model.items()]


def test_removed_files_leave_as_removed_rows_not_a_reset(qtbot: QtBot) -> None:
    model = model_with(qtbot, row("/a", 90), row("/b", 80), row("/c", 70), row("/d", 60))
    resets: list[int] = []
    removed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))

    assert model.remove_paths([Path("/b"), Path("/c"), Path("/zzz")]) == 2
    assert paths(model) == ["/a", "/d"]
    assert resets == [] and removed == [(1, 2)]  # one run of rows
    assert model.row_of(Path("/d")) == 1
    assert model.result is not None and len(model.result.rows) == 2  # the summary counts 2


def test_files_in_an_offline_folder_leave_but_not_its_namesakes(qtbot: QtBot) -> None:
    model = model_with(qtbot, row("/usb/x.jpg", 90), row("/usb2/y.jpg", 80), row("/z", 70))
    assert model.remove_under([Path("/usb")]) == 1
    assert paths(model) == ["/usb2/y.jpg", "/z"]


def test_a_moved_file_keeps_its_place_under_its_new_path(qtbot: QtBot) -> None:
    model = model_with(qtbot, row("/a", 90), row("/b", 80))
    assert model.rename([(Path("/a"), Path("/new/a2"))]) == 1
    assert paths(model) == ["/new/a2", "/b"]
    assert model.row_of(Path("/a")) is None and model.row_of(Path("/new/a2")) == 0


def test_fresh_details_keep_the_rank_and_the_sort(qtbot: QtBot) -> None:
    model = model_with(qtbot, row("/b", 90), row("/a", 80))
    model.set_sort(SORT_NAME)
    changed: list[int] = []
    model.dataChanged.connect(lambda first, _last, _roles: changed.append(first.row()))

    fresh = row("/b", 0.0, size=555, key="new")  # rows from the library carry no score
    assert model.update_rows([fresh, None, row("/unknown", 0.0)]) == 1
    item = model.items()[1]
    assert (str(item.path), item.size, item.thumb_key, item.score) == ("/b", 555, "new/b", 90)
    assert changed == [1]
