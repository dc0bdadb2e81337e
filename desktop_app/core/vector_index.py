"""hnswlib wrapper: ids are catalog vector ids; exact search for small libraries; atomic save."""

from __future__ import annotations

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
from pathlib import Path
from typing import Any, Final

import hnswlib
import numpy as np
import numpy.typing as npt

from desktop_app.core.errors import LumenError

_log = logging.getLogger(__name__)

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

# ---------------------------------------------------------------------------------------------
# Tuning, measured with benchmarks/bench_search.py on the team's 2-core EPYC (AVX2, no AVX-512)
# on clustered synthetic 512-d vectors, with another process busy on one of the two cores (as
# when the embedder is indexing). Re-run the benchmark before changing any of these.
# ---------------------------------------------------------------------------------------------

# Exact search below this many live vectors × dim (10k items at 512-d, 6.7k at 768-d).
# One exact query is a matrix-vector product over all live vectors and is bound by memory
# bandwidth: single-threaded it costs ≈ 0.2 ms per 1k vectors at 512-d (10k: 2.0 ms, 20k: 4.3 ms,
# 100k: 19 ms); the HNSW path costs 0.3–0.9 ms at any size. At 10k the exact path stays near
# 2 ms per query with perfect recall, and HNSW would only be ≈ 1.5 ms faster.
EXACT_MAX_FLOATS: Final = 5_120_000

# HNSW graph degree and build beam. At 100k clustered vectors M=16 (ef_construction 200) needs
# ef ≈ 150 for recall@10 ≥ 0.95; M=32 reaches it at ef 64 for a 20% slower build (M costs
# 4·M bytes per item of links next to the 2 KB vector, so memory hardly changes).
HNSW_M: Final = 32
HNSW_EF_CONSTRUCTION: Final = 200
# Query beam: ef = max(EF_SEARCH, 2k). At 100k, M=32: ef 64 gives recall@10 0.96 in 0.45 ms.
EF_SEARCH: Final = 64
# Filtered queries (hnswlib's filter callback) use a wider beam: their recall@10 at 30% allowed
# is 0.97 at ef 128 (a Python call per visited node makes them ≈ 1–2 ms anyway).
EF_FILTERED: Final = 128

# Deleted entries stay in the graph (as waypoints) until compaction. At 100k: latency at ef 64
# grows ≈ 5% / 15% / 40% with 10% / 30% / 50% deleted while recall@10 stays ≥ 0.95, and the
# deleted slots are dead memory (2.2 KB each). Past 25% the wasted memory and latency are
# worth a rebuild (≈ 3k items/s on 2 cores).
COMPACTION_THRESHOLD: Final = 0.25

# Capacity headroom when the hnsw arrays must grow (resize_index reallocates and copies).
GROWTH_FACTOR: Final = 1.5
MIN_CAPACITY: Final = 64
# Items per exclusive hnsw insertion: searches from other threads interleave between chunks,
# so a long add holds them back for at most one chunk (≈ 0.1–0.3 s).
ADD_CHUNK: Final = 256
# Items fetched at a time when scanning vectors out of hnswlib (exact fallbacks, compaction).
SCAN_CHUNK: Final = 8192

_META_FORMAT: Final = "lumen-vector-index"
_META_VERSION: Final = 1
_SPACE: Final = "ip"
# hnswlib 0.8 file header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
# label_offset, offsetData, maxlevel, enterpoint_node, maxM, maxM0, M, mult, ef_construction.
_HNSW_HEADER: Final = struct.Struct("<QQQQQQiIQQQdQ")


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


class _DenseVectors:
    """Live vectors as rows of one contiguous matrix, for exact (brute-force) search."""

    def __init__(self, dim: int, capacity: int = MIN_CAPACITY) -> None:
        self._matrix: FloatArray = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self._ids: IdArray = np.empty(max(capacity, 1), dtype=np.int64)
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    @property
    def matrix(self) -> FloatArray:
        """The live rows (a view, valid until the next change)."""
        return self._matrix[: len(self._row_of)]

    @property
    def ids(self) -> IdArray:
        """The id of each row of `matrix` (a view)."""
        return self._ids[: len(self._row_of)]

    def rows(self, ids: Sequence[int]) -> npt.NDArray[np.intp]:
        """Row numbers of `ids` (all must be present)."""
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
            cap = max(n, 2 * len(self._ids))
            matrix = np.empty((cap, self._matrix.shape[1]), dtype=np.float32)
            matrix[: len(self._ids)] = self._matrix
            ids_buf = np.empty(cap, dtype=np.int64)
            ids_buf[: len(self._ids)] = self._ids
            self._matrix, self._ids = matrix, ids_buf
        self._matrix[rows] = vectors
        self._ids[rows] = ids

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


