"""When `lumen index FOLDER` sees no file, the user is told why in words."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.indexing.nothing_seen import why_nothing_seen

DEFAULTS = ("node_modules", ".git", ".cache")


def test_a_folder_under_an_excluded_name_names_the_pattern(tmp_path: Path) -> None:
    folder = tmp_path / ".cache" / "x"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("hello")
    reason = why_nothing_seen(folder, DEFAULTS, tmp_path / "data")
    assert "excluded by the pattern .cache" in reason and "lumen exclude remove .cache" in reason


def test_lumens_own_data_folder(tmp_path: Path) -> None:
    (tmp_path / "data" / "thumbs").mkdir(parents=True)
    reason = why_nothing_seen(tmp_path / "data" / "thumbs", DEFAULTS, tmp_path / "data")
    assert reason == "it is Lumen's own data folder"


def test_a_folder_inside_a_hidden_folder(tmp_path: Path) -> None:
    folder = tmp_path / ".local" / "notes"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("hello")
    reason = why_nothing_seen(folder, DEFAULTS, tmp_path / "data")
    assert "inside a hidden folder (.local)" in reason


def test_an_empty_folder_and_one_of_hidden_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    assert why_nothing_seen(empty, DEFAULTS, tmp_path / "data") == "it holds no files"
    (empty / ".secret.txt").write_text("x")
    (empty / "sub" / "~$draft.docx").write_text("x")
    reason = why_nothing_seen(empty, DEFAULTS, tmp_path / "data")
    assert reason.startswith("its 2 files are all hidden or temporary")


def test_files_of_other_kinds_are_counted_by_extension(tmp_path: Path) -> None:
    folder = tmp_path / "art"
    folder.mkdir()
    for i in range(3):
        (folder / f"layer{i}.xcf").write_bytes(b"gimp")
    (folder / "README").write_text("x")
    reason = why_nothing_seen(folder, DEFAULTS, tmp_path / "data")
    assert "none of its 4 files is a photo, video or document Lumen reads" in reason
    assert "(.xcf 3, no extension 1)" in reason


def test_readable_files_excluded_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "drafts"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    reason = why_nothing_seen(folder, ("*.txt",), tmp_path / "data")
    assert reason.startswith("its 1 file that Lumen reads is excluded")
