"""A rebuild of the vector index from the catalog (minutes at 1M vectors) says how far it has
got every few seconds, in one plain line each: vectors done, the pace, the time left."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from desktop_app.core.storage import restore_progress, store
from desktop_app.core.storage.restore_progress import RestoreProgress
from desktop_app.core.storage.store import Store
from tests.unit.test_index_format_upgrade import _write_previous_version
from tests.unit.test_store import _library


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == restore_progress.__name__ and r.levelno >= logging.WARNING
    ]


def test_a_line_every_few_seconds_with_the_time_left_and_none_for_a_short_rebuild(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    progress = RestoreProgress(1_000_000, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for done in range(100_000, 1_000_001, 100_000):
            now[0] += 2.0  # 50,000 vectors/s
            progress.update(done)
    assert _lines(caplog) == [
        "Rebuilding the vector index: 300,000 of 1,000,000 vectors, 50,000 vectors/s, "
        "about 14 s left",
        "Rebuilding the vector index: 600,000 of 1,000,000 vectors, 50,000 vectors/s, "
        "about 8 s left",
        "Rebuilding the vector index: 900,000 of 1,000,000 vectors, 50,000 vectors/s, "
        "about 2 s left",
    ]
    caplog.clear()
    short = RestoreProgress(10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        now[0] += 1.0
        short.update(5)
        short.update(10)
    assert _lines(caplog) == []


def test_rebuilding_an_index_of_the_previous_version_reports_its_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, _store, _ids = _library(tmp_path, 30)
    index_path = tmp_path / "vectors.hnsw"
    _write_previous_version(index_path, 30)
    monkeypatch.setattr(store, "RESTORE_CHUNK", 10)
    monkeypatch.setattr(restore_progress, "EVERY_S", 0.0)  # a line after every chunk
    with caplog.at_level(logging.WARNING):
        reopened = Store.open(catalog, index_path)
    assert len(reopened) == 30
    lines = _lines(caplog)
    assert [line.split(" vectors,")[0] for line in lines] == [
        "Rebuilding the vector index: 10 of 30",
        "Rebuilding the vector index: 20 of 30",
    ]
    assert all("vectors/s" in line and "left" in line and "\n" not in line for line in lines)
    catalog.close()
