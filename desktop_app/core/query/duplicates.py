"""Near-duplicate photos: the same picture resized, recompressed, cropped or brightened, or a burst.

Two photos are near-duplicates when their image vectors' cosine reaches ``DUPLICATE_COSINE``;
groups are the connected sets of such pairs, biggest first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop_app.core.records import FileRecord
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.vector_index import VectorIndex

# Measured by ``python3 -m benchmarks.bench_duplicates`` with the tiny test model (see
# docs in that file): at 0.92 every resized (50 %) and recompressed (JPEG q=40) copy groups with its
# original, 97 % of 90 % crops and 94 % of +30 % brightness edits do, and no pair of distinct
# photos (23,004 pairs) does. Heavier edits (80 % crops, −30 % brightness) group about half the time.
DUPLICATE_COSINE = 0.92
NEIGHBOURS = 16  # nearest photos looked at per photo


@dataclass(frozen=True)
class DuplicateGroup:
    """Photos that are the same picture; ``similarity``: the lowest cosine of a pair linking them."""

    files: list[FileRecord]
    similarity: float


def find_duplicates(
    catalog: Catalog,
    index: VectorIndex,
    space: str,
    threshold: float = DUPLICATE_COSINE,
    progress: Callable[[int, int], None] | None = None,
) -> list[DuplicateGroup]:
    """Groups of near-duplicate photos among the visible, indexed ones, biggest first."""
    image_ids = np.intersect1d(catalog.role_vector_ids(space, "image"), index.ids())
    if len(image_ids) < 2:
        return []
    owners = catalog.owners(image_ids.tolist())
    shown = catalog.visible_file_ids({o.file_id for o in owners.values()})
    files = {f: r for f, r in catalog.files_by_ids(shown).items() if r.kind == "image"}
    visible = set(files)  # photos only: a video's frames are not compared
    parent: dict[int, int] = {}

    def root(f: int) -> int:
        while parent.get(f, f) != f:
            parent[f] = parent.get(parent[f], parent[f])
            f = parent[f]
        return f

    links: list[tuple[int, int, float]] = []
    for start in range(0, len(image_ids), 256):
        chunk = image_ids[start : start + 256].tolist()
        vectors = index.get_vectors(chunk)
        for vid, vector in zip(chunk, vectors, strict=True):
            owner = owners.get(vid)
            if owner is None or owner.file_id not in visible:
                continue
            ids, scores = index.search(vector, NEIGHBOURS, allowed=image_ids)
            for other, score in zip(ids.tolist(), scores.tolist(), strict=True):
                match = owners.get(other)
                if score < threshold:
                    break
                if match is None or match.file_id == owner.file_id:
                    continue
                if match.file_id in visible:
                    links.append((owner.file_id, match.file_id, float(score)))
        if progress is not None:
            progress(min(start + 256, len(image_ids)), len(image_ids))
    for a, b, _score in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, set[int]] = {}
    weakest: dict[int, float] = {}
    for a, b, score in links:
        r = root(a)
        members.setdefault(r, set()).update((a, b))
        weakest[r] = min(weakest.get(r, 1.0), score)
    groups = [
        DuplicateGroup(
            sorted((files[f] for f in group if f in files), key=lambda r: str(r.path)),
            weakest[r],
        )
        for r, group in members.items()
    ]
    groups = [g for g in groups if len(g.files) >= 2]
    groups.sort(key=lambda g: (-len(g.files), -g.similarity, str(g.files[0].path)))
    return groups
