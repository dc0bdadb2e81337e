"""Many passages through the text tower: each distinct text once, the shortest batched together.

Indexing documents spends nearly all its time in the text tower. Two things cost it work for
nothing: the same passage in many files (a licence, a disclaimer, a page footer) embedded again
for each, and a batch run as long as its longest passage (the causal tower stops at the batch's
last end-of-text token, so one full passage among short ones makes them all full length).
``PassageEncoder`` embeds each distinct text once, remembers the vectors of the most recent
ones, and batches passages of similar length together.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

TEXT_BATCH = 64  # passages per text-tower call
REMEMBERED = 4096  # distinct passages whose vectors are kept (≈ 8 MB of ViT-B-32 vectors)


class PassageEncoder:
    """Encodes passages with ``encode`` (texts → (N, dim) float32), each distinct text once."""

    def __init__(
        self,
        encode: Callable[[Sequence[str]], np.ndarray],
        dim: int,
        batch: int = TEXT_BATCH,
        remembered: int = REMEMBERED,
    ) -> None:
        self._encode = encode
        self._dim = dim
        self._batch = batch
        self._remembered = remembered
        self._known: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) vectors of ``texts``, in order; repeated texts are embedded once."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        wanted: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                known = self._known.get(text)
                if known is not None:
                    self._known.move_to_end(text)
                    out[row] = known
                else:
                    wanted.setdefault(text, []).append(row)
        # Similar lengths together: characters are a close enough stand-in for tokens.
        todo = sorted(wanted, key=len)
        for start in range(0, len(todo), self._batch):
            chunk = todo[start : start + self._batch]
            vectors = self._encode(chunk)
            with self._lock:
                for text, vector in zip(chunk, vectors, strict=True):
                    out[wanted[text]] = vector
                    self._known[text] = vector
                while len(self._known) > self._remembered:
                    self._known.popitem(last=False)
        return out
