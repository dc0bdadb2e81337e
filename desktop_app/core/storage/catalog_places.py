"""The catalog's places part: where photos and videos were taken, each call one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from desktop_app.core.storage import fast_reads, place_store
from desktop_app.core.storage.catalog_db import CatalogPart
from desktop_app.core.storage.place_store import PlaceCount, ToLocate
from desktop_app.core.understanding.records import Place


class CatalogPlaces(CatalogPart):
    """Places of files (the rows live in ``place_store``; this part gives each call its transaction)."""

    def files_to_locate(self, limit: int) -> list[ToLocate]:
        """Indexed photos and videos whose position is not read yet (or read from old content)."""
        with self._db.session() as s:
            return place_store.files_to_locate(s, limit)

    def store_places(self, found: Sequence[tuple[ToLocate, Place | None]]) -> None:
        """Record each file's place (None: it has no position); files gone meanwhile are skipped."""
        if found:
            with self._db.session() as s:
                place_store.store(s, found)

    def places_stamp(self) -> tuple[int, int]:
        """Changes whenever places are added or removed (a cache of place names checks it)."""
        with self._db.reader() as conn:
            return place_store.stamp(conn)

    def places_of(self, file_ids: Iterable[int]) -> dict[int, Place]:
        """The place of each of these files that has one (plain SQL: the window reads the
        places of every page of results; as a SQLAlchemy statement, ~3 ms of 200 ids)."""
        sql = (
            "SELECT file_id, latitude, longitude, city, region, country_code, country "
            "FROM places WHERE file_id IN ({ids}) AND latitude IS NOT NULL"
        )
        return {row[0]: Place(*row[1:]) for row in fast_reads.rows_by_ids(self._db, sql, file_ids)}

    def place_counts(self) -> list[PlaceCount]:
        """Files per city among indexed files, by country (most files first), then city."""
        with self._db.reader() as conn:
            return place_store.place_counts(conn)
