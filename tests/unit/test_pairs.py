"""The files of one shot (RAW+JPEG, a Live Photo's still and video) found whatever their case."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from desktop_app.config import Settings
from desktop_app.core.query.pairs import pair_up, same_shot
from desktop_app.core.query.query_text import SearchHit, SearchResults
from desktop_app.core.records import RAW, file_to_open
from desktop_app.core.storage.catalog import Catalog, FileFilter, NewVector

CARD = Path("/photos/DCIM/100CANON")


def _add(catalog: Catalog, path: Path, indexed: bool = True) -> None:
    folder = catalog.add_folder(Path("/photos"))
    file_id = catalog.add_file(
        folder_id=folder.id,
        path=path,
        size=1,
        mtime_ns=1,
        inode=None,
        fingerprint=path.name.encode("utf-8", "surrogateescape").hex(),
        kind="video" if path.suffix.lower() == ".mov" else "image",
    )
    if indexed:
        catalog.store_embeddings(file_id, "space", [NewVector("image", np.ones(4, np.float32))])


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    for name in (
        "IMG_0001.JPG",
        "img_0001.cr2",  # copied by a computer that lower-cases names
        "IMG_0001.xmp",  # not a photo: never part of the shot
        "IMG_0001 copy.JPG",
        "IMG_00010.JPG",
        "IMG_0001.edited.jpg",
        "IMG_0002.heic",
        "IMG_0002.MOV",  # a Live Photo whose still was renamed
        "IMG_0003.JPG",
    ):
        _add(catalog, CARD / name)
    _add(catalog, CARD / "IMG_0003.CR2", indexed=False)  # not read yet: not offered
    _add(catalog, CARD / "sub" / "IMG_0001.NEF")  # another folder
    _add(catalog, CARD.parent / "100canon" / "IMG_0001.ARW")  # a folder named alike
    yield catalog
    catalog.close()


def _hit(catalog: Catalog, name: str) -> SearchHit:
    record = catalog.file_by_path(CARD / name)
    assert record is not None
    return SearchHit(file=record, score=0.5, role="image")


def _shown(catalog: Catalog, *names: str) -> list[tuple[str, list[str]]]:
    results = pair_up(SearchResults(hits=[_hit(catalog, n) for n in names]), catalog)
    return [(h.file.path.name, [p.name for p in h.companions]) for h in results.hits]


def test_a_raw_and_its_jpeg_are_one_result_whatever_the_case_of_their_names(
    catalog: Catalog,
) -> None:
    assert _shown(catalog, "IMG_0001.JPG", "IMG_00010.JPG", "img_0001.cr2") == [
        ("IMG_0001.JPG", ["img_0001.cr2"]),  # the RAW ranked lower rides along
        ("IMG_00010.JPG", []),
    ]
    assert _shown(catalog, "img_0001.cr2") == [("img_0001.cr2", ["IMG_0001.JPG"])]


def test_names_holding_like_wildcards_or_other_scripts_pair_only_with_their_own(
    catalog: Catalog,
) -> None:
    for name in ("Süß 50%_off.JPG", "Süß 50%_off.cr2", "Süß 50x_off.cr2", "Süß 50%_offen.cr2"):
        _add(catalog, CARD / name)
    _add(catalog, CARD / "sa\udcefe.JPG")  # a name that is not UTF-8 (Latin-1 bytes)
    _add(catalog, CARD / "SA\udcefe.dng")
    assert _shown(catalog, "Süß 50%_off.JPG", "sa\udcefe.JPG") == [
        ("Süß 50%_off.JPG", ["Süß 50%_off.cr2"]),
        ("sa\udcefe.JPG", ["SA\udcefe.dng"]),
    ]


def test_a_live_photo_still_and_video_are_one_result(catalog: Catalog) -> None:
    assert _shown(catalog, "IMG_0002.MOV", "IMG_0002.heic") == [("IMG_0002.MOV", ["IMG_0002.heic"])]


def test_only_indexed_files_of_the_same_folder_and_name_are_paired(catalog: Catalog) -> None:
    assert _shown(catalog, "IMG_0001 copy.JPG", "IMG_0001.edited.jpg", "IMG_0003.JPG") == [
        ("IMG_0001 copy.JPG", []),
        ("IMG_0001.edited.jpg", []),
        ("IMG_0003.JPG", []),
    ]
    assert not same_shot(CARD / "IMG_0001.JPG", CARD / "sub" / "IMG_0001.NEF")
    assert not same_shot(CARD / "IMG_0001.JPG", CARD / "IMG_0001.JPG")
    assert not same_shot(CARD / "IMG_0001.JPG", CARD / "IMG_0001.xmp")


def test_an_older_catalog_finds_the_files_of_a_shot_by_an_index_seek(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    _add(catalog, CARD / "IMG_0001.JPG")
    _add(catalog, CARD / "IMG_0001.DNG")
    catalog.close()
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as db:  # as format 4 left it
        db.execute("DROP INDEX ix_files_name_folded")
        db.execute("PRAGMA user_version = 4")
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    found = catalog.files_named_like(CARD / "img_0001.jpg")
    assert sorted(r.path.name for r in found) == ["IMG_0001.DNG", "IMG_0001.JPG"]
    catalog.close()
    with sqlite3.connect(tmp_path / "catalog.sqlite3") as db:
        db.execute("PRAGMA case_sensitive_like=ON")  # as the catalog's connections are
        plan = db.execute(  # the statement files_named_like_each runs, for one name
            "EXPLAIN QUERY PLAN WITH wanted(stem) AS (VALUES ('img_0001')) SELECT f.id "
            "FROM wanted JOIN files f ON lower(f.name) >= wanted.stem || '.' "
            "AND lower(f.name) < wanted.stem || '/'"
        ).fetchall()
    # A folder of 100,000 photos costs as little as one of ten (not a scan of the folder).
    assert "ix_files_name_folded" in str(plan)


def test_the_setting_decides_which_file_of_a_raw_and_jpeg_shot_opens(tmp_path: Path) -> None:
    jpeg, raw, heic, video = (CARD / n for n in ("A.JPG", "a.cr2", "B.HEIC", "B.MOV"))
    for hit, companions in ((jpeg, [raw]), (raw, [jpeg])):  # whichever ranked first
        assert file_to_open(hit, companions, open_raw=False) == jpeg
        assert file_to_open(hit, companions, open_raw=True) == raw
    for open_raw in (False, True):  # no RAW in the shot: each file opens as itself
        assert file_to_open(heic, [video], open_raw) == heic
        assert file_to_open(video, [heic], open_raw) == video
        assert file_to_open(jpeg, [], open_raw) == jpeg
    settings = Settings(data_dir=tmp_path / "data")
    assert not settings.open_raw  # the JPEG by default: any viewer opens it at once
    settings.replace(open_raw=True).save()
    assert Settings.load(tmp_path / "data").open_raw


def test_the_raw_filter_keeps_only_raw_photos(catalog: Catalog) -> None:
    def names(*kinds: str) -> set[str]:
        found = catalog.recent_files(100, FileFilter(kinds=frozenset(kinds)))
        return {str(f.path.relative_to(CARD.parent)) for f in found}

    raws = {"100CANON/img_0001.cr2", "100CANON/sub/IMG_0001.NEF", "100canon/IMG_0001.ARW"}
    assert names(RAW) == raws  # IMG_0003.CR2 is not indexed yet
    assert names(RAW, "video") == raws | {"100CANON/IMG_0002.MOV"}
    assert raws < names("image") and "100CANON/IMG_0001.JPG" in names("image")
