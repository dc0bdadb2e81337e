"""Each vector space's count, largest id and id sum, kept by triggers on the vectors table.

Opening a library compares the vector index with the catalog by these three figures
(``Catalog.vector_fingerprint``). Counted by a query they cost a scan of every vector's index
entry (≈ 0.2 s at 1M vectors, on every fresh search); kept here, one row is read. The schema
step that adds the table fills it and creates the triggers in one transaction, so from then on
every insert, delete (a file's cascade included) and change of a vector's space or id keeps it
exact. A catalog without the table (an older format, read as it is) is counted by the scan.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

__all__ = ["FIRST_FORMAT", "Fingerprint", "create", "drop", "fingerprint"]

Fingerprint = tuple[int, int, int]  # count, largest id, sum of the ids

FIRST_FORMAT = 9  # the catalog format (schema step) that added the table

_TABLE = """
CREATE TABLE IF NOT EXISTS vector_counts (
    space VARCHAR PRIMARY KEY,
    count INTEGER NOT NULL,
    largest INTEGER NOT NULL,
    total INTEGER NOT NULL
)"""

# A vector enters ``new.space`` / leaves ``old.space``. Leaving, the largest id is looked up
# again only when it was the one that left (an index seek on ix_vectors_space).
_ENTER = """
INSERT INTO vector_counts (space, count, largest, total) VALUES (new.space, 1, new.id, new.id)
ON CONFLICT (space) DO UPDATE SET
    count = count + 1, largest = max(largest, excluded.largest), total = total + excluded.total;
"""
_LEAVE = """
UPDATE vector_counts SET
    count = count - 1,
    total = total - old.id,
    largest = CASE WHEN largest = old.id
        THEN coalesce((SELECT max(id) FROM vectors WHERE space = old.space), 0)
        ELSE largest END
WHERE space = old.space;
"""
_TRIGGERS = {
    "vector_counts_insert": f"AFTER INSERT ON vectors BEGIN {_ENTER} END",
    "vector_counts_delete": f"AFTER DELETE ON vectors BEGIN {_LEAVE} END",
    "vector_counts_update": f"AFTER UPDATE OF id, space ON vectors BEGIN {_LEAVE} {_ENTER} END",
}


def create(conn: Connection) -> None:
    """The schema step: the table, filled from the vectors as they are, and its triggers."""
    conn.execute(text(_TABLE))
    conn.execute(text("DELETE FROM vector_counts"))
    conn.execute(
        text(
            "INSERT INTO vector_counts (space, count, largest, total)"
            " SELECT space, count(id), max(id), sum(id) FROM vectors GROUP BY space"
        )
    )
    for name, body in _TRIGGERS.items():
        conn.execute(text(f"CREATE TRIGGER IF NOT EXISTS {name} {body}"))


def drop(conn: Connection) -> None:
    """Remove the triggers and the table (a catalog taken back to an older format, in tests)."""
    for name in _TRIGGERS:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    conn.execute(text("DROP TABLE IF EXISTS vector_counts"))


def fingerprint(s: Session, space: str) -> Fingerprint:
    """``space``'s count, largest id and id sum: from the table when the catalog has it (one
    row), else counted (a scan of the space's index entries)."""
    version = int(s.execute(text("PRAGMA user_version")).scalar_one())
    if version >= FIRST_FORMAT:
        query = "SELECT count, largest, total FROM vector_counts WHERE space = :space"
    else:
        query = "SELECT count(id), max(id), sum(id) FROM vectors WHERE space = :space"
    row = s.execute(text(query), {"space": space}).one_or_none()
    if row is None:
        return 0, 0, 0
    count, largest, total = row
    return int(count or 0), int(largest or 0), int(total or 0)
