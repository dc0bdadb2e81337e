"""The user's corrections of single faces: "This is…" (the face is someone else, named or new)
and "Not this person" (the face starts a person of its own). Mixed into ``People``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.core.errors import LumenError
from desktop_app.core.people.query import find_person
from desktop_app.core.people.store import Face, PeopleStore, Person


class Corrections:
    """Face-by-face edits; every write goes through ``_write`` (the library's writer)."""

    store: PeopleStore
    _write: Callable[[Callable[[], Any]], Any]
    person: Callable[[int], Person]

    def face(self, face_id: int) -> Face:
        """The face with this id (raises ``LumenError`` when there is none)."""
        found = self.store.face(face_id) if self.store.ready() else None
        if found is None:
            raise LumenError(f"There is no face {face_id}; the photo may have been looked at again")
        return found

    def this_is(self, face_id: int, person_id: int | None = None, name: str = "") -> Person:
        """The face shows ``person_id``, or the person called ``name`` (a new person when no one
        has that name yet); the face stays with them from now on. Returns the person."""
        self.face(face_id)
        if person_id is None:
            name = " ".join(name.split())
            if not name:
                raise LumenError("A name needs at least one letter")
            known = find_person(name, self.store.named())
            person_id = known.id if known else int(self._write(lambda: self._named_person(name)))
        else:
            self.person(person_id)
        target = person_id
        self._write(lambda: self.store.pin_face(face_id, target))
        return self.person(target)

    def not_this_person(self, face_id: int) -> Person:
        """Take the face out of its person: it starts a new unnamed person of its own, and
        stays out of the one it left. Returns the new person."""
        left = self.face(face_id).person_id

        def split() -> int:
            new = self.store.new_person()
            self.store.pin_face(face_id, new)
            if left is not None:  # the faces it leaves stay (not drawn to the new one)
                self.store.pin_person(left)
            return new

        return self.person(int(self._write(split)))

    def _named_person(self, name: str) -> int:
        new = self.store.new_person()
        self.store.name(new, name)
        return new
