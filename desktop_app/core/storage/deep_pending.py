"""Documents findable already whose other passages still wait to be embedded (issue 22).

An index run makes every document findable first: its words in the keyword index and one
vector (its opening passage). A second pass embeds the rest of the passages chosen for it (and
a PDF's cover). The ``deep_pending`` table says which documents still wait for that pass, and
how many vectors each will add (for the time left), so an interrupted run's next run, or the
watcher, goes on with them: nothing is left unembedded without the catalog saying so.

A row is written in the same writer operation as the file's first vector (before it: a crash
between the two leaves a pending file with a row, which its next first pass writes again) and
removed in the transaction that stores the file's other vectors. A file forgotten takes its row
with it (``ON DELETE CASCADE``); a changed file is pending again, and its first pass replaces
the row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.records import INDEXED, EmbeddedFile, FileRecord, NewVector
from desktop_app.core.storage import fast_reads

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from desktop_app.core.storage.catalog import Catalog
    from desktop_app.core.storage.catalog_tables import VectorRow
    from desktop_app.core.storage.store import Store

__all__ = [
    "StoredParts",
    "create_table",
    "deepen",
    "set_waiting",
    "stored_parts",
    "waiting_count",
    "waiting_files",
]


def create_table(conn: Connection) -> None:
    """The migration step that adds the table (a library indexed before has nothing waiting)."""
    conn.exec_driver_sql(
        "CREATE TABLE IF NOT EXISTS deep_pending ("
        " file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,"
        " units INTEGER NOT NULL)"
    )


def _forget(s: Session, file_ids: Sequence[int]) -> None:
    """End the wait of ``file_ids``."""
    for ids in fast_reads.id_lists(file_ids):
        s.connection().exec_driver_sql(f"DELETE FROM deep_pending WHERE file_id IN ({ids})")


def set_waiting(catalog: Catalog, file_ids: Sequence[int], units: Mapping[int, int]) -> None:
    """Forget what waited for ``file_ids``, then record that those in ``units`` wait for their
    second pass, with how many vectors it will add to each."""
    from sqlalchemy import text

    with catalog.session() as s:
        _forget(s, file_ids)
        if units:  # only for files still catalogued (one forgotten meanwhile gets no row)
            s.execute(
                text(
                    "INSERT INTO deep_pending (file_id, units)"
                    " SELECT id, :units FROM files WHERE id = :file_id"
                ),
                [{"file_id": f, "units": max(1, u)} for f, u in units.items()],
            )


def waiting_files(catalog: Catalog) -> list[tuple[FileRecord, int]]:
    """Indexed files that wait for their second pass, oldest first, with their vectors to add."""
    sql = (
        f"SELECT {fast_reads.FILE_COLUMNS}, deep_pending.units FROM files"
        " JOIN deep_pending ON deep_pending.file_id = files.id"
        " WHERE files.status = ? ORDER BY files.id"
    )
    with catalog.reader() as conn:
        rows = conn.execute(sql, (INDEXED,)).fetchall()
    return [(fast_reads.file_record(row[:-1]), int(row[-1])) for row in rows]


def waiting_count(catalog: Catalog) -> tuple[int, int]:
    """(indexed files waiting for their second pass, vectors it will add); a read, no write."""
    sql = (
        "SELECT count(*), coalesce(sum(d.units), 0) FROM deep_pending d"
        " JOIN files f ON f.id = d.file_id WHERE f.status = ?"
    )
    with catalog.reader() as conn:
        try:
            files, units = conn.execute(sql, (INDEXED,)).fetchone()
        except sqlite3.OperationalError:  # a catalog from before the table (opened read-only)
            return 0, 0
    return int(files), int(units)


class StoredParts:
    """What a file has embedded already: its passages' texts and whether it has a picture."""

    def __init__(self, passages: set[str], has_image: bool) -> None:
        self.passages = passages
        self.has_image = has_image


def stored_parts(catalog: Catalog, file_id: int, space: str) -> StoredParts:
    """The passages (and picture) of ``file_id`` that have vectors of ``space`` already."""
    from desktop_app.core.storage.orm import VectorRow, select

    with catalog.session() as s:
        rows = s.execute(
            select(VectorRow.role, VectorRow.passage).where(
                VectorRow.file_id == file_id, VectorRow.space == space
            )
        ).all()
    return StoredParts(
        {passage for role, passage in rows if role == "text" and passage is not None},
        any(role == "image" for role, _ in rows),
    )


def deepen(store: Store, space: str, files: Sequence[EmbeddedFile]) -> list[list[int]]:
    """Add each file's vectors beside the ones it has (its status, text and data stay) and
    end its wait, in one transaction; the index gets them too. Each file's new vector ids
    (none for a file forgotten meanwhile)."""
    from desktop_app.core.storage.orm import FileRow, select

    new_ids: list[list[int]] = []
    with store.lock:
        with store.catalog.session() as s:
            wanted = [item.file_id for item in files]
            present = set(s.scalars(select(FileRow.id).where(FileRow.id.in_(wanted))))
            for item in files:
                if item.file_id not in present:
                    new_ids.append([])
                    continue
                rows = [_row(item.file_id, space, v) for v in item.vectors]
                s.add_all(rows)
                s.flush()
                new_ids.append([r.id for r in rows])
            _forget(s, wanted)
        ids = [vid for got in new_ids for vid in got]
        if ids:
            vectors = [
                v.embedding
                for item, got in zip(files, new_ids, strict=True)
                if got
                for v in item.vectors
            ]
            store.index.add(np.asarray(ids, dtype=np.int64), np.stack(vectors))
            store.dirty = True
    return new_ids


def _row(file_id: int, space: str, vector: NewVector) -> VectorRow:
    from desktop_app.core.storage.orm import VectorRow

    return VectorRow(
        file_id=file_id,
        space=space,
        role=vector.role,
        page=vector.page,
        passage=vector.passage,
        at_ms=vector.at_ms,
        embedding=np.asarray(vector.embedding, dtype=np.float32).tobytes(),
    )
