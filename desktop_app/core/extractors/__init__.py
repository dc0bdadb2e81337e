"""One extractor per kind of file; ``extract`` picks the right one by file extension.

The readers (Pillow, its plugins, the PDF, Office and video decoders) load on the first call,
from ``dispatch``: a module that needs only a small part of this package (``chatter``, ``gps``)
or only imports its names does not pay for them (a `lumen search` reads no file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, FileKind, Passage

if TYPE_CHECKING:
    from PIL import Image

    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Extraction",
    "ExtractionError",
    "FileKind",
    "Passage",
    "document_thumbnail",
    "extract",
    "kind_for_path",
]


def kind_for_path(path: Path) -> FileKind | None:
    """``image``/``document``/``video`` for files Lumen indexes, ``None`` for everything else."""
    from desktop_app.core.extractors import dispatch

    return dispatch.kind_for_path(path)


def extract(path: Path, image_size: int = 224, ocr: OcrEngine | None = None) -> Extraction:
    """Read one file for indexing; raises ``ExtractionError`` with a readable reason on bad input
    (see ``dispatch.extract``)."""
    from desktop_app.core.extractors import dispatch

    return dispatch.extract(path, image_size, ocr)


def document_thumbnail(path: Path, size: int) -> Image.Image:
    """A picture of a document's first page, longest side ``size`` (see
    ``dispatch.document_thumbnail``)."""
    from desktop_app.core.extractors import dispatch

    return dispatch.document_thumbnail(path, size)


def __getattr__(name: str) -> frozenset[str]:
    if name == "SUPPORTED_EXTENSIONS":  # every extension Lumen reads (Pillow's plugins asked)
        from desktop_app.core.extractors import dispatch

        return dispatch.SUPPORTED_EXTENSIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
