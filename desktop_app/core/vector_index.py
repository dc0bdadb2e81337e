"""hnswlib wrapper: ids are catalog vector ids; exact search for small libraries; atomic save."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import hnswlib
import numpy as np
import numpy.typing as npt

from desktop_app.core.errors import LumenError

_log = logging.getLogger(__name__)

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
RowArray = npt.NDArray[np.intp]

# ---------------------------------------------------------------------------------------------
# Tuning. Figures from benchmarks/bench_search.py on the team's 2-core EPYC (AVX2, no AVX-512),
# 512-d clustered synthetic vectors about as hard as those in MEASUREMENTS.md (at 100k, M=16
# gives recall@10 0.71 / 0.87 / 0.96 at ef 50 / 100 / 200), measured while other work kept the
# machine loaded (load average 5–7, as when the embedder is indexing): absolute times are
# pessimistic, ratios hold. Re-run the benchmark before changing any of these.
# ---------------------------------------------------------------------------------------------

# Exact search while the live vectors hold at most this many floats (10k items at 512-d, 6.7k
# at 768-d). An exact query reads every vector once, ≈ 0.2 µs per 512-d vector on one thread:
# 10k → 1.7 ms mean (p95 4 ms), 100k → 21 ms; HNSW takes 0.3 ms at 10k and 1.4 ms at 100k.
# Up to 10k, exactness costs ≈ 1.5 ms per query, well under the ≈ 25 ms of encoding the query.
EXACT_MAX_FLOATS: Final = 5_120_000

# HNSW graph degree and build beam. Recall@10 at 100k (ef_construction 200): M=16 needs
# ef ≈ 200 for 0.96 (1.3 ms); M=24 reaches 0.965 at ef 128; M=32 0.96–0.97 at ef 100
# (1.0–1.4 ms) for a ≈ 20% slower build; M=48 0.95 at ef 64 but builds at half M=32's
# speed. Links cost 8·M bytes per item beside the 2 KB vector (file: 2.3 KB per item at M=32).
HNSW_M: Final = 32
HNSW_EF_CONSTRUCTION: Final = 200
# Query beam: ef = max(EF_SEARCH, 2k). M=32 at 100k: recall@10 0.77 / 0.92 / 0.96 / 0.985 /
# 0.996 at ef 32 / 64 / 100 / 128 / 200 (10k: 0.995 at ef 100).
EF_SEARCH: Final = 100
# Filtered HNSW queries (hnswlib's filter callback) explore until they hold ef *allowed*
# items, so the same beam gives the same or better recall (0.996 at 30% allowed, 1.0 at 5%
# and 10%).
EF_FILTERED: Final = 100
# Filtered search: the filter callback visits ≈ ef / s graph nodes (s = allowed share) with a
# Python call each, while an exact scan of the m allowed vectors gathers scattered rows at
# ≈ 0.5–1 µs each. At 100k: callback 47 / 8.3 / 7.0 / 2.3 ms at 1 / 5 / 10 / 30% allowed,
# exact scan 0.3 / 4.2 / 10.4 ms at 1 / 5 / 10%, crossing near m ≈ 7k. The callback's cost
# grows like n / m and the scan's like m, so the scan is chosen while m² ≤ FILTER_BALANCE · n
# (100k: m ≤ 7k; 1M: m ≤ 22k), and always while n ≤ exact_threshold.
FILTER_BALANCE: Final = 500

# Deleted entries stay in the graph (as waypoints, never returned) until `compact`. Median
# latency against the compacted graph of the same live items (30k, ef 100): × 1.12 / 1.09 /
# 1.30 / 2.4 / 4.3 with 10 / 20 / 30 / 50 / 70% deleted; recall@10 does not drop (0.97–0.99).
# Each deleted entry also keeps its 2.3 KB. At 25% the cost is still ≈ 1.1–1.3×, and a
# rebuild (≈ 1–3k items/s on 2 cores; searches keep running on the old graph) pays off.
COMPACTION_THRESHOLD: Final = 0.25

# Capacity headroom when storage must grow (hnswlib's resize_index reallocates and copies).
GROWTH_FACTOR: Final = 1.5
MIN_CAPACITY: Final = 64
# Items per exclusive hnsw insertion: searches from other threads run between chunks, so a
# long `add` holds them back for at most one chunk (≈ 0.1–0.3 s).
ADD_CHUNK: Final = 256
# Rows streamed at a time while loading or rebuilding.
SCAN_CHUNK: Final = 8192

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


class _RWLock:
    """Many readers or one writer, with no starvation either way.

    A waiting writer blocks new readers; when a writer releases, the readers that were waiting
    go before the next writer.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._readers_waiting = 0
        self._admit = 0  # readers let in ahead of waiting writers

    @contextmanager
    def read(self) -> Iterator[None]:
        """Hold the lock shared for the duration of the block."""
        with self._cond:
            self._readers_waiting += 1
            while self._writer or (self._writers_waiting and not self._admit):
                self._cond.wait()
            self._readers_waiting -= 1
            if self._admit:
                self._admit -= 1
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        """Hold the lock exclusively for the duration of the block."""
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers or self._admit:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._admit = self._readers_waiting
                self._cond.notify_all()


