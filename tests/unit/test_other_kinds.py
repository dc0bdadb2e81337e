"""Files Lumen does not read are counted for `lumen status`, not lost without a word."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from desktop_app.core.indexing.other_kinds import (
    other_kinds,
    other_kinds_line,
    record_other_kinds,
)
from desktop_app.core.storage.catalog import Catalog


def test_counts_survive_in_the_catalog_and_read_as_one_line(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    assert other_kinds(catalog) == Counter() and other_kinds_line(Counter()) is None
    record_other_kinds(catalog, Counter({".svg": 10, ".xcf": 4, ".txt~": 1}))
    counts = other_kinds(Catalog.open(tmp_path / "catalog.sqlite3"))  # another process's view
    assert counts == Counter({".svg": 10, ".xcf": 4, ".txt~": 1})
    assert (
        other_kinds_line(counts)
        == "15 files of other kinds (not indexed): .svg 10, .xcf 4, .txt~ 1"
    )


def test_a_long_tail_of_kinds_is_cut_short() -> None:
    counts = Counter({f".x{i}": 20 - i for i in range(12)})
    line = other_kinds_line(counts)
    assert line is not None and line.endswith("…") and ".x11" not in line
