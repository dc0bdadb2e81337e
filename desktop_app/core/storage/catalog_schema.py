"""The catalog's versioned schema: one commented migration step per format version (which
formats a version reads as they are: ``catalog_format``)."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.engine import Connection

from desktop_app.core.storage import (
    deep_pending,
    kept_counts,
    keyword_index,
    place_store,
    recent_order,
)
from desktop_app.core.storage.catalog_format import READABLE_FROM, SCHEMA_VERSION, refuse_newer
from desktop_app.core.storage.catalog_tables import Base, ExclusionRow, TagRow
from desktop_app.core.storage.exclusions import DEFAULT_PATTERNS

__all__ = ["READABLE_FROM", "SCHEMA_VERSION", "migrate", "migrate_to_read"]


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the table has that column already."""
    present = {row[1] for row in conn.execute(text(f"PRAGMA table_info({table})"))}
    if column not in present:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def migrate_to_read(conn: Connection) -> None:
    """What opening a writable catalog does: bring one this version cannot read as it is to
    ``SCHEMA_VERSION``; leave one it can read (``READABLE_FROM`` on) for the writer to upgrade."""
    version = conn.execute(text("PRAGMA user_version")).scalar_one()
    refuse_newer(version)
    if version < READABLE_FROM:
        migrate(conn)


def migrate(conn: Connection) -> None:
    """Bring the catalog on ``conn`` to ``SCHEMA_VERSION``, keeping its data."""
    version = conn.execute(text("PRAGMA user_version")).scalar_one()
    refuse_newer(version)
    if version < 1:
        # Step 1: the initial schema.
        Base.metadata.create_all(conn)
    if version < 2:
        # Step 2: the keyword index over passages, file names and folder names (FTS5), and
        # an index to find vectors by role; files indexed before become findable by name.
        keyword_index.create_keyword_index(conn)
    if version < 3:
        # Step 3: videos. A frame's vector keeps its time; a video file its duration.
        # (A new catalog got both columns from step 1.)
        _add_column(conn, "vectors", "at_ms", "INTEGER")
        _add_column(conn, "files", "duration_s", "FLOAT")
    if version < 4:
        # Step 4: exclusions (files, folders and name patterns never read again), with
        # folders that hold no one's photos excluded from the start.
        ExclusionRow.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
        now = time.time()
        for pattern in DEFAULT_PATTERNS:
            conn.execute(
                text("INSERT OR IGNORE INTO exclusions (pattern, added_at) VALUES (:p, :t)"),
                {"p": pattern, "t": now},
            )
    if version < 5:
        # Step 5: file names without regard to (ASCII) case, to find the files of one shot
        # (IMG_1.JPG beside img_1.cr2) with an index seek in folders of any size.
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_files_name_folded ON files (lower(name))"))
    if version < 6:
        # Step 6: tags (automatic ones from the model, and the user's own), searchable as
        # words: the keyword index gains a tags column; every photo gets tagged next run.
        TagRow.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]
        _add_column(conn, "files", "tags_version", "VARCHAR(16)")
        keyword_index.add_tags_column(conn)
    if version < 7:
        # Step 7 (issue 21): where photos and videos were taken; files already indexed are
        # located at the next index run without being embedded again.
        place_store.create_table(conn)
    if version < 8:
        # Step 8 (issue 22): documents findable by their first passage whose other passages
        # still wait for the second pass; a library indexed before has none waiting.
        deep_pending.create_table(conn)
    if version < kept_counts.FIRST_FORMAT:
        # Step 9 (issue 22): each vector space's count, largest id and id sum, and the files
        # per status, kept by triggers: a fresh search reads two rows instead of two scans.
        kept_counts.create(conn)
    if version < recent_order.FIRST_FORMAT:
        # Step 10 (issue 22): the empty query's listing (newest first) as an index: a page of it
        # is read from the index instead of sorting every indexed file each time; and the
        # files of each kind counted from an index alone (the window's status, after each
        # index run: 0.13-0.18 s at 100k files read from the rows, beside the first query).
        recent_order.create_index(conn)
        conn.execute(
            text("CREATE INDEX IF NOT EXISTS ix_files_status_kind ON files (status, kind, name)")
        )
    # Later steps go here, one commented ``if version < N`` block each.
    if version != SCHEMA_VERSION:  # (opening an up-to-date catalog writes nothing)
        conn.execute(text(f"PRAGMA user_version = {SCHEMA_VERSION}"))
