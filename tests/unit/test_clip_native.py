"""Lumen's own CLIP (core/clip_native.py): open_clip's vectors without importing open_clip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from desktop_app.core.embedding.clip_native import (
    ClipPreprocess,
    native_shape,
    open_clip_config_path,
    plain_clip_shape,
)
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.models import MODELS, get_model_spec

REPO = Path(__file__).resolve().parents[2]
PICTURE_SIZES = [(400, 300), (240, 500), (224, 224), (90, 31), (5, 300), (1, 1)]
TEXTS = ["a", "a red circle on the left", "Invoice 2023-0147 from Müller & Söhne!", "日本の猫"]


def _pictures(seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in PICTURE_SIZES
    ]


def _open_clip_reference(config: Path, weights: Path, quick_gelu: bool) -> tuple[Any, Any]:
    """The model as open_clip builds it (random init, then the file), and its tokenizer."""
    import open_clip

    open_clip.add_model_config(config)
    model = open_clip.create_model(
        config.stem, pretrained=str(weights), force_quick_gelu=quick_gelu
    )
    model.eval()
    return model, open_clip.get_tokenizer(config.stem)


def _random_weights(tmp_path: Path, quick_gelu: bool) -> tuple[Path, Path]:
    """A small plain CLIP of another shape than the tiny model (wider heads, 48-px pictures,
    patch 16), saved in half precision the way open_clip's own files are."""
    import open_clip
    from safetensors.torch import save_file

    config = tmp_path / "lumen-test-odd.json"
    config.write_text(
        json.dumps(
            {
                "embed_dim": 48,
                "quick_gelu": quick_gelu,
                "vision_cfg": {"image_size": 48, "layers": 3, "width": 96, "patch_size": 16},
                "text_cfg": {
                    "context_length": 20,
                    "vocab_size": 49408,
                    "width": 64,
                    "heads": 2,
                    "layers": 2,
                },
            }
        )
    )
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("lumen-test-odd", force_quick_gelu=quick_gelu)
    weights = tmp_path / "odd.safetensors"
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(weights))
    return config, weights


def _assert_same_vectors(
    embedder: Embedder, reference: Any, tokenizer: Any, pictures: torch.Tensor
) -> None:
    """The embedder's image and text vectors are open_clip's (cosine 1 to float precision)."""
    with torch.inference_mode():
        images = torch.nn.functional.normalize(reference.encode_image(pictures), dim=-1)
        texts = torch.nn.functional.normalize(reference.encode_text(tokenizer(TEXTS)), dim=-1)
    assert np.sum(embedder.encode_prepared(pictures) * images.numpy(), axis=1).min() > 0.99999
    assert np.sum(embedder.encode_texts(TEXTS) * texts.numpy(), axis=1).min() > 0.99999


def test_the_tiny_models_vectors_are_open_clips(tiny_weights: Path, tmp_path: Path) -> None:
    embedder = load_embedder("lumen-tiny", tiny_weights, tmp_path, "cpu")
    assert type(embedder.model).__module__ == "desktop_app.core.embedding.clip_native"
    spec = get_model_spec("lumen-tiny")
    assert spec.config_file is not None
    reference, tokenizer = _open_clip_reference(spec.config_file, tiny_weights, False)
    import open_clip

    _, _, preprocess = open_clip.create_model_and_transforms("lumen-tiny")
    pictures = _pictures()
    mine = torch.stack([embedder.prepare_image(p) for p in pictures])
    theirs = torch.stack([preprocess(p) for p in pictures])
    assert torch.equal(mine, theirs)
    _assert_same_vectors(embedder, reference, tokenizer, mine)


@pytest.mark.parametrize("quick_gelu", [False, True])
def test_another_shape_in_half_precision_gives_open_clips_vectors(
    tmp_path: Path, quick_gelu: bool
) -> None:
    from desktop_app.core.embedding.clip_native import build_clip

    config, weights = _random_weights(tmp_path, quick_gelu)
    shape = plain_clip_shape(config, quick_gelu=False)
    assert shape is not None and shape.quick_gelu == quick_gelu and shape.vision_heads == 96 // 64
    built = build_clip(shape, weights)
    assert built is not None
    model, towers = built
    from desktop_app.core.embedding.clip_native import ClipTokens

    spec = get_model_spec("lumen-test-odd")
    embedder = Embedder(
        model,
        ClipPreprocess(shape.image_size),
        ClipTokens(shape.context_length),
        spec,
        "cpu",
        "test",
        weights,
        towers.load_image,
        towers,
    )
    reference, tokenizer = _open_clip_reference(config, weights, quick_gelu)
    pictures = torch.stack([embedder.prepare_image(p) for p in _pictures(1)])
    _assert_same_vectors(embedder, reference, tokenizer, pictures)


def test_the_text_tower_lets_go_of_its_weights_and_comes_back_the_same(
    tiny_weights: Path, tmp_path: Path
) -> None:
    embedder = load_embedder("lumen-tiny", tiny_weights, tmp_path, "cpu")
    before = embedder.encode_texts(TEXTS)
    embedder.release_text_tower()
    assert embedder.model.transformer.resblocks[0].mlp.c_fc.weight.is_meta
    assert embedder.model.token_embedding.weight.is_meta
    assert not embedder.model.visual.conv1.weight.is_meta or not embedder.image_tower_loaded
    np.testing.assert_allclose(embedder.encode_texts(TEXTS), before, atol=1e-6)


