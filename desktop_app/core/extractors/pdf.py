"""PDF (pypdfium2): the text layer page by page, the first page rendered, OCR for scanned pages."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, Passage
from desktop_app.core.extractors.files import readable_file
from desktop_app.core.extractors.limits import check_time, render_scale
from desktop_app.core.extractors.suffixes import PDF_EXTENSIONS
from desktop_app.core.extractors.text import MAX_TEXT_CHARS, clean_text

if TYPE_CHECKING:
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = ["PDF_EXTENSIONS", "extract_pdf", "render_pdf_page"]

log = logging.getLogger(__name__)


# Pages read for their text layer (the text itself is capped by MAX_TEXT_CHARS too).
MAX_PAGES = 5_000
# Scanned pages recognised by OCR per file: at ~1–3 s a page on two CPU cores, a 300-page scan
# would hold the indexer for ten minutes; its first pages (and its rendered cover) must do.
MAX_OCR_PAGES = 30
# A page with fewer letters and digits than this in its text layer is treated as a scan.
MIN_TEXT_LAYER_CHARS = 16
# Longest side of a page rendered for OCR (≈190 dpi for A4).
OCR_RENDER_SIDE = 2_000
# The first page is rendered with its shortest side this factor above the model's input size.
_EMBED_HEADROOM = 1.15

# PDFium is not thread-safe, not even across documents: every call into it holds this lock.
# (The indexer reads files on a thread pool.) OCR runs outside it.
_PDFIUM_LOCK = threading.Lock()


def _open(path: Path) -> Any:
    """Opens a PDF (call with the lock held); raises ``ExtractionError`` with a clear reason.

    The document is loaded here rather than by ``PdfDocument(path)``: PDFium's last-error code
    is only set when loading fails and is never reset, so pypdfium2 reads a stale code (another
    file's reason) for a document that loads but has no pages.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    readable_file(path)
    raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
    if not raw:
        raise _refusal(int(pdfium_c.FPDF_GetLastError()))
    document = pdfium.PdfDocument(raw)
    if len(document) < 1:
        document.close()
        raise ExtractionError("PDF has no pages")
    return document


def _refusal(code: int) -> ExtractionError:
    """What PDFium's load error means for the user: encrypted, unreadable, or damaged."""
    import pypdfium2.raw as pdfium_c

    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return ExtractionError("password-protected PDF: Lumen cannot read it without the password")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return ExtractionError(
            "encrypted PDF of a kind Lumen cannot open (an unsupported security handler, e.g. DRM)"
        )
    if code == pdfium_c.FPDF_ERR_FILE:
        return ExtractionError("cannot read file: PDFium could not open it")
    if code == pdfium_c.FPDF_ERR_FORMAT:
        return ExtractionError("damaged PDF, or not a PDF (its structure cannot be read)")
    return ExtractionError("damaged PDF (PDFium cannot read it)")


def _damaged_page(exc: Exception) -> ExtractionError:
    log.debug("PDF page failed", exc_info=exc)
    return ExtractionError("damaged PDF (a page cannot be read)")


def _page_too_large(width: float, height: float) -> ExtractionError:
    return ExtractionError(f"page too large to render ({width:.0f} × {height:.0f} points)")


def _render(page: Any, scale: float, min_short: int = 8) -> Image.Image:
    """The page rendered at ``scale`` (lowered to stay within the render pixel cap)."""
    width, height = page.get_size()
    try:
        scale = render_scale(width, height, scale, min_short)
    except ExtractionError as exc:
        raise _page_too_large(width, height) from exc
    bitmap = page.render(scale=scale, may_draw_forms=True)
    try:
        picture: Image.Image = bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()
    return picture


def _page_text(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        text: str = textpage.get_text_range()
    finally:
        textpage.close()
    return clean_text(text)


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def _title(document: Any) -> str | None:
    try:
        title = str(document.get_metadata_dict().get("Title") or "")
    except Exception:  # metadata of broken files is optional
        return None
    return " ".join(title.split()) or None


def _cover(page: Any, image_size: int) -> tuple[Image.Image | None, ExtractionError | None]:
    """The first page rendered for the image tower, or why it cannot be (a page too large)."""
    width, height = page.get_size()
    try:
        return _render(page, image_size * _EMBED_HEADROOM / max(1.0, min(width, height))), None
    except ExtractionError as exc:  # the text may still be indexed
        return None, exc


def _read_pages(document: Any, image_size: int) -> tuple[Any, list[Passage], list[int]]:
    """The cover (or why there is none), each page's text layer, and the pages without one."""
    passages: list[Passage] = []
    scanned: list[int] = []
    cover: tuple[Image.Image | None, ExtractionError | None] = (None, None)
    total = 0
    for index in range(min(len(document), MAX_PAGES)):
        check_time()
        page = document[index]
        try:
            if index == 0:
                cover = _cover(page, image_size)
            if total >= MAX_TEXT_CHARS:
                continue
            text = _page_text(page)[: MAX_TEXT_CHARS - total]
        finally:
            page.close()
        if _letters(text) >= MIN_TEXT_LAYER_CHARS:
            passages.append(Passage(text, page=index + 1))
            total += len(text)
        else:
            scanned.append(index)
    return cover, passages, scanned


def extract_pdf(path: Path, image_size: int = 224, ocr: OcrEngine | None = None) -> Extraction:
    """The text of each page (OCR for pages without a text layer when ``ocr`` is given) and the
    first page rendered for the image tower. Raises ``ExtractionError`` for encrypted or damaged
    files, and for a page too large to render when the file has no text either.
    """
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        document = _open(path)
    try:
        with _PDFIUM_LOCK:
            page_count = len(document)
            title = _title(document)
            (cover, why_not), passages, scanned = _read_pages(document, image_size)
        if ocr is not None:
            passages += _ocr_pages(document, scanned[:MAX_OCR_PAGES], ocr)
            if len(scanned) > MAX_OCR_PAGES:
                log.info("%s: OCR of %d scanned pages skipped", path, len(scanned) - MAX_OCR_PAGES)
    except pdfium.PdfiumError as exc:  # a damaged page
        raise _damaged_page(exc) from exc
    finally:
        with _PDFIUM_LOCK:
            document.close()
    if cover is None and why_not is not None and not passages:
        raise why_not
    passages.sort(key=lambda p: p.page or 0)
    return Extraction(
        kind="document",
        image=cover,
        passages=passages,
        width=cover.width if cover else None,
        height=cover.height if cover else None,
        title=title,
        page_count=page_count,
    )


def _ocr_pages(document: Any, indices: list[int], ocr: OcrEngine) -> list[Passage]:
    out = []
    for index in indices:
        check_time()
        with _PDFIUM_LOCK:
            page = document[index]
            try:
                width, height = page.get_size()
                picture = _render(page, OCR_RENDER_SIDE / max(1.0, width, height))
            except ExtractionError as exc:  # a page too large to render: its text is missing
                log.info("OCR of page %d skipped: %s", index + 1, exc)
                continue
            finally:
                page.close()
        try:
            text = clean_text(ocr.recognise(picture))
        except ExtractionError as exc:  # that page's text is missing; the file is still indexed
            log.warning("OCR of page %d failed: %s", index + 1, exc)
            continue
        if _letters(text) >= 3:
            out.append(Passage(text, page=index + 1, source="ocr"))
    return out


def render_pdf_page(path: Path, max_side: int, index: int = 0) -> Image.Image:
    """Page ``index`` (0-based) rendered so its longest side is ``max_side``; for thumbnails."""
    import pypdfium2 as pdfium

    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    with _PDFIUM_LOCK:
        document = _open(path)
        try:
            if not 0 <= index < len(document):
                raise ExtractionError(f"PDF has no page {index + 1}")
            page = document[index]
            try:
                width, height = page.get_size()
                return _render(page, max_side / max(1.0, width, height), min_short=1)
            finally:
                page.close()
        except pdfium.PdfiumError as exc:
            raise _damaged_page(exc) from exc
        finally:
            document.close()