def _dot(matrix: FloatArray, query: FloatArray) -> FloatArray:
    """Inner products of every row with `query`, computed on the calling thread.

    Not `matrix @ query`: OpenBLAS runs a large matrix-vector product on all its threads, and
    when the embedder keeps the other core busy the spinning threads cost ≈ 8 ms per call.
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
    return max(n + n // 2, MIN_CAPACITY)


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
    check = json.dumps(body, sort_keys=True, separators=(",", ":"))
    if zlib.crc32(check.encode()) != doc["crc32"]:
        raise ValueError("metadata checksum mismatch")
    if not isinstance(body, dict):
        raise ValueError("metadata is not an object")
    return body


class VectorIndex:
    """Nearest-neighbour index over L2-normalised float32 vectors keyed by catalog vector ids.

    Scores are inner products (cosine similarity). Below `exact_threshold` live vectors, search
    is an exact product over a dense copy of the vectors; above it, an HNSW graph (hnswlib).
    Removal only marks entries; `compact` rebuilds without them. Many threads may search while
    one thread changes the index (mutations are serialised; a long `add` lets searches in
    between chunks of `ADD_CHUNK` items).

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
        """Create an empty index for `dim`-dimensional vectors, room for `capacity` items."""
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
        self._hnsw: Any = self._new_hnsw(max(capacity, MIN_CAPACITY))
        self._live: set[int] = set()
        self._deleted: set[int] = set()
        self._dense: _DenseVectors | None = _DenseVectors(dim)
        self._sorted_ids: IdArray | None = None
        self._rw = _RWLock()
        self._writer = threading.Lock()  # one mutation at a time, held across a whole call

    # -- construction and persistence ---------------------------------------------------------

    def _new_hnsw(self, capacity: int) -> Any:
        index = hnswlib.Index(space=_SPACE, dim=self._dim)
        index.init_index(max_elements=capacity, M=self._m, ef_construction=self._ef_construction)
        # Search effort is set per query by asking for max(ef, k) results (hnswlib searches
        # with max(ef_, k)), so concurrent queries never race on the index-wide ef_.
        index.set_ef(1)
        return index

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
        """Load an index saved by `save`; raise IndexFileError if missing, corrupt or not `dim`."""
        path = Path(path)
        meta_path = _meta_path(path)
        started = time.perf_counter()
        try:
            body = _unseal(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexFileError(f"No saved vector index at {meta_path}.") from exc
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise IndexFileError(
                f"The vector index metadata {meta_path} is corrupt: {exc}"
            ) from exc
        try:
            saved_dim = int(body["dim"])
            count = int(body["element_count"])
            size = int(body["hnsw_bytes"])
            crc = int(body["hnsw_crc32"])
            deleted = {int(v) for v in body["deleted_ids"]}
            m, ef_construction = int(body["M"]), int(body["ef_construction"])
            valid = body["format"] == _META_FORMAT and body["space"] == _SPACE
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFileError(
                f"The vector index metadata {meta_path} is corrupt: {exc}"
            ) from exc
        if not valid or body.get("version") != _META_VERSION:
            raise IndexFileError(f"{meta_path} is not a vector index this version can read.")
        if saved_dim != dim:
            raise IndexFileError(
                f"The vector index at {path} holds {saved_dim}-d vectors, the model gives {dim}-d."
            )
        cls._check_hnsw_file(path, dim, count, size, crc)

        loaded = cls(
            dim,
            MIN_CAPACITY,
            exact_threshold=exact_threshold,
            m=m,
            ef_construction=ef_construction,
            ef_search=ef_search,
            ef_filtered=ef_filtered,
        )
        try:
            index = hnswlib.Index(space=_SPACE, dim=dim)
            index.load_index(str(path), max_elements=0)
            index.set_ef(1)
            labels = {int(v) for v in index.get_ids_list()}
        except (RuntimeError, ValueError, MemoryError, OSError) as exc:
            raise IndexFileError(f"hnswlib could not read the vector index {path}: {exc}") from exc
        if len(labels) != count or not deleted <= labels:
            raise IndexFileError(f"The vector index {path} does not match its metadata.")
        loaded._hnsw = index
        loaded._deleted = deleted
        loaded._live = labels - deleted
        loaded._dense = None
        loaded._update_dense()
        _log.info(
            "Loaded vector index %s: %d live, %d deleted, %.2f s",
            path,
            len(loaded._live),
            len(loaded._deleted),
            time.perf_counter() - started,
        )
        return loaded

    @staticmethod
    def _check_hnsw_file(path: Path, dim: int, count: int, size: int, crc: int) -> None:
        """Verify length, checksum and header before hnswlib (which trusts its input) reads it."""
        try:
            actual_size = path.stat().st_size
            if actual_size != size:
                raise IndexFileError(
                    f"The vector index {path} is {actual_size} bytes, expected {size} (truncated?)."
                )
            if _file_crc32(path) != crc:
                raise IndexFileError(f"The vector index {path} is corrupt (checksum mismatch).")
            with path.open("rb") as f:
                header = f.read(_HNSW_HEADER.size)
        except FileNotFoundError as exc:
            raise IndexFileError(f"No saved vector index at {path}.") from exc
        except OSError as exc:
            raise IndexFileError(f"The vector index {path} cannot be read: {exc}") from exc
        if len(header) != _HNSW_HEADER.size:
            raise IndexFileError(f"The vector index {path} is truncated.")
        fields = _HNSW_HEADER.unpack(header)
        max_elements, cur_count, per_element, label_offset, data_offset = fields[1:6]
        if (
            cur_count != count
            or max_elements < cur_count
            or label_offset != data_offset + 4 * dim
            or per_element != label_offset + 8
            or size < _HNSW_HEADER.size + cur_count * per_element
        ):
            raise IndexFileError(f"The vector index {path} has an inconsistent header.")

    def save(self, path: Path) -> None:
        """Write the index to `path` and `path`.meta.json, each atomically (temp file + rename).

        A crash between the two renames leaves a pair whose checksum does not match, which
        `load` reports as IndexFileError (the index is then rebuilt from the catalog).
        """
        path = Path(path)
        meta_path = _meta_path(path)
        started = time.perf_counter()
        temps: list[Path] = []
        try:
            with self._rw.read():
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                os.close(fd)
                temps.append(Path(tmp))
                self._hnsw.save_index(tmp)
                body = {
                    "format": _META_FORMAT,
                    "version": _META_VERSION,
                    "space": _SPACE,
                    "dim": self._dim,
                    "M": self._m,
                    "ef_construction": self._ef_construction,
                    "element_count": len(self._live) + len(self._deleted),
                    "live_count": len(self._live),
                    "deleted_ids": sorted(self._deleted),
                }
            tmp_path = temps[0]
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
        except (OSError, RuntimeError) as exc:
            raise IndexFileError(f"Could not save the vector index to {path}: {exc}") from exc
        finally:
            for tmp_file in temps:
                with suppress(OSError):
                    tmp_file.unlink()
        _log.info(
            "Saved vector index %s (%d items) in %.2f s",
            path,
            body["element_count"],
            time.perf_counter() - started,
        )

    # -- mutation -----------------------------------------------------------------------------

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Add vectors under `ids`, replacing the vector of any id already present or removed.

        Within one call, the last vector given for a repeated id wins.
        """
        id_arr, vec_arr = self._check_batch(ids, vectors)
        if len(id_arr) == 0:
            return
        # Keep the last occurrence of each id (hnswlib would race on duplicates in one batch).
        _, last = np.unique(id_arr[::-1], return_index=True)
        keep = np.sort(len(id_arr) - 1 - last)
        if len(keep) != len(id_arr):
            id_arr, vec_arr = id_arr[keep], vec_arr[keep]
        with self._writer:
            for start in range(0, len(id_arr), ADD_CHUNK):
                chunk_ids = id_arr[start : start + ADD_CHUNK]
                chunk_vecs = vec_arr[start : start + ADD_CHUNK]
                with self._rw.write():
                    self._add_locked(chunk_ids, chunk_vecs)

    def _check_batch(
        self, ids: npt.ArrayLike, vectors: npt.ArrayLike
    ) -> tuple[IdArray, FloatArray]:
        id_in = np.asarray(ids)
        if id_in.ndim != 1 or (id_in.size and not np.issubdtype(id_in.dtype, np.integer)):
            raise ValueError("ids must be a 1-d array of integers")
        id_arr = id_in.astype(np.int64)
        vec_arr = np.ascontiguousarray(vectors, dtype=np.float32)
        if vec_arr.ndim != 2 or vec_arr.shape != (len(id_arr), self._dim):
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
        new = sum(1 for v in id_list if v not in self._live and v not in self._deleted)
        needed = self._hnsw.element_count + new
        capacity = self._hnsw.get_max_elements()
        if needed > capacity:
            grown = max(needed, int(capacity * GROWTH_FACTOR))
            _log.debug("Growing vector index from %d to %d slots", capacity, grown)
            self._hnsw.resize_index(grown)
        self._hnsw.add_items(vectors, ids.astype(np.uint64))
        self._live.update(id_list)
        self._deleted.difference_update(id_list)
        if self._dense is not None:
            self._dense.upsert(ids, vectors)
        self._changed()

    def remove(self, ids: Iterable[int]) -> None:
        """Mark `ids` deleted (hidden from search until re-added); unknown ids are ignored."""
        with self._writer, self._rw.write():
            gone = [vid for vid in map(int, ids) if vid in self._live]
            for vid in gone:
                self._hnsw.mark_deleted(vid)
                self._live.discard(vid)
                self._deleted.add(vid)
            if gone:
                if self._dense is not None:
                    self._dense.remove(gone)
                self._changed()

    def compact(self) -> None:
        """Rebuild the graph without deleted entries; ids and vectors stay the same.

        Searches keep running on the old graph during the rebuild; the swap is instantaneous.
        """
        with self._writer:
            started = time.perf_counter()
            live = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
            live.sort()
            fresh = self._new_hnsw(_headroom(len(live)))
            for start in range(0, len(live), SCAN_CHUNK):
                chunk = live[start : start + SCAN_CHUNK]
                with self._rw.read():
                    vectors = self._vectors_locked(chunk)
                fresh.add_items(vectors, chunk.astype(np.uint64))
            with self._rw.write():
                dropped = len(self._deleted)
                self._hnsw = fresh
                self._deleted = set()
            _log.info(
                "Compacted vector index: dropped %d deleted entries, %d live, %.2f s",
                dropped,
                len(live),
                time.perf_counter() - started,
            )

    def _changed(self) -> None:
        """Bookkeeping after a mutation (write lock held)."""
        self._sorted_ids = None
        self._update_dense()

    def _update_dense(self) -> None:
        """Keep the dense copy while the index is small (exact search), drop it when large.

        It is kept up to twice the exact threshold, so adding and removing around the
        threshold does not rebuild it each time.
        """
        n = len(self._live)
        if self._dense is not None and n > 2 * self._exact_threshold:
            self._dense = None
        elif self._dense is None and n <= self._exact_threshold:
            dense = _DenseVectors(self._dim, n)
            ids = self._sorted_live()
            for start in range(0, n, SCAN_CHUNK):
                chunk = ids[start : start + SCAN_CHUNK]
                dense.upsert(chunk, self._hnsw_vectors(chunk))
            self._dense = dense

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live (not deleted) vectors."""
        return len(self._live)

    def __contains__(self, vector_id: int) -> bool:
        """Whether `vector_id` is live in the index."""
        # No lock: a set lookup is atomic under the GIL.
        return vector_id in self._live

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return self._dim

    @property
    def exact_threshold(self) -> int:
        """Live-item count up to which search is exact."""
        return self._exact_threshold

    @property
    def capacity(self) -> int:
        """Slots allocated in the graph (grows automatically)."""
        return int(self._hnsw.get_max_elements())

    @property
    def deleted_fraction(self) -> float:
        """Share of graph entries that are deleted and wait for `compact`."""
        total = len(self._live) + len(self._deleted)
        return len(self._deleted) / total if total else 0.0

    def needs_compaction(self) -> bool:
        """Whether enough entries are deleted that `compact` is worth its cost."""
        return self.deleted_fraction > COMPACTION_THRESHOLD

    def ids(self) -> IdArray:
        """The live ids, sorted (a read-only array)."""
        with self._rw.read():
            return self._sorted_live()

    def _sorted_live(self) -> IdArray:
        ids = self._sorted_ids
        if ids is None:
            # Computed under the read lock: concurrent readers may both compute it, harmlessly.
            ids = np.fromiter(self._live, dtype=np.int64, count=len(self._live))
            ids.sort()
            ids.flags.writeable = False
            self._sorted_ids = ids
        return ids

    def get_vectors(self, ids: Sequence[int]) -> FloatArray:
        """The stored vectors of `ids`, float32 of shape (len(ids), dim); KeyError if not live."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._rw.read():
            missing = [vid for vid in id_arr.tolist() if vid not in self._live]
            if missing:
                raise KeyError(f"vector ids not in the index: {missing[:10]}")
            return self._vectors_locked(id_arr)

    def _vectors_locked(self, ids: IdArray) -> FloatArray:
        if len(ids) == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        if self._dense is not None:
            return self._dense.matrix[self._dense.rows(ids.tolist())]
        return self._hnsw_vectors(ids)

    def _hnsw_vectors(self, ids: IdArray) -> FloatArray:
        if len(ids) == 0:
            return np.empty((0, self._dim), dtype=np.float32)
        return np.asarray(self._hnsw.get_items(ids.astype(np.uint64)), dtype=np.float32)

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        allowed: npt.ArrayLike | None = None,
        *,
        ef: int | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """The `k` live vectors most similar to `query`: (ids int64, scores float32), best first.

        `allowed` restricts results to those ids (unknown ids in it are ignored); fewer than
        `k` results come back only when fewer items qualify. `ef` overrides the HNSW beam.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        if q.shape != (self._dim,):
            raise ValueError(f"query must have {self._dim} values, got {q.shape[0]}")
        if k < 0:
            raise ValueError("k must be non-negative")
        with self._rw.read():
            if allowed is None:
                return self._search_all(q, k, ef)
            candidates = self._live_subset(allowed)
            if len(candidates) == len(self._live):
                return self._search_all(q, k, ef)
            k = min(k, len(candidates))
            if k == 0:
                return _empty()
            if len(candidates) <= self._exact_threshold:
                return self._exact(candidates, q, k)
            beam = max(ef or self._ef_filtered, 2 * k)
            found = self._hnsw_search(q, k, beam, len(candidates), set(candidates.tolist()))
            return found if found is not None else self._exact(candidates, q, k)

    def _search_all(self, q: FloatArray, k: int, ef: int | None) -> tuple[IdArray, FloatArray]:
        n = len(self._live)
        k = min(k, n)
        if k == 0:
            return _empty()
        if n <= self._exact_threshold and self._dense is not None:
            return _top_k(self._dense.ids, _dot(self._dense.matrix, q), k)
        found = self._hnsw_search(q, k, max(ef or self._ef_search, 2 * k), n, None)
        return found if found is not None else self._exact(self._sorted_live(), q, k)

    def _hnsw_search(
        self, q: FloatArray, k: int, beam: int, available: int, allowed: set[int] | None
    ) -> tuple[IdArray, FloatArray] | None:
        """HNSW top-k with beam width `beam`, or None when hnswlib finds fewer than asked."""
        wanted = min(max(beam, k), available)
        filt: Callable[[int], bool] | None = allowed.__contains__ if allowed is not None else None
        try:
            labels, distances = self._hnsw.knn_query(q, k=wanted, num_threads=1, filter=filt)
        except RuntimeError:
            _log.debug("HNSW returned fewer than %d results; searching exactly", wanted)
            return None
        ids = labels[0, :k].astype(np.int64)
        scores = (1.0 - distances[0, :k]).astype(np.float32)
        return ids, scores

    def _live_subset(self, allowed: npt.ArrayLike) -> IdArray:
        """The live ids among `allowed`, sorted and unique."""
        wanted = np.unique(np.asarray(allowed).reshape(-1).astype(np.int64))
        live = self._sorted_live()
        if len(live) == 0 or len(wanted) == 0:
            return np.empty(0, dtype=np.int64)
        pos = np.searchsorted(live, wanted)
        pos[pos == len(live)] = 0
        result: IdArray = wanted[live[pos] == wanted]
        return result

    def _exact(self, ids: IdArray, q: FloatArray, k: int) -> tuple[IdArray, FloatArray]:
        """Exact top-k among `ids` (live), scanning their vectors in chunks."""
        best_ids, best_scores = _empty()
        for start in range(0, len(ids), SCAN_CHUNK):
            chunk = ids[start : start + SCAN_CHUNK]
            scores = _dot(self._vectors_locked(chunk), q)
            best_ids, best_scores = _top_k(
                np.concatenate([best_ids, chunk]), np.concatenate([best_scores, scores]), k
            )
        return best_ids, best_scores
