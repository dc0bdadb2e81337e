"""The catalog's schema: a catalog of an older format opens with its data, a newer is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.errors import DataDirError
from desktop_app.core.storage.catalog import INDEXED, SCHEMA_VERSION, Catalog
from desktop_app.core.storage.exclusions import DEFAULT_PATTERNS
from tests.support.catalog import SPACE, add, index


def _as_format_1(path: Path) -> None:
    """Take the catalog at ``path`` back to Lumen's first format (what each later step added)."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE keyword_index")  # step 2
        db.execute("DROP INDEX ix_vectors_space_role")
        db.execute("ALTER TABLE vectors DROP COLUMN at_ms")  # step 3
        db.execute("ALTER TABLE files DROP COLUMN duration_s")
        db.execute("DROP TABLE exclusions")  # step 4
        db.execute("DROP INDEX ix_files_name_folded")  # step 5
        db.execute("DROP TABLE tags")  # step 6
        db.execute("ALTER TABLE files DROP COLUMN tags_version")
        for table in ("vector_counts", "file_counts"):  # step 9
            for trigger in ("insert", "delete", "update"):
                db.execute(f"DROP TRIGGER {table}_{trigger}")
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 1")


def test_a_first_format_catalog_opens_with_its_folders_files_vectors_and_settings(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.sqlite3"
    catalog = Catalog.open(path)
    folder = catalog.add_folder(tmp_path / "Photos")
    file_id = add(catalog, tmp_path / "Photos" / "IMG_1.JPG", folder.id)
    vector_ids = index(catalog, file_id, 0.5)
    catalog.set_meta("model", "tiny")
    catalog.close()
    _as_format_1(path)

    catalog = Catalog.open(path)
    assert [f.path for f in catalog.folders()] == [tmp_path / "Photos"]
    record = catalog.file_by_path(tmp_path / "Photos" / "IMG_1.JPG")
    assert record is not None and record.id == file_id and record.status == INDEXED
    assert catalog.get_meta("model") == "tiny"
    assert catalog.vectors(vector_ids, 4).tolist() == [[0.5] * 4]
    assert catalog.vector_fingerprint(SPACE) == (1, vector_ids[0], vector_ids[0])  # kept (step 9)
    assert catalog.count_with_status(INDEXED) == 1
    assert [o.at_ms for o in catalog.owners(vector_ids).values()] == [None]
    assert [h.file_id for h in catalog.keyword_search('"img_1"', 5)] == [file_id]  # by name
    assert catalog.exclusions() == list(DEFAULT_PATTERNS)
    assert [r.id for r in catalog.files_named_like(tmp_path / "Photos" / "img_1.cr2")] == [file_id]
    assert catalog.files_to_tag(SPACE, "v1") == [file_id]  # to be tagged by the next run
    assert catalog.set_user_tag(file_id, "beach", True)
    assert [t.name for t in catalog.tags_of([file_id])[file_id]] == ["beach"]
    catalog.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_catalog_from_a_newer_lumen_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataDirError, match=r"written by a newer Lumen.*Update Lumen"):
        Catalog.open(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)


def test_a_data_folder_that_cannot_be_made_is_a_data_dir_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataDirError, match="Cannot create the data folder"):
        Catalog.open(tmp_path / "file" / "library" / "catalog.sqlite3")
