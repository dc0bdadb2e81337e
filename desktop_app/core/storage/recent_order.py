"""The empty query's listing, newest first, read a page at a time from an index of its order.

The order is a file's date taken, else its modification time. Sorted at each request, SQLite
walked every indexed file (~0.15 s at 100k files, whatever the page) and the window asked
for 20,000 rows (~1 s more to read them). The index ``ix_files_recent`` (catalog format 10)
holds the same expression, so a page is a walk of the index from its position: the first
500 rows in about a millisecond. A catalog without it (format 8 or 9, read as it is) is
sorted as before: the same rows, more slowly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop_app.core.records import INDEXED, PENDING, FileFilter

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

FIRST_FORMAT = 10  # the catalog format (schema step) that added the index
INDEX = "ix_files_recent"
# Written as literal SQL, never with bound values: SQLite uses an index on an expression only
# for a query that writes the same expression, and a bound 1e9 is another expression.
WHEN = "coalesce(files.taken_at, datetime(files.mtime_ns / 1e9, 'unixepoch'))"


def create_index(conn: Connection) -> None:
    """The index of the listing's order (by status first: the listing shows indexed files)."""
    when = WHEN.replace("files.", "")  # an index's expression names its own table's columns
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {INDEX} ON files (status, {when})")


def newest_ids(
    s: Session, limit: int, file_filter: FileFilter | None = None, offset: int = 0
) -> list[int]:
    """Ids of indexed files passing ``file_filter``, newest first: ``limit`` of them from
    position ``offset`` on."""
    from desktop_app.core.storage.orm import FileRow, apply_filter, select, text

    query: Any = select(FileRow.id).where(FileRow.status == INDEXED)
    # Files of the same second newest catalogued first: one order, page after page (the
    # index holds it: its entries end with the file's id).
    query = apply_filter(query, file_filter).order_by(text(f"{WHEN} DESC"), FileRow.id.desc())
    query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return list(s.scalars(query))


def pending_ids(
    s: Session, limit: int, file_filter: FileFilter | None, offset: int, indexed: list[int]
) -> list[int]:
    """Ids of files not embedded yet, which follow the indexed ones in the listing (a first
    run): those of the page from ``offset`` whose indexed files are ``indexed``."""
    from desktop_app.core.storage.orm import FileRow, apply_filter, func, select

    wanted = limit - len(indexed)
    if wanted <= 0:
        return []
    if indexed or not offset:
        before = offset + len(indexed)  # indexed files in the listing
    else:  # the page starts past the indexed files: how many are there?
        counted = apply_filter(select(func.count()).where(FileRow.status == INDEXED), file_filter)
        before = int(s.scalar(counted) or 0)
    query: Any = select(FileRow.id).where(FileRow.status == PENDING)
    query = apply_filter(query, file_filter).order_by(FileRow.id).limit(wanted)
    if offset + len(indexed) > before:
        query = query.offset(offset + len(indexed) - before)
    return list(s.scalars(query))