def test_releasing_the_text_tower_keeps_an_int8_image_tower(
    tiny_weights: Path, tmp_path: Path
) -> None:
    embedder = load_embedder("lumen-tiny", tiny_weights, tmp_path, "cpu", int8=True)
    pictures = torch.stack([embedder.prepare_image(p) for p in _pictures(2)])
    images = embedder.encode_prepared(pictures)
    embedder.encode_texts(TEXTS)
    embedder.release_text_tower()
    np.testing.assert_allclose(embedder.encode_prepared(pictures), images, atol=1e-6)


@pytest.mark.parametrize(
    ("mean", "std"),
    [
        ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
        ((0.5,) * 3, (0.5,) * 3),
    ],
)
def test_preprocessing_is_open_clips_for_any_picture_shape(
    mean: tuple[float, ...], std: tuple[float, ...]
) -> None:
    from open_clip.transform import PreprocessCfg, image_transform_v2

    theirs = image_transform_v2(
        PreprocessCfg(
            size=224, mean=mean, std=std, interpolation="bicubic", resize_mode="shortest"
        ),
        is_train=False,
    )
    mine = ClipPreprocess(224, mean, std)
    for picture in [*_pictures(3), _pictures(4)[0].convert("L"), _pictures(5)[1].convert("RGBA")]:
        assert torch.equal(mine(picture), theirs(picture)), picture.size


def test_the_registered_models_facts_are_open_clips() -> None:
    import open_clip

    for spec in MODELS.values():
        if spec.pretrained is None:
            continue
        cfg = open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained)
        assert spec.hf_hub == cfg["hf_hub"], spec.key
        assert spec.quick_gelu == bool(cfg.get("quick_gelu", False)), spec.key
        assert spec.mean == tuple(cfg["mean"]) and spec.std == tuple(cfg["std"]), spec.key
        assert (cfg.get("interpolation"), cfg.get("resize_mode")) == ("bicubic", "shortest")


def test_only_the_plain_architecture_is_built_without_open_clip(tmp_path: Path) -> None:
    plain = native_shape(get_model_spec("ViT-B-32/laion2b_s34b_b79k"))
    assert plain is not None
    assert (plain.embed_dim, plain.vision_width, plain.vision_heads, plain.patch_size) == (
        512,
        768,
        12,
        32,
    )
    openai = native_shape(get_model_spec("ViT-B-32/openai"))
    assert openai is not None and openai.quick_gelu
    assert native_shape(get_model_spec("xlm-roberta-base-ViT-B-32/laion5b_s13b_b90k")) is None
    assert native_shape(get_model_spec("ViT-B-32/some_tag_lumen_does_not_list")) is None
    layer_scale = open_clip_config_path("ViT-B-32")
    assert layer_scale is not None
    cfg = json.loads(layer_scale.read_text())
    cfg["vision_cfg"]["ls_init_value"] = 1e-5
    odd = tmp_path / "ViT-B-32-layer-scale.json"
    odd.write_text(json.dumps(cfg))
    assert plain_clip_shape(odd, False) is None


def test_a_weights_file_of_another_shape_falls_back_to_open_clip(
    tiny_weights: Path, tmp_path: Path
) -> None:
    """Weights whose tensors are not the configuration's: open_clip's loader is asked, and its
    clear message reaches the user."""
    from safetensors.torch import load_file, save_file

    from desktop_app.core.errors import ModelUnavailableError

    tensors = load_file(str(tiny_weights))
    tensors["visual.proj"] = torch.zeros(3, 3)
    odd = tmp_path / "odd.safetensors"
    save_file(tensors, str(odd))
    with pytest.raises(ModelUnavailableError, match="could not be loaded as lumen-tiny"):
        load_embedder("lumen-tiny", odd, tmp_path, "cpu")


def test_indexing_and_encoding_never_import_open_clip(tmp_path: Path, tiny_weights: Path) -> None:
    """Loading the model, embedding a photo and a text: torch alone (no open_clip, torchvision,
    or torch's compiler stack: seconds and hundreds of MB of a fresh process)."""
    script = f"""
import sys
from pathlib import Path
from PIL import Image
from desktop_app.core.embedding.embedder import Embedder, load_embedder
e = load_embedder("lumen-tiny", Path({str(tiny_weights)!r}), Path({str(tmp_path)!r}), "cpu")
e.encode_images([Image.new("RGB", (64, 48), "red")])
e.encode_texts(["a red circle"])
heavy = [m for m in ("open_clip", "torchvision", "torch._dynamo", "transformers", "timm") if m in sys.modules]
print("heavy:", heavy)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "heavy: []" in out, out


def test_a_weights_file_gone_before_the_text_tower_comes_back_is_reported(
    tiny_weights: Path, tmp_path: Path
) -> None:
    from desktop_app.core.errors import ModelUnavailableError

    own = tmp_path / "tiny.safetensors"
    own.write_bytes(tiny_weights.read_bytes())
    embedder = load_embedder("lumen-tiny", own, tmp_path, "cpu")
    embedder.encode_texts(TEXTS)
    embedder.release_text_tower()
    own.unlink()
    with pytest.raises(ModelUnavailableError, match="could not be read again"):
        embedder.encode_texts(TEXTS)
