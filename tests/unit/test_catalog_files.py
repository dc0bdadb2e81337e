"""The catalog's files and folders: a file added, moved or removed is seen as such."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.storage.catalog import FAILED, INDEXED, OFFLINE, PENDING, Catalog, FileFilter
from tests.support.catalog import add, index


def _open(tmp_path: Path) -> Catalog:
    return Catalog.open(tmp_path / "library" / "catalog.sqlite3")


def test_a_file_added_is_pending_and_found_by_path_folder_and_name(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    folder = catalog.add_folder(tmp_path / "Photos")
    path = tmp_path / "Photos" / "2024" / "Beach Day.JPG"
    file_id = add(catalog, path, folder.id)
    record = catalog.file_by_path(path)
    assert record is not None and record.id == file_id and record.status == PENDING
    assert list(catalog.files_in_folder(folder.id)) == [path]
    assert list(catalog.files_under(tmp_path / "Photos" / "2024")) == [path]
    assert catalog.files_under(tmp_path / "Photo") == {}  # a prefix of a name is not a folder
    assert catalog.counts() == {PENDING: 1, "vectors": 0}
    assert [r.id for r in catalog.find_by_name(["beach", "day"], 10)] == [file_id]
    assert catalog.files_named_like(tmp_path / "Photos" / "2024" / "beach day.cr2") == []
    index(catalog, file_id, 1.0)  # indexed: now a pair's partner (case folded)
    assert [r.id for r in catalog.files_named_like(tmp_path / "Photos/2024/beach day.cr2")] == [
        file_id
    ]
    catalog.close()


def test_a_file_moved_is_seen_at_its_new_path_only(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    folder = catalog.add_folder(tmp_path / "Photos")
    old, new = tmp_path / "Photos" / "a.jpg", tmp_path / "Photos" / "Trip" / "renamed.jpg"
    file_id = add(catalog, old, folder.id)
    vector_ids = index(catalog, file_id, 1.0)
    catalog.update_file(file_id, path=new)
    assert catalog.file_by_path(old) is None
    moved = catalog.file_by_path(new)
    assert moved is not None and moved.id == file_id and moved.status == INDEXED
    assert [h.file_id for h in catalog.keyword_search('"renamed"', 5)] == [file_id]
    assert catalog.keyword_search('"a"', 5) == []
    assert set(catalog.owners(vector_ids)) == set(vector_ids)  # its vectors went with it
    catalog.close()


def test_a_file_removed_takes_its_vectors_and_words_with_it(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    folder = catalog.add_folder(tmp_path / "Docs")
    kept = add(catalog, tmp_path / "Docs" / "kept.pdf", folder.id, "document")
    gone = add(catalog, tmp_path / "Docs" / "Old" / "gone.pdf", folder.id, "document")
    index(catalog, kept, 1.0, text="quarterly figures")
    gone_vectors = index(catalog, gone, 2.0, text="quarterly figures")
    assert catalog.forget_path(tmp_path / "Docs" / "Old") == gone_vectors
    assert list(catalog.files_in_folder(folder.id)) == [tmp_path / "Docs" / "kept.pdf"]
    assert catalog.owners(gone_vectors) == {}
    assert [h.file_id for h in catalog.keyword_search('"quarterly"', 5)] == [kept]
    assert catalog.delete_files([kept]) != [] and catalog.counts() == {"vectors": 0}
    catalog.close()


def test_a_moved_file_is_recognised_by_its_fingerprint_among_vanished_ones(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    file_id = add(catalog, tmp_path / "x" / "photo.jpg")
    record = catalog.missing_by_fingerprint("fp-photo.jpg", {file_id})
    assert record is not None and record.id == file_id
    assert catalog.missing_by_fingerprint("fp-photo.jpg", {file_id + 1}) is None  # not vanished
    assert catalog.files_with_fingerprints(["fp-photo.jpg"])["fp-photo.jpg"][0].id == file_id
    catalog.close()


def test_removing_a_folder_forgets_its_files_and_a_parent_folder_adopts_them(
    tmp_path: Path,
) -> None:
    catalog = _open(tmp_path)
    trip = catalog.add_folder(tmp_path / "Photos" / "Trip")
    file_id = add(catalog, tmp_path / "Photos" / "Trip" / "a.jpg", trip.id)
    vector_ids = index(catalog, file_id, 1.0)
    photos = catalog.add_folder(tmp_path / "Photos")  # a parent folder added later
    catalog.remove_folder_keep_files(trip.id, photos.id)
    assert [f.path for f in catalog.folders()] == [tmp_path / "Photos"]
    assert list(catalog.files_in_folder(photos.id)) == [tmp_path / "Photos" / "Trip" / "a.jpg"]
    assert catalog.remove_folder(tmp_path / "Photos") == vector_ids
    assert catalog.folders() == [] and catalog.counts() == {"vectors": 0}
    catalog.close()


def test_a_folder_offline_hides_its_files_until_it_is_back(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    folder = catalog.add_folder(tmp_path / "Card")
    file_id = add(catalog, tmp_path / "Card" / "a.jpg", folder.id)
    index(catalog, file_id, 1.0)
    catalog.set_folder_state(folder.id, online=False)
    assert catalog.visible_file_ids([file_id]) == set()
    assert catalog.files_by_ids([file_id])[file_id].status == OFFLINE
    assert catalog.recent_files(10) == []
    catalog.set_folder_state(folder.id, online=True, paused=True, scanned=True)
    (state,) = catalog.folders()
    assert state.online and state.paused and state.last_scan_at is not None
    assert catalog.visible_file_ids([file_id], FileFilter(kinds=frozenset({"image"}))) == {file_id}
    assert catalog.visible_file_ids([file_id], FileFilter(kinds=frozenset({"video"}))) == set()
    catalog.close()


def test_files_an_exclusion_matches_are_forgotten_and_failures_keep_their_reason(
    tmp_path: Path,
) -> None:
    catalog = _open(tmp_path)
    kept = add(catalog, tmp_path / "a.jpg")
    add(catalog, tmp_path / "Private" / "b.jpg")
    catalog.forget_matching(lambda path: "Private" in path.parts)
    assert list(catalog.files_under(tmp_path)) == [tmp_path / "a.jpg"]
    catalog.update_file(kept, status=FAILED, error="damaged image")
    assert [(r.id, r.error) for r in catalog.failed_files()] == [(kept, "damaged image")]
    catalog.close()


def test_the_status_count_and_check_agree_with_the_full_counts(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    assert not catalog.has_files_with_status(PENDING) and catalog.count_with_status(INDEXED) == 0
    first, second = add(catalog, tmp_path / "a.jpg"), add(catalog, tmp_path / "b.jpg")
    assert catalog.has_files_with_status(PENDING) and catalog.count_with_status(PENDING) == 2
    index(catalog, first, 1.0)
    index(catalog, second, 2.0)
    assert not catalog.has_files_with_status(PENDING)
    assert catalog.count_with_status(INDEXED) == catalog.counts()[INDEXED] == 2
    catalog.close()
