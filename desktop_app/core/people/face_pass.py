"""The face pass: photos (and videos' keyframes) already indexed are looked at for faces, each
face joins the nearest person or starts a new one, and a re-cluster fixes drift at the end.

It runs after the CLIP vectors, as a pass of its own that gives way to queries: a library
indexed before faces existed gets them without anything being embedded again, a missing face
model never stops indexing, and the vectors (what search needs) come first. Its cost, measured
by benchmarks/bench_faces.py on 12-MP photos with ViT-B-32: about 11 % more indexing time.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.errors import ExtractionError
from desktop_app.core.people.clustering import Clusters, recluster
from desktop_app.core.people.model import DETECT_SIDE, Box, DetectedFace, FaceModel
from desktop_app.core.people.store import PeopleStore

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

Commit = Callable[[Callable[[], Any]], Any]  # runs a write as the library writer's operation


def _at_once(operation: Callable[[], Any]) -> Any:
    """Run a write here and now (no writer thread: tests, tools)."""
    return operation()


# A video's keyframes looked at for faces (spread over it), each at most DETECT_SIDE wide.
VIDEO_FRAMES = 6
# Two faces in one video closer than this are one face seen twice: only the first is kept.
SAME_FACE_IN_VIDEO = 0.35


@dataclass
class FacePassSummary:
    """What one pass did: files looked at, faces found, new people, files that failed."""

    files: int = 0
    faces: int = 0
    new_people: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _pictures(path: Path) -> list[tuple[Image.Image, float | None]]:
    """The upright pictures of a file to look for faces in (a video's: some keyframes)."""
    # The decoders load with the first picture: a search, which imports this, reads none.
    from desktop_app.core.extractors.images import open_for_display
    from desktop_app.core.extractors.video import VIDEO_EXTENSIONS, frame_strip

    if path.suffix.lower() in VIDEO_EXTENSIONS:
        _duration, frames = frame_strip(path, VIDEO_FRAMES, DETECT_SIDE)
        return [(f.image, f.at_s) for f in frames]
    return [(open_for_display(path, DETECT_SIDE), None)]


def _faces_of(
    model: FaceModel, path: Path, full_width: int | None = None
) -> list[tuple[DetectedFace, float | None]]:
    """Every face in the file at ``path`` (a face seen in several video frames: once), its
    box in the pixels of the file's full size when ``full_width`` (upright) is known."""
    found: list[tuple[DetectedFace, float | None]] = []
    for picture, at_s in _pictures(path):
        scale = full_width / picture.width if full_width and picture.width else 1.0
        for face in model.faces(picture):
            if at_s is not None and any(
                float(np.linalg.norm(face.descriptor - seen.descriptor)) < SAME_FACE_IN_VIDEO
                for seen, _at in found
            ):
                continue
            found.append((dataclasses.replace(face, box=_scaled(face.box, scale)), at_s))
    return found


def _scaled(box: Box, scale: float) -> Box:
    if abs(scale - 1.0) < 1e-3:
        return box
    return Box(*(round(v * scale) for v in (box.left, box.top, box.width, box.height)))


class FacePass:
    """Looks at files for faces and groups them; the store and the model are passed in."""

    def __init__(self, store: PeopleStore, model: FaceModel, commit: Commit = _at_once) -> None:
        self._store = store
        self._model = model
        self._commit = commit  # each write, as the library writer's operation
        stored = store.all_faces()
        assigned = [i for i, p in enumerate(stored.person_ids) if p is not None]
        self._clusters = Clusters.from_faces(
            [stored.person_ids[i] for i in assigned],  # type: ignore[misc]
            stored.descriptors[assigned],
        )

    def run(
        self,
        files: Sequence[tuple[int, Path]],
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
        checkpoint: Callable[[], None] | None = None,
        regroup_after: bool = True,
    ) -> FacePassSummary:
        """Look at ``files`` (catalog id, path) for faces; a file that cannot be read is
        noted with its reason and skipped. ``checkpoint`` is called before each file (a
        query running meanwhile goes first)."""
        summary = FacePassSummary()
        widths = self._store.widths(f for f, _path in files)
        for done, (file_id, path) in enumerate(files, start=1):
            if cancel is not None and cancel.is_set():
                break
            if checkpoint is not None:
                checkpoint()
            try:
                faces = _faces_of(self._model, path, widths.get(file_id))
            except (ExtractionError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
                summary.failed.append((path, reason))
                self._commit(functools.partial(self._store.save_scan, file_id, [], reason))
                continue
            placed = []
            for face, at_s in faces:
                person, _distance = self._clusters.nearest(face.descriptor)
                if person is None:
                    person = int(self._commit(self._store.new_person))
                    summary.new_people += 1
                self._clusters.add(person, face.descriptor)
                placed.append((face, at_s, person))
            self._commit(functools.partial(self._store.save_scan, file_id, placed))
            summary.files += 1
            summary.faces += len(placed)
            if progress is not None:
                progress(done, len(files))
        if summary.faces and regroup_after:
            regroup(self._store, self._commit)
        return summary


def regroup(store: PeopleStore, commit: Commit = _at_once) -> int:
    """Re-cluster every face: unpinned faces move to the nearest person's mean; faces far from
    every person are grouped anew. Faces moved."""
    stored = store.all_faces()
    if not stored.face_ids:
        return 0
    current = [-1 if p is None else p for p in stored.person_ids]
    pinned = [pin or p is None for pin, p in zip(stored.pinned, stored.person_ids, strict=True)]
    known = [i for i, p in enumerate(current) if p != -1]
    new = recluster(
        [current[i] for i in known], stored.descriptors[known], [pinned[i] for i in known]
    )
    moves: dict[int, int | None] = {}
    loose = Clusters()
    for i, person in zip(known, new, strict=True):
        if person is None:  # far from everyone now: grouped with the other loose faces
            found, _distance = loose.nearest(stored.descriptors[i])
            person = int(commit(store.new_person)) if found is None else found
            loose.add(person, stored.descriptors[i])
        if person != current[i]:
            moves[stored.face_ids[i]] = person
    if moves:
        commit(lambda: store.set_persons(moves))
    return len(moves)
