"""The vector index's files: one data file (graph + live rows) and sealed JSON metadata.

The data file is a usearch graph (int8 vectors) followed by the live ids (int64) and their
float16 vectors. ``write`` replaces both files atomically (temp file + rename, fsync); ``read``
verifies length and CRC-32 before usearch sees the graph (a damaged graph could crash it), then
maps the file: the graph is viewed in place and the rows are a copy-on-write view, so loading
copies nothing. A file from an older version (metadata version 1, an hnswlib graph) is
refused like a damaged one, and the caller rebuilds the index from the catalog.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from desktop_app.core.errors import LumenError
from desktop_app.core.storage.vector_store import STORED, HalfArray, IdArray

_log = logging.getLogger(__name__)

# A file larger than this (≈ 10k items at 512-d) is checked by a CRC-32 of SAMPLE_BLOCKS blocks
# of SAMPLE_BYTES: a whole CRC-32 runs at ≈ 0.5–1 GB/s on the team's EPYC, 2–4 s at 1M items,
# most of a fresh search's budget.
FULL_CHECK_BYTES: Final = 16 << 20
SAMPLE_BLOCKS: Final = 256
SAMPLE_BYTES: Final = 64 << 10
HEAD_BYTES: Final = 64  # the start of the file, always in the sampled checksum

_META_FORMAT: Final = "lumen-vector-index"
_META_VERSION: Final = 2
_SPACE: Final = "ip"
GRAPH_KIND: Final = "usearch-i8"
_ALIGN: Final = 64  # the rows start at a multiple of this


class IndexFileError(LumenError):
    """The saved vector index is missing, unreadable, corrupt, from an older version or for
    another model dimension.

    The index is only an accelerator: the caller rebuilds it from the catalog's vectors.
    """


@dataclass(frozen=True)
class SavedRows:
    """The live ids and their float16 vectors, as saved (views of the mapped file)."""

    ids: IdArray
    vectors: HalfArray


@dataclass(frozen=True)
class LoadedIndex:
    """A saved index read back: its graph bytes, live rows and build parameters."""

    graph: memoryview  # the usearch graph, to be viewed in place
    rows: SavedRows
    m: int
    ef_construction: int
    dead: int  # graph entries deleted or replaced, waiting for a compaction


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


def full_crc32(data: memoryview | bytes | mmap.mmap) -> int:
    """CRC-32 of all of ``data``, 16 MB at a time."""
    crc = 0
    for start in range(0, len(data), 1 << 24):
        crc = zlib.crc32(data[start : start + (1 << 24)], crc)
    return crc


def sample_crc32(data: memoryview | bytes | mmap.mmap) -> int:
    """CRC-32 of the head and SAMPLE_BLOCKS blocks spread over ``data`` (its last included).

    A file too large to read whole at every start is checked this way; a torn pair (a new
    data file beside the metadata of an older one) differs in its head or in sampled bytes.
    """
    size = len(data)
    crc = zlib.crc32(data[:HEAD_BYTES])
    step = max(size // SAMPLE_BLOCKS, 1)
    starts = [*range(0, size, step)][:SAMPLE_BLOCKS]
    starts.append(max(size - SAMPLE_BYTES, 0))
    for start in starts:
        crc = zlib.crc32(data[start : start + SAMPLE_BYTES], crc)
    return crc


def _check_sum(mapped: mmap.mmap, path: Path, crc: int, sample: int) -> None:
    """Compare the file's CRC-32 (or, for a large file, its sampled one) with the metadata's."""
    large = len(mapped) > FULL_CHECK_BYTES
    if (sample_crc32(mapped) if large else full_crc32(mapped)) != (sample if large else crc):
        raise IndexFileError(f"The vector index {path} is corrupt (checksum mismatch).")


def rows_offset(graph_bytes: int) -> int:
    """Where the rows start in a data file whose graph takes ``graph_bytes``."""
    return -(-graph_bytes // _ALIGN) * _ALIGN


def _read_meta(path: Path, dim: int) -> dict[str, Any]:
    meta_path = _meta_path(path)
    try:
        body = _unseal(meta_path.read_text(encoding="utf-8"))
        fields = {key: int(body[key]) for key in ("dim", "version")}
        if body["format"] != _META_FORMAT or body["space"] != _SPACE:
            raise ValueError("not a vector index")
    except FileNotFoundError as exc:
        raise IndexFileError(f"No saved vector index at {path}.") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFileError(f"The vector index metadata {meta_path} is corrupt: {exc}") from exc
    if fields["version"] != _META_VERSION or body.get("graph") != GRAPH_KIND:
        raise IndexFileError(f"The vector index {path} was written by another version of Lumen.")
    if fields["dim"] != dim:
        raise IndexFileError(
            f"The vector index at {path} holds {fields['dim']}-d vectors, the model gives {dim}-d."
        )
    return body


def read(path: Path, dim: int) -> LoadedIndex:
    """Read an index written by `write`; IndexFileError if missing, corrupt, from another
    version or not `dim`-d. The file is mapped copy-on-write, not read."""
    body = _read_meta(path, dim)
    try:
        live, graph_bytes, size = (int(body[k]) for k in ("live_count", "graph_bytes", "bytes"))
        crc, sample = int(body["crc32"]), int(body["sample_crc32"])
        m, ef_construction, dead = (int(body[k]) for k in ("M", "ef_construction", "dead"))
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFileError(f"The vector index metadata for {path} is corrupt: {exc}") from exc
    at = rows_offset(graph_bytes)
    if live < 0 or graph_bytes <= 0 or size != at + live * (8 + dim * 2):
        raise IndexFileError(f"The vector index metadata for {path} is inconsistent.")
    try:
        actual = path.stat().st_size
        if actual != size:
            raise IndexFileError(f"The vector index {path} is {actual} bytes, expected {size}.")
        with path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        _check_sum(mapped, path, crc, sample)
    except FileNotFoundError as exc:
        raise IndexFileError(f"No saved vector index at {path}.") from exc
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"The vector index {path} cannot be read: {exc}") from exc
    if hasattr(mmap, "MADV_DONTNEED"):  # the pages read so far are the cache's, not ours
        mapped.madvise(mmap.MADV_DONTNEED)
    ids = np.ndarray((live,), "<i8", mapped, at)
    vectors: HalfArray = np.ndarray((live, dim), STORED, mapped, at + 8 * live)
    if os.name != "posix":  # a mapped file cannot be replaced there: keep copies instead
        ids, vectors = ids.copy(), vectors.copy()
    return LoadedIndex(
        memoryview(mapped)[:graph_bytes], SavedRows(ids, vectors), m, ef_construction, dead
    )


def write(
    path: Path, write_graph: Callable[[str], dict[str, Any]], rows: Callable[[], SavedRows]
) -> int:
    """Write the data file and its metadata to `path` and `path`.meta.json, each atomically.

    `write_graph(temp_path)` saves the graph and returns the metadata fields it vouches for
    (dim, M, ef_construction, dead, live_count); `rows()` gives the live rows, appended after
    the graph. The metadata records the file's length and CRC-32, so a crash between the two
    renames leaves a pair that `read` rejects. Returns the live count written; raises OSError
    when the files cannot be written.
    """
    meta_path = _meta_path(path)
    temps: list[Path] = []
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        temps.append(tmp_path)
        body: dict[str, Any] = {
            "format": _META_FORMAT,
            "version": _META_VERSION,
            "space": _SPACE,
            "graph": GRAPH_KIND,
        }
        body.update(write_graph(tmp))
        body["graph_bytes"] = _append_rows(tmp_path, rows(), int(body["live_count"]))
        _fsync_file(tmp_path)
        body["bytes"] = tmp_path.stat().st_size
        body["crc32"], body["sample_crc32"] = _file_crc32(tmp_path)
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
    except RuntimeError as exc:  # usearch could not write the file
        raise OSError(f"Could not save the vector index to {path}: {exc}") from exc
    finally:
        for leftover in temps:
            with suppress(OSError):
                leftover.unlink()
    return int(body["live_count"])


def _append_rows(path: Path, rows: SavedRows, live: int) -> int:
    """Append the rows after the graph in ``path`` (padded to _ALIGN); the graph's length."""
    if len(rows.ids) != live or rows.vectors.shape[0] != live:
        raise ValueError("the rows do not match the live count")
    graph_bytes = path.stat().st_size
    with path.open("ab") as f:
        f.write(b"\0" * (rows_offset(graph_bytes) - graph_bytes))
        f.write(np.ascontiguousarray(rows.ids, dtype="<i8").data)
        for start in range(0, live, 1 << 16):
            f.write(np.ascontiguousarray(rows.vectors[start : start + (1 << 16)], STORED).data)
    return graph_bytes


def _file_crc32(path: Path) -> tuple[int, int]:
    """The file's CRC-32, and its sampled one (``sample_crc32``)."""
    if path.stat().st_size == 0:
        return 0, 0
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return full_crc32(mapped), sample_crc32(mapped)
