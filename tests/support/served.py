"""A library of shape photos served by a host service whose model is ready, and its photos
filter as the warm-up resolves it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.records import FileFilter
from desktop_app.host.protocol import MODEL_READY
from desktop_app.host.service import LibraryService
from tests.support.photos import write_shape_photos
from tests.support.settings import tiny_model_settings

PHOTOS = FileFilter(kinds=frozenset({"image"}))


def resolved_photos(library: Library) -> np.ndarray:
    """The photos filter as the catalog keeps it, once the background has resolved it."""
    space = library.store.space
    deadline = time.monotonic() + 60
    while (ids := library.catalog.known_allowed_vector_ids(space, PHOTOS)) is None:
        assert time.monotonic() < deadline, "the photos filter was not resolved ahead"
        time.sleep(0.05)
    return ids


def index_all(service: LibraryService) -> None:
    service.index(None, lambda _p: None, threading.Event())


@contextmanager
def served(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> Iterator[tuple[Library, LibraryService, list[Path]]]:
    """A library of shape photos, indexed, behind a host service whose model is ready."""
    settings = tiny_model_settings(tmp_path, tiny_weights)
    written = sorted(write_shape_photos(tmp_path / "photos", seeds=(101,)))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([tmp_path / "photos"])
        service = LibraryService(library)
        try:
            assert service.warm_model().state == MODEL_READY
            yield library, service, written
        finally:
            service.close()
