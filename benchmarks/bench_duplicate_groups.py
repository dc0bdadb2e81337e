"""How tight near-duplicate groups are on look-alikes that chain, and how long grouping takes.

Synthetic 512-d image vectors, no model: a slow drift of photos (each a near-duplicate of the
one before, like a long burst or a time-lapse, so the first and last are far apart), bursts of
shots around a few scenes, and distinct photos. Prints the groups found, the biggest, and the
lowest cosine of a photo to its group's kept photo and between two photos of one group. Run from
the repository root::

    python3 -m benchmarks.bench_duplicate_groups [--drift 2000] [--bursts 50] [--distinct 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop_app.core.query.duplicates import DUPLICATE_COSINE, find_duplicates
from desktop_app.core.storage.catalog import Catalog, EmbeddedFile, NewVector
from desktop_app.core.storage.vector_index import VectorIndex

DIM = 512
SPACE = "bench"


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)
    return out


def _vectors(drift: int, bursts: int, shots: int, distinct: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = [_unit(rng.standard_normal(DIM))]
    for _ in range(drift - 1):  # each step: cosine ≈ 0.96 to the photo before
        walk.append(_unit(walk[-1] + 0.29 * _unit(rng.standard_normal(DIM))))
    scenes = _unit(rng.standard_normal((bursts, DIM)))
    burst = _unit(
        np.repeat(scenes, shots, axis=0) + 0.15 * _unit(rng.standard_normal((bursts * shots, DIM)))
    )
    return np.vstack([np.stack(walk), burst, _unit(rng.standard_normal((distinct, DIM)))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drift", type=int, default=2000, help="photos in the chained drift")
    parser.add_argument("--bursts", type=int, default=50)
    parser.add_argument("--shots", type=int, default=20, help="shots per burst")
    parser.add_argument("--distinct", type=int, default=2000)
    args = parser.parse_args()
    vectors = _vectors(args.drift, args.bursts, args.shots, args.distinct, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog.open(Path(tmp) / "catalog.sqlite3")
        batch = []
        for n, vector in enumerate(vectors):
            file_id = catalog.add_file(
                folder_id=None,
                path=Path(tmp) / f"photo {n:05d}.jpg",
                size=1000 + n,
                mtime_ns=n,
                inode=None,
                fingerprint=f"{n:032x}",
                kind="image",
            )
            batch.append(EmbeddedFile(file_id, [NewVector("image", vector)], (), {}))
        ids, _old = catalog.store_embedded_files(SPACE, batch)
        index = VectorIndex(DIM, capacity=len(vectors))
        index.add([i[0] for i in ids], vectors)
        row = {i[0]: n for n, i in enumerate(ids)}
        owner = catalog.owners([i[0] for i in ids])
        by_file = {o.file_id: row[vid] for vid, o in owner.items()}
        start = time.perf_counter()
        groups = find_duplicates(catalog, index, SPACE)
        seconds = time.perf_counter() - start
        catalog.close()
    to_kept, pairwise = 1.0, 1.0
    for group in groups:
        members = vectors[[by_file[f.id] for f in group.files]]
        sims = members @ members.T
        to_kept = min(to_kept, float(sims[0, 1:].min()))
        pairwise = min(pairwise, float(sims.min()))
    print(
        f"photos {len(vectors):,} (drift {args.drift:,}, bursts {args.bursts}×{args.shots}, "
        f"distinct {args.distinct:,}); threshold {DUPLICATE_COSINE}"
    )
    print(
        f"groups {len(groups):,}, photos in groups {sum(len(g.files) for g in groups):,}, "
        f"biggest {max((len(g.files) for g in groups), default=0):,}"
    )
    print(
        f"lowest cosine to the kept photo {to_kept:.3f}; between two photos of a group {pairwise:.3f}"
    )
    print(f"grouping took {seconds:.2f} s")


if __name__ == "__main__":
    main()
