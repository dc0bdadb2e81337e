"""The window's calls about people (issue 23): each person with a picture of their face, and
naming or merging them. Mixed into ``LibraryService``."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from PIL import Image

from desktop_app.core.errors import LumenError
from desktop_app.core.extractors.images import open_for_display
from desktop_app.core.extractors.video import VIDEO_EXTENSIONS, video_frame
from desktop_app.core.library import Library
from desktop_app.core.people.model import DETECT_SIDE
from desktop_app.core.people.store import Face, Person
from desktop_app.host.protocol import FaceRow, PersonRow, PhotoFaces

log = logging.getLogger(__name__)

FACE_SIDE = 96  # the face pictures of the People view
_OPEN_SIDE = 1280  # the photo is opened at most this large to cut the face out


class PeopleCalls:
    """People for the window; ``library`` is the open library."""

    library: Library

    def people(self, everyone: bool = False) -> tuple[PersonRow, ...]:
        """People, most photos first, each with their largest face as a picture."""
        listed = self.library.people.listed(everyone)
        faces = self.library.people.store.largest_faces(p.id for p in listed)
        return tuple(
            PersonRow(p.id, p.name, p.photos, _face_png(*faces[p.id]) if p.id in faces else None)
            for p in listed
        )

    def name_person(self, person_id: int, name: str) -> PersonRow:
        person = self.library.people.name(person_id, name)
        return PersonRow(person.id, person.name, person.photos)

    def merge_people(self, into: int, others: list[int]) -> PersonRow:
        person = self.library.people.merge(into, others)
        return PersonRow(person.id, person.name, person.photos)

    def faces_in_photo(self, path: Path) -> PhotoFaces:
        """Who is in the file at ``path``, with their boxes (none: not looked at yet, or off)."""
        people = self.library.people
        try:
            faces = people.in_file(path)
        except LumenError:
            return PhotoFaces(path, None)
        file_id = people.store.file_id(path)
        width = people.store.widths([file_id]).get(file_id) if file_id is not None else None
        if faces and width is None:  # boxes are in the pixels of the picture faces were found in
            width = _detect_width(path)
        rows = tuple(
            FaceRow(f.id, f.person_id, f.name, (f.box.left, f.box.top, f.box.width, f.box.height))
            for f in faces
        )
        named = tuple((p.id, p.name) for p in people.store.named() if p.name)
        return PhotoFaces(path, width, rows, tuple(sorted(named, key=lambda p: p[1].casefold())))

    def this_is(self, face_id: int, person_id: int | None, name: str = "") -> PersonRow:
        """The face shows ``person_id`` (or the person called ``name``, new if need be)."""
        return _row(self.library.people.this_is(face_id, person_id, name))

    def not_this_person(self, face_id: int) -> PersonRow:
        """The face is taken out of its person into a new unnamed one."""
        return _row(self.library.people.not_this_person(face_id))

    def face_recognition(self) -> tuple[bool, int, int]:
        """Whether face recognition is on, and the faces and people kept."""
        people = self.library.people
        listed = people.listed(everyone=True)
        return people.store.enabled(), sum(p.faces for p in listed), len(listed)

    def set_face_recognition(self, on: bool) -> int:
        """Turn face recognition on, or off (deleting every face descriptor); faces deleted."""
        if on:
            self.library.people.turn_on()
            return 0
        return self.library.people.turn_off()


def _row(person: Person) -> PersonRow:
    return PersonRow(person.id, person.name, person.photos)


def _detect_width(path: Path) -> int | None:
    try:
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            return video_frame(path, 0.0, DETECT_SIDE).width
        return open_for_display(path, DETECT_SIDE).width
    except (LumenError, OSError):
        return None


def _face_png(path: Path, face: Face, full_width: int | None) -> bytes | None:
    """The face cut out of its photo (or video frame), square, ``FACE_SIDE`` wide, as PNG."""
    try:
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            picture = video_frame(path, face.at_s, _OPEN_SIDE)
        else:
            picture = open_for_display(path, _OPEN_SIDE)
    except (LumenError, OSError) as exc:
        log.debug("no face picture from %s: %s", path, exc)
        return None
    scale = picture.width / full_width if full_width else 1.0
    b = face.box
    side = max(b.width, b.height) * 1.3 * scale  # a little around the face
    cx, cy = (b.left + b.width / 2) * scale, (b.top + b.height / 2) * scale
    box = (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))
    crop = picture.convert("RGB").crop(box).resize((FACE_SIDE, FACE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "PNG")
    return out.getvalue()
