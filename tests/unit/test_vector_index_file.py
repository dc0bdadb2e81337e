"""Tests for the vector index's files: round trips, and every damaged or missing file refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import LumenError
from desktop_app.core.storage import vector_index_file
from desktop_app.core.storage.vector_index import IndexFileError, VectorIndex
from tests.support.vectors import DIM, build, unit_vectors


@pytest.mark.parametrize("exact_threshold", [None, 0])
def test_save_load_round_trip(tmp_path: Path, exact_threshold: int | None) -> None:
    index, ids, vecs = build(500, exact_threshold=exact_threshold)
    index.remove(ids[:20])
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    loaded = VectorIndex.load(path, DIM, exact_threshold=exact_threshold)
    assert len(loaded) == 480 and loaded.dim == DIM
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    assert loaded.deleted_fraction == pytest.approx(index.deleted_fraction)
    for i in range(0, 500, 25):
        a, sa = index.search(vecs[i], 10)
        b, sb = loaded.search(vecs[i], 10)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(sa, sb, atol=1e-6)
    # The loaded index keeps working: add, overwrite the file, load again.
    loaded.add(np.array([424242]), unit_vectors(1, seed=7))
    loaded.save(path)
    assert 424242 in VectorIndex.load(path, DIM)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.hnsw", "vectors.hnsw.meta.json"]


def test_save_load_empty_and_readd_deleted(tmp_path: Path) -> None:
    path = tmp_path / "empty.hnsw"
    VectorIndex(DIM).save(path)
    empty = VectorIndex.load(path, DIM)
    assert len(empty) == 0 and len(empty.search(unit_vectors(1)[0], 3)[0]) == 0

    index, ids, vecs = build(300, exact_threshold=0)
    index.remove(ids[:100])
    index.save(path)
    loaded = VectorIndex.load(path, DIM, exact_threshold=0)
    assert loaded.deleted_fraction == pytest.approx(1 / 3)
    loaded.add(ids[:100], vecs[:100])  # deleted labels come back to life in the graph
    assert len(loaded) == 300 and loaded.deleted_fraction == 0.0
    assert loaded.search(vecs[5], 1)[0][0] == ids[5]


def saved(tmp_path: Path) -> Path:
    index, _, _ = build(100)
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    return path


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IndexFileError):
        VectorIndex.load(tmp_path / "nothing.hnsw", DIM)
    path = saved(tmp_path)
    path.unlink()
    with pytest.raises(IndexFileError):
        VectorIndex.load(path, DIM)
    path = saved(tmp_path)
    Path(str(path) + ".meta.json").unlink()
    with pytest.raises(IndexFileError):
        VectorIndex.load(path, DIM)


def test_load_truncated_file(tmp_path: Path) -> None:
    path = saved(tmp_path)
    data = path.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(IndexFileError):
            VectorIndex.load(path, DIM)


def test_load_corrupt_files(tmp_path: Path) -> None:
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        VectorIndex.load(path, DIM)

    path = saved(tmp_path)
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    with pytest.raises(IndexFileError):
        VectorIndex.load(path, DIM)

    path = saved(tmp_path)
    meta = Path(str(path) + ".meta.json")
    for text in ("", "{", "[]", '{"body": {}, "crc32": 0}', meta.read_text()[:-5]):
        meta.write_text(text)
        with pytest.raises(IndexFileError):
            VectorIndex.load(path, DIM)


def test_load_wrong_dim(tmp_path: Path) -> None:
    path = saved(tmp_path)
    with pytest.raises(IndexFileError, match="32-d"):
        VectorIndex.load(path, DIM * 2)
    assert issubclass(IndexFileError, LumenError)


def test_save_to_unwritable_place(tmp_path: Path) -> None:
    index, _, _ = build(10)
    with pytest.raises(OSError):
        index.save(tmp_path / "missing-dir" / "vectors.hnsw")
    assert not list(tmp_path.iterdir())


class _UnwritableGraph:
    """Stands in for a graph whose file cannot be written."""

    def save(self, path: str) -> None:
        Path(path).write_bytes(b"partial")
        raise RuntimeError("Cannot open file")


def test_failed_save_keeps_the_previous_files(tmp_path: Path) -> None:
    path = saved(tmp_path)
    index, _, _ = build(20, seed=9)
    index._graph = _UnwritableGraph()
    with pytest.raises(OSError):
        index.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.hnsw", "vectors.hnsw.meta.json"]
    assert len(VectorIndex.load(path, DIM)) == 100


def test_a_loaded_index_serves_its_vectors_from_the_file_without_changing_it(
    tmp_path: Path,
) -> None:
    """The saved file is mapped copy-on-write: moving and changing rows leaves it intact."""
    index, ids, vecs = build(400, exact_threshold=0)
    index.remove(ids[:50])  # deleted entries early in the file: the last live rows take their place
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    saved = path.read_bytes()
    loaded = VectorIndex.load(path, DIM, exact_threshold=0)
    np.testing.assert_array_equal(loaded.get_vectors(ids[50:]), vecs[50:])
    found, _ = loaded.search(vecs[60], 5, allowed=ids[55:70])  # an exact scan of a few rows
    assert found[0] == ids[60]
    loaded.remove(ids[50:60])
    loaded.add(ids[60:61], unit_vectors(1, seed=9))
    assert path.read_bytes() == saved
    np.testing.assert_array_equal(loaded.get_vectors(ids[61:]), vecs[61:])


def test_a_large_index_is_checked_by_samples_and_a_torn_pair_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index_file, "FULL_CHECK_BYTES", 0)  # every file counts as large
    index, ids, _vectors = build(300, exact_threshold=0)
    path = tmp_path / "vectors.hnsw"
    index.save(path)
    assert len(VectorIndex.load(path, DIM)) == 300
    meta = (tmp_path / "vectors.hnsw.meta.json").read_text()
    index.add(ids[:1], unit_vectors(1, seed=5))  # same size, one vector changed
    index.save(path)
    (tmp_path / "vectors.hnsw.meta.json").write_text(meta)  # a crash between the two renames
    with pytest.raises(IndexFileError, match="checksum"):
        VectorIndex.load(path, DIM)
