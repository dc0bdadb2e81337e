"""Registry of the embedding models Lumen supports, with what a user needs to choose one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MODEL_CONFIG_DIR = Path(__file__).parent / "model_configs"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
# The tiny model's tag threshold, measured by `python3 -m benchmarks.bench_tags` (best F0.5).
TINY_TAG_THRESHOLD = 1.0


@dataclass(frozen=True)
class ModelSpec:
    """One selectable model: an open_clip architecture plus the pretrained weights to use."""

    key: str
    architecture: str
    pretrained: str | None
    dim: int
    download_mb: int
    speed: str
    note: str
    licence: str
    hidden: bool = False  # not offered in the GUI (test models)
    # Automatic tags: the labels (None: Lumen's everyday vocabulary, ``tags.everyday_tags``), how
    # each is put to the text tower, and the score a label needs (None: ``tags.TAG_THRESHOLD``).
    tag_words: tuple[str, ...] | None = None
    tag_prompt: str = "a photo of {}."
    tag_threshold: float | None = None
    # What open_clip's table of pretrained weights says of these (``tests/unit/test_models.py``
    # checks they agree), so that loading them needs no ``import open_clip``: where the hub
    # holds them ("owner/repo/" or "owner/repo/file"), whether the model was trained with
    # QuickGELU, and the pixel statistics its pictures are normalised with.
    hf_hub: str | None = None
    quick_gelu: bool = False
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD

    @property
    def config_file(self) -> Path | None:
        """A Lumen-shipped open_clip config for architectures open_clip does not know."""
        path = MODEL_CONFIG_DIR / f"{self.architecture}.json"
        return path if path.exists() else None


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="ViT-B-32/laion2b_s34b_b79k",
            architecture="ViT-B-32",
            pretrained="laion2b_s34b_b79k",
            dim=512,
            download_mb=605,
            speed="fast (≈24 photos/s on 2 CPU cores)",
            note="Default. Good English retrieval (Flickr30k R@1 66.8).",
            licence="MIT",
            hf_hub="laion/CLIP-ViT-B-32-laion2B-s34B-b79K/",
        ),
        ModelSpec(
            key="ViT-B-32/openai",
            architecture="ViT-B-32",
            pretrained="openai",
            dim=512,
            download_mb=605,
            speed="fast",
            note="The original CLIP weights; a little weaker than the LAION ones.",
            licence="MIT",
            hf_hub="timm/vit_base_patch32_clip_224.openai/",
            quick_gelu=True,
        ),
        ModelSpec(
            key="ViT-B-16/laion2b_s34b_b88k",
            architecture="ViT-B-16",
            pretrained="laion2b_s34b_b88k",
            dim=512,
            download_mb=599,
            speed="medium (≈4× slower than ViT-B-32)",
            note="Finer detail; better on small objects and text in photos.",
            licence="MIT",
            hf_hub="laion/CLIP-ViT-B-16-laion2B-s34B-b88K/",
        ),
        ModelSpec(
            key="ViT-L-14/laion2b_s32b_b82k",
            architecture="ViT-L-14",
            pretrained="laion2b_s32b_b82k",
            dim=768,
            download_mb=1710,
            speed="slow on CPU; use with a GPU",
            note="Best quality of these; large download.",
            licence="MIT",
            hf_hub="laion/CLIP-ViT-L-14-laion2B-s32B-b82K/",
            mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5),
        ),
        ModelSpec(
            key="xlm-roberta-base-ViT-B-32/laion5b_s13b_b90k",
            architecture="xlm-roberta-base-ViT-B-32",
            pretrained="laion5b_s13b_b90k",
            dim=512,
            download_mb=1470,
            speed="fast images, slower queries",
            note="Multilingual: understands queries in many languages (Chinese, German, …). "
            "Needs transformers (pip install 'lumen-search[multilingual]'); its tokenizer is fetched once.",
            licence="MIT",
            hf_hub="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k/",
        ),
        ModelSpec(
            key="lumen-tiny",
            architecture="lumen-tiny",
            pretrained=None,
            dim=64,
            download_mb=0,
            speed="instant",
            note="A tiny model trained on coloured shapes, for tests and demos only.",
            licence="MIT",
            hidden=True,
            # It knows only colours and shapes: everyday words are noise to it.
            tag_words=(
                *("red", "green", "blue", "yellow", "purple", "black"),
                *("circle", "square", "triangle"),
            ),
            tag_prompt="{}",
            tag_threshold=TINY_TAG_THRESHOLD,
        ),
    )
}

DEFAULT_MODEL = "ViT-B-32/laion2b_s34b_b79k"


def get_model_spec(key: str) -> ModelSpec:
    """The spec registered under ``key`` (``ARCH/PRETRAINED`` or a bare architecture with --weights)."""
    if key in MODELS:
        return MODELS[key]
    # Any other open_clip architecture/tag pair is allowed; its dim is read from the model.
    architecture, _, pretrained = key.partition("/")
    return ModelSpec(
        key=key,
        architecture=architecture,
        pretrained=pretrained or None,
        dim=0,
        download_mb=0,
        speed="unknown",
        note="Not in Lumen's list of tested models.",
        licence="see the model card",
        hidden=True,
    )
