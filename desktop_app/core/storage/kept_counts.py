"""Counts the catalog keeps by triggers, so that a fresh search reads a row instead of a scan.

- ``vector_counts``: each vector space's count, largest id and id sum. Opening a library
  compares the vector index with the catalog by these three figures
  (``Catalog.vector_fingerprint``); counted, they cost a scan of every vector's index entry
  (≈ 0.2 s at 1M vectors).
- ``file_counts``: files per status. A search sizes its first fetch from the indexed files
  (``count_with_status``); counted, ≈ 0.05–0.1 s at 1M files.

The schema step that adds them fills both and creates the triggers in one transaction, so from
then on every insert, delete (a cascade's included) and change of a vector's space or id, or a
file's status, keeps them exact. A catalog of an older format (read as it is, see
``catalog_schema.READABLE_FROM``) has neither: it is counted by scanning.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["FIRST_FORMAT", "Fingerprint", "create", "drop", "files_with_status", "fingerprint"]

Fingerprint = tuple[int, int, int]  # count, largest id, sum of the ids

FIRST_FORMAT = 9  # the catalog format (schema step) that added the tables

_TABLES = {  # name: (columns, filled from the catalog as it is)
    "vector_counts": (
        "space VARCHAR PRIMARY KEY, count INTEGER NOT NULL, largest INTEGER NOT NULL,"
        " total INTEGER NOT NULL",
        "SELECT space, count(id), max(id), sum(id) FROM vectors GROUP BY space",
    ),
    "file_counts": (
        "status VARCHAR PRIMARY KEY, count INTEGER NOT NULL",
        "SELECT status, count(*) FROM files GROUP BY status",
    ),
}

# A vector enters ``new.space`` / leaves ``old.space``. Leaving, the largest id is looked up
# again only when it was the one that left (an index seek on ix_vectors_space).
_VECTOR_ENTERS = """
INSERT INTO vector_counts (space, count, largest, total) VALUES (new.space, 1, new.id, new.id)
ON CONFLICT (space) DO UPDATE SET
    count = count + 1, largest = max(largest, excluded.largest), total = total + excluded.total;
"""
_VECTOR_LEAVES = """
UPDATE vector_counts SET
    count = count - 1,
    total = total - old.id,
    largest = CASE WHEN largest = old.id
        THEN coalesce((SELECT max(id) FROM vectors WHERE space = old.space), 0)
        ELSE largest END
WHERE space = old.space;
"""
_FILE_ENTERS = """
INSERT INTO file_counts (status, count) VALUES (new.status, 1)
ON CONFLICT (status) DO UPDATE SET count = count + 1;
"""
_FILE_LEAVES = "UPDATE file_counts SET count = count - 1 WHERE status = old.status;"
_TRIGGERS = {
    "vector_counts_insert": f"AFTER INSERT ON vectors BEGIN {_VECTOR_ENTERS} END",
    "vector_counts_delete": f"AFTER DELETE ON vectors BEGIN {_VECTOR_LEAVES} END",
    "vector_counts_update": (
        f"AFTER UPDATE OF id, space ON vectors BEGIN {_VECTOR_LEAVES} {_VECTOR_ENTERS} END"
    ),
    "file_counts_insert": f"AFTER INSERT ON files BEGIN {_FILE_ENTERS} END",
    "file_counts_delete": f"AFTER DELETE ON files BEGIN {_FILE_LEAVES} END",
    "file_counts_update": (
        "AFTER UPDATE OF status ON files WHEN old.status IS NOT new.status"
        f" BEGIN {_FILE_LEAVES} {_FILE_ENTERS} END"
    ),
}


def create(conn: Connection) -> None:
    """The schema step: the tables, filled from the catalog as it is, and their triggers."""
    for name, (columns, fill) in _TABLES.items():
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
        conn.exec_driver_sql(f"DELETE FROM {name}")
        conn.exec_driver_sql(f"INSERT INTO {name} {fill}")
    for name, body in _TRIGGERS.items():
        conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def drop(conn: Connection) -> None:
    """Remove the triggers and the tables (a catalog taken back to an older format, in tests)."""
    for name in _TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    for name in _TABLES:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _kept(conn: sqlite3.Connection) -> bool:
    """Whether the catalog has the tables (read in the caller's transaction, so a writer's
    upgrade in between cannot make the answer and the read disagree)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0]) >= FIRST_FORMAT


def fingerprint(conn: sqlite3.Connection, space: str) -> Fingerprint:
    """``space``'s count, largest id and id sum: from the table when the catalog has it (one
    row), else counted (a scan of the space's index entries)."""
    if _kept(conn):
        query = "SELECT count, largest, total FROM vector_counts WHERE space = ?"
    else:
        query = "SELECT count(id), max(id), sum(id) FROM vectors WHERE space = ?"
    row = conn.execute(query, (space,)).fetchone()
    if row is None:
        return 0, 0, 0
    count, largest, total = row
    return int(count or 0), int(largest or 0), int(total or 0)


def files_with_status(conn: sqlite3.Connection, status: str) -> int:
    """How many files have ``status``: from the table when the catalog has it, else counted
    (through the status index)."""
    if _kept(conn):
        query = "SELECT count FROM file_counts WHERE status = ?"
    else:
        query = "SELECT count(*) FROM files WHERE status = ?"
    row = conn.execute(query, (status,)).fetchone()
    return int(row[0] or 0) if row else 0
