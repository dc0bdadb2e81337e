"""People as one unit for the library, the CLI and the host: the store, the face pass run on
what waits for it (loading the face model only then), and the user's edits."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.core.errors import LumenError
from desktop_app.core.people.corrections import Corrections
from desktop_app.core.people.face_pass import (
    Commit,
    FacePass,
    FacePassSummary,
    _at_once,
    regroup,
)
from desktop_app.core.people.model import FaceModel, load_face_model
from desktop_app.core.people.query import PersonTerms, parse_person_terms
from desktop_app.core.people.store import Face, PeopleStore, Person, Reads, Sessions

log = logging.getLogger(__name__)

_BY_ID = re.compile(r"(?:^|\s)-?person:(\d+)(?!\S)")
BATCH = 64  # files per face-pass step (the pass checks for cancelling between files)


class PeopleOffError(LumenError):
    """Face recognition is turned off."""


class People(Corrections):
    """Faces and people of one library. ``sessions``: the catalog's ``session``; ``reads``: its
    plain ``reader``."""

    def __init__(
        self,
        sessions: Sessions,
        load_model: Callable[[], FaceModel] = load_face_model,
        commit: Commit = _at_once,
        reads: Reads | None = None,
    ) -> None:
        self.store = PeopleStore(sessions, reads)
        self._load_model = load_model
        self._model: FaceModel | None = None
        self._model_lock = threading.Lock()
        self._commit = commit

    def _write(self, operation: Callable[[], Any]) -> Any:
        """``operation`` as the writer's, after the tables exist."""

        def write() -> Any:
            self.store.ensure()
            return operation()

        return self._commit(write)

    def model(self) -> FaceModel:
        """The face model, loaded on first use (raises ``FaceModelMissingError`` or
        ``FaceModelError``)."""
        with self._model_lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def load_model_soon(self) -> None:
        """Start loading the face model on a thread of its own, for a run that will look for
        faces once its files are embedded: the load (dlib and its detector; the describing
        models follow with the first face) then overlaps the embedding, which leaves a core
        free on a small run. A model that cannot load says so later, when the face pass asks."""
        if self._model is not None or not self.store.enabled():
            return

        def load() -> None:
            # (a failure is said by the face pass: it asks for the model again)
            with contextlib.suppress(Exception):
                self.model()

        threading.Thread(target=load, name="lumen-face-model", daemon=True).start()

    def scan_pending(
        self,
        cancel: threading.Event | None = None,
        checkpoint: Callable[[], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        max_files: int | None = None,
    ) -> FacePassSummary:
        """Look for faces in the indexed photos and videos that wait for it (every one, or the
        first ``max_files``; none when face recognition is off)."""
        total = FacePassSummary()
        if not self.store.enabled():
            return total
        waiting = self.store.pending_count()
        if not waiting:
            return total
        model = self.model()
        self._write(lambda: None)  # the tables, before the pass reads them
        face_pass = FacePass(self.store, model, self._commit)
        seen = 0
        while not (cancel and cancel.is_set()):
            if max_files is not None and seen >= max_files:
                break
            step = BATCH if max_files is None else min(BATCH, max_files - seen)
            files = self.store.files_to_scan(step)
            if not files:
                break
            each = None
            if progress is not None:  # file by file: a log's line shows the pace of this pass

                def each(done: int, _of: int, seen: int = seen) -> None:
                    progress(min(seen + done, waiting), waiting)

            done = face_pass.run(files, cancel, each, checkpoint, regroup_after=False)
            total.files += done.files
            total.faces += done.faces
            total.new_people += done.new_people
            total.failed.extend(done.failed)
            seen += len(files)
            if progress is not None:
                progress(min(seen, waiting), waiting)
        if total.faces:
            regroup(self.store, self._commit)
        return total

    def scan_pending_quietly(
        self,
        cancel: threading.Event | None = None,
        checkpoint: Callable[[], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        max_files: int | None = None,
    ) -> int:
        """``scan_pending`` after indexing: a missing face model is logged, not raised."""
        try:
            return self.scan_pending(cancel, checkpoint, progress, max_files).faces
        except LumenError as exc:
            log.warning("Faces were not looked for: %s", exc)
            return 0

    def listed(self, everyone: bool = False) -> list[Person]:
        """People, most photos first; unnamed people seen once only with ``everyone``."""
        if not self.store.ready():
            return []
        return [p for p in self.store.people() if everyone or p.name or p.faces > 1]

    def person(self, person_id: int) -> Person:
        """The person with this id (raises ``LumenError`` when there is none)."""
        found = self.store.people([person_id]) if self.store.ready() else []
        if not found:
            raise LumenError(f"There is no person {person_id}; `lumen people --all` lists them")
        return found[0]

    def name(self, person_id: int, name: str) -> Person:
        """Name a person; returns them."""
        name = " ".join(name.split())
        if not name:
            raise LumenError("A name needs at least one letter")
        self.person(person_id)
        self._write(lambda: self.store.name(person_id, name))
        return self.person(person_id)

    def merge(self, into: int, others: list[int]) -> Person:
        """Make ``others`` one person with ``into``; returns the person."""
        for person_id in (into, *others):
            self.person(person_id)
        target = self.person(into)
        if target.name is None:  # the merged person takes a name one of them had
            named = next((p.name for p in self.store.people(others) if p.name), None)
            if named:
                self._write(lambda: self.store.name(into, named))
        self._write(lambda: self.store.merge(into, others))
        return self.person(into)

    def forget(self, person_id: int) -> int:
        """Delete a person and their faces; faces deleted."""
        self.person(person_id)
        return int(self._write(lambda: self.store.forget(person_id)))

    def in_file(self, path: Path) -> list[Face]:
        """The faces found in the file at ``path`` (raises ``LumenError`` when it is not
        catalogued or not looked at yet)."""
        file_id = self.store.file_id(path)
        if file_id is None:
            raise LumenError(f"{path} is not in the library")
        if not (self.store.ready() and self.store.was_scanned(file_id)):
            raise LumenError(
                f"{path} has not been looked at for faces yet; run `lumen people scan`"
            )
        return self.store.faces_in([file_id]).get(file_id, [])

    def turn_off(self) -> int:
        """Turn face recognition off and delete every face descriptor; faces deleted."""
        return int(self._write(lambda: self.store.set_enabled(False)))

    def turn_on(self) -> None:
        self._write(lambda: self.store.set_enabled(True))

    def terms(self, query: str, names: bool = True) -> PersonTerms:
        """What ``query`` says about people (names count only while face recognition is on)."""
        if "person:" not in query and not self.store.enabled():
            return PersonTerms(query)
        if not self.store.ready():
            return parse_person_terms(query, [], names)
        # ``person:ID`` names an unnamed person too (the People view's "their photos").
        by_id = [
            Person(int(i), None, 0, 0, None)
            for i in dict.fromkeys(_BY_ID.findall(query))
            if self.store.exists(int(i))
        ]
        return parse_person_terms(query, [*self.store.named(), *by_id], names)
