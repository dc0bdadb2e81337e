"""What a newcomer meets on the command line: clear messages for missing folders and files,
options in either place, plurals, "none" for empty lists, and the help texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.cli import build_parser, main
from tests.support.photos import write_shape_photos


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def one_photo(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    written = write_shape_photos(folder, seeds=(7,))
    for path in list(written)[1:]:
        path.unlink()
    return folder


def test_a_missing_folder_is_named_and_no_data_dir_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, _, err = run(capsys, "--data-dir", str(data), "index", str(tmp_path / "Pictures"))
    assert code == 1
    assert f"no such folder: {tmp_path / 'Pictures'}" in err
    assert "lumen index ~/Documents" in err
    code, _, err = run(capsys, "--data-dir", str(data), "search", "a red circle")
    assert code == 1 and "nothing is indexed yet" in err and "lumen index" in err
    code, out, _ = run(capsys, "--data-dir", str(data), "folders", "list")
    assert code == 0 and out.startswith("none")
    assert not data.exists()


def test_options_after_the_command_and_singular_counts(
    one_photo: Path, tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    model = ["--model", "lumen-tiny", "--weights", str(tiny_weights)]
    code, out, err = run(capsys, "index", str(one_photo), "--data-dir", data, *model)
    assert code == 0, err
    assert "Seen 1 file:" in out and "Indexed 1 file in" in out
    code, out, _ = run(capsys, "-q", "status", "--errors", "--data-dir", data)
    assert "Files:   1 indexed" in out and "Failed:  none" in out
    code, out, _ = run(capsys, "search", "--data-dir", data, "a shape", "-k", "1", "--all")
    assert code == 0 and str(one_photo) in out
    assert "showing the first 1; raise -k" in out


def test_similar_to_a_file_that_never_existed(
    one_photo: Path, tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    model = ["--model", "lumen-tiny", "--weights", str(tiny_weights)]
    assert run(capsys, "--data-dir", data, *model, "index", str(one_photo))[0] == 0
    code, _, err = run(capsys, "--data-dir", data, "similar", str(tmp_path / "nope.jpg"))
    assert code == 1 and f"no such file: {tmp_path / 'nope.jpg'}" in err


def test_models_lists_the_tiny_model_and_help_gives_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "models")
    assert code == 0 and "lumen-tiny" in out and "--weights FILE" in out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["search", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: 20)" in help_text
    assert "only photos and pictures" in help_text and "only documents (default: all)" in help_text
    assert "still at most -k" in help_text


def test_weights_message_has_no_stray_punctuation(
    tmp_path: Path, one_photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "d"), "index", str(one_photo))
    assert code == 1 and "--weights FILE" in err
    assert ".)." not in err and "))" not in err
    assert "Settings" not in err  # the window's control is not named on the command line
