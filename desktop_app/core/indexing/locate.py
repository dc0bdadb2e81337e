"""Where indexed photos and videos were taken: GPS read and resolved to places, after embedding.

Runs after each index run over the files not located yet, so a library indexed before places
existed gets them at its next run without any file being embedded again.
"""

from __future__ import annotations

import threading

from desktop_app.core.extractors.gps import read_gps
from desktop_app.core.storage import place_store
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.understanding.geodata import Geocoder
from desktop_app.core.understanding.records import Place

BATCH = 256


def locate_pending(
    catalog: Catalog, geocoder: Geocoder, cancel: threading.Event | None = None
) -> int:
    """Read the position of each indexed photo and video not located yet; the number looked at.

    The place data loads only when a file has a position.
    """
    done = 0
    while not (cancel and cancel.is_set()):
        pending = place_store.files_to_locate(catalog, BATCH)
        if not pending:
            break
        records = catalog.files_by_ids(item.file_id for item in pending)
        found: list[tuple[place_store.ToLocate, Place | None]] = []
        for item in pending:
            record = records.get(item.file_id)
            position = None if record is None else read_gps(record.path, item.kind)
            found.append((item, None if position is None else geocoder.lookup(*position)))
        place_store.store(catalog, found)
        done += len(pending)
    return done
