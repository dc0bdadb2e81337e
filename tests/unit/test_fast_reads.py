"""The search's plain-SQL reads give what the catalog's SQLAlchemy reads give."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from desktop_app.core.storage.catalog import (
    Catalog,
    EmbeddedFile,
    FileRecord,
    FileRow,
    NewText,
    NewVector,
)
from tests.support.catalog import SPACE, add, index


def test_files_read_by_id_are_the_records_the_catalog_keeps(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    odd = catalog.add_file(  # a name that is not UTF-8 on disk
        folder_id=None,
        path=tmp_path / "caf\udce9 photos" / "b\udcf6at.jpg",
        size=1,
        mtime_ns=1,
        inode=None,
        fingerprint="odd",
        kind="image",
    )
    dated = add(catalog, tmp_path / "trip.jpg")
    index(catalog, odd, 1.0)
    index(catalog, dated, 2.0)
    catalog.update_file(dated, taken_at=datetime(2023, 7, 10, 9, 30, 5, 120), camera="X100")
    with catalog.session() as s:
        expected = {r.id: FileRecord.from_row(r) for r in s.scalars(select(FileRow))}
    assert catalog.files_by_ids([odd, dated, 999]) == expected
    assert catalog.files_by_ids([odd])[odd].path.name == "b\udcf6at.jpg"
    catalog.close()


def test_the_sample_of_each_files_first_vectors_is_the_one_sql_numbers(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    for n, passages in enumerate((1, 3, 6, 0)):
        file_id = add(catalog, tmp_path / f"doc{n}.pdf", kind="document")
        vectors = [NewVector("image", np.ones(4, np.float32))]
        vectors += [NewVector("text", np.full(4, p, np.float32)) for p in range(passages)]
        catalog.store_embeddings(file_id, SPACE, vectors, [NewText("words", 1)])
        other = [NewVector("text", np.ones(4, np.float32))] * 2  # another model's passages
        catalog.add_space_vectors("other", [EmbeddedFile(file_id, other)])
    for space, role in ((SPACE, "text"), (SPACE, "image"), ("other", "text"), ("none", "text")):
        for per_file in (1, 2, 4):
            assert np.array_equal(
                catalog.first_vectors_per_file(space, role, per_file),
                catalog.spread_vector_ids(space, role, per_file),
            ), (space, role, per_file)
    catalog.close()
