"""Loading only what a command needs: the text tower without random init, the torch-free query
encoder, and a cold `lumen search` that never imports torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.text_encoder import (
    MANIFEST_NAME,
    load_numpy_text_encoder,
    write_manifest,
)
from desktop_app.core.library import Library
from desktop_app.core.models import MODEL_CONFIG_DIR
from tests.conftest import IndexedShapes
from tests.support.shapes import all_captions, caption_for_text

REPO = Path(__file__).resolve().parents[2]
QUERIES = ["a red circle on the left", "a blue square at the top", "Kids, BEACH & sunset!", "猫"]


@pytest.fixture(scope="module")
def reference_model(tiny_weights: Path) -> tuple[object, object, object]:
    """The tiny model as open_clip itself builds and loads it (random init, then the file)."""
    import open_clip

    open_clip.add_model_config(MODEL_CONFIG_DIR / "lumen-tiny.json")
    model, _, preprocess = open_clip.create_model_and_transforms(
        "lumen-tiny", pretrained=str(tiny_weights)
    )
    model.eval()
    return model, preprocess, open_clip.get_tokenizer("lumen-tiny")


@pytest.fixture(scope="module")
def fresh_embedder(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    return load_embedder("lumen-tiny", tiny_weights, tmp_path_factory.mktemp("cache"), "cpu")


def test_text_only_loading_gives_the_full_models_vectors(
    fresh_embedder: Embedder, reference_model: tuple[object, object, object]
) -> None:
    model, _preprocess, tokenizer = reference_model
    with torch.inference_mode():
        expected = torch.nn.functional.normalize(
            model.encode_text(tokenizer(QUERIES)),  # type: ignore[attr-defined,operator]
            dim=-1,
        ).numpy()
    got = fresh_embedder.encode_texts(QUERIES)
    assert not fresh_embedder.image_tower_loaded  # a query needs no image tower
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_image_tower_loads_on_the_first_image_with_the_full_models_weights(
    fresh_embedder: Embedder, reference_model: tuple[object, object, object]
) -> None:
    model, preprocess, _ = reference_model
    rng = np.random.default_rng(3)
    images = [Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)) for _ in range(3)]
    with torch.inference_mode():
        pixels = torch.stack([preprocess(im) for im in images])  # type: ignore[operator]
        expected = torch.nn.functional.normalize(
            model.encode_image(pixels),  # type: ignore[attr-defined]
            dim=-1,
        ).numpy()
    got = fresh_embedder.encode_images(images)
    assert fresh_embedder.image_tower_loaded
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not any(p.is_meta for p in fresh_embedder.model.parameters())


def test_numpy_encoder_gives_the_models_vectors(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    assert write_manifest(tmp_path, tiny_embedder, tiny_weights)
    fast = load_numpy_text_encoder(tmp_path, "lumen-tiny", tiny_weights, tiny_embedder.space)
    assert fast is not None
    texts = [c.text for c in all_captions()[:20]] + QUERIES
    cosine = np.sum(fast.encode_texts(texts) * tiny_embedder.encode_texts(texts), axis=1)
    assert cosine.min() >= 0.9999


def test_numpy_encoder_is_not_used_once_the_weights_file_changes(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "tiny.safetensors"
    shutil.copy(tiny_weights, weights)
    assert write_manifest(tmp_path, tiny_embedder, weights)
    assert load_numpy_text_encoder(tmp_path, "lumen-tiny", weights, tiny_embedder.space)
    assert load_numpy_text_encoder(tmp_path, "other-model", weights, tiny_embedder.space) is None
    os.utime(weights, ns=(1, 1))  # replaced by another file of the same name
    assert load_numpy_text_encoder(tmp_path, "lumen-tiny", weights, tiny_embedder.space) is None


def test_the_numpy_encoder_is_checked_once_per_weights_file(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each indexing run notes the numpy encoder; probing it loads the text tower (seconds for
    # ViT-B-32), needed only when the weights file is new or changed.
    weights = tmp_path / "tiny.safetensors"
    shutil.copy(tiny_weights, weights)
    assert write_manifest(tmp_path, tiny_embedder, weights)
    probed: list[object] = []
    encode = tiny_embedder.encode_texts
    monkeypatch.setattr(tiny_embedder, "encode_texts", lambda t: probed.append(t) or encode(t))
    assert write_manifest(tmp_path, tiny_embedder, weights)
    assert probed == []
    os.utime(weights, ns=(1, 1))  # replaced by another file of the same name
    assert write_manifest(tmp_path, tiny_embedder, weights)
    assert len(probed) == 1


def _refuse_model(_settings: Settings) -> Embedder:
    raise AssertionError("the model was loaded for a text query")


def test_a_reopened_library_answers_queries_without_loading_the_model(
    indexed_shapes: IndexedShapes, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    # 144 photos indexed once a session (a copy of their library)
    tiny_settings, _shapes = indexed_shapes.copy(tmp_path / "models", seeds=(101, 102))
    with Library.open(tiny_settings, lambda _s: tiny_embedder) as library:
        library.models.embedder()  # loaded, as after the index run that made the library
        before = [library.search(q, k=5) for q in QUERIES]
    assert (tiny_settings.data_dir / MANIFEST_NAME).exists()
    with Library.open(tiny_settings, _refuse_model) as library:
        assert library.warm_queries() == "lumen-tiny"
        assert library.queries_ready  # the window answers by meaning at once
        after = [library.search(q, k=5) for q in QUERIES]
        assert not library.embedder_loaded
    for old, new in zip(before, after, strict=True):
        assert [h.file.path for h in new.hits] == [h.file.path for h in old.hits]
        # (once warm, queries may take float16 weights: vectors within cosine 0.9999)
        np.testing.assert_allclose(
            [h.score for h in new.hits], [h.score for h in old.hits], atol=1e-3
        )


@pytest.mark.slow
def test_cold_search_never_imports_torch(tmp_path: Path, indexed_shapes: IndexedShapes) -> None:
    # A library `lumen index` made: 72 photos indexed once a session (a copy), with its
    # settings saved as `lumen index --model … --weights …` keeps them.
    settings_, shapes = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    settings_.save()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    base = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(settings_.data_dir)]
    probe = (
        "import sys, json; from desktop_app import cli; sys.argv[1:] = json.loads(sys.argv[1]);"
        " code = cli.main(sys.argv[1:]);"
        " print('TORCH', 'torch' in sys.modules, 'open_clip' in sys.modules); sys.exit(code)"
    )
    args = [*base[3:], "search", "a red circle on the left", "--json"]
    proc = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "TORCH False False" in proc.stdout
    found = json.loads(proc.stdout[: proc.stdout.rindex("TORCH")])
    assert shapes[Path(found["results"][0]["path"])] == caption_for_text("a red circle on the left")
