"""The lumen-tiny test model loads through open_clip and really retrieves shapes by caption."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import open_clip
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests.support import shapes

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "desktop_app" / "core" / "model_configs" / "lumen-tiny.json"
WEIGHTS = ROOT / "tests" / "fixtures" / "lumen-tiny.safetensors"
# Measured 1.0 on fresh images when the fixture was trained; leave room for torch drift.
RECALL_FLOOR = 0.95


@dataclass(frozen=True)
class Tiny:
    """The fixture model with its preprocess and tokenizer."""

    model: open_clip.CLIP
    preprocess: Callable[[Image.Image], torch.Tensor]
    tokenizer: Callable[[list[str]], torch.Tensor]


@pytest.fixture(scope="module")
def tiny() -> Tiny:
    """The fixture model, its preprocess and its tokenizer, created as the app does."""
    assert WEIGHTS.exists(), f"missing {WEIGHTS}; run: python3 scripts/train_tiny_model.py"
    open_clip.add_model_config(CONFIG)
    model, _, preprocess = open_clip.create_model_and_transforms(
        "lumen-tiny", pretrained=str(WEIGHTS)
    )
    model.eval()
    return Tiny(model, preprocess, open_clip.get_tokenizer("lumen-tiny"))


def test_tokenizer_uses_the_configured_context(tiny: Tiny) -> None:
    assert tiny.tokenizer(["a red circle on the left"]).shape == (1, 16)


def test_text_to_image_recall_on_fresh_images(tiny: Tiny) -> None:
    captions = shapes.all_captions()
    sizes = [(320, 240), (128, 128), (90, 150), (200, 200)]
    images = torch.stack(
        [
            tiny.preprocess(shapes.render(c, size=sizes[i % len(sizes)], seed=5_000_000 + i))
            for i, c in enumerate(captions)
        ]
    )
    with torch.no_grad():
        tokens = tiny.tokenizer([c.text for c in captions])
        text = F.normalize(tiny.model.encode_text(tokens), dim=-1)
        image = F.normalize(tiny.model.encode_image(images), dim=-1)
    assert text.shape == (72, 64)
    best = (text @ image.T).argmax(dim=1)
    recall = float((best == torch.arange(len(captions))).float().mean())
    misses = [captions[i].text for i in range(len(captions)) if best[i] != i]
    assert recall >= RECALL_FLOOR, f"text->image recall@1 {recall:.3f}; missed {misses}"