class _VectorStore:
    """The live vectors as rows of one contiguous float32 matrix, with an id → row map.

    hnswlib keeps its own copy, but reading vectors back out of it is slow (get_items builds a
    Python list per vector: ≈ 70–100 µs per item, 1k items ≈ 0.1 s), too slow for exact search
    over a filtered subset, so this copy (2 KB per 512-d item) serves exact search, filtered
    exact search, get_vectors and compaction.
    """

    def __init__(self, dim: int, capacity: int = MIN_CAPACITY) -> None:
        self._matrix: FloatArray = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self._ids: IdArray = np.empty(max(capacity, 1), dtype=np.int64)
        self._row_of: dict[int, int] = {}

    @classmethod
    def adopt(cls, ids: IdArray, vectors: FloatArray) -> _VectorStore:
        """A store that takes over `vectors` (n, dim) as its rows, without copying."""
        store = cls(vectors.shape[1], 1)
        store._matrix, store._ids = vectors, ids
        store._row_of = dict(zip(ids.tolist(), range(len(ids)), strict=True))
        return store

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, vector_id: object) -> bool:
        return vector_id in self._row_of

    @property
    def matrix(self) -> FloatArray:
        """The live rows (a view, valid until the next change)."""
        return self._matrix[: len(self._row_of)]

    @property
    def ids(self) -> IdArray:
        """The id of each row of `matrix` (a view)."""
        return self._ids[: len(self._row_of)]

    def rows(self, ids: Sequence[int]) -> RowArray:
        """Row numbers of `ids`; KeyError for an id not present."""
        return np.fromiter(map(self._row_of.__getitem__, ids), dtype=np.intp, count=len(ids))

    def upsert(self, ids: IdArray, vectors: FloatArray) -> None:
        """Insert or overwrite rows; `ids` must be unique."""
        n = len(self._row_of)
        rows = np.empty(len(ids), dtype=np.intp)
        for i, vid in enumerate(ids.tolist()):
            row = self._row_of.get(vid)
            if row is None:
                row = self._row_of[vid] = n
                n += 1
            rows[i] = row
        if n > len(self._ids):
            self.reserve(max(n, int(len(self._ids) * GROWTH_FACTOR)))
        self._matrix[rows] = vectors
        self._ids[rows] = ids

    def reserve(self, capacity: int) -> None:
        """Reallocate to `capacity` rows (at least the live count)."""
        n = len(self._row_of)
        capacity = max(capacity, n, 1)
        kept = min(n, len(self._ids))  # during upsert, rows past the old capacity are new
        matrix = np.empty((capacity, self._matrix.shape[1]), dtype=np.float32)
        matrix[:kept] = self._matrix[:kept]
        ids = np.empty(capacity, dtype=np.int64)
        ids[:kept] = self._ids[:kept]
        self._matrix, self._ids = matrix, ids

    def shrink(self) -> None:
        """Give back memory when at most half of the allocated rows are in use."""
        if len(self._ids) > 2 * _headroom(len(self._row_of)):
            self.reserve(_headroom(len(self._row_of)))

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows (moving the last row into each hole); unknown ids are ignored."""
        for vid in ids:
            row = self._row_of.pop(vid, None)
            if row is None:
                continue
            last = len(self._row_of)
            if row != last:
                moved = int(self._ids[last])
                self._matrix[row] = self._matrix[last]
                self._ids[row] = moved
                self._row_of[moved] = row


@dataclass(frozen=True)
class _Lookup:
    """Sorted live ids with their store rows, for vectorised membership tests."""

    ids: IdArray
    rows: RowArray


class _Allowed:
    """An `allowed` filter resolved to live ids and store rows, kept for the next query.

    The GUI repeats a filter across queries (the user types; the date range stays), and
    resolving 30k allowed ids costs a few ms; valid while `lookup` is the current one.
    """

    def __init__(self, key: bytes, lookup: _Lookup, ids: IdArray, rows: RowArray) -> None:
        self.key, self.lookup, self.ids, self.rows = key, lookup, ids, rows
        self._members: set[int] | None = None

    def members(self) -> set[int]:
        """The ids as a set, for hnswlib's filter callback (built on first use)."""
        if self._members is None:
            self._members = set(self.ids.tolist())
        return self._members


