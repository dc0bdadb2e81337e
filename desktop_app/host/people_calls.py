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
from desktop_app.core.people.store import Face
from desktop_app.host.protocol import PersonRow

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
