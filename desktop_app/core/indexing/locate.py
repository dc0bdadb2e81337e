"""Where indexed photos and videos were taken: GPS read and resolved to places, after embedding.

Runs after each index run over the files not located yet, so a library indexed before places
existed gets them at its next run without any file being embedded again. Files are read on the
run's thread; each batch of places is one write, handed to ``commit`` (the library's writer).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.core.extractors.gps import read_gps
from desktop_app.core.records import FileChanges
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.place_store import ToLocate
from desktop_app.core.understanding.geodata import Geocoder
from desktop_app.core.understanding.records import Place

BATCH = 256
Commit = Callable[[Callable[[], Any]], Any]


def _now(operation: Callable[[], Any]) -> Any:
    return operation()


def locate_pending(
    catalog: Catalog,
    geocoder: Geocoder,
    cancel: threading.Event | None = None,
    commit: Commit = _now,
) -> FileChanges:
    """Read the position of each indexed photo and video not located yet.

    ``located`` of the result names the files found to have a place. The place data loads only
    when a file has a position.
    """
    located: list[Path] = []
    while not (cancel and cancel.is_set()):
        pending = catalog.files_to_locate(BATCH)
        if not pending:
            break
        records = catalog.files_by_ids(item.file_id for item in pending)
        found: list[tuple[ToLocate, Place | None]] = []
        for item in pending:
            record = records.get(item.file_id)
            position = None if record is None else read_gps(record.path, item.kind)
            place = None if position is None else geocoder.lookup(*position)
            found.append((item, place))
            if place is not None and record is not None:
                located.append(record.path)
        commit(functools.partial(catalog.store_places, found))
    return FileChanges(located=tuple(located))
