"""The vectors of the last few query texts, kept: the text tower is the largest single cost of
a query (25–60 ms for ViT-B-32 on one core), and the same text comes back often — a key typed
and taken back, the window asking again after a change or for more results, a word typed past
and then again.

A kept vector is the encoder's own answer for that text, unchanged; a different encoder (a
model switch, the model loaded beside the numpy tower) starts afresh.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Protocol

import numpy as np

# Query texts kept (a vector is 2 KB for a 512-d model).
KEPT_TEXTS = 64

__all__ = ["KEPT_TEXTS", "QueryVectors", "TextEncoder"]


class TextEncoder(Protocol):
    """What encodes a query's text (``ModelSlot.query_encoder``'s answer)."""

    @property
    def space(self) -> str: ...

    def encode_text(self, text: str) -> np.ndarray: ...


class QueryVectors:
    """Query text → its vector, the last ``KEPT_TEXTS`` kept; thread-safe."""

    def __init__(self, kept: int = KEPT_TEXTS) -> None:
        self._size = kept
        self._kept: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._encoder: weakref.ref[TextEncoder] | None = None  # whose vectors are kept
        self._lock = threading.Lock()

    def encode(self, encoder: TextEncoder, text: str) -> np.ndarray:
        """``encoder.encode_text(text)``, from the kept vectors when it was asked for lately
        (a read-only array: callers share it)."""
        key = (encoder.space, text)
        with self._lock:
            if self._encoder is None or self._encoder() is not encoder:
                self._kept.clear()
                self._encoder = weakref.ref(encoder)
            vector = self._kept.get(key)
            if vector is not None:
                self._kept.move_to_end(key)
                return vector
        # Encoded outside the lock: another thread's query need not wait for this one's.
        vector = np.array(encoder.encode_text(text), dtype=np.float32)
        vector.flags.writeable = False
        with self._lock:
            if self._encoder is not None and self._encoder() is encoder:
                self._kept[key] = vector
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return vector

    def clear(self) -> None:
        """Forget every kept vector."""
        with self._lock:
            self._kept.clear()
            self._encoder = None
