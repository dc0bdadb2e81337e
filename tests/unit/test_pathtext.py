"""Paths of any bytes survive the catalog's text columns unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.pathtext import ESC, from_db, readable, to_db

names = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))


@given(st.lists(names, min_size=1, max_size=4), st.text(alphabet=ESC + "ab0"))
def test_any_path_bytes_round_trip_and_keep_their_folder_prefix(
    parts: list[bytes], extra: str
) -> None:
    folder = os.fsdecode(b"/" + b"/".join(parts[:-1]))
    path = os.fsdecode(os.fsencode(folder) + b"/" + parts[-1]) + extra
    stored = to_db(path)
    stored.encode("utf-8")  # always valid UTF-8 text
    assert from_db(stored) == path
    assert stored.startswith(to_db(folder))


def test_a_catalog_stores_and_finds_undecodable_paths(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    folder_path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/fotos \xe9t\xe9"))
    folder = catalog.add_folder(folder_path)
    path = Path(os.fsdecode(os.fsencode(folder_path) + b"/caf\xe9.jpg"))
    file_id = catalog.add_file(
        folder_id=folder.id, path=path, size=1, mtime_ns=1, inode=1, fingerprint="f", kind="image"
    )
    assert catalog.file_by_path(path) is not None
    assert list(catalog.files_in_folder(folder.id)) == [path]
    assert list(catalog.files_under(folder_path)) == [path]
    assert catalog.folders()[0].path == folder_path
    assert catalog.forget_path(folder_path) == [] and catalog.files_by_ids([file_id]) == {}
    catalog.close()


def test_readable_names_read_undecodable_bytes_as_latin1() -> None:
    assert readable(os.fsdecode(b"caf\xe9.jpg")) == "café.jpg"
    assert readable("plain.jpg") == "plain.jpg"
