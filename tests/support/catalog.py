"""A catalog in a temp folder and files catalogued in it, for the catalog parts' tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop_app.core.storage.catalog import Catalog, NewText, NewVector

SPACE = "test-space"


def add(catalog: Catalog, path: Path, folder_id: int | None = None, kind: str = "image") -> int:
    """Catalogue ``path`` as a new (pending) file; its id."""
    return catalog.add_file(
        folder_id=folder_id,
        path=path,
        size=100,
        mtime_ns=1_000,
        inode=None,
        fingerprint=f"fp-{path.name}",
        kind=kind,
    )


def index(catalog: Catalog, file_id: int, *values: float, text: str = "") -> list[int]:
    """Mark a file indexed with one image vector per value (and a passage); the vector ids."""
    vectors = [NewVector("image", np.full(4, v, np.float32)) for v in values]
    ids, _old = catalog.store_embeddings(
        file_id, SPACE, vectors, [NewText(text, 1)] if text else []
    )
    return ids
