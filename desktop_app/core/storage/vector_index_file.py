"""The vector index's files: an hnswlib graph plus sealed JSON metadata, checked before use.

``write`` replaces both files atomically (temp file + rename, fsync); ``read`` verifies length,
header and CRC-32 before hnswlib sees the graph (hnswlib trusts its input and may crash on a
damaged file) and recovers the live vectors and labels in the same pass.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import hnswlib
import numpy as np

from desktop_app.core.errors import LumenError
from desktop_app.core.storage.vector_store import FloatArray, IdArray

_log = logging.getLogger(__name__)

# A file larger than this (≈ 7k items at 512-d) is checked by a CRC-32 of SAMPLE_BLOCKS blocks
# of SAMPLE_BYTES: a whole CRC-32 runs at ≈ 0.5–1 GB/s on the team's EPYC, 0.1 s at 20k items
# (46 MB) and 2–4 s at 1M (2.3 GB), most of a fresh search's budget.
FULL_CHECK_BYTES: Final = 16 << 20
SAMPLE_BLOCKS: Final = 256
SAMPLE_BYTES: Final = 64 << 10

_META_FORMAT: Final = "lumen-vector-index"
_META_VERSION: Final = 1
_SPACE: Final = "ip"
# hnswlib 0.8 file header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
# label_offset, offsetData, maxlevel, enterpoint_node, maxM, maxM0, M, mult, ef_construction;
# then cur_element_count level-0 records of size_data_per_element bytes: link-list header (link
# count uint16, flags byte with bit 0 = deleted, a spare byte), links, vector, label (uint64).
_HNSW_HEADER: Final = struct.Struct("<QQQQQQiIQQQdQ")
_DELETED_FLAG_BYTE: Final = 2


class IndexFileError(LumenError):
    """The saved vector index is missing, unreadable, corrupt or for another model dimension.

    The index is only an accelerator: the caller rebuilds it from the catalog's vectors.
    """


def _file_crc32(path: Path) -> tuple[int, int]:
    """The file's CRC-32, and its sampled one (``sample_crc32``)."""
    crc = 0
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return 0, 0
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            for start in range(0, len(mapped), 1 << 24):
                crc = zlib.crc32(mapped[start : start + (1 << 24)], crc)
            return crc, sample_crc32(mapped)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Makes the renames durable on POSIX; directories cannot be opened this way on Windows.
    with suppress(OSError):
        _fsync_file(path)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _seal(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return json.dumps({"body": body, "crc32": zlib.crc32(text.encode())})


def _unseal(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    body = doc["body"]
    if not isinstance(body, dict):
        raise ValueError("metadata is not an object")
    check = json.dumps(body, sort_keys=True, separators=(",", ":"))
    if zlib.crc32(check.encode()) != doc["crc32"]:
        raise ValueError("metadata checksum mismatch")
    return body


@dataclass(frozen=True)
class _SavedIndex:
    """What `_read_hnsw_file` recovers from a saved hnswlib file."""

    live_ids: IdArray
    live_vectors: FloatArray  # a copy-on-write view of the file where the system maps files
    deleted_ids: IdArray


@dataclass(frozen=True)
class _Layout:
    """Where a saved file's level-0 records are and what they hold (from its header)."""

    count: int
    per: int  # bytes per record
    data_at: int  # the vector's offset in a record
    label_at: int  # the label's offset in a record


def _layout(header: bytes, path: Path, dim: int, count: int, live_count: int, size: int) -> _Layout:
    """The record layout the header gives, or IndexFileError when it does not fit the rest."""
    if len(header) != _HNSW_HEADER.size:
        raise IndexFileError(f"The vector index {path} is truncated.")
    level0, max_elements, cur, per, label_at, data_at = _HNSW_HEADER.unpack(header)[:6]
    if (
        level0 != 0
        or cur != count
        or not 0 <= live_count <= cur <= max_elements
        or label_at != data_at + 4 * dim
        or per != label_at + 8
        or data_at < 4
        or size < _HNSW_HEADER.size + cur * (per + 4)
    ):
        raise IndexFileError(f"The vector index {path} has an inconsistent header.")
    return _Layout(cur, per, data_at, label_at)


def sample_crc32(data: memoryview | bytes | mmap.mmap) -> int:
    """CRC-32 of the header and SAMPLE_BLOCKS blocks spread over ``data`` (its last included).

    A file too large to read whole at every start is checked this way; a torn pair (a new
    graph beside the metadata of an older one) differs in its header or in the sampled vectors.
    """
    size = len(data)
    crc = zlib.crc32(data[: _HNSW_HEADER.size])
    step = max(size // SAMPLE_BLOCKS, 1)
    starts = [*range(0, size, step)][:SAMPLE_BLOCKS]
    starts.append(max(size - SAMPLE_BYTES, 0))
    for start in starts:
        crc = zlib.crc32(data[start : start + SAMPLE_BYTES], crc)
    return crc


def _check_sum(mapped: mmap.mmap, path: Path, crc: int, sample: int | None) -> None:
    """Compare the file's CRC-32 (or, for a large file, its sampled one) with the metadata's."""
    if sample is not None and len(mapped) > FULL_CHECK_BYTES:
        if sample_crc32(mapped) != sample:
            raise IndexFileError(f"The vector index {path} is corrupt (checksum mismatch).")
        return
    running = 0
    for start in range(0, len(mapped), 1 << 24):
        running = zlib.crc32(mapped[start : start + (1 << 24)], running)
    if running != crc:
        raise IndexFileError(f"The vector index {path} is corrupt (checksum mismatch).")


def _read_hnsw_file(
    path: Path, dim: int, counts: tuple[int, int], size: int, sums: tuple[int, int | None]
) -> _SavedIndex:
    """Verify a saved hnswlib file (length, header, checksum) and map its vectors and labels.

    Done before hnswlib sees the file, because hnswlib trusts its input and may crash on a
    damaged one. The file is mapped copy-on-write: the vectors stay in the page cache, and
    this process pays memory only for the rows it reads or moves.
    """
    count, live_count = counts
    try:
        actual = path.stat().st_size
        if actual != size:
            raise IndexFileError(f"The vector index {path} is {actual} bytes, expected {size}.")
        with path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        layout = _layout(mapped[: _HNSW_HEADER.size], path, dim, count, live_count, size)
        _check_sum(mapped, path, *sums)
        saved = _records(mapped, layout, dim, live_count, path)
    except FileNotFoundError as exc:
        raise IndexFileError(f"No saved vector index at {path}.") from exc
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"The vector index {path} cannot be read: {exc}") from exc
    every = np.sort(np.concatenate([saved.live_ids, saved.deleted_ids]))  # (np.unique: 6× slower)
    if len(every) != count or (count and (every[0] < 0 or bool((every[1:] == every[:-1]).any()))):
        raise IndexFileError(f"The vector index {path} does not match its metadata.")
    return saved


def _records(
    mapped: mmap.mmap, layout: _Layout, dim: int, live_count: int, path: Path
) -> _SavedIndex:
    """The live ids and vectors (live rows first: the last live rows fill deleted ones' places)."""
    base, cur, per = _HNSW_HEADER.size, layout.count, layout.per
    if cur == 0:
        none = np.empty(0, dtype=np.int64)
        return _SavedIndex(none, np.empty((0, dim), dtype=np.float32), none)
    labels = np.ndarray((cur,), "<u8", mapped, base + layout.label_at, (per,)).astype(np.int64)
    flags = np.ndarray((cur,), np.uint8, mapped, base + _DELETED_FLAG_BYTE, (per,))
    deleted = (flags & 1).astype(bool)
    if int(cur - deleted.sum()) != live_count:
        raise IndexFileError(f"The vector index {path} does not match its metadata.")
    if hasattr(mmap, "MADV_DONTNEED"):  # the pages read so far are the cache's, not ours
        mapped.madvise(mmap.MADV_DONTNEED)
    vectors = np.ndarray((cur, dim), "<f4", mapped, base + layout.data_at, (per, 4))
    deleted_ids = labels[deleted]
    holes = np.flatnonzero(deleted[:live_count])
    if len(holes):
        tail = live_count + np.flatnonzero(~deleted[live_count:])
        vectors[holes] = vectors[tail]
        labels[holes] = labels[tail]
    live = vectors[:live_count]
    if os.name != "posix":  # a mapped file cannot be replaced there: keep a copy instead
        live = live.copy()
    return _SavedIndex(labels[:live_count].copy(), live, deleted_ids)


@dataclass(frozen=True)
class LoadedIndex:
    """A saved index read back: its graph, live vectors and build parameters."""

    graph: Any  # hnswlib.Index
    saved: _SavedIndex
    m: int
    ef_construction: int


def read(path: Path, dim: int) -> LoadedIndex:
    """Read an index written by `write`; IndexFileError if missing, corrupt or not `dim`-d."""
    meta_path = _meta_path(path)
    try:
        body = _unseal(meta_path.read_text(encoding="utf-8"))
        saved_dim = int(body["dim"])
        count, live_count = int(body["element_count"]), int(body["live_count"])
        size, crc = int(body["hnsw_bytes"]), int(body["hnsw_crc32"])
        sample = body.get("hnsw_sample_crc32")
        sample = None if sample is None else int(sample)
        m, ef_construction = int(body["M"]), int(body["ef_construction"])
        readable = (
            body["format"] == _META_FORMAT
            and body["version"] == _META_VERSION
            and body["space"] == _SPACE
        )
    except FileNotFoundError as exc:
        raise IndexFileError(f"No saved vector index at {path}.") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFileError(f"The vector index metadata {meta_path} is corrupt: {exc}") from exc
    if not readable:
        raise IndexFileError(f"{meta_path} is not a vector index this version can read.")
    if saved_dim != dim:
        raise IndexFileError(
            f"The vector index at {path} holds {saved_dim}-d vectors, the model gives {dim}-d."
        )
    saved = _read_hnsw_file(path, dim, (count, live_count), size, (crc, sample))
    try:
        graph = hnswlib.Index(space=_SPACE, dim=dim)
        graph.load_index(str(path), max_elements=0)
        graph.set_ef(1)
        loaded_count = int(graph.element_count)
    except (RuntimeError, ValueError, MemoryError, OSError) as exc:
        raise IndexFileError(f"hnswlib could not read the vector index {path}: {exc}") from exc
    if loaded_count != count:
        raise IndexFileError(f"The vector index {path} does not match its metadata.")
    return LoadedIndex(graph, saved, m, ef_construction)


def write(path: Path, write_graph: Callable[[str], dict[str, Any]]) -> int:
    """Write the graph and its metadata to `path` and `path`.meta.json, each atomically.

    `write_graph(temp_path)` saves the hnswlib graph and returns the metadata fields it vouches
    for (dim, M, ef_construction, element_count, live_count). The metadata records the graph
    file's length and CRC-32, so a crash between the two renames leaves a pair that `read`
    rejects. Returns the entry count written; raises OSError when the files cannot be written.
    """
    meta_path = _meta_path(path)
    temps: list[Path] = []
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        temps.append(tmp_path)
        body: dict[str, Any] = {"format": _META_FORMAT, "version": _META_VERSION, "space": _SPACE}
        body.update(write_graph(tmp))
        _fsync_file(tmp_path)
        body["hnsw_bytes"] = tmp_path.stat().st_size
        body["hnsw_crc32"], body["hnsw_sample_crc32"] = _file_crc32(tmp_path)
        fd, tmp_meta = tempfile.mkstemp(
            prefix=f".{meta_path.name}.", suffix=".tmp", dir=path.parent
        )
        temps.append(Path(tmp_meta))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_seal(body))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
        os.replace(tmp_meta, meta_path)
        temps.clear()
        _fsync_dir(path.parent)
    except RuntimeError as exc:  # hnswlib could not write the file
        raise OSError(f"Could not save the vector index to {path}: {exc}") from exc
    finally:
        for leftover in temps:
            with suppress(OSError):
                leftover.unlink()
    return int(body["element_count"])
