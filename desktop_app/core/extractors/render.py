"""Pictures of text documents that have no layout of their own: the first lines drawn on a page."""

from __future__ import annotations

import functools
import textwrap

from PIL import Image, ImageDraw, ImageFont

__all__ = ["text_page_image"]

PAGE_RATIO = 1.414  # A4 portrait, height / width
_MAX_CHARS = 3_000  # more than fits on one page at the sizes drawn


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ValueError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def text_page_image(text: str, width: int, title: str | None = None) -> Image.Image:
    """A white A4-shaped RGB page ``width`` pixels wide with ``title`` and the start of ``text``."""
    width = max(int(width), 32)
    height = round(width * PAGE_RATIO)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    margin = max(2, width // 12)
    size = max(4, width // 34)
    columns = max(8, round((width - 2 * margin) / (size * 0.55)))
    y = margin
    if title:
        big = _font(round(size * 1.5))
        for line in textwrap.wrap(title, max(4, columns * 2 // 3))[:3]:
            draw.text((margin, y), line, fill=(20, 20, 20), font=big)
            y += round(size * 2.0)
        y += size
    font = _font(size)
    for paragraph in text[:_MAX_CHARS].split("\n"):
        for line in textwrap.wrap(paragraph, columns) or [""]:
            if y > height - margin - size:
                return page
            draw.text((margin, y), line, fill=(40, 40, 40), font=font)
            y += round(size * 1.35)
    return page