def _dot(matrix: FloatArray, query: FloatArray) -> FloatArray:
    """Inner products of every row with `query`, computed on the calling thread.

    Not `matrix @ query`: OpenBLAS spreads a large matrix-vector product over all its threads,
    and while the embedder keeps the cores busy that costs ≈ 8 ms per call even for 2k rows.
    """
    out: FloatArray = np.einsum("ij,j->i", matrix, query)
    return out


def _top_k(ids: IdArray, scores: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
    """The `k` best (highest score) ids, best first."""
    if k <= 0 or len(scores) == 0:
        return _empty()
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = part[np.argsort(-scores[part], kind="stable")]
    return ids[order].astype(np.int64), scores[order].astype(np.float32)


def _empty() -> tuple[IdArray, FloatArray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)


def _headroom(n: int) -> int:
    return max(int(n * GROWTH_FACTOR), MIN_CAPACITY)


def _file_crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return crc


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
    live_vectors: FloatArray
    deleted_ids: IdArray


def _read_hnsw_file(
    path: Path, dim: int, count: int, live_count: int, size: int, crc: int
) -> _SavedIndex:
    """Verify a saved hnswlib file (length, header, CRC-32) and read its vectors and labels.

    Done before hnswlib sees the file, because hnswlib trusts its input and may crash on a
    damaged one. One streaming pass reads the checksum and the level-0 records together.
    """
    try:
        actual = path.stat().st_size
        if actual != size:
            raise IndexFileError(f"The vector index {path} is {actual} bytes, expected {size}.")
        with path.open("rb") as f:
            header = f.read(_HNSW_HEADER.size)
            if len(header) != _HNSW_HEADER.size:
                raise IndexFileError(f"The vector index {path} is truncated.")
            fields = _HNSW_HEADER.unpack(header)
            level0, max_elements, cur, per, label_at, data_at = fields[:6]
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
            running = zlib.crc32(header)
            live_ids = np.empty(live_count, dtype=np.int64)
            live_vectors = np.empty((live_count, dim), dtype=np.float32)
            deleted_ids: list[IdArray] = []
            filled = 0
            for start in range(0, cur, SCAN_CHUNK):
                rows = min(SCAN_CHUNK, cur - start)
                raw = f.read(rows * per)
                running = zlib.crc32(raw, running)
                block = np.frombuffer(raw, dtype=np.uint8).reshape(rows, per)
                labels = block[:, label_at:].copy().view("<u8")[:, 0].astype(np.int64)
                deleted = (block[:, _DELETED_FLAG_BYTE] & 1).astype(bool)
                deleted_ids.append(labels[deleted])
                live = ~deleted
                took = int(live.sum())
                if filled + took > live_count:
                    raise IndexFileError(f"The vector index {path} does not match its metadata.")
                live_ids[filled : filled + took] = labels[live]
                live_vectors[filled : filled + took] = (
                    block[live, data_at:label_at].copy().view("<f4")
                )
                filled += took
            while rest := f.read(1 << 20):
                running = zlib.crc32(rest, running)
    except FileNotFoundError as exc:
        raise IndexFileError(f"No saved vector index at {path}.") from exc
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"The vector index {path} cannot be read: {exc}") from exc
    if running != crc:
        raise IndexFileError(f"The vector index {path} is corrupt (checksum mismatch).")
    gone = np.concatenate(deleted_ids) if deleted_ids else np.empty(0, dtype=np.int64)
    every = np.concatenate([live_ids[:filled], gone])
    if filled != live_count or len(np.unique(every)) != cur or (cur and every.min() < 0):
        raise IndexFileError(f"The vector index {path} does not match its metadata.")
    return _SavedIndex(live_ids, live_vectors, gone)


