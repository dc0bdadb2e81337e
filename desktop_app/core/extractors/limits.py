"""What one file may cost: pixels per decode or render, one large decode at a time, and time.

Native decoders cannot be interrupted, so the time budget is checked between steps (pages,
frames, pictures); each step is itself bounded by the pixel caps below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from desktop_app.core.errors import ExtractionError

__all__ = [
    "FILE_BUDGET_S",
    "LARGE_DECODE_BYTES",
    "MAX_DECODE_BYTES",
    "MAX_RENDER_PIXELS",
    "check_time",
    "decode_lane",
    "file_budget",
    "render_scale",
]

# Seconds one file may take to read; checked between pages, frames and embedded pictures.
FILE_BUDGET_S = 30.0
# A render of vector content (a PDF page) never has more pixels than this (≈ 100 MB RGBA).
MAX_RENDER_PIXELS = 25_000_000
# Decoded size (bytes of pixels at the decoder's draft size) above which a picture is refused:
# an 80-megapixel PNG or TIFF (JPEGs decode at a fraction of their size). With ViT-B-32 loaded
# (~1.1 GB) one such decode keeps the process within 1.5 GB.
MAX_DECODE_BYTES = 320_000_000
# Decodes larger than this (8 megapixels of RGB) take turns: one at a time in the process, so
# several decoding threads never hold several large pictures at once.
LARGE_DECODE_BYTES = 32_000_000

_LARGE_LANE = threading.RLock()  # a retry inside a large decode takes it again
_state = threading.local()


@contextmanager
def file_budget(seconds: float = FILE_BUDGET_S) -> Iterator[None]:
    """Starts the time budget of the file read on this thread (nested budgets keep the outer)."""
    outer = getattr(_state, "deadline", None)
    if outer is None:
        _state.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        if outer is None:
            _state.deadline = None


def check_time() -> None:
    """Raises ``ExtractionError`` once the file read on this thread has used up its budget."""
    deadline: float | None = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise ExtractionError(f"took longer than {FILE_BUDGET_S:g} s to read; skipped")


@contextmanager
def decode_lane(decoded_bytes: int) -> Iterator[None]:
    """Refuses decodes over ``MAX_DECODE_BYTES``; runs those over ``LARGE_DECODE_BYTES`` one
    at a time, so several decoding threads never hold several huge pictures at once."""
    if decoded_bytes > MAX_DECODE_BYTES:
        raise ExtractionError(
            f"image is too large to decode ({decoded_bytes / 1e6:.0f} MB of pixels, "
            f"limit {MAX_DECODE_BYTES / 1e6:.0f} MB)"
        )
    if decoded_bytes <= LARGE_DECODE_BYTES:
        yield
        return
    with _LARGE_LANE:
        yield


def render_scale(width: float, height: float, scale: float, min_short: int = 8) -> float:
    """``scale`` lowered so a ``width`` × ``height`` area renders within ``MAX_RENDER_PIXELS``;
    raises ``ExtractionError`` when that leaves its short side under ``min_short`` pixels."""
    width, height = max(width, 1e-6), max(height, 1e-6)
    pixels = width * height * scale * scale
    if pixels > MAX_RENDER_PIXELS:
        scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
    if min(width, height) * scale < min_short or max(width, height) * scale > 65_000:
        raise ExtractionError(f"too large to render ({width:.0f} × {height:.0f} points)")
    return scale
