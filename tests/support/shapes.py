"""Deterministic synthetic photos of coloured shapes, each with a caption that describes it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 155, 55),
    "blue": (35, 70, 215),
    "yellow": (235, 200, 25),
    "purple": (135, 45, 165),
    "black": (25, 25, 25),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
POSITIONS: tuple[str, ...] = ("left", "right", "top", "bottom")

_PHRASES: dict[str, str] = {
    "left": "on the left",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
}
# Centre of the shape as a fraction of the image's central square.
_CENTRES: dict[str, tuple[float, float]] = {
    "left": (0.28, 0.5),
    "right": (0.72, 0.5),
    "top": (0.5, 0.28),
    "bottom": (0.5, 0.72),
}


@dataclass(frozen=True)
class Caption:
    """What one synthetic photo shows: a coloured shape at a position."""

    colour: str
    shape: str
    position: str

    @property
    def text(self) -> str:
        """The caption in words, e.g. ``"a red circle on the left"``."""
        return f"a {self.colour} {self.shape} {_PHRASES[self.position]}"


def all_captions() -> list[Caption]:
    """All 72 captions (6 colours x 3 shapes x 4 positions) in a fixed order."""
    return [
        Caption(colour, shape, position)
        for colour in COLOURS
        for shape in SHAPES
        for position in POSITIONS
    ]


def caption_for_text(text: str) -> Caption:
    """The caption whose ``.text`` is ``text``; raises ``KeyError`` if there is none."""
    for caption in all_captions():
        if caption.text == text:
            return caption
    raise KeyError(text)


def _jitter(rgb: tuple[int, int, int], rng: random.Random, amount: int) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, c + rng.randint(-amount, amount))) for c in rgb)
    return r, g, b


def _background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A light background with a gentle gradient between four corner colours."""
    base = (rng.randint(215, 245), rng.randint(215, 245), rng.randint(210, 240))
    corners = Image.new("RGB", (2, 2))
    corners.putdata([_jitter(base, rng, 10) for _ in range(4)])
    return corners.resize(size, Image.Resampling.BILINEAR)


def render(caption: Caption, size: tuple[int, int] = (128, 128), seed: int = 0) -> Image.Image:
    """Draw ``caption`` as an RGB image of ``size`` (width, height).

    The same caption, size and seed always give the same pixels; other seeds move and
    resize the shape a little and change the background. Positions are laid out in the
    image's central square, so a centre crop (as CLIP preprocessing does) keeps the shape.
    """
    width, height = size
    if width < 8 or height < 8:
        raise ValueError(f"image too small: {size}")
    rng = random.Random(f"{caption.text}|{seed}")
    image = _background(size, rng)
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    extent = side * rng.uniform(0.34, 0.44)
    fx, fy = _CENTRES[caption.position]
    cx = left + side * (fx + rng.uniform(-0.04, 0.04))
    cy = top + side * (fy + rng.uniform(-0.04, 0.04))
    half = extent / 2
    box = (cx - half, cy - half, cx + half, cy + half)
    fill = _jitter(COLOURS[caption.colour], rng, 15)
    draw = ImageDraw.Draw(image)
    if caption.shape == "circle":
        draw.ellipse(box, fill=fill)
    elif caption.shape == "square":
        draw.rectangle(box, fill=fill)
    elif caption.shape == "triangle":
        draw.polygon([(cx, cy - half), (cx + half, cy + half), (cx - half, cy + half)], fill=fill)
    else:
        raise ValueError(f"unknown shape: {caption.shape}")
    return image
