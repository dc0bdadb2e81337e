"""What an extractor returns for one file: pixels and/or text passages, plus metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import Image

FileKind = Literal["image", "document", "video"]


@dataclass
class Passage:
    """A piece of a file's text (a page, a slide, a block of a text file), with where it came from.

    Extractors know nothing of the model; the pipeline splits passages to fit the text encoder.
    """

    text: str
    page: int | None = None  # 1-based page number where the format has pages
    source: Literal["text", "ocr", "title"] = "text"


@dataclass(frozen=True)
class VideoFrame:
    """One frame of a video kept for indexing, upright, and where it is (seconds from the start)."""

    image: Image.Image
    at_s: float


@dataclass
class Extraction:
    """Everything Lumen indexes from one file.

    ``image`` is what the image tower embeds: the photo itself, or a document's first page
    rendered. ``passages`` are embedded with the text tower (documents, text found by OCR).
    A video has no ``image`` but ``frames``, each embedded with the image tower.
    """

    kind: FileKind
    image: Image.Image | None = None
    passages: list[Passage] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    camera: str | None = None
    title: str | None = None
    page_count: int | None = None
    frames: list[VideoFrame] = field(default_factory=list)
    duration_s: float | None = None
