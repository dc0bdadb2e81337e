"""The library's files asked into the page cache: in order, in pieces, within the budget, and
stopped by a query that needs the disk first; the host does it before its warm-up search."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.storage import read_ahead as read_ahead_module
from desktop_app.core.storage.read_ahead import CHUNK_BYTES, read_ahead
from desktop_app.core.superseded import QuerySuperseded
from tests.support.served import resolved_photos, served

Asked = list[tuple[str, int, int]]


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Asked:
    """What the kernel was asked to read: (file, offset, length), in order."""
    calls: Asked = []

    def advise(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_WILLNEED
        calls.append((Path(os.readlink(f"/proc/self/fd/{fd}")).name, offset, length))

    monkeypatch.setattr(os, "posix_fadvise", advise)
    return calls


def _file(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_files_are_asked_for_whole_in_order_and_in_pieces(tmp_path: Path, asked: Asked) -> None:
    index = _file(tmp_path / "vectors.hnsw", 2 * CHUNK_BYTES + 5)
    catalog = _file(tmp_path / "catalog.sqlite3", 100)

    total = read_ahead([index, tmp_path / "not-there", catalog], budget=1 << 40)

    assert asked == [
        ("vectors.hnsw", 0, CHUNK_BYTES),
        ("vectors.hnsw", CHUNK_BYTES, CHUNK_BYTES),
        ("vectors.hnsw", 2 * CHUNK_BYTES, 5),
        ("catalog.sqlite3", 0, 100),
    ]
    assert total == 2 * CHUNK_BYTES + 105


def test_no_more_than_the_budget_or_a_share_of_free_memory(
    tmp_path: Path, asked: Asked, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = _file(tmp_path / "vectors.hnsw", 3 * CHUNK_BYTES)
    catalog = _file(tmp_path / "catalog.sqlite3", CHUNK_BYTES)

    assert read_ahead([index, catalog], budget=CHUNK_BYTES + 10) == CHUNK_BYTES + 10
    assert asked[-1] == ("vectors.hnsw", CHUNK_BYTES, 10)  # the index first, and no catalog

    asked.clear()  # a quarter of 8 MB free: 2 MB
    monkeypatch.setattr(read_ahead_module, "memory_available", lambda: 8 << 20)
    assert read_ahead([index, catalog]) == 2 << 20
    assert asked == [("vectors.hnsw", 0, 2 << 20)]


def test_a_query_that_supersedes_it_stops_it(tmp_path: Path, asked: Asked) -> None:
    index = _file(tmp_path / "vectors.hnsw", 4 * CHUNK_BYTES)
    checks: list[int] = []

    def checkpoint() -> None:
        checks.append(len(asked))
        if len(asked) == 2:
            raise QuerySuperseded()

    with pytest.raises(QuerySuperseded):
        read_ahead([index], checkpoint, budget=1 << 40)
    assert checks == [0, 1, 2] and len(asked) == 2  # checked before each piece


def test_the_kernel_takes_the_advice_where_it_is_given(tmp_path: Path) -> None:
    path = _file(tmp_path / "catalog.sqlite3", CHUNK_BYTES + 1)
    expected = path.stat().st_size if hasattr(os, "posix_fadvise") else 0
    assert read_ahead([path], budget=1 << 40) == expected


def test_without_posix_fadvise_nothing_is_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "posix_fadvise", raising=False)
    assert read_ahead([_file(tmp_path / "vectors.hnsw", 10)]) == 0


def test_the_host_reads_the_index_then_the_catalog_ahead_before_its_first_search(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder, asked: Asked
) -> None:
    with served(tmp_path, tiny_weights, tiny_embedder) as (library, _service, _written):
        resolved_photos(library)  # the warm-up ran to its end
        index, catalog = library.settings.index_path.name, library.settings.catalog_path.name
        files = [name for name, _offset, _length in asked]
        assert files[0] == index and files[-1] == catalog and set(files) == {index, catalog}
        whole_index = sum(length for name, _offset, length in asked if name == index)
        assert whole_index == library.settings.index_path.stat().st_size
