"""Scanner: new, changed, touched, moved, deleted files; ignored names; symlink loops."""

from __future__ import annotations

import os
from pathlib import Path

from desktop_app.core.catalog import Catalog, Folder
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.scanner import Scanner, is_ignored_name


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
    same, touched, changed, removed = (root / n for n in ("same.jpg", "touched.jpg", "changed.jpg", "gone.jpg"))
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


def test_ignored_names() -> None:
    assert is_ignored_name(".DS_Store")
    assert is_ignored_name("movie.mp4.crdownload")
    assert is_ignored_name("~$report.docx")
    assert not is_ignored_name("holiday photo (1).jpg")
