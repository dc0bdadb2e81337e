"""Train the tiny ``lumen-tiny`` CLIP on synthetic shape photos and save it as a test fixture.

Run from the repository root::

    python3 scripts/train_tiny_model.py

Images go through the same ``preprocess`` that open_clip returns for inference, so the
fixture behaves in the app as it did here. Everything is seeded: the same command gives
the same weights (on the same torch build).
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import shapes  # noqa: E402

CONFIG_PATH = ROOT / "desktop_app" / "core" / "model_configs" / "lumen-tiny.json"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "lumen-tiny.safetensors"
ARCH = "lumen-tiny"
EVAL_SEED_BASE = 1_000_000_000  # training seeds stay far below this

Preprocess = Callable[[Image.Image], torch.Tensor]


@dataclass(frozen=True)
class Metrics:
    """Retrieval quality on fresh-seed images (never seen in training)."""

    text_to_image_train: float
    text_to_image_heldout: float
    image_to_image: float
    max_caption_cosine: float
    min_margin: float


def random_size(rng: random.Random, largest: int = 160) -> tuple[int, int]:
    """A photo size between 64 and ``largest`` px a side; half of them non-square."""
    width = rng.randint(64, largest)
    height = width if rng.random() < 0.5 else rng.randint(64, largest)
    return width, height


def photo(
    caption: shapes.Caption, seed: int, rng: random.Random, largest: int = 160
) -> Image.Image:
    """A rendered photo of ``caption`` at a random size, sometimes round-tripped through JPEG."""
    image = shapes.render(caption, size=random_size(rng, largest), seed=seed)
    if rng.random() < 0.5:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(70, 95))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return image


def image_batch(
    captions: Sequence[shapes.Caption],
    seeds: Sequence[int],
    preprocess: Preprocess,
    rng: random.Random,
    largest: int = 160,
) -> torch.Tensor:
    """Preprocessed photos, one per (caption, seed) pair, stacked as a batch."""
    pairs = zip(captions, seeds, strict=True)
    return torch.stack([preprocess(photo(c, s, rng, largest)) for c, s in pairs])


@torch.no_grad()
def encode_texts(model: open_clip.CLIP, tokens: torch.Tensor) -> torch.Tensor:
    """L2-normalised text embeddings."""
    return F.normalize(model.encode_text(tokens), dim=-1)


@torch.no_grad()
def encode_images(model: open_clip.CLIP, images: torch.Tensor) -> torch.Tensor:
    """L2-normalised image embeddings."""
    return F.normalize(model.encode_image(images), dim=-1)


def evaluate(
    model: open_clip.CLIP,
    preprocess: Preprocess,
    tokenizer: Callable[[list[str]], torch.Tensor],
    captions: list[shapes.Caption],
    heldout: set[shapes.Caption],
) -> Metrics:
    """Recall@1 for text->image (per split) and image->image over all captions."""
    model.eval()
    rng = random.Random(12345)
    n = len(captions)
    text = encode_texts(model, tokenizer([c.text for c in captions]))
    # Three fresh images per caption (one query, two gallery), up to 400 px: larger than
    # anything seen in training.
    views = [
        encode_images(
            model,
            image_batch(
                captions,
                [EVAL_SEED_BASE + k * n + i for i in range(n)],
                preprocess,
                rng,
                largest=400,
            ),
        )
        for k in range(3)
    ]
    # text -> image: gallery is one image per caption, all 72 captions.
    best = (text @ views[0].T).argmax(dim=1)
    hits = [bool(best[i] == i) for i in range(n)]
    train_idx = [i for i, c in enumerate(captions) if c not in heldout]
    held_idx = [i for i, c in enumerate(captions) if c in heldout]
    # image -> image: queries are views[0]; gallery is views[1] and views[2] (other images).
    gallery = torch.cat([views[1], views[2]])
    gallery_label = torch.arange(n).repeat(2)
    nearest = gallery_label[(views[0] @ gallery.T).argmax(dim=1)]
    sims = text @ text.T - 2 * torch.eye(n)
    # For each image: cosine to its own caption minus the best cosine to any other caption.
    image_text = torch.cat(views) @ text.T
    own = torch.arange(n).repeat(3)
    right = image_text[torch.arange(3 * n), own]
    image_text[torch.arange(3 * n), own] = -2
    margin = float((right - image_text.max(dim=1).values).min())
    model.train()
    return Metrics(
        text_to_image_train=sum(hits[i] for i in train_idx) / max(1, len(train_idx)),
        text_to_image_heldout=sum(hits[i] for i in held_idx) / max(1, len(held_idx)),
        image_to_image=float((nearest == torch.arange(n)).float().mean()),
        max_caption_cosine=float(sims.max()),
        min_margin=margin,
    )


def train(
    model: open_clip.CLIP,
    preprocess: Preprocess,
    tokenizer: Callable[[list[str]], torch.Tensor],
    train_captions: list[shapes.Caption],
    epochs: int,
    rounds: int,
    seed: int,
    lr: float,
    logit_scale: float,
    text_spread: float,
) -> None:
    """Contrastive training: each step is one fresh photo of every training caption."""
    rng = random.Random(seed)
    tokens = tokenizer([c.text for c in train_captions])
    n = len(train_captions)
    # The 49408-row token table is mostly unused here; freezing it keeps each step cheap.
    # The few rows the captions use stay random (but distinct), and the layers learn to read them.
    model.token_embedding.weight.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    total = epochs * rounds
    warmup = max(1, total // 20)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    labels = torch.arange(n)
    with torch.no_grad():  # a colder start than CLIP's 1/0.07 spreads the captions further apart
        model.logit_scale.fill_(math.log(logit_scale))
    model.train()
    step = 0
    started = time.perf_counter()
    for epoch in range(epochs):
        for _ in range(rounds):
            order = rng.sample(range(n), n)
            seeds = [step * n + i for i in range(n)]  # fresh every step, below EVAL_SEED_BASE
            images = image_batch([train_captions[i] for i in order], seeds, preprocess, rng)
            image_features = F.normalize(model.encode_image(images), dim=-1)
            text_features = F.normalize(model.encode_text(tokens[order]), dim=-1)
            logits = model.logit_scale.exp() * image_features @ text_features.T
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
            if text_spread:  # push different captions apart, not only towards their images
                text_logits = model.logit_scale.exp() * text_features @ text_features.T
                loss = loss + text_spread * F.cross_entropy(text_logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            scheduler.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            step += 1
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(
                f"epoch {epoch:4d}  loss {loss.item():.4f}  "
                f"scale {model.logit_scale.exp().item():5.1f}  "
                f"{time.perf_counter() - started:6.1f} s",
                flush=True,
            )


def pick_heldout(captions: list[shapes.Caption], count: int, seed: int) -> set[shapes.Caption]:
    """``count`` captions kept out of training, chosen reproducibly."""
    return set(random.Random(seed).sample(captions, count)) if count else set()


def main(argv: list[str] | None = None) -> int:
    """Train, report, and write the fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=10, help="steps per epoch")
    parser.add_argument("--holdout", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--logit-scale", type=float, default=30.0, help="initial value")
    parser.add_argument(
        "--text-spread",
        type=float,
        default=0.5,
        help="weight of the caption-vs-caption separation loss",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    open_clip.add_model_config(CONFIG_PATH)
    model, _, preprocess = open_clip.create_model_and_transforms(ARCH)
    tokenizer = open_clip.get_tokenizer(ARCH)

    captions = shapes.all_captions()
    heldout = pick_heldout(captions, args.holdout, args.seed)
    train_captions = [c for c in captions if c not in heldout]
    print(f"held out: {sorted(c.text for c in heldout)}")

    started = time.perf_counter()
    train(
        model,
        preprocess,
        tokenizer,
        train_captions,
        args.epochs,
        args.rounds,
        args.seed,
        args.lr,
        args.logit_scale,
        args.text_spread,
    )
    elapsed = time.perf_counter() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(args.out))

    # Reload exactly as the app does, so the figures describe the saved fp16 file.
    loaded, _, preprocess = open_clip.create_model_and_transforms(ARCH, pretrained=str(args.out))
    metrics = evaluate(loaded, preprocess, tokenizer, captions, heldout)
    print(f"training time: {elapsed:.1f} s")
    print(
        f"text->image recall@1, training captions ({len(train_captions)}): "
        f"{metrics.text_to_image_train:.3f}"
    )
    print(
        f"text->image recall@1, held-out captions ({len(heldout)}): "
        f"{metrics.text_to_image_heldout:.3f}"
    )
    print(f"image->image recall@1 (72 queries, gallery 144): {metrics.image_to_image:.3f}")
    print(f"max cosine between two different captions: {metrics.max_caption_cosine:.3f}")
    print(
        f"smallest text margin over 216 images (own caption minus best other): "
        f"{metrics.min_margin:.3f}"
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
