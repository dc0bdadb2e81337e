"""Where files were taken: the ``places`` table (issue 21), one row per photo or video looked at.

Functions over a session (writes) or a plain ``sqlite3`` connection (what a search reads);
``catalog_places`` is the catalog's part that gives each its own.

A row holds the file's coordinates and the city, region and country they resolve to (all NULL
when the file has no position), with the fingerprint of the content it was read from: a file
whose content changes is looked at again, a moved file keeps its row (it keeps its id).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop_app.core.understanding.records import Place

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

KINDS_WITH_PLACES = ("image", "video")


def create_table(conn: Connection) -> None:
    """The migration step that adds the table: files already indexed get located next run,
    without being embedded again (see ``indexing.locate``)."""
    from sqlalchemy import text

    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS places ("
            " file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,"
            " fingerprint VARCHAR(32) NOT NULL,"
            " latitude FLOAT, longitude FLOAT,"
            " city TEXT, region TEXT, country_code VARCHAR(2), country TEXT)"
        )
    )
    conn.execute(
        text("CREATE INDEX IF NOT EXISTS ix_places_where ON places (country_code, region, city)")
    )


@dataclass(frozen=True)
class ToLocate:
    """A photo or video whose position has not been read (or was read from older content)."""

    file_id: int
    kind: str
    fingerprint: str


@dataclass(frozen=True)
class PlaceCount:
    """How many files were taken at one city (of one region, of one country)."""

    country_code: str
    country: str
    region: str | None
    city: str | None
    files: int


def files_to_locate(s: Session, limit: int) -> list[ToLocate]:
    """Indexed photos and videos whose position is not read yet, at most ``limit``."""
    from sqlalchemy import text

    sql = text(
        "SELECT f.id, f.kind, f.fingerprint FROM files f"
        " LEFT JOIN places p ON p.file_id = f.id"
        " WHERE f.status = 'indexed' AND f.kind IN ('image', 'video')"
        " AND (p.file_id IS NULL OR p.fingerprint != f.fingerprint)"
        " ORDER BY f.id LIMIT :limit"
    )
    return [ToLocate(*row) for row in s.execute(sql, {"limit": limit})]


def store(s: Session, found: Sequence[tuple[ToLocate, Place | None]]) -> None:
    """Record each file's place (None: it has no position)."""
    from sqlalchemy import text

    rows = [
        {
            "file_id": item.file_id,
            "fingerprint": item.fingerprint,
            "latitude": None if place is None else place.latitude,
            "longitude": None if place is None else place.longitude,
            "city": None if place is None else place.city,
            "region": None if place is None else place.region,
            "country_code": None if place is None else place.country_code,
            "country": None if place is None else place.country,
        }
        for item, place in found
    ]
    if not rows:
        return
    sql = text(
        "INSERT OR REPLACE INTO places (file_id, fingerprint, latitude, longitude, city, region,"
        " country_code, country) VALUES (:file_id, :fingerprint, :latitude, :longitude, :city,"
        " :region, :country_code, :country)"
    )
    # A file deleted meanwhile has no row to point at: skip it rather than fail the batch.
    ids = ",".join(str(item.file_id) for item, _ in found)
    live = {r[0] for r in s.execute(text(f"SELECT id FROM files WHERE id IN ({ids})"))}
    wanted = [r for r in rows if r["file_id"] in live]
    if wanted:
        s.execute(sql, wanted)


def stamp(conn: sqlite3.Connection) -> tuple[int, int]:
    """Changes when places are added or removed: (rows, highest file id)."""
    rows, highest = conn.execute("SELECT COUNT(*), MAX(file_id) FROM places").fetchone()
    return int(rows), int(highest or 0)


def place_counts(conn: sqlite3.Connection) -> list[PlaceCount]:
    """Files per city among indexed files, by country then city, most files first."""
    # CROSS JOIN: places first, each file looked up by id. Left to itself, SQLite walked every
    # indexed file and probed places for each (0.1-0.25 s at 1M files, with no place at all).
    sql = (
        "SELECT p.country_code, p.country, p.region, p.city, COUNT(*) FROM places p"
        " CROSS JOIN files f ON f.id = p.file_id"
        " WHERE f.status = 'indexed' AND p.country_code IS NOT NULL"
        " GROUP BY p.country_code, p.region, p.city"
    )
    rows = [PlaceCount(*row) for row in conn.execute(sql)]
    by_country: dict[str, int] = {}
    for row in rows:
        by_country[row.country_code] = by_country.get(row.country_code, 0) + row.files
    rows.sort(key=lambda r: (-by_country[r.country_code], r.country, -r.files, r.city or ""))
    return rows
