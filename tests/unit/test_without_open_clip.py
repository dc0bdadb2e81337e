"""An installation without open_clip's code (Lumen's CPU bundle): the listed plain CLIP models
still load, and a model only open_clip builds is refused in plain words, not with a traceback."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import shutil
import sys
import types
from pathlib import Path

import pytest

from desktop_app import doctor
from desktop_app.core.embedding.clip_native import open_clip_config_path
from desktop_app.core.embedding.embedder import load_embedder
from desktop_app.core.errors import ModelUnavailableError

MULTILINGUAL = "xlm-roberta-base-ViT-B-32/laion5b_s13b_b90k"


def _open_clip_as_data_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """open_clip as the CPU bundle holds it: its configurations and vocabulary as files, in a
    folder without code (Python finds it as an empty namespace package)."""
    real = open_clip_config_path("ViT-B-32")
    assert real is not None
    folder = tmp_path / "open_clip"
    shutil.copytree(real.parent, folder / "model_configs")
    shutil.copy(real.parent.parent / "bpe_simple_vocab_16e6.txt.gz", folder)
    module = types.ModuleType("open_clip")
    module.__spec__ = importlib.machinery.ModuleSpec("open_clip", None, is_package=True)
    module.__spec__.submodule_search_locations = [str(folder)]
    module.__path__ = [str(folder)]
    monkeypatch.setitem(sys.modules, "open_clip", module)


def test_the_bundle_still_finds_the_plain_models_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_clip_as_data_only(tmp_path, monkeypatch)
    path = open_clip_config_path("ViT-B-32")
    assert path is not None and path.is_relative_to(tmp_path)


@pytest.mark.parametrize("installation", ["data only", "not installed"])
def test_a_model_only_open_clip_builds_is_refused_with_what_to_do(
    installation: str, tmp_path: Path, tiny_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if installation == "data only":
        _open_clip_as_data_only(tmp_path, monkeypatch)
    else:
        monkeypatch.setitem(sys.modules, "open_clip", None)  # `import open_clip` fails
    with pytest.raises(ModelUnavailableError) as error:
        load_embedder(MULTILINGUAL, tiny_weights, tmp_path / "cache", device="cpu")
    message = str(error.value)
    assert "needs open_clip" in message and "From source" in message


def test_the_tiny_model_loads_without_open_clip(
    tmp_path: Path, tiny_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_clip_as_data_only(tmp_path, monkeypatch)
    embedder = load_embedder("lumen-tiny", tiny_weights, tmp_path / "cache", device="cpu")
    assert embedder.encode_text("a red circle").shape == (64,)


def test_doctor_does_not_block_on_open_clip_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = importlib.metadata.version

    def version(distribution: str) -> str:
        if distribution == "open_clip_torch":
            raise importlib.metadata.PackageNotFoundError(distribution)
        return real_version(distribution)

    monkeypatch.setattr(importlib.metadata, "version", version)
    finding = doctor.versions()
    assert finding.state == doctor.OK and "open_clip not installed" in finding.detail
