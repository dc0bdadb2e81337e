"""The faces and people tables in the catalog's SQLite file, and every read and write of them.

The store keeps to the catalog's ``files`` table by its columns (id, path, kind, status,
fingerprint) and adds its own tables in a migration step of its own, recorded in the catalog's
``meta`` table as ``people_schema``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.elements import TextClause

from desktop_app.core.people.model import DESCRIPTOR_DIM, Box, DetectedFace

SCHEMA_KEY = "people_schema"
SCHEMA_VERSION = 1
ENABLED_KEY = "people_enabled"  # "0" once the user turned face recognition off
_IN_CHUNK = 500  # ids bound in one statement at most (SQLite limits the parameters)

Sessions = Callable[[], AbstractContextManager["Session"]]
Reads = Callable[[], AbstractContextManager[sqlite3.Connection]]  # the catalog's ``reader``

_SCHEMA = (
    # Step 1: people, their faces (box, descriptor, the video frame's time), and which files
    # were looked at (with the fingerprint they had then: a changed photo is looked at again).
    """CREATE TABLE IF NOT EXISTS people (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT,
        created_at FLOAT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS faces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
        box_left INTEGER NOT NULL,
        box_top INTEGER NOT NULL,
        box_width INTEGER NOT NULL,
        box_height INTEGER NOT NULL,
        at_ms INTEGER,
        score FLOAT NOT NULL,
        pinned BOOLEAN NOT NULL DEFAULT 0,
        descriptor BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ix_faces_file ON faces (file_id)",
    "CREATE INDEX IF NOT EXISTS ix_faces_person ON faces (person_id)",
    """CREATE TABLE IF NOT EXISTS face_scans (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        fingerprint VARCHAR(32) NOT NULL,
        faces INTEGER NOT NULL,
        error TEXT)""",
)


def _text(sql: str) -> TextClause:
    """SQLAlchemy's ``text`` (imported by the first write or ORM read, never by a search)."""
    from sqlalchemy import text

    return text(sql)


@dataclass(frozen=True)
class Person:
    """One person: ``name`` is None until the user names them."""

    id: int
    name: str | None
    photos: int  # files they are in
    faces: int
    example: Path | None  # the file with their largest face

    @property
    def label(self) -> str:
        return self.name or "unnamed"


@dataclass(frozen=True)
class Face:
    """A face found in a file, and whose it is."""

    id: int
    file_id: int
    box: Box
    at_s: float | None  # a video's frame time
    person_id: int | None
    name: str | None


@dataclass(frozen=True)
class StoredFaces:
    """Every face's id, person, pinned flag and descriptor (for clustering)."""

    face_ids: list[int]
    person_ids: list[int | None]
    pinned: list[bool]
    descriptors: np.ndarray


