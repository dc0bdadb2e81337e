"""Which extractor reads a file: ``extract`` picks one by file extension (``__init__`` loads
this module, Pillow and every decoder on first use)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, FileKind, Passage
from desktop_app.core.extractors.chatter import quiet_decoder_warnings
from desktop_app.core.extractors.images import IMAGE_EXTENSIONS, extract_image, open_for_display
from desktop_app.core.extractors.limits import file_budget
from desktop_app.core.extractors.pixels import fit_longest
from desktop_app.core.extractors.raw import RAW_EXTENSIONS, extract_raw
from desktop_app.core.extractors.suffixes import (
    DOCUMENT_EXTENSIONS,
    OFFICE_EXTENSIONS,
    PDF_EXTENSIONS,
    TEXT_EXTENSIONS,
)
from desktop_app.core.extractors.video import VIDEO_EXTENSIONS, extract_video, video_frame

if TYPE_CHECKING:
    from desktop_app.core.extractors.ocr import OcrEngine

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = (
    IMAGE_EXTENSIONS | RAW_EXTENSIONS | DOCUMENT_EXTENSIONS | VIDEO_EXTENSIONS
)


def kind_for_path(path: Path) -> FileKind | None:
    """``image``/``document``/``video`` for files Lumen indexes, ``None`` for everything else."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS or suffix in RAW_EXTENSIONS:
        return "image"
    if suffix in DOCUMENT_EXTENSIONS:
        return "document"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return None


# A photo is scanned for text only when OCR is on; it keeps lines with at least this many
# letters and digits in all (a few stray characters read from a texture are not text).
MIN_OCR_LETTERS = 8


def extract(path: Path, image_size: int = 224, ocr: OcrEngine | None = None) -> Extraction:
    """Read one file for indexing; raises ``ExtractionError`` with a readable reason on bad input.

    With ``ocr``, text is also recognised in photos and in scanned PDF pages. Each file has a
    time budget (``limits.FILE_BUDGET_S``); a decoder's own bug on an odd file is reported as
    a plain reason too (with the traceback in the debug log), never as a crash.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, not {image_size}")
    quiet_decoder_warnings()
    with file_budget():
        try:
            return _extract(path, image_size, ocr)
        except (ExtractionError, FileNotFoundError, PermissionError):
            raise
        except MemoryError as exc:
            raise ExtractionError("not enough memory to read this file") from exc
        except Exception as exc:
            log.debug("reading %s failed", path, exc_info=True)
            kind = kind_for_path(path) or "file"
            raise ExtractionError(
                f"Lumen's {kind} reader failed on this file ({type(exc).__name__})"
            ) from exc


def _extract(path: Path, image_size: int, ocr: OcrEngine | None) -> Extraction:
    kind = kind_for_path(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        return extract_raw(path, image_size)
    if kind == "image":
        extraction = extract_image(path, image_size)
        if ocr is not None:
            extraction.passages = _ocr_image(path, ocr)
        return extraction
    if kind == "video":
        return extract_video(path, image_size)
    return _extract_document(path, image_size, ocr)


def _extract_document(path: Path, image_size: int, ocr: OcrEngine | None) -> Extraction:
    # The document readers load with the first document (20-30 ms a run of photos need not pay).
    from desktop_app.core.extractors.embedded import largest_picture
    from desktop_app.core.extractors.office import extract_office
    from desktop_app.core.extractors.pdf import extract_pdf
    from desktop_app.core.extractors.text import extract_text_file

    suffix = path.suffix.lower()
    if suffix in PDF_EXTENSIONS:
        return extract_pdf(path, image_size, ocr)
    # A text or Office file has no layout of its own: its text drawn on a page (what its
    # thumbnail shows) would cost an image-tower pass per file (as much as ~12 passages) for a
    # vector that says "a page of text" of every one of them. Its passages are its vectors.
    if suffix in TEXT_EXTENSIONS:
        return extract_text_file(path)
    if suffix in OFFICE_EXTENSIONS:
        extraction = extract_office(path)
        if not extraction.passages:  # a document of pictures: its largest one is its cover
            extraction.image = largest_picture(path, image_size)
        return extraction
    raise ExtractionError(f"unsupported file type {path.suffix!r}")


def _ocr_image(path: Path, ocr: OcrEngine) -> list[Passage]:
    from desktop_app.core.extractors.ocr import OCR_MAX_SIDE
    from desktop_app.core.extractors.text import clean_text

    picture = open_for_display(path, OCR_MAX_SIDE)
    try:
        text = clean_text(ocr.recognise(picture))
    except ExtractionError as exc:  # the photo is still indexed by its pixels
        log.warning("OCR of %s failed: %s", path, exc)
        return []
    if sum(ch.isalnum() for ch in text) < MIN_OCR_LETTERS:
        return []
    return [Passage(text, source="ocr")]


def document_thumbnail(path: Path, size: int) -> Image.Image:
    """A picture of a document's first page, longest side ``size`` (a ``ThumbnailCache`` renderer).

    PDFs are rendered; other documents show their first lines on a page; a video shows a frame
    a tenth of the way in. Photos open as they are. Raises ``ExtractionError`` like ``extract``.
    """
    from desktop_app.core.extractors.embedded import largest_picture
    from desktop_app.core.extractors.office import extract_office
    from desktop_app.core.extractors.pdf import render_pdf_page
    from desktop_app.core.extractors.render import text_page_image
    from desktop_app.core.extractors.text import extract_text_file

    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return video_frame(path, None, size)
    if suffix in PDF_EXTENSIONS:
        return render_pdf_page(path, size)
    if suffix in TEXT_EXTENSIONS or suffix in OFFICE_EXTENSIONS:
        extraction = extract_text_file(path) if suffix in TEXT_EXTENSIONS else extract_office(path)
        if not extraction.passages and suffix in OFFICE_EXTENSIONS:
            picture = largest_picture(path, size)
            if picture is not None:
                return fit_longest(picture, size)
        text = "\n".join(p.text for p in extraction.passages[:4])
        return text_page_image(text, round(size / 1.414), extraction.title)
    return open_for_display(path, size)
