"""Grouping faces into people: a new face joins the nearest person within the threshold or
starts a new one; a re-cluster moves drifted faces but never the ones the user confirmed."""

from __future__ import annotations

import numpy as np

from desktop_app.core.people.clustering import THRESHOLD, Clusters, recluster


def faces_around(centre: np.ndarray, count: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (count, centre.size)).astype(np.float32)
    noise *= spread / np.linalg.norm(noise, axis=1, keepdims=True)
    return centre + noise


def test_a_face_joins_the_nearest_person_within_the_threshold() -> None:
    ann, bo = np.zeros(128, np.float32), np.full(128, 0.1, np.float32)  # 1.13 apart
    clusters = Clusters.from_faces(
        [1] * 3 + [2] * 3, np.vstack([faces_around(ann, 3, 0.2, 0), faces_around(bo, 3, 0.2, 1)])
    )
    assert clusters.nearest(faces_around(ann, 1, 0.25, 2)[0])[0] == 1
    assert clusters.nearest(faces_around(bo, 1, 0.25, 3)[0])[0] == 2
    stranger = np.full(128, -0.1, np.float32)
    person, distance = clusters.nearest(stranger)
    assert person is None and distance > THRESHOLD
    clusters.add(3, stranger)
    assert clusters.nearest(stranger)[0] == 3


def test_a_recluster_moves_drifted_faces_and_keeps_confirmed_ones() -> None:
    ann, bo = np.zeros(128, np.float32), np.full(128, 0.1, np.float32)
    faces = np.vstack([faces_around(ann, 4, 0.2, 0), faces_around(bo, 4, 0.2, 1)])
    # Faces 3 and 7 were put with the wrong person (when few faces were known); 7 is pinned.
    people = [1, 1, 1, 2, 2, 2, 2, 1]
    pinned = [False] * 7 + [True]
    assert recluster(people, faces, pinned) == [1, 1, 1, 1, 2, 2, 2, 1]
    far = np.vstack([faces, np.full((1, 128), -0.2, np.float32)])
    assert recluster([*people, 1], far, [*pinned, False])[-1] is None  # nobody's: starts anew