class PeopleStore:
    """Faces and people in the catalog's database; ``sessions`` is the catalog's ``session``,
    ``reads`` its plain ``reader`` (what a search reads: without it, reads go through sessions).
    """

    def __init__(self, sessions: Sessions, reads: Reads | None = None) -> None:
        self._sessions = sessions
        self._reads = reads or (lambda: _through_session(sessions))
        self._ready = False  # the tables exist (opening a library only reads)

    def _value(self, key: str) -> Any:
        """The catalog's meta value under ``key`` (None: never set)."""
        with self._reads() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def ready(self) -> bool:
        """Whether the tables exist (``ensure`` creates them: the first write does)."""
        if not self._ready:
            found = self._value(SCHEMA_KEY)
            self._ready = found is not None and int(found) >= SCHEMA_VERSION
        return self._ready

    def ensure(self) -> None:
        """Create or migrate the tables (a write: run it as the writer's operation)."""
        if not self.ready():
            with self._sessions() as s:
                self._migrate(s)
            self._ready = True

    @staticmethod
    def _migrate(s: Session) -> None:
        version = s.execute(_text("SELECT value FROM meta WHERE key = :k"), {"k": SCHEMA_KEY})
        found = version.scalar_one_or_none()
        if found is not None and int(found) >= SCHEMA_VERSION:
            return
        for statement in _SCHEMA:
            s.execute(_text(statement))
        # Later steps go here, one commented ``if int(found or 0) < N`` block each.
        s.execute(
            _text("INSERT OR REPLACE INTO meta (key, value) VALUES (:k, :v)"),
            {"k": SCHEMA_KEY, "v": str(SCHEMA_VERSION)},
        )

    # -- the switch ---------------------------------------------------------------------

    def enabled(self) -> bool:
        """Whether face recognition is on (it is unless the user turned it off)."""
        return bool(self._value(ENABLED_KEY) != "0")

    def set_enabled(self, on: bool) -> int:
        """Turn face recognition on or off; off deletes every face and person. Faces deleted."""
        with self._sessions() as s:
            deleted = 0
            if not on:
                deleted = int(s.execute(_text("SELECT COUNT(*) FROM faces")).scalar_one())
                # Deleted descriptors are overwritten with zeros, not left in free pages.
                s.execute(_text("PRAGMA secure_delete = ON"))
                for table in ("faces", "people", "face_scans"):
                    s.execute(_text(f"DELETE FROM {table}"))
                s.execute(_text("PRAGMA secure_delete = OFF"))
            s.execute(
                _text("INSERT OR REPLACE INTO meta (key, value) VALUES (:k, :v)"),
                {"k": ENABLED_KEY, "v": "1" if on else "0"},
            )
        return deleted

    # -- the face pass ------------------------------------------------------------------

    def files_to_scan(self, limit: int = 500) -> list[tuple[int, Path]]:
        """Indexed photos and videos not looked at for faces yet (or changed since)."""
        with self._sessions() as s:
            rows = s.execute(
                _text(
                    "SELECT f.id, f.path FROM files f LEFT JOIN face_scans c ON c.file_id = f.id "
                    "WHERE f.status = 'indexed' AND f.kind IN ('image', 'video') "
                    "AND (c.file_id IS NULL OR c.fingerprint != f.fingerprint) "
                    "ORDER BY f.id LIMIT :n"
                ),
                {"n": limit},
            )
            return [(int(r[0]), Path(r[1])) for r in rows]

    def pending_count(self) -> int:
        """How many indexed photos and videos wait for the face pass."""
        if not self.ready():
            with self._sessions() as s:
                return int(
                    s.execute(
                        _text(
                            "SELECT COUNT(*) FROM files WHERE status = 'indexed' "
                            "AND kind IN ('image', 'video')"
                        )
                    ).scalar_one()
                )
        with self._sessions() as s:
            return int(
                s.execute(
                    _text(
                        "SELECT COUNT(*) FROM files f LEFT JOIN face_scans c ON c.file_id = f.id "
                        "WHERE f.status = 'indexed' AND f.kind IN ('image', 'video') "
                        "AND (c.file_id IS NULL OR c.fingerprint != f.fingerprint)"
                    )
                ).scalar_one()
            )

    def save_scan(
        self,
        file_id: int,
        faces: Sequence[tuple[DetectedFace, float | None, int]],
        error: str | None = None,
    ) -> list[int]:
        """Replace ``file_id``'s faces with ``faces`` (face, frame time, person) and note the
        file as looked at; returns the new faces' ids."""
        with self._sessions() as s:
            s.execute(_text("DELETE FROM faces WHERE file_id = :f"), {"f": file_id})
            ids = []
            for face, at_s, person in faces:
                b = face.box
                row = s.execute(
                    _text(
                        "INSERT INTO faces (file_id, person_id, box_left, box_top, box_width, "
                        "box_height, at_ms, score, pinned, descriptor) VALUES "
                        "(:f, :p, :l, :t, :w, :h, :at, :sc, 0, :d) RETURNING id"
                    ),
                    {
                        "f": file_id,
                        "p": person,
                        "l": b.left,
                        "t": b.top,
                        "w": b.width,
                        "h": b.height,
                        "at": None if at_s is None else round(at_s * 1000),
                        "sc": face.score,
                        "d": face.descriptor.astype(np.float32).tobytes(),
                    },
                )
                ids.append(int(row.scalar_one()))
            s.execute(
                _text(
                    "INSERT OR REPLACE INTO face_scans (file_id, fingerprint, faces, error) "
                    "SELECT id, fingerprint, :n, :e FROM files WHERE id = :f"
                ),
                {"f": file_id, "n": len(faces), "e": error},
            )
            return ids

    def widths(self, file_ids: Iterable[int]) -> dict[int, int]:
        """The upright width of each file's picture, where the catalog knows it."""
        ids = sorted(set(file_ids))
        out: dict[int, int] = {}
        with self._sessions() as s:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ",".join(str(i) for i in ids[start : start + _IN_CHUNK])
                rows = s.execute(
                    _text(f"SELECT id, width FROM files WHERE id IN ({chunk}) AND width > 0")
                )
                out.update((int(r[0]), int(r[1])) for r in rows)
        return out

    def new_person(self) -> int:
        """A new unnamed person's id."""
        with self._sessions() as s:
            row = s.execute(
                _text("INSERT INTO people (name, created_at) VALUES (NULL, :t) RETURNING id"),
                {"t": time.time()},
            )
            return int(row.scalar_one())

    def all_faces(self) -> StoredFaces:
        """Every face with its person and descriptor, oldest first."""
        with self._sessions() as s:
            rows = s.execute(
                _text("SELECT id, person_id, pinned, descriptor FROM faces ORDER BY id")
            ).all()
        descriptors = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32)
        return StoredFaces(
            [int(r[0]) for r in rows],
            [None if r[1] is None else int(r[1]) for r in rows],
            [bool(r[2]) for r in rows],
            descriptors.reshape(len(rows), DESCRIPTOR_DIM),
        )

    def set_persons(self, moves: dict[int, int | None]) -> None:
        """Give faces (by id) to other people; then drop unnamed people left without faces."""
        with self._sessions() as s:
            for face_id, person in moves.items():
                s.execute(
                    _text("UPDATE faces SET person_id = :p WHERE id = :f"),
                    {"p": person, "f": face_id},
                )
            s.execute(
                _text(
                    "DELETE FROM people WHERE name IS NULL AND id NOT IN "
                    "(SELECT person_id FROM faces WHERE person_id IS NOT NULL)"
                )
            )

    # -- people -------------------------------------------------------------------------

    def people(self, person_ids: Iterable[int] | None = None) -> list[Person]:
        """People (all, or those asked for), most photos first."""
        wanted = None if person_ids is None else sorted(set(person_ids))
        with self._sessions() as s:
            rows = s.execute(
                _text(
                    "SELECT p.id, p.name, COUNT(DISTINCT f.file_id), COUNT(f.id), "
                    "(SELECT x.path FROM faces g JOIN files x ON x.id = g.file_id "
                    " WHERE g.person_id = p.id ORDER BY g.box_width * g.box_height DESC "
                    " LIMIT 1) "
                    "FROM people p LEFT JOIN faces f ON f.person_id = p.id GROUP BY p.id"
                )
            ).all()
        out = [
            Person(int(r[0]), r[1], int(r[2]), int(r[3]), Path(r[4]) if r[4] else None)
            for r in rows
            if wanted is None or int(r[0]) in wanted
        ]
        out.sort(key=lambda p: (-p.photos, p.name is None, p.name or "", p.id))
        return out

    def named(self) -> list[Person]:
        """The people with a name (without their counts: for reading queries quickly)."""
        with self._reads() as conn:
            rows = conn.execute("SELECT id, name FROM people WHERE name IS NOT NULL").fetchall()
        return [Person(int(r[0]), r[1], 0, 0, None) for r in rows]

    def files_of(self, person_ids: Iterable[int]) -> dict[int, list[Path]]:
        """Each person's files, by path."""
        out: dict[int, list[Path]] = {}
        ids = sorted(set(person_ids))
        with self._sessions() as s:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                rows = s.execute(
                    _text(
                        "SELECT DISTINCT f.person_id, x.path FROM faces f "
                        "JOIN files x ON x.id = f.file_id WHERE f.person_id IN "
                        f"({','.join(str(i) for i in chunk)}) ORDER BY x.path"
                    )
                )
                for person, path in rows:
                    out.setdefault(int(person), []).append(Path(path))
        return out

    def file_ids_of(self, person_id: int) -> set[int]:
        """The ids of the files ``person_id`` is in."""
        with self._sessions() as s:
            rows = s.execute(
                _text("SELECT DISTINCT file_id FROM faces WHERE person_id = :p"), {"p": person_id}
            )
            return {int(r[0]) for r in rows}

    def faces_in(self, file_ids: Iterable[int]) -> dict[int, list[Face]]:
        """The faces of each file (with their person's name), largest first."""
        ids = sorted(set(file_ids))
        out: dict[int, list[Face]] = {}
        with self._sessions() as s:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ",".join(str(i) for i in ids[start : start + _IN_CHUNK])
                rows = s.execute(
                    _text(
                        "SELECT f.id, f.file_id, f.box_left, f.box_top, f.box_width, "
                        "f.box_height, f.at_ms, f.person_id, p.name FROM faces f "
                        "LEFT JOIN people p ON p.id = f.person_id "
                        f"WHERE f.file_id IN ({chunk}) "
                        "ORDER BY f.box_width * f.box_height DESC"
                    )
                )
                for r in rows:
                    out.setdefault(int(r[1]), []).append(_face(r))
        return out

    def largest_faces(self, person_ids: Iterable[int]) -> dict[int, tuple[Path, Face, int | None]]:
        """Each person's largest face, with its file's path and full width (if known)."""
        wanted = set(person_ids)
        out: dict[int, tuple[Path, Face, int | None]] = {}
        with self._sessions() as s:
            rows = s.execute(
                _text(
                    "SELECT f.id, f.file_id, f.box_left, f.box_top, f.box_width, f.box_height, "
                    "f.at_ms, f.person_id, p.name, x.path, x.width FROM faces f "
                    "JOIN people p ON p.id = f.person_id JOIN files x ON x.id = f.file_id "
                    "ORDER BY f.box_width * f.box_height"
                )
            )
            for r in rows:  # the largest comes last and stays
                if int(r[7]) in wanted:
                    out[int(r[7])] = (Path(r[9]), _face(r), r[10])
        return out

    def file_id(self, path: Path) -> int | None:
        """The catalog id of the file at ``path``, if catalogued."""
        with self._sessions() as s:
            row = s.execute(_text("SELECT id FROM files WHERE path = :p"), {"p": str(path)})
            found = row.scalar_one_or_none()
            return None if found is None else int(found)

    def was_scanned(self, file_id: int) -> bool:
        """Whether the face pass has looked at this file (as it is now)."""
        with self._sessions() as s:
            row = s.execute(
                _text(
                    "SELECT 1 FROM face_scans c JOIN files f ON f.id = c.file_id "
                    "WHERE c.file_id = :f AND c.fingerprint = f.fingerprint"
                ),
                {"f": file_id},
            )
            return row.first() is not None

    def name(self, person_id: int, name: str) -> bool:
        """Name a person (their faces are then kept together); False if there is no such person."""
        with self._sessions() as s:
            done = s.execute(
                _text("UPDATE people SET name = :n WHERE id = :p"), {"n": name, "p": person_id}
            )
            s.execute(_text("UPDATE faces SET pinned = 1 WHERE person_id = :p"), {"p": person_id})
            return _touched(done)

    def merge(self, into: int, others: Sequence[int]) -> int:
        """Move the faces of ``others`` to ``into`` and drop them; faces moved."""
        moved = 0
        with self._sessions() as s:
            for other in others:
                if other == into:
                    continue
                done = s.execute(
                    _text("UPDATE faces SET person_id = :i, pinned = 1 WHERE person_id = :o"),
                    {"i": into, "o": other},
                )
                moved += int(getattr(done, "rowcount", 0) or 0)
                s.execute(_text("DELETE FROM people WHERE id = :o"), {"o": other})
            s.execute(_text("UPDATE faces SET pinned = 1 WHERE person_id = :i"), {"i": into})
        return moved

    def forget(self, person_id: int) -> int:
        """Delete a person and their faces (the photos are not looked at again); faces deleted."""
        with self._sessions() as s:
            done = s.execute(_text("DELETE FROM faces WHERE person_id = :p"), {"p": person_id})
            s.execute(_text("DELETE FROM people WHERE id = :p"), {"p": person_id})
            return int(getattr(done, "rowcount", 0) or 0)

    def face(self, face_id: int) -> Face | None:
        """The face with this id (with its person's name), if there is one."""
        with self._sessions() as s:
            r = s.execute(
                _text(
                    "SELECT f.id, f.file_id, f.box_left, f.box_top, f.box_width, f.box_height, "
                    "f.at_ms, f.person_id, p.name FROM faces f "
                    "LEFT JOIN people p ON p.id = f.person_id WHERE f.id = :f"
                ),
                {"f": face_id},
            ).first()
        return None if r is None else _face(r)

    def pin_face(self, face_id: int, person_id: int) -> None:
        """Give one face to ``person_id`` for good (re-clustering leaves it there); unnamed
        people left without faces are dropped."""
        self.set_persons({face_id: person_id})
        with self._sessions() as s:
            s.execute(_text("UPDATE faces SET pinned = 1 WHERE id = :f"), {"f": face_id})

    def pin_person(self, person_id: int) -> None:
        """Keep the person's faces where they are when re-clustering."""
        with self._sessions() as s:
            s.execute(_text("UPDATE faces SET pinned = 1 WHERE person_id = :p"), {"p": person_id})

    def exists(self, person_id: int) -> bool:
        with self._reads() as conn:
            row = conn.execute("SELECT 1 FROM people WHERE id = ?", (person_id,))
            return row.fetchone() is not None


@contextmanager
def _through_session(sessions: Sessions) -> Iterator[sqlite3.Connection]:
    """A session's own ``sqlite3`` connection (a store given no plain reader)."""
    with sessions() as s:
        raw = s.connection().connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        yield raw


def _face(r: Any) -> Face:
    at_s = None if r[6] is None else r[6] / 1000.0
    person = None if r[7] is None else int(r[7])
    return Face(int(r[0]), int(r[1]), Box(r[2], r[3], r[4], r[5]), at_s, person, r[8])


def _touched(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0))
