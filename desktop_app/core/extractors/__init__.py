"""One extractor per kind of file; ``extract`` picks the right one by file extension."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, FileKind, Passage
from desktop_app.core.extractors.images import IMAGE_EXTENSIONS, extract_image

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Extraction",
    "ExtractionError",
    "FileKind",
    "Passage",
    "extract",
    "kind_for_path",
]

DOCUMENT_EXTENSIONS: frozenset[str] = frozenset()

SUPPORTED_EXTENSIONS: frozenset[str] = IMAGE_EXTENSIONS | DOCUMENT_EXTENSIONS


def kind_for_path(path: Path) -> FileKind | None:
    """``image``/``document`` for files Lumen indexes, ``None`` for everything else."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in DOCUMENT_EXTENSIONS:
        return "document"
    return None


def extract(path: Path, image_size: int = 224) -> Extraction:
    """Read one file for indexing; raises ``ExtractionError`` with a readable reason on bad input."""
    kind = kind_for_path(path)
    if kind == "image":
        return extract_image(path, image_size)
    raise ExtractionError(f"unsupported file type {path.suffix!r}")
