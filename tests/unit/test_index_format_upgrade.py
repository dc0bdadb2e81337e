"""An index file from the previous version (an hnswlib graph) is rebuilt from the catalog with
one plain line, and a damaged file of the current format is refused before the graph is read."""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.storage import vector_index_file
from desktop_app.core.storage.store import Store
from desktop_app.core.storage.vector_index import IndexFileError, VectorIndex
from tests.support.vectors import DIM, build, unit_vectors
from tests.unit.test_store import _library


def _write_previous_version(path: Path, entries: int) -> None:
    """The files the hnswlib-backed index (metadata version 1) left in a data dir."""
    path.write_bytes(np.random.default_rng(3).bytes(4096))
    body = {
        "format": "lumen-vector-index",
        "version": 1,
        "space": "ip",
        "dim": DIM,
        "M": 32,
        "ef_construction": 200,
        "element_count": entries,
        "live_count": entries,
        "hnsw_bytes": 4096,
        "hnsw_crc32": zlib.crc32(path.read_bytes()),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    sealed = json.dumps({"body": body, "crc32": zlib.crc32(text.encode())})
    path.with_name(path.name + ".meta.json").write_text(sealed)


def test_an_index_of_the_previous_version_is_rebuilt_and_finds_the_same_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog, store, _ids = _library(tmp_path, 30)
    queries = unit_vectors(30)
    before = [store.index.search(q, 5)[0].tolist() for q in queries]
    index_path = tmp_path / "vectors.hnsw"
    _write_previous_version(index_path, 30)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="desktop_app.core.storage.store"):
        reopened = Store.open(catalog, index_path)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "another version of Lumen" in warnings[0].getMessage()
    assert "'lumen index'" in warnings[0].getMessage()  # what ends the rebuilds
    assert "\n" not in warnings[0].getMessage()
    assert [reopened.index.search(q, 5)[0].tolist() for q in queries] == before

    assert reopened.save()  # the writer replaces the old file with the current format
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = Store.open(catalog, index_path)
    assert not caplog.records and not again.dirty
    assert [again.index.search(q, 5)[0].tolist() for q in queries] == before
    catalog.close()


def test_a_truncated_or_damaged_file_is_refused_not_crashed_on(tmp_path: Path) -> None:
    index, ids, _ = build(2000, exact_threshold=0)
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    data = path.read_bytes()
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text())["body"]
    graph_end, rows_at = meta["graph_bytes"], vector_index_file.rows_offset(meta["graph_bytes"])
    for size in (0, 64, graph_end // 2, graph_end, rows_at + 8 * len(ids), len(data) - 2):
        path.write_bytes(data[:size])
        with pytest.raises(IndexFileError, match="bytes, expected"):
            VectorIndex.load(path, DIM)
    # The right length, but the graph's links or the rows overwritten: the checksum says so.
    for at in (graph_end // 3, graph_end - 100, rows_at + 3, len(data) - 7):
        damaged = bytearray(data)
        damaged[at : at + 4] = b"\xff\xff\xff\xff"
        path.write_bytes(bytes(damaged))
        with pytest.raises(IndexFileError, match="checksum"):
            VectorIndex.load(path, DIM)
    path.write_bytes(data)
    assert len(VectorIndex.load(path, DIM)) == 2000


def test_a_loaded_index_is_mapped_and_changes_only_in_memory(tmp_path: Path) -> None:
    """Loading views the saved graph; the first change copies it, and the file stays as it was."""
    index, ids, vecs = build(1500, exact_threshold=0)
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    saved = path.read_bytes()
    loaded = VectorIndex.load(path, DIM, exact_threshold=0)
    assert loaded.search(vecs[7], 1)[0][0] == ids[7]
    loaded.add(np.array([10**12]), unit_vectors(1, seed=11))
    loaded.remove(ids[:10].tolist())
    assert loaded.search(unit_vectors(1, seed=11)[0], 1)[0][0] == 10**12
    assert int(ids[3]) not in loaded.search(vecs[3], 10)[0].tolist()
    assert path.read_bytes() == saved
