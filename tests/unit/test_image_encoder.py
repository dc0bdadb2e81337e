"""The numpy image tower: the model's vectors without torch, trusted only for a weights file it
was checked against."""

from __future__ import annotations

import os
import shutil
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.image_encoder import (
    MANIFEST_NAME,
    NumpyImageTower,
    load_numpy_image_tower,
    write_image_manifest,
)


def _pictures(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(7)
    return [Image.fromarray(rng.integers(0, 255, (60, 90, 3), dtype=np.uint8)) for _ in range(n)]


def _tiny_copy(tiny_weights: Path, tmp_path: Path) -> tuple[Path, Embedder]:
    """A weights file of this test's own (its time can be changed) and the model loaded from it."""
    weights = tmp_path / "tiny.safetensors"
    shutil.copy(tiny_weights, weights)
    return weights, load_embedder("lumen-tiny", weights, tmp_path / "cache", "cpu")


def test_numpy_tower_gives_the_models_vectors(tiny_embedder: Embedder, tmp_path: Path) -> None:
    assert write_image_manifest(tmp_path, tiny_embedder)
    weights = tiny_embedder.weights_path
    tower = load_numpy_image_tower(tmp_path, "lumen-tiny", weights, tiny_embedder.space)
    assert tower is not None
    pictures = _pictures(5)
    prepared = np.stack([np.asarray(tiny_embedder.prepare_image(p)) for p in pictures])
    cosine = np.sum(tower.encode(prepared) * tiny_embedder.encode_images(pictures), axis=1)
    assert cosine.min() >= 0.9999


def test_numpy_tower_is_not_used_once_the_weights_file_changes(
    tiny_weights: Path, tmp_path: Path
) -> None:
    weights, embedder = _tiny_copy(tiny_weights, tmp_path)
    assert write_image_manifest(tmp_path, embedder)
    assert load_numpy_image_tower(tmp_path, "lumen-tiny", weights, embedder.space)
    assert load_numpy_image_tower(tmp_path, "other-model", weights, embedder.space) is None
    assert load_numpy_image_tower(tmp_path, "lumen-tiny", weights, "another space") is None
    os.utime(weights, ns=(1, 1))  # replaced by another file of the same name
    assert load_numpy_image_tower(tmp_path, "lumen-tiny", weights, embedder.space) is None


def test_a_tower_that_differs_from_the_model_gets_no_manifest(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights, embedder = _tiny_copy(tiny_weights, tmp_path)
    assert write_image_manifest(tmp_path, embedder)
    os.utime(weights, ns=(2, 2))  # (checked again) and the model now gives other vectors:
    encode = embedder.encode_prepared
    monkeypatch.setattr(embedder, "encode_prepared", lambda b: np.roll(encode(b), 1, axis=1))
    assert not write_image_manifest(tmp_path, embedder)
    assert not (tmp_path / MANIFEST_NAME).exists()
    assert load_numpy_image_tower(tmp_path, "lumen-tiny", weights, embedder.space) is None


def test_a_cut_short_weights_file_is_a_plain_error(tiny_weights: Path, tmp_path: Path) -> None:
    from desktop_app.core.embedding.text_encoder import read_safetensors

    weights = tmp_path / "cut.safetensors"
    weights.write_bytes(tiny_weights.read_bytes()[: tiny_weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="cut short"):
        read_safetensors(weights)


def test_the_check_lets_go_of_the_numpy_tower_before_the_models_tower_loads(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run's memory peak: the two towers are never resident at once during the check."""
    _, embedder = _tiny_copy(tiny_weights, tmp_path)
    assert not embedder.image_tower_loaded
    alive: list[weakref.ref[NumpyImageTower]] = []
    models_tower_at_numpy_load: list[bool] = []
    real_init = NumpyImageTower.__init__

    def track(self: NumpyImageTower, *args: Any) -> None:
        models_tower_at_numpy_load.append(embedder.image_tower_loaded)
        real_init(self, *args)
        alive.append(weakref.ref(self))

    monkeypatch.setattr(NumpyImageTower, "__init__", track)
    towers_alive_at_load: list[int] = []
    load = embedder.load_image_tower

    def load_and_count() -> None:
        towers_alive_at_load.append(sum(ref() is not None for ref in alive))
        load()

    monkeypatch.setattr(embedder, "load_image_tower", load_and_count)
    assert write_image_manifest(tmp_path, embedder)
    assert models_tower_at_numpy_load == [False]
    assert towers_alive_at_load and towers_alive_at_load[0] == 0
    assert embedder.image_tower_loaded  # the run that follows embeds with it
