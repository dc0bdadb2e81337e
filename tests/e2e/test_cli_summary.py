"""What `lumen index` says when it ends: files that still cannot be read, and why a folder
gave nothing to index."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.cli import main
from tests.support.photos import write_shape_photos


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_second_run_still_names_the_files_that_cannot_be_read(
    tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    written = list(write_shape_photos(photos, seeds=(7,)))
    for path in written[2:]:
        path.unlink()
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a photo")
    lumen = ["--data-dir", str(tmp_path / "data"), "--model", "lumen-tiny"]
    lumen += ["--weights", str(tiny_weights)]
    code, out, _ = run(capsys, *lumen, "index", str(photos))
    assert code == 0 and "1 failed." in out and "1 file could not be read" in out
    assert "still cannot be read" not in out  # this run's failure is listed already

    code, out, _ = run(capsys, *lumen, "index")
    assert code == 0 and "0 failed." in out
    assert "1 file still cannot be read, see `lumen status --errors`." in out


def test_a_folder_that_gives_nothing_says_why(
    tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lumen = ["--data-dir", str(tmp_path / "data"), "--model", "lumen-tiny"]
    lumen += ["--weights", str(tiny_weights)]
    cached = tmp_path / ".cache" / "x"
    cached.mkdir(parents=True)
    (cached / "notes.txt").write_text("a note about the harbour")
    # a folder named by the user is indexed even inside a hidden or excluded-by-name one
    code, out, _ = run(capsys, *lumen, "index", str(cached))
    assert code == 0 and "Seen 1 file" in out

    others = tmp_path / "others"
    others.mkdir()
    (others / "drawing.xcf").write_bytes(b"gimp xcf file")
    code, out, _ = run(capsys, *lumen, "index", str(others))
    assert code == 0 and "Seen 0 files" in out
    assert f"Nothing to index in {others}: none of its 1 file is a photo" in out

    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, _ = run(capsys, *lumen, "index", str(empty))
    assert f"Nothing to index in {empty}: it holds no files." in out


def test_status_counts_the_files_of_other_kinds(
    tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lumen = ["--data-dir", str(tmp_path / "data"), "--model", "lumen-tiny"]
    lumen += ["--weights", str(tiny_weights)]
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "note.txt").write_text("a note about the harbour")
    for name in ("a.xcf", "b.xcf", "c.blend"):
        (folder / name).write_bytes(b"not for Lumen")
    assert run(capsys, *lumen, "index", str(folder))[0] == 0
    code, out, _ = run(capsys, *lumen, "status")
    assert code == 0
    assert "3 files of other kinds (not indexed): .xcf 2, .blend 1" in out
