"""Plain helpers of the catalog's rows: vector bytes, chunks of ids, rows touched."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

_T = TypeVar("_T")


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (typed loosely: SQLAlchemy's Result hides CursorResult)."""
    return int(result.rowcount or 0)


def chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in slices of at most ``size`` (SQLite limits the parameters of one statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A vector row's embedding: float16 values and one marker byte (an odd length), half the size
# of the float32 of catalogs written before (an even length, still read). At 512-d a float32
# row took a 4 KB page of its own; three float16 rows share one.
_HALF_MARK = b"h"


def encode_vector(vector: np.ndarray) -> bytes:
    """The catalog's bytes for an embedding (float16; the index keeps float32 for search)."""
    return np.asarray(vector, dtype=np.float16).tobytes() + _HALF_MARK


def decode_vector(blob: bytes) -> np.ndarray:
    """The float32 embedding in a vector row (either format), a new writable array."""
    if len(blob) % 2:
        return np.frombuffer(blob, dtype=np.float16, count=len(blob) // 2).astype(np.float32)
    return np.frombuffer(blob, dtype=np.float32).copy()


def decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """The float32 embeddings (len(blobs), dim) of vector rows: rows all in today's format are
    widened in one step (a million rows in seconds, where row by row took a quarter minute)."""
    half_size = 2 * dim + 1
    if all(len(blob) == half_size for blob in blobs):
        joined = b"".join(blob[:-1] for blob in blobs)
        return np.frombuffer(joined, dtype=np.float16).reshape(len(blobs), dim).astype(np.float32)
    out = np.zeros((len(blobs), dim), dtype=np.float32)
    for row, blob in enumerate(blobs):
        out[row] = decode_vector(blob)
    return out
