"""Faces grouped into people: a new face joins the nearest person within ``THRESHOLD``; a
re-cluster moves faces that drifted to the person they are now nearest to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Euclidean distance between two descriptors below which they show the same person. dlib
# documents 0.6 for its ResNet model (99.38 % on LFW at that distance). Measured on the test
# photos (benchmarks/bench_faces.py): variants of one person (resized, cropped, flipped,
# greyscale, brighter, placed in a larger picture) lay at most 0.27 apart, the two people at
# least 0.60, so 0.6 would let them touch; 0.5 keeps a margin on both sides. Two people wrongly
# merged are worse than one split in two (merging is one command; splitting is not).
THRESHOLD = 0.5
_CHUNK = 4096  # faces compared with every person at once (bounds the distance matrix)


@dataclass
class Clusters:
    """Each person's mean descriptor and face count, for assigning new faces one at a time."""

    ids: list[int] = field(default_factory=list)
    sums: list[np.ndarray] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    _centroids: np.ndarray | None = None

    @classmethod
    def from_faces(cls, person_ids: Sequence[int], descriptors: np.ndarray) -> Clusters:
        """The clusters of faces already assigned (``descriptors`` row i is ``person_ids[i]``'s)."""
        clusters = cls()
        at: dict[int, int] = {}
        for person, descriptor in zip(person_ids, descriptors, strict=True):
            if person not in at:
                at[person] = len(clusters.ids)
                clusters.ids.append(person)
                clusters.sums.append(np.zeros(descriptors.shape[1], dtype=np.float64))
                clusters.counts.append(0)
            clusters.sums[at[person]] += descriptor
            clusters.counts[at[person]] += 1
        return clusters

    def nearest(self, descriptor: np.ndarray) -> tuple[int | None, float]:
        """The person nearest to ``descriptor`` when within ``THRESHOLD`` (else None), and the
        distance to their mean."""
        if not self.ids:
            return None, float("inf")
        if self._centroids is None:
            self._centroids = np.stack(
                [s / c for s, c in zip(self.sums, self.counts, strict=True)]
            ).astype(np.float32)
        distances = np.linalg.norm(self._centroids - descriptor, axis=1)
        best = int(np.argmin(distances))
        distance = float(distances[best])
        return (self.ids[best] if distance < THRESHOLD else None), distance

    def add(self, person: int, descriptor: np.ndarray) -> None:
        """Count ``descriptor`` as one more face of ``person`` (new or known)."""
        self._centroids = None
        if person in self.ids:
            i = self.ids.index(person)
            self.sums[i] = self.sums[i] + descriptor
            self.counts[i] += 1
        else:
            self.ids.append(person)
            self.sums.append(descriptor.astype(np.float64))
            self.counts.append(1)


def recluster(
    person_ids: Sequence[int], descriptors: np.ndarray, pinned: Sequence[bool]
) -> list[int | None]:
    """Each face's person after moving unpinned faces to the nearest person's mean.

    A face stays where it is when no other person's mean is nearer; a face now farther than
    ``THRESHOLD`` from every mean (its own included) gets ``None``: it starts a person of its own.
    Pinned faces (the user said who they are) never move.
    """
    if not len(person_ids):
        return []
    clusters = Clusters.from_faces(person_ids, descriptors)
    centroids = np.stack([s / c for s, c in zip(clusters.sums, clusters.counts, strict=True)])
    centroids = centroids.astype(np.float32)
    out: list[int | None] = list(person_ids)
    for start in range(0, len(person_ids), _CHUNK):
        block = descriptors[start : start + _CHUNK]
        squared = (
            (block * block).sum(axis=1)[:, None]
            - 2.0 * block @ centroids.T
            + (centroids * centroids).sum(axis=1)[None, :]
        )
        distances = np.sqrt(np.maximum(squared, 0.0))
        best = np.argmin(distances, axis=1)
        for offset, column in enumerate(best):
            i = start + offset
            if pinned[i]:
                continue
            if distances[offset, column] < THRESHOLD:
                out[i] = clusters.ids[int(column)]
            else:
                out[i] = None
    return out
