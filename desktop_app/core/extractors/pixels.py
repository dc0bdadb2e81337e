"""Pixel helpers shared by the picture extractors: any Pillow mode to RGB, resizing, turning."""

from __future__ import annotations

import numpy as np
from PIL import Image

from desktop_app.core.errors import ExtractionError

__all__ = [
    "fit_longest",
    "fit_shortest",
    "oriented",
    "plain",
    "resizable",
    "resized",
    "to_rgb",
]

_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
# Pillow's reduce() (used by resize's reducing_gap) refuses these modes: "image has wrong mode".
_NO_REDUCE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def resizable(image: Image.Image) -> Image.Image:
    """Converts modes that Pillow would resize badly: palette and 1-bit (nearest-neighbour),
    premultiplied alpha (no plain conversion to RGB)."""
    if image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "La":  # Pillow converts premultiplied grey to nothing: read it as LA
        return Image.frombuffer("LA", image.size, image.tobytes(), "raw", "LA", 0, 1)
    if image.mode == "RGBa":
        return image.convert("RGBA")
    return image


def resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` resized to ``size`` (bicubic); works for every mode Pillow opens."""
    if size == image.size:
        return image
    image = resizable(image)  # palette indices must not be averaged
    if image.mode in _NO_REDUCE_MODES:
        return image.resize(size, Image.Resampling.BICUBIC)
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    width, height = image.size
    return resized(image, (max(1, round(width * scale)), max(1, round(height * scale))))


def fit_shortest(image: Image.Image, shortest: int) -> Image.Image:
    """``image`` scaled down (never up) so its shortest side is at most ``shortest``."""
    if min(image.size) <= shortest:
        return image
    return _scaled(image, shortest / min(image.size))


def fit_longest(image: Image.Image, longest: int) -> Image.Image:
    """``image`` scaled down (never up) so its longest side is at most ``longest``."""
    if max(image.size) <= longest:
        return image
    return _scaled(image, longest / max(image.size))


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """Maps 16-bit, 32-bit integer and float greyscale onto 0-255 instead of clipping."""
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        scaled = pixels.astype(np.float32) / 257.0
    elif image.mode == "F" and pixels.size and pixels.min() >= 0.0 and pixels.max() <= 1.0:
        scaled = pixels.astype(np.float32) * 255.0
    else:  # "I" or "F" with an unknown range
        finite = pixels[np.isfinite(pixels)] if image.mode == "F" else pixels
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 0.0
        if image.mode == "I" and low >= 0 and high <= 255:
            scaled = pixels.astype(np.float32)
        elif image.mode == "I" and low >= 0 and high <= 65535:
            scaled = pixels.astype(np.float32) / 257.0
        elif high > low:
            scaled = (pixels.astype(np.float32) - low) * (255.0 / (high - low))
        else:
            scaled = np.zeros(pixels.shape, np.float32)
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def to_rgb(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB (or RGBA when ``keep_alpha`` and the image has transparency), alpha over white."""
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        image = _high_bit_depth_to_l(image)
    image = resizable(image)
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        if keep_alpha:
            return rgba
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise ExtractionError(f"a colour mode Lumen cannot read ({image.mode})") from exc


def oriented(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned as its EXIF Orientation (1-8) says."""
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def plain(image: Image.Image) -> Image.Image:
    """Drops the source's metadata (its EXIF orientation no longer applies to these pixels)."""
    icc_profile = image.info.get("icc_profile")
    image.info = {"icc_profile": icc_profile} if icc_profile else {}
    return image
