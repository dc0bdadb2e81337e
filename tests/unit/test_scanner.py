"""Scanner: new, changed, touched, moved, deleted files; ignored names; symlink loops."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.indexing.scanner import Scanner, is_ignored_name, mount_point_key
from desktop_app.core.storage.catalog import Catalog, Folder


def _catalogue(catalog: Catalog, folder: Folder, path: Path) -> int:
    st = path.stat()
    return catalog.add_file(
        folder_id=folder.id,
        path=path,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        inode=st.st_ino,
        fingerprint=fingerprint_file(path),
        kind="image",
    )


def _setup(tmp_path: Path) -> tuple[Catalog, Folder, Path]:
    root = tmp_path / "photos"
    root.mkdir()
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    return catalog, catalog.add_folder(root), root


def test_new_files_are_found_and_clutter_is_ignored(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    (root / "sub").mkdir()
    (root / "a.jpg").write_bytes(b"a" * 10)
    (root / "sub" / "b.PNG").write_bytes(b"b" * 10)
    (root / ".hidden.jpg").write_bytes(b"h")
    (root / "download.jpg.part").write_bytes(b"p")
    (root / "notes.xyz").write_bytes(b"x")
    (root / ".git").mkdir()
    (root / ".git" / "c.jpg").write_bytes(b"c")
    result = Scanner(catalog).scan([folder])
    assert sorted(f.path.name for f in result.new) == ["a.jpg", "b.PNG"]
    assert result.seen == 2


def test_unchanged_touched_changed_and_removed(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    same, touched, changed, removed = (
        root / n for n in ("same.jpg", "touched.jpg", "changed.jpg", "gone.jpg")
    )
    for i, path in enumerate((same, touched, changed, removed)):
        path.write_bytes(bytes([i]) * 100)
        _catalogue(catalog, folder, path)
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    changed.write_bytes(b"new content, different size")
    removed.unlink()
    result = Scanner(catalog).scan([folder])
    assert result.unchanged == 1
    assert [f.path for _, f in result.touched] == [touched]
    assert [f.path for _, f in result.changed] == [changed]
    assert [r.path for r in result.removed] == [removed]
    assert not result.new


def test_a_moved_file_is_recognised_by_content(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    original = root / "IMG_0001.jpg"
    original.write_bytes(os.urandom(3000))
    file_id = _catalogue(catalog, folder, original)
    (root / "2024" / "holiday").mkdir(parents=True)
    moved = root / "2024" / "holiday" / "beach.jpg"
    original.rename(moved)
    (root / "other.jpg").write_bytes(os.urandom(3000))  # same size, other content: new, not a move
    result = Scanner(catalog).scan([folder])
    assert [(r.id, f.path) for r, f in result.moved] == [(file_id, moved)]
    assert [f.path.name for f in result.new] == ["other.jpg"]
    assert not result.removed


def test_a_move_between_watched_folders_is_a_move(tmp_path: Path) -> None:
    catalog, first, root = _setup(tmp_path)
    other_root = tmp_path / "other"
    other_root.mkdir()
    second = catalog.add_folder(other_root)
    path = root / "x.jpg"
    path.write_bytes(os.urandom(500))
    file_id = _catalogue(catalog, first, path)
    path.rename(other_root / "x.jpg")
    result = Scanner(catalog).scan([first, second])
    assert [(r.id, f.folder_id) for r, f in result.moved] == [(file_id, second.id)]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    (root / "a").mkdir()
    (root / "a" / "pic.jpg").write_bytes(b"x" * 20)
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "a" / "self").symlink_to(root / "a", target_is_directory=True)
    result = Scanner(catalog).scan([folder])
    assert [f.path.name for f in result.new] == ["pic.jpg"]


def test_an_unreachable_folder_is_reported_offline_not_emptied(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    path = root / "p.jpg"
    path.write_bytes(b"1234")
    _catalogue(catalog, folder, path)
    root.rename(tmp_path / "unmounted")
    result = Scanner(catalog).scan([folder])
    assert result.offline_folders == [folder]
    assert not result.removed


def _refuse_listing(monkeypatch: pytest.MonkeyPatch, refused: Path, code: int) -> None:
    """``refused`` cannot be listed (as a folder without read permission, or an I/O error)."""
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Iterator[os.DirEntry[str]]:
        if Path(path) == refused:
            raise OSError(code, os.strerror(code), str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EIO])
def test_a_subfolder_that_cannot_be_listed_keeps_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    catalog, folder, root = _setup(tmp_path)
    (root / "private").mkdir()
    kept, gone = root / "private" / "p.jpg", root / "g.jpg"
    for i, path in enumerate((kept, gone)):
        path.write_bytes(bytes([i]) * 50)
        _catalogue(catalog, folder, path)
    gone.unlink()
    _refuse_listing(monkeypatch, root / "private", code)
    full = Scanner(catalog).scan([folder])
    assert [r.path for r in full.removed] == [gone]  # deleted: removed; unreadable: kept
    assert [p for p, _ in full.unreadable] == [root / "private"]
    changed = Scanner(catalog).scan_paths([folder], [root / "private"])  # what the watcher does
    assert not changed.removed and [p for p, _ in changed.unreadable] == [root / "private"]


def test_ignored_names() -> None:
    assert is_ignored_name(".DS_Store")
    assert is_ignored_name("movie.mp4.crdownload")
    assert is_ignored_name("~$report.docx")
    assert not is_ignored_name("holiday photo (1).jpg")


def test_scan_paths_looks_only_at_the_paths_given(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    (root / "trip").mkdir()
    (root / "Trip").mkdir()  # same name but for case: must not be confused with "trip"
    same, touched, changed, elsewhere = (root / n for n in ("same.jpg", "t.jpg", "c.jpg", "e.jpg"))
    in_trip, in_other_trip = root / "trip" / "1.jpg", root / "Trip" / "2.jpg"
    for i, path in enumerate((same, touched, changed, elsewhere, in_trip, in_other_trip)):
        path.write_bytes(bytes([i]) * 100)
        _catalogue(catalog, folder, path)
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    changed.write_bytes(b"other bytes")
    elsewhere.unlink()  # not among the paths given: not noticed
    for path in (root / "trip" / "1.jpg", root / "trip"):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "new").mkdir()
    (root / "new" / "n.png").write_bytes(b"n" * 10)
    (root / "new" / ".hidden.png").write_bytes(b"h")
    (root / "x.jpg.part").write_bytes(b"p")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"o")
    paths = [same, touched, changed, root / "trip", root / "new", root / "x.jpg.part", outside]
    result = Scanner(catalog).scan_paths([folder], paths)
    assert result.unchanged == 1
    assert [f.path for _, f in result.touched] == [touched]
    assert [f.path for _, f in result.changed] == [changed]
    assert [r.path for r in result.removed] == [in_trip]
    assert [f.path for f in result.new] == [root / "new" / "n.png"]
    assert result.online_folders == [folder]


def test_scan_paths_sees_a_rename_as_a_move(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    old = root / "a.jpg"
    old.write_bytes(os.urandom(2000))
    file_id = _catalogue(catalog, folder, old)
    (root / "sub").mkdir()
    new = root / "sub" / "b.jpg"
    old.rename(new)
    result = Scanner(catalog).scan_paths([folder], [old, new])
    assert [(r.id, f.path) for r, f in result.moved] == [(file_id, new)]
    assert not result.new and not result.removed


def test_scan_paths_in_an_unreachable_folder_removes_nothing(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    path = root / "p.jpg"
    path.write_bytes(b"1234")
    _catalogue(catalog, folder, path)
    root.rename(tmp_path / "unplugged")
    result = Scanner(catalog).scan_paths([folder], [path, root])
    assert result.offline_folders == [folder]
    assert not result.removed


def test_an_empty_mount_point_is_offline_but_an_emptied_folder_is_not(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    path = root / "p.jpg"
    path.write_bytes(b"1234")
    _catalogue(catalog, folder, path)
    path.unlink()
    assert [r.path for r in Scanner(catalog).scan([folder]).removed] == [path]
    catalog.set_meta(mount_point_key(root), "1")  # it was a mount point; now only the empty dir
    result = Scanner(catalog).scan([folder])
    assert result.offline_folders == [folder] and not result.removed


def test_scan_paths_finds_a_move_whose_old_path_came_in_an_earlier_batch(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    old = root / "a.jpg"
    old.write_bytes(os.urandom(2000))
    file_id = _catalogue(catalog, folder, old)
    copy = root / "copy of a.jpg"
    copy.write_bytes(old.read_bytes())  # a copy: the original is still there, so this is new
    result = Scanner(catalog).scan_paths([folder], [copy])
    assert [f.path for f in result.new] == [copy] and not result.moved
    (root / "new folder").mkdir()
    new = root / "new folder" / "a.jpg"
    old.rename(new)
    result = Scanner(catalog).scan_paths([folder], [root / "new folder"])  # not the old path
    assert [(r.id, f.path) for r, f in result.moved] == [(file_id, new)]
    assert not result.new and not result.removed


def test_folder_paths_are_case_sensitive(tmp_path: Path) -> None:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    upper, lower = tmp_path / "Trip", tmp_path / "trip"
    for folder in (upper, lower):
        folder.mkdir()
        (folder / "a.jpg").write_bytes(folder.name.encode())
    first = catalog.add_folder(upper)
    _catalogue(catalog, first, upper / "a.jpg")
    second = catalog.add_folder(lower)
    _catalogue(catalog, second, lower / "a.jpg")
    catalog.forget_path(upper)
    assert catalog.files_under(upper) == {}
    assert catalog.file_by_path(upper / "a.jpg") is None
    assert catalog.file_by_path(lower / "a.jpg") is not None


def test_a_folder_named_inside_a_hidden_one_is_walked(tmp_path: Path) -> None:
    """`lumen index ~/.cache/x`: hidden and excluded-by-name folders are skipped only below
    the folder the user named."""
    from desktop_app.core.storage.exclusions import DEFAULT_PATTERNS, Exclusions

    root = tmp_path / ".cache" / "exports"
    (root / ".thumbs").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"a" * 10)
    (root / ".thumbs" / "b.jpg").write_bytes(b"b" * 10)
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    folder = catalog.add_folder(root)
    exclusions = Exclusions.of(DEFAULT_PATTERNS)
    result = Scanner(catalog, exclusions).scan([folder])
    assert [f.path.name for f in result.new] == ["a.jpg"]
    # the indexer's own check (files excluded since the scan) agrees once it knows the folders
    assert not exclusions.within([root]).excludes(root / "a.jpg")
    assert exclusions.within([root]).excludes(root / "node_modules" / "c.jpg")


def test_files_of_other_kinds_are_counted_by_extension(tmp_path: Path) -> None:
    catalog, folder, root = _setup(tmp_path)
    for name in ("a.jpg", "b.svg", "c.SVG", "d.xcf", "README", ".hidden.svg"):
        (root / name).write_bytes(b"x")
    result = Scanner(catalog).scan([folder])
    assert dict(result.other_kinds) == {".svg": 2, ".xcf": 1, "(no extension)": 1}
