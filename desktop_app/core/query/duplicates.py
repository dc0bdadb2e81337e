"""Near-duplicate photos: the same picture resized, recompressed, cropped or brightened, or a burst.

Two photos are near-duplicates when their image vectors' cosine reaches ``DUPLICATE_COSINE``. A
group is tight: it forms around the photo it would keep (the one with most pixels, then the
biggest file), and every other photo in it is a near-duplicate of that one, not only of a
neighbour; look-alikes that chain (A≈B≈C≈D, A far from D) make several groups, not one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from desktop_app.core.records import FileRecord, VectorOwner
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.vector_index import VectorIndex

# Measured by ``python3 -m benchmarks.bench_duplicates`` with the tiny test model (see
# docs in that file): at 0.92 every resized (50 %) and recompressed (JPEG q=40) copy groups with its
# original, 97 % of 90 % crops and 94 % of +30 % brightness edits do, and no pair of distinct
# photos (23,004 pairs) does. Heavier edits (80 % crops, −30 % brightness) group about half the time.
DUPLICATE_COSINE = 0.92
NEIGHBOURS = 16  # nearest photos looked at per photo, to find which photos may be duplicates
_CHUNK = 256  # photos searched between two progress reports
_KEEPERS_AT_ONCE = 256


@dataclass(frozen=True)
class DuplicateGroup:
    """Photos that are the same picture, the one to keep first (most pixels, then biggest file);
    ``similarity``: the lowest cosine of another photo to that one."""

    files: list[FileRecord]
    similarity: float

    @property
    def kept(self) -> FileRecord:
        """The photo the group formed around: every other is a near-duplicate of it."""
        return self.files[0]


def keep_first(record: FileRecord) -> tuple[int, int, str]:
    """Sort key putting the photo worth keeping first: most pixels, then biggest file, then path."""
    return (-(record.width or 0) * (record.height or 0), -record.size, str(record.path))


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
    # Photos only: a video's frames are not compared.
    files = {f: r for f, r in catalog.files_by_ids(shown).items() if r.kind == "image"}
    vector_of: dict[int, int] = {}  # a photo's image vector
    for vid in sorted(owners, reverse=True):
        vector_of[owners[vid].file_id] = vid
    links = _links(index, image_ids, owners, set(files), threshold, progress)
    groups: list[DuplicateGroup] = []
    for candidates in _connected(links):
        members = sorted((files[f] for f in candidates), key=keep_first)
        groups += _tight_groups(members, index, vector_of, threshold)
    groups.sort(key=lambda g: (-len(g.files), -g.similarity, str(g.files[0].path)))
    return groups


def _links(
    index: VectorIndex,
    image_ids: np.ndarray,
    owners: dict[int, VectorOwner],
    visible: set[int],
    threshold: float,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[int, int]]:
    """Pairs of visible photos (file ids) that are each among the other's nearest and close."""
    links: list[tuple[int, int]] = []
    for start in range(0, len(image_ids), _CHUNK):
        chunk = image_ids[start : start + _CHUNK].tolist()
        vectors = index.get_vectors(chunk)
        for vid, vector in zip(chunk, vectors, strict=True):
            owner = owners.get(vid)
            if owner is None or owner.file_id not in visible:
                continue
            ids, scores = index.search(vector, NEIGHBOURS, allowed=image_ids)
            for other, score in zip(ids.tolist(), scores.tolist(), strict=True):
                if score < threshold:
                    break
                match = owners.get(other)
                if match is None or match.file_id == owner.file_id:
                    continue
                if match.file_id in visible:
                    links.append((owner.file_id, match.file_id))
        if progress is not None:
            progress(min(start + _CHUNK, len(image_ids)), len(image_ids))
    return links


def _connected(links: Iterable[tuple[int, int]]) -> list[set[int]]:
    """The sets of photos that links join (directly or through others): the candidates."""
    parent: dict[int, int] = {}

    def root(f: int) -> int:
        while parent.get(f, f) != f:
            parent[f] = parent.get(parent[f], parent[f])
            f = parent[f]
        return f

    for a, b in links:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, set[int]] = {}
    for f in parent:
        members.setdefault(root(f), set()).add(f)
    return list(members.values())


def _tight_groups(
    members: list[FileRecord],
    index: VectorIndex,
    vector_of: dict[int, int],
    threshold: float,
) -> list[DuplicateGroup]:
    """``members`` (best to keep first) grouped around keepers: the first photo not yet in a
    group keeps every other one whose cosine to it reaches ``threshold``, exactly computed."""
    vectors = index.get_vectors([vector_of[r.id] for r in members])
    left = np.ones(len(members), dtype=bool)
    groups: list[DuplicateGroup] = []
    while left.any():
        # The next keepers' cosines to every member in one product (one at a time is ~10× slower).
        batch = np.flatnonzero(left)[:_KEEPERS_AT_ONCE]
        for keeper, scores in zip(batch.tolist(), vectors[batch] @ vectors.T, strict=True):
            if not left[keeper]:  # taken by a keeper of this batch
                continue
            left[keeper] = False
            near = np.flatnonzero(left & (scores >= threshold))
            if len(near) == 0:
                continue
            left[near] = False
            others = sorted((members[i] for i in near.tolist()), key=lambda r: str(r.path))
            similarity = min(float(scores[near].min()), 1.0)
            groups.append(DuplicateGroup([members[keeper], *others], similarity))
    return groups
