"""Tests for the FTS5 keyword index: words, phrases, names, folders, renames, old catalogs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import DataDirError
from desktop_app.core.query.query_text import parse_query
from desktop_app.core.storage.catalog import Catalog, FileFilter, NewText, NewVector


def _catalog_with_a_document(tmp_path: Path) -> tuple[Catalog, int]:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    folder = catalog.add_folder(tmp_path / "Documents")
    file_id = catalog.add_file(
        folder_id=folder.id,
        path=tmp_path / "Documents" / "Taxes" / "letter-2023.pdf",
        size=1,
        mtime_ns=1,
        inode=1,
        fingerprint="ab",
        kind="document",
    )
    catalog.store_embeddings(
        file_id,
        "space",
        [NewVector("image", np.ones(4, np.float32)), NewVector("text", np.ones(4, np.float32), 2)],
        [NewText("Dear Jane, your car tax is due.", 1), NewText("Invoice 2023-0147 enclosed.", 2)],
    )
    return catalog, file_id


def test_keyword_index_finds_words_phrases_names_and_folders(tmp_path: Path) -> None:
    catalog, file_id = _catalog_with_a_document(tmp_path)

    def found(query: str, file_filter: FileFilter | None = None) -> list[tuple[int, int | None]]:
        match = parse_query(query).match
        assert match is not None
        return [(h.file_id, h.page) for h in catalog.keyword_search(match, 10, file_filter)]

    assert found("invoice 2023-0147") == [(file_id, 2)]
    assert found('"car tax"') == [(file_id, 1)]
    assert found('"tax car"') == []  # a phrase matches in order only
    assert found("taxes letter") == [(file_id, None)]  # folder and file name
    assert found("invoice", FileFilter(kinds=frozenset({"image"}))) == []
    hit = catalog.keyword_search('"2023-0147"', 1)[0]
    assert hit.snippet == "Invoice 2023-0147 enclosed."

    catalog.update_file(file_id, path=tmp_path / "Documents" / "Archive" / "renamed.pdf")
    assert found("taxes") == [] and found("archive renamed") == [(file_id, None)]
    catalog.delete_files([file_id])
    assert found("invoice") == []
    catalog.close()


def test_an_old_catalog_gains_a_keyword_index_of_its_files(tmp_path: Path) -> None:
    catalog, file_id = _catalog_with_a_document(tmp_path)
    catalog.close()
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as db:  # as Lumen's first format left it
        db.execute("DROP TABLE keyword_index")
        db.execute("DROP INDEX ix_vectors_space_role")
        db.execute("PRAGMA user_version = 1")
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    assert [h.file_id for h in catalog.keyword_search('"letter"', 5)] == [file_id]
    assert list(catalog.role_vector_ids("space", "text")) == [2]
    catalog.close()


def test_a_catalog_from_before_videos_gains_frame_times_and_durations(tmp_path: Path) -> None:
    catalog, file_id = _catalog_with_a_document(tmp_path)
    catalog.close()
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as db:  # as format 2 left it
        db.execute("ALTER TABLE vectors DROP COLUMN at_ms")
        db.execute("ALTER TABLE files DROP COLUMN duration_s")
        db.execute("PRAGMA user_version = 2")
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    assert catalog.files_by_ids([file_id])[file_id].duration_s is None
    assert [o.at_ms for o in catalog.owners([1, 2]).values()] == [None, None]
    assert [h.file_id for h in catalog.keyword_search('"letter"', 5)] == [file_id]
    catalog.close()


def test_a_query_fts5_cannot_parse_finds_nothing_but_a_broken_catalog_says_so(
    tmp_path: Path,
) -> None:
    catalog, _file_id = _catalog_with_a_document(tmp_path)
    assert catalog.keyword_search('"unclosed', 5) == []  # the query's fault: no results
    assert catalog.keyword_search("AND OR", 5) == []
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as db:  # the catalog's fault
        db.execute("DROP TABLE keyword_index")
    with pytest.raises(DataDirError, match="Cannot read the catalog"):
        catalog.keyword_search('"invoice"', 5)
    catalog.close()
