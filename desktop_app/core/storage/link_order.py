"""The order in which a bulk of vectors is linked into the graph: neighbours one after another.

Linking a vector searches the graph around it. In the order rows happen to be stored (catalog
order), each search reads vectors from all over a graph far larger than the CPU's caches, and
waits on memory for most of its time. Linked region by region (coarse clusters of a sample,
each vector to its nearest), one insertion's search reads mostly the vectors the last ones
read, and the graph stores its vectors in that order, so later searches read fewer places too.

Measured on 2 cores (AMD EPYC, load 1.6-2.0), a rebuild of 200k clustered 512-d vectors
(``benchmarks/bench_search.py``'s) took 100-127 s in stored order and 71-79 s region by region,
with the same recall@10 at Lumen's beam (0.997 / 0.995-0.996); queries of the graph built so
took p50 1.1 ms instead of 2.6. On continuous vectors (its ``latent``, no clusters) the order
neither helps nor hurts (166-183 s against 178 s, recall 0.998-0.999).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

# Below this many vectors, a graph's vectors fit the caches well enough that the order barely
# matters, and the clustering is not worth its time.
ORDER_FROM: Final = 20_000
# Vectors per region, about: a region's int8 vectors (≈ 0.5 MB at 512-d) stay in the cache
# while it is linked (at 200k, 195 regions did as well as 447).
PER_REGION: Final = 1024
MAX_REGIONS: Final = 1024
# The sample the regions are drawn from, per region, and the rounds that refine them.
SAMPLE_PER_REGION: Final = 32
ROUNDS: Final = 6
# Rows assigned to their region at a time (float32 copies: 32 MB at 512-d).
ASSIGN_CHUNK: Final = 16_384

Rows = npt.NDArray[np.float16] | npt.NDArray[np.float32]


def locality_order(rows: Rows, seed: int = 0) -> npt.NDArray[np.intp]:
    """A permutation of ``rows`` (unit vectors) that puts near vectors next to each other:
    grouped by the nearest of about ``len(rows) / PER_REGION`` centres, in a random order
    within each group. Below ``ORDER_FROM`` rows, the identity."""
    count = len(rows)
    if count < ORDER_FROM:
        return np.arange(count, dtype=np.intp)
    rng = np.random.default_rng(seed)
    centres = _centres(rows, min(MAX_REGIONS, max(count // PER_REGION, 2)), rng)
    regions = _nearest(rows, centres)
    shuffled = rng.permutation(count)
    return shuffled[np.argsort(regions[shuffled], kind="stable")].astype(np.intp)


def _centres(rows: Rows, wanted: int, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """``wanted`` unit centres of a sample of ``rows`` (spherical k-means, ``ROUNDS`` rounds)."""
    taken = np.sort(
        rng.choice(len(rows), size=min(len(rows), wanted * SAMPLE_PER_REGION), replace=False)
    )
    sample = np.asarray(rows[taken], dtype=np.float32)
    centres = sample[rng.choice(len(sample), size=wanted, replace=False)].copy()
    for _ in range(ROUNDS):
        nearest = np.argmax(sample @ centres.T, axis=1)
        by_region = np.argsort(nearest, kind="stable")
        regions, starts = np.unique(nearest[by_region], return_index=True)
        sums = np.add.reduceat(sample[by_region], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centres[regions] = sums / np.maximum(norms, 1e-12)  # an empty region keeps its centre
    return centres


def _nearest(rows: Rows, centres: npt.NDArray[np.float32]) -> npt.NDArray[np.int32]:
    """Each row's nearest centre, ``ASSIGN_CHUNK`` rows at a time."""
    out = np.empty(len(rows), dtype=np.int32)
    for start in range(0, len(rows), ASSIGN_CHUNK):
        part = np.asarray(rows[start : start + ASSIGN_CHUNK], dtype=np.float32)
        out[start : start + len(part)] = np.argmax(part @ centres.T, axis=1)
    return out