class VectorIndex:
    """Nearest-neighbour index over L2-normalised float32 vectors keyed by catalog vector ids.

    Scores are inner products (cosine similarity). While the live vectors are few
    (`exact_threshold`), search is an exact matrix-vector product; beyond, an HNSW graph
    (hnswlib). Filtered searches scan the allowed vectors exactly when that is cheaper than
    a filtered graph walk. Removal only marks graph entries; `compact` rebuilds without them.

    Threads: any number of searches run concurrently; mutations are serialised and exclude
    searches only while they touch the graph (a long `add` lets searches in between chunks of
    `ADD_CHUNK` items; `compact` rebuilds aside and swaps).

    Memory: the graph (≈ 2.3 KB per 512-d item at M=32) plus a float32 copy of the live
    vectors (2 KB per item), because hnswlib cannot hand vectors back quickly.

    Ids must be non-negative (hnswlib labels are unsigned 64-bit).
    """

    def __init__(
        self,
        dim: int,
        capacity: int = 1024,
        *,
        exact_threshold: int | None = None,
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = EF_SEARCH,
        ef_filtered: int = EF_FILTERED,
    ) -> None:
        """Create an empty index for `dim`-dimensional vectors with room for `capacity`.

        `exact_threshold` (live items searched exactly) defaults to EXACT_MAX_FLOATS // dim;
        tests pass 0 to force the HNSW path.
        """
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self._dim = dim
        self._exact_threshold = (
            EXACT_MAX_FLOATS // dim if exact_threshold is None else max(exact_threshold, 0)
        )
        self._ef_search = max(ef_search, 1)
        self._ef_filtered = max(ef_filtered, 1)
        self._m = m
        self._ef_construction = ef_construction
        capacity = max(capacity, MIN_CAPACITY)
        self._hnsw: Any = self._new_hnsw(capacity)
        self._store = _VectorStore(dim, capacity)
        self._deleted: set[int] = set()  # labels marked deleted in the graph
        self._lookup_cache: _Lookup | None = None
        self._allowed_cache: _Allowed | None = None
        self._rw = _RWLock()
        self._writer = threading.Lock()  # one mutation at a time, held across a whole call

    def _new_hnsw(self, capacity: int) -> Any:
        index = hnswlib.Index(space=_SPACE, dim=self._dim)
        index.init_index(max_elements=capacity, M=self._m, ef_construction=self._ef_construction)
        # Search effort is set per query by asking for max(ef, k) results (hnswlib searches
        # with max(ef_, k)), so concurrent queries never race on the index-wide ef_.
        index.set_ef(1)
        return index

    # -- persistence --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: Path,
        dim: int,
        *,
        exact_threshold: int | None = None,
        ef_search: int = EF_SEARCH,
        ef_filtered: int = EF_FILTERED,
    ) -> VectorIndex:
        """Load an index saved by `save`; IndexFileError if missing, corrupt or not `dim`-d."""
        path = Path(path)
        meta_path = _meta_path(path)
        started = time.perf_counter()
        try:
            body = _unseal(meta_path.read_text(encoding="utf-8"))
            saved_dim = int(body["dim"])
            count, live_count = int(body["element_count"]), int(body["live_count"])
            size, crc = int(body["hnsw_bytes"]), int(body["hnsw_crc32"])
            m, ef_construction = int(body["M"]), int(body["ef_construction"])
            readable = (
                body["format"] == _META_FORMAT
                and body["version"] == _META_VERSION
                and body["space"] == _SPACE
            )
        except FileNotFoundError as exc:
            raise IndexFileError(f"No saved vector index at {path}.") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFileError(
                f"The vector index metadata {meta_path} is corrupt: {exc}"
            ) from exc
        if not readable:
            raise IndexFileError(f"{meta_path} is not a vector index this version can read.")
        if saved_dim != dim:
            raise IndexFileError(
                f"The vector index at {path} holds {saved_dim}-d vectors, the model gives {dim}-d."
            )
        saved = _read_hnsw_file(path, dim, count, live_count, size, crc)
        try:
            graph = hnswlib.Index(space=_SPACE, dim=dim)
            graph.load_index(str(path), max_elements=0)
            graph.set_ef(1)
            loaded_count = int(graph.element_count)
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:
            raise IndexFileError(f"hnswlib could not read the vector index {path}: {exc}") from exc
        if loaded_count != count:
            raise IndexFileError(f"The vector index {path} does not match its metadata.")

        index = cls(
            dim,
            MIN_CAPACITY,
            exact_threshold=exact_threshold,
            m=m,
            ef_construction=ef_construction,
            ef_search=ef_search,
            ef_filtered=ef_filtered,
        )
        index._hnsw = graph
        index._store = _VectorStore.adopt(saved.live_ids, saved.live_vectors)
        index._deleted = set(saved.deleted_ids.tolist())
        _log.info(
            "Loaded vector index %s: %d live, %d deleted, %.2f s",
            path,
            live_count,
            count - live_count,
            time.perf_counter() - started,
        )
        return index

    def save(self, path: Path) -> None:
        """Write the index to `path` and `path`.meta.json, each atomically (temp file + rename).

        The metadata records the graph file's length and CRC-32, so a crash between the two
        renames leaves a pair that `load` rejects (the index is then rebuilt from the catalog).
        Raises OSError when the files cannot be written (disk full, no permission).
        """
        path = Path(path)
        meta_path = _meta_path(path)
        started = time.perf_counter()
        temps: list[Path] = []
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            tmp_path = Path(tmp)
            temps.append(tmp_path)
            with self._rw.read():
                self._hnsw.save_index(tmp)
                body: dict[str, Any] = {
                    "format": _META_FORMAT,
                    "version": _META_VERSION,
                    "space": _SPACE,
                    "dim": self._dim,
                    "M": self._m,
                    "ef_construction": self._ef_construction,
                    "element_count": len(self._store) + len(self._deleted),
                    "live_count": len(self._store),
                }
            _fsync_file(tmp_path)
            body["hnsw_bytes"] = tmp_path.stat().st_size
            body["hnsw_crc32"] = _file_crc32(tmp_path)
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
        _log.info(
            "Saved vector index %s (%d entries) in %.2f s",
            path,
            body["element_count"],
            time.perf_counter() - started,
        )

    # -- mutation -----------------------------------------------------------------------------

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Add `vectors` (n, dim) under `ids` (n,), replacing the vector of an id already
        present or removed. Within one call, the last vector given for a repeated id wins.
        """
        id_arr, vec_arr = self._check_batch(ids, vectors)
        if len(id_arr) == 0:
            return
        # Keep the last occurrence of each id (hnswlib would race on duplicates in one batch).
        _, last = np.unique(id_arr[::-1], return_index=True)
        if len(last) != len(id_arr):
            keep = np.sort(len(id_arr) - 1 - last)
            id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        with self._writer:
            for start in range(0, len(id_arr), ADD_CHUNK):
                with self._rw.write():
                    self._add_locked(
                        id_arr[start : start + ADD_CHUNK], vec_arr[start : start + ADD_CHUNK]
                    )

    def _check_batch(
        self, ids: npt.ArrayLike, vectors: npt.ArrayLike
    ) -> tuple[IdArray, FloatArray]:
        id_in = np.asarray(ids)
        if id_in.ndim != 1 or (id_in.size and not np.issubdtype(id_in.dtype, np.integer)):
            raise ValueError("ids must be a 1-d array of integers")
        id_arr = id_in.astype(np.int64)
        vec_arr = np.ascontiguousarray(vectors, dtype=np.float32)
        if vec_arr.shape != (len(id_arr), self._dim):
            raise ValueError(
                f"vectors must have shape ({len(id_arr)}, {self._dim}), got {vec_arr.shape}"
            )
        if id_arr.size and id_arr.min() < 0:
            raise ValueError("vector ids must be non-negative")
        if not np.isfinite(vec_arr).all():
            raise ValueError("vectors contain NaN or infinity")
        return id_arr, vec_arr

    def _add_locked(self, ids: IdArray, vectors: FloatArray) -> None:
        id_list = ids.tolist()
        new = sum(1 for v in id_list if v not in self._store and v not in self._deleted)
        needed = int(self._hnsw.element_count) + new
        capacity = int(self._hnsw.get_max_elements())
        if needed > capacity:
            grown = max(needed, int(capacity * GROWTH_FACTOR))
            _log.debug("Growing the vector index from %d to %d entries", capacity, grown)
            self._hnsw.resize_index(grown)
        # hnswlib 0.8 (without allow_replace_deleted): an existing label, deleted or not, is
        # unmarked and its vector updated in place.
        self._hnsw.add_items(vectors, ids.astype(np.uint64))
        self._deleted.difference_update(id_list)
        self._store.upsert(ids, vectors)
        self._lookup_cache = None

    def remove(self, ids: Iterable[int]) -> None:
        """Hide `ids` from search (marked deleted until `compact`); unknown ids are ignored."""
        with self._writer, self._rw.write():
            gone = [vid for vid in map(int, ids) if vid in self._store]
            for vid in gone:
                self._hnsw.mark_deleted(vid)
                self._deleted.add(vid)
            if gone:
                self._store.remove(gone)
                self._lookup_cache = None

    def compact(self) -> None:
        """Rebuild the graph without its deleted entries; ids and vectors stay the same.

        Searches keep using the old graph during the rebuild; other mutations wait for it.
        """
        with self._writer:  # no mutation can happen, so the store is stable without the lock
            started = time.perf_counter()
            ids, vectors = self._store.ids, self._store.matrix
            fresh = self._new_hnsw(_headroom(len(ids)))
            for start in range(0, len(ids), SCAN_CHUNK):
                fresh.add_items(
                    vectors[start : start + SCAN_CHUNK],
                    ids[start : start + SCAN_CHUNK].astype(np.uint64),
                )
            with self._rw.write():
                dropped = len(self._deleted)
                self._hnsw = fresh
                self._deleted = set()
                self._store.shrink()
                self._lookup_cache = None
            _log.info(
                "Compacted the vector index: %d deleted entries dropped, %d live, %.2f s",
                dropped,
                len(ids),
                time.perf_counter() - started,
            )

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live (not deleted) vectors."""
        return len(self._store)

    def __contains__(self, vector_id: int) -> bool:
        """Whether `vector_id` is live in the index."""
        # No lock: a dict lookup is atomic under the GIL.
        return vector_id in self._store

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return self._dim

    @property
    def exact_threshold(self) -> int:
        """Live-item count up to which unfiltered search is exact."""
        return self._exact_threshold

    @property
    def capacity(self) -> int:
        """Graph entries allocated (grows automatically)."""
        return int(self._hnsw.get_max_elements())

    @property
    def deleted_fraction(self) -> float:
        """Share of graph entries that are deleted and wait for `compact`."""
        total = len(self._store) + len(self._deleted)
        return len(self._deleted) / total if total else 0.0

    def needs_compaction(self) -> bool:
        """Whether enough entries are deleted that `compact` is worth its cost."""
        return self.deleted_fraction > COMPACTION_THRESHOLD

    def ids(self) -> IdArray:
        """The live ids, sorted (a read-only array)."""
        with self._rw.read():
            return self._lookup().ids

    def _lookup(self) -> _Lookup:
        lookup = self._lookup_cache
        if lookup is None:
            # Built under the read lock: two readers may both build it, harmlessly.
            order = np.argsort(self._store.ids, kind="stable")
            ids = self._store.ids[order]
            ids.flags.writeable = False
            lookup = self._lookup_cache = _Lookup(ids, order.astype(np.intp))
        return lookup

    def get_vectors(self, ids: Sequence[int]) -> FloatArray:
        """The stored vectors of `ids`, float32 (len(ids), dim); KeyError for an id not live."""
        id_list = np.asarray(ids, dtype=np.int64).reshape(-1).tolist()
        with self._rw.read():
            try:
                rows = self._store.rows(id_list)
            except KeyError as exc:
                raise KeyError(f"vector id {exc.args[0]} is not in the index") from None
            return self._store.matrix[rows]

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        allowed: npt.ArrayLike | None = None,
        *,
        ef: int | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """The `k` live vectors most similar to `query` (dim,): (ids int64, scores float32),
        best first.

        `allowed` restricts results to those ids (ids not in the index are ignored); fewer
        than `k` results come back only when fewer items qualify. `ef` overrides the HNSW beam.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape != (self._dim,):
            raise ValueError(f"query must have {self._dim} values, got {q.shape[0]}")
        if k < 0:
            raise ValueError("k must be non-negative")
        with self._rw.read():
            n = len(self._store)
            if allowed is None:
                return self._search_all(q, min(k, n), ef)
            subset = self._resolve_allowed(allowed)
            m = len(subset.ids)
            if m == n:
                return self._search_all(q, min(k, n), ef)
            k = min(k, m)
            if k == 0:
                return _empty()
            if n <= self._exact_threshold or m * m <= FILTER_BALANCE * n:
                return self._exact(subset.ids, subset.rows, q, k)
            beam = max(ef or self._ef_filtered, 2 * k)
            found = self._hnsw_search(q, k, min(beam, m), subset.members())
            return found if found is not None else self._exact(subset.ids, subset.rows, q, k)

    def _search_all(self, q: FloatArray, k: int, ef: int | None) -> tuple[IdArray, FloatArray]:
        n = len(self._store)
        if k == 0:
            return _empty()
        if n <= self._exact_threshold:
            return _top_k(self._store.ids, _dot(self._store.matrix, q), k)
        found = self._hnsw_search(q, k, min(max(ef or self._ef_search, 2 * k), n), None)
        return (
            found if found is not None else _top_k(self._store.ids, _dot(self._store.matrix, q), k)
        )

    def _hnsw_search(
        self, q: FloatArray, k: int, beam: int, allowed: set[int] | None
    ) -> tuple[IdArray, FloatArray] | None:
        """HNSW top-k with a beam of `beam` (≥ k), or None when hnswlib finds too few."""
        filt: Callable[[int], bool] | None = None if allowed is None else allowed.__contains__
        try:
            labels, distances = self._hnsw.knn_query(q, k=max(beam, k), num_threads=1, filter=filt)
        except RuntimeError:
            _log.debug("HNSW returned fewer than %d results; searching exactly", beam)
            return None
        return labels[0, :k].astype(np.int64), (1.0 - distances[0, :k]).astype(np.float32)

    def _resolve_allowed(self, allowed: npt.ArrayLike) -> _Allowed:
        """The live ids among `allowed` (sorted, unique) and their store rows."""
        wanted = np.ascontiguousarray(np.asarray(allowed).reshape(-1), dtype=np.int64)
        key = hashlib.blake2b(wanted.data, digest_size=16).digest()
        lookup = self._lookup()
        cached = self._allowed_cache
        if cached is not None and cached.key == key and cached.lookup is lookup:
            return cached
        if len(wanted) > 1 and not bool(np.all(wanted[1:] > wanted[:-1])):
            wanted = np.unique(wanted)  # skipped for sorted input, e.g. ids from ORDER BY
        if len(lookup.ids) == 0 or len(wanted) == 0:
            ids, rows = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.intp)
        else:
            pos = np.searchsorted(lookup.ids, wanted)
            pos[pos == len(lookup.ids)] = 0
            hit = lookup.ids[pos] == wanted
            ids, rows = wanted[hit], lookup.rows[pos[hit]]
        resolved = self._allowed_cache = _Allowed(key, lookup, ids, rows)
        return resolved

    def _exact(
        self, ids: IdArray, rows: RowArray, q: FloatArray, k: int
    ) -> tuple[IdArray, FloatArray]:
        """Exact top-k among the given store rows."""
        matrix = self._store.matrix
        if 2 * len(rows) >= len(matrix):
            # Gathering scattered rows costs ≈ 0.5 µs each, a sequential pass ≈ 0.2 µs per row.
            return _top_k(ids, _dot(matrix, q)[rows], k)
        scores = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), SCAN_CHUNK):
            chunk = rows[start : start + SCAN_CHUNK]
            scores[start : start + len(chunk)] = _dot(matrix[chunk], q)
        return _top_k(ids, scores, k)
