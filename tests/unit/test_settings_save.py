"""Saving the settings: what changed is written, and settings saved already leave the file alone."""

from __future__ import annotations

from pathlib import Path

from desktop_app.config import SETTINGS_FILE, Settings


def test_changed_settings_are_written_and_read_back(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model="ViT-B-32/openai")
    settings.save()
    changed = settings.replace(model="ViT-B-16/openai", ocr=True)
    changed.save()
    loaded = Settings.load(tmp_path)
    assert (loaded.model, loaded.ocr) == ("ViT-B-16/openai", True)


def test_saving_the_same_settings_again_leaves_the_file_untouched(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model="ViT-B-32/openai")
    settings.save()
    path = tmp_path / SETTINGS_FILE
    before = path.stat()
    settings.save()  # every index run saves them
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not path.with_suffix(".json.tmp").exists()


def test_an_unreadable_settings_file_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / SETTINGS_FILE
    path.write_bytes(b"\xff\xfe not json")
    Settings(data_dir=tmp_path, model="ViT-B-32/openai").save()
    assert Settings.load(tmp_path).model == "ViT-B-32/openai"
