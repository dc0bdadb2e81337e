"""Input `lumen` cannot act on is refused at once with one plain line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.cli import main


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line `lumen` says on stderr; fails unless it exits 2 with nothing else said."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize("k", ["0", "-3"])
def test_a_limit_below_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], k: str
) -> None:
    said = refused(capsys, "--data-dir", str(tmp_path / "d"), "search", "a red bike", "-k", k)
    assert said.startswith("lumen search: -k must be 1 or more") and f"got {k}" in said
    said = refused(capsys, "--data-dir", str(tmp_path / "d"), "similar", "x.jpg", f"--limit={k}")
    assert said.startswith("lumen similar: -k must be 1 or more")


def test_similar_or_related_to_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "d")
    for command in ("similar", "related"):
        said = refused(capsys, "--data-dir", data, command, str(tmp_path))
        assert f"{tmp_path} is a folder; {command} takes a file" in said
    said = refused(capsys, "--data-dir", data, "search", "at night", "--like", str(tmp_path))
    assert "is a folder; --like takes a file" in said


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["index", "."],
        ["search", "a dog"],
        ["folders", "list"],
        ["exclude", "list"],
        ["tags"],
        ["duplicates"],
        ["watch"],
        ["models"],
        ["doctor"],
    ],
)
def test_a_data_dir_that_is_a_file_is_refused_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file, not a folder")
    said = refused(capsys, "--data-dir", str(not_a_folder), *command)
    assert said == (
        f"lumen: --data-dir {not_a_folder} is a file, not a folder; give a folder for the library"
    )
    said = refused(capsys, *command, "--data-dir", str(not_a_folder / "inside"))
    assert f"is inside {not_a_folder}, which is a file" in said
    assert not_a_folder.read_text() == "a file, not a folder"
