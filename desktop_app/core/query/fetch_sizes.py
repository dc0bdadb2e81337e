"""How many vectors a search asks the index for, and how wide its graph search looks."""

from __future__ import annotations

import math

import numpy as np

from desktop_app.core.storage.catalog import INDEXED, Catalog
from desktop_app.core.storage.vector_index import VectorIndex

__all__ = [
    "BEAM_FILES",
    "FETCH_PER_FILE_MAX",
    "FETCH_SLACK",
    "POST_FILTER_SHARE",
    "FetchSizes",
    "search_within",
]

# Vectors asked for beyond the files wanted times the vectors they hold on average: hidden,
# offline and excluded files, and files with more vectors than the average.
FETCH_SLACK = 1.25
# Vectors asked per file wanted at most on the first try (a filter checked on the candidates
# always asks this many: only some of them pass it).
FETCH_PER_FILE_MAX = 3
# A search among at least this share of the index asks the whole index and drops the rest.
POST_FILTER_SHARE = 0.5
# A search for fewer files looks as wide in the graph as a search for BEAM_FILES: its best
# files are the same however many are asked for. At 100k files, the window's first page of 60
# searched with a beam of its own held 0.937 of the exact best 60; with the beam of 200 files,
# 0.992 (the bench_big_library queries, 7 Dec). The rest of a search (owners read, rows made)
# still scales with the files asked for.
BEAM_FILES = 200


class FetchSizes:
    """Vectors to ask for a number of files, learnt per modality from the searches so far."""

    def __init__(self, catalog: Catalog, index: VectorIndex) -> None:
        self._catalog = catalog
        self._index = index
        self._per_file: tuple[int, float] | None = None  # (index size, vectors per file)
        self._seen_per_file: dict[str, float] = {}  # modality -> vectors per file of its best

    def first(self, k: int, role: str = "all") -> int:
        """Vectors to ask the index for first, to find ``k`` files: as many as the files hold
        on average (one a photo; a document's passages and a video's frames more), with room;
        for a modality searched before, as many as its best vectors held per file then.

        Fewer vectors asked is a narrower graph search and fewer catalog lookups: at 1M photos
        the window's 200 results cost 24 ms with 3·k + 16 vectors asked.
        """
        size = len(self._index)
        cached = self._per_file
        if cached is None or not 0.8 * cached[0] <= size <= 1.25 * cached[0]:
            files = self._catalog.count_with_status(INDEXED)
            cached = self._per_file = (size, max(1.0, size / files) if files else 3.0)
        per_file = self._seen_per_file.get(role, cached[1])
        return math.ceil(k * min(per_file, FETCH_PER_FILE_MAX) * FETCH_SLACK) + 16

    def learn(self, role: str, seen: float) -> None:
        """Note how many vectors per file the best of a modality held (it rises at once and
        comes down slowly, so one odd query does not make the next fetch twice)."""
        before = self._seen_per_file.get(role)
        self._seen_per_file[role] = seen if before is None else max(seen, 0.8 * before + 0.2 * seen)

    def wide_as(self, k: int, role: str = "all") -> int:
        """Vectors a search for ``k`` files looks as widely for: those of ``BEAM_FILES`` files
        when ``k`` is fewer."""
        return self.first(BEAM_FILES, role) if k < BEAM_FILES else 0


def search_within(
    index: VectorIndex,
    query: np.ndarray,
    fetch: int,
    allowed: np.ndarray | None,
    wide_as: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The index's best ``fetch`` vectors among ``allowed`` (sorted ids; None: all), looked for
    as widely as ``wide_as`` vectors would be.

    Most of the index allowed (the photos of a photo library, a kind chip): the best of the
    whole index are asked for, as many more as are not allowed, and those not allowed are
    dropped. The index's own filter calls back into Python for each vector it visits: ~20 ms a
    query at 100k files against ~5 ms.
    """
    size = len(index)
    if allowed is None or len(allowed) < POST_FILTER_SHARE * size:
        return index.search(query, fetch, allowed=allowed, wide_as=wide_as)
    share = FETCH_SLACK * size / max(1, len(allowed))
    wider = min(size, math.ceil(fetch * share))
    ids, scores = index.search(query, wider, wide_as=min(size, math.ceil(wide_as * share)))
    pos = np.searchsorted(allowed, ids)
    pos[pos == len(allowed)] = 0
    keep = allowed[pos] == ids
    return ids[keep][:fetch], scores[keep][:fetch]
