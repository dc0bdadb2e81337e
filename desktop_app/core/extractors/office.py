"""Office Open XML (docx, pptx, xlsx) and OpenDocument (odt, odp, ods) text, read from their XML.

These formats keep their text in a few XML parts of a zip file. Reading those parts directly
with the standard library (streamed with ``iterparse``, bounded in bytes and characters) gets
every run of text, tables and text boxes included, with no dependency; the editing libraries
(python-docx, python-pptx, openpyxl, odfpy) load whole documents into object models and
odfpy has had no release since 2020. Entity expansion is bounded by expat (>= 2.4.1) and
ElementTree never fetches external entities.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, Passage
from desktop_app.core.extractors.files import os_reason, readable_file, short_reason
from desktop_app.core.extractors.suffixes import ODF_EXTENSIONS, OFFICE_EXTENSIONS
from desktop_app.core.extractors.text import MAX_TEXT_CHARS, blocks, clean_text

__all__ = ["OFFICE_EXTENSIONS", "extract_office"]

log = logging.getLogger(__name__)


# A zip member is never read past this many uncompressed bytes (zip bombs, giant sheets).
MAX_PART_BYTES = 64_000_000
# Slides and sheets beyond this are skipped (each is one "page").
MAX_PARTS = 2_000

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NUMBERED = re.compile(r"(\d+)\.xml$")


class _Bounded:
    """A read-only stream that ends after ``limit`` bytes (the rest of a member is ignored)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._left = limit
        self.truncated = False

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            self.truncated = True
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._stream.read(size)
        self._left -= len(data)
        return data


class _Text:
    """Accumulates text up to ``MAX_TEXT_CHARS`` over a whole document."""

    def __init__(self) -> None:
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= MAX_TEXT_CHARS

    def take(self, text: str) -> str:
        text = text[: max(0, MAX_TEXT_CHARS - self.size)]
        self.size += len(text)
        return text


def _iter_ends(archive: zipfile.ZipFile, name: str) -> Iterator[ElementTree.Element]:
    """Closing elements of one XML member, streamed; a truncated member ends quietly."""
    with archive.open(name) as raw:
        stream = _Bounded(raw, MAX_PART_BYTES)
        try:
            for _event, element in ElementTree.iterparse(stream, events=("end",)):
                yield element
        except ElementTree.ParseError as exc:
            if not stream.truncated:
                raise ExtractionError(f"corrupt document part {name}: {exc}") from exc
            log.info("%s: part %s cut at %d bytes", archive.filename, name, MAX_PART_BYTES)


def _paragraphs(
    archive: zipfile.ZipFile,
    name: str,
    paragraph_tags: frozenset[str],
    text_of: Callable[[ElementTree.Element], str],
    budget: _Text,
) -> list[str]:
    """The text of each paragraph element in a member; elements are freed as they are read."""
    out: list[str] = []
    for element in _iter_ends(archive, name):
        if element.tag in paragraph_tags:
            text = text_of(element)
            if text.strip():
                out.append(budget.take(text))
                if budget.full:
                    break
            element.clear()
    return out


def _ooxml_run_text(paragraph: ElementTree.Element) -> str:
    parts: list[str] = []
    for node in paragraph.iter():
        if node.tag in (f"{_W}t", f"{_A}t") and node.text:
            parts.append(node.text)
        elif node.tag in (f"{_W}tab",):
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr", f"{_A}br"):
            parts.append("\n")
    return "".join(parts)


def _odf_text(element: ElementTree.Element) -> str:
    """Text of an ODF paragraph: spans, <text:s c="n"/> spaces, tabs and line breaks."""
    parts: list[str] = []

    def walk(node: ElementTree.Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag == f"{_TEXT}s":
                parts.append(" " * int(child.get(f"{_TEXT}c", "1") or 1))
            elif child.tag == f"{_TEXT}tab":
                parts.append("\t")
            elif child.tag == f"{_TEXT}line-break":
                parts.append("\n")
            elif child.tag not in (f"{_TEXT}note", f"{_TEXT}tracked-changes"):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


def _title(archive: zipfile.ZipFile, member: str) -> str | None:
    if member not in archive.namelist():
        return None
    try:
        for element in _iter_ends(archive, member):
            if element.tag == _DC_TITLE and element.text and element.text.strip():
                return " ".join(element.text.split())
    except ExtractionError:
        return None
    return None


def _numbered(archive: zipfile.ZipFile, prefix: str) -> list[str]:
    """Members like ``ppt/slides/slide3.xml`` in numeric order."""
    found = []
    for name in archive.namelist():
        if name.startswith(prefix) and name.endswith(".xml") and "/" not in name[len(prefix) :]:
            number = _NUMBERED.search(name)
            found.append((int(number.group(1)) if number else 0, name))
    return [name for _, name in sorted(found)][:MAX_PARTS]


def _docx(archive: zipfile.ZipFile, budget: _Text) -> list[Passage]:
    paragraphs = _paragraphs(
        archive, "word/document.xml", frozenset({f"{_W}p"}), _ooxml_run_text, budget
    )
    return [Passage(block) for block in blocks(clean_text("\n".join(paragraphs)))]


def _pptx(archive: zipfile.ZipFile, budget: _Text) -> list[Passage]:
    passages = []
    for number, name in enumerate(_numbered(archive, "ppt/slides/slide"), start=1):
        paragraphs = _paragraphs(archive, name, frozenset({f"{_A}p"}), _ooxml_run_text, budget)
        text = clean_text("\n".join(paragraphs))
        passages += [Passage(block, page=number) for block in blocks(text)]
        if budget.full:
            break
    return passages


def _xlsx_shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    for element in _iter_ends(archive, "xl/sharedStrings.xml"):
        if element.tag == f"{_S}si":
            strings.append("".join(t.text or "" for t in element.iter(f"{_S}t")))
            element.clear()
            if len(strings) > MAX_TEXT_CHARS // 4:
                break
    return strings


def _xlsx(archive: zipfile.ZipFile, budget: _Text) -> list[Passage]:
    shared = _xlsx_shared_strings(archive)
    passages = []
    for number, name in enumerate(_numbered(archive, "xl/worksheets/sheet"), start=1):
        rows: list[str] = []
        cells: list[str] = []
        for element in _iter_ends(archive, name):
            if element.tag == f"{_S}c":
                kind = element.get("t")
                value = element.find(f"{_S}v")
                if kind == "s" and value is not None and value.text is not None:
                    index = int(value.text)
                    cells.append(shared[index] if 0 <= index < len(shared) else "")
                elif kind == "inlineStr":
                    cells.append("".join(t.text or "" for t in element.iter(f"{_S}t")))
                elif value is not None and value.text:
                    cells.append(value.text)
                element.clear()
            elif element.tag == f"{_S}row":
                line = "\t".join(c for c in cells if c)
                cells = []
                if line:
                    rows.append(budget.take(line))
                    if budget.full:
                        break
                element.clear()
        passages += [Passage(block, page=number) for block in blocks(clean_text("\n".join(rows)))]
        if budget.full:
            break
    return passages


def _odf(archive: zipfile.ZipFile, budget: _Text, suffix: str) -> list[Passage]:
    paragraph_tags = frozenset({f"{_TEXT}p", f"{_TEXT}h"})
    pages: list[list[str]] = [[]]
    page_tag = {".odp": f"{_DRAW}page", ".ods": f"{_TABLE}table"}.get(suffix)
    for element in _iter_ends(archive, "content.xml"):
        if element.tag in paragraph_tags:
            text = _odf_text(element)
            if text.strip():
                pages[-1].append(budget.take(text))
            element.clear()
            if budget.full:
                break
        elif element.tag == page_tag:
            pages.append([])
            element.clear()
    passages = []
    for number, paragraphs in enumerate(pages, start=1):  # a page's paragraphs end before it
        page = number if page_tag else None
        text = clean_text("\n".join(paragraphs))
        passages += [Passage(block, page=page) for block in blocks(text)]
    return passages


def extract_office(path: Path) -> Extraction:
    """Reads the text of an Office Open XML or OpenDocument file; raises ``ExtractionError``."""
    suffix = path.suffix.lower()
    readable_file(path)
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
    except OSError as exc:
        raise ExtractionError(os_reason(exc)) from exc
    if head == _OLE_MAGIC:
        raise ExtractionError(
            "password-protected or old binary Office file (save it as a regular .docx/.xlsx/.pptx)"
        )
    budget = _Text()
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if suffix == ".docx" and "word/document.xml" in names:
                passages, title = _docx(archive, budget), _title(archive, "docProps/core.xml")
            elif suffix == ".pptx" and (
                "ppt/presentation.xml" in names or any(n.startswith("ppt/slides/") for n in names)
            ):  # a presentation with no slides is a valid one
                passages, title = _pptx(archive, budget), _title(archive, "docProps/core.xml")
            elif suffix == ".xlsx" and any(n.startswith("xl/worksheets/") for n in names):
                passages, title = _xlsx(archive, budget), _title(archive, "docProps/core.xml")
            elif suffix in ODF_EXTENSIONS and "content.xml" in names:
                passages, title = _odf(archive, budget, suffix), _title(archive, "meta.xml")
            else:
                raise ExtractionError(f"not a {suffix[1:]} document (its main part is missing)")
    except zipfile.BadZipFile as exc:
        raise ExtractionError(
            f"corrupt or not a {suffix[1:]} document: {short_reason(exc)}"
        ) from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted member, unknown compression
        raise ExtractionError(
            f"a variant of {suffix[1:]} document Lumen cannot read ({short_reason(exc)})"
        ) from exc
    except OSError as exc:
        raise ExtractionError(os_reason(exc)) from exc
    except (ValueError, EOFError, zlib.error) as exc:  # damaged deflate stream (found by fuzzing)
        raise ExtractionError(f"corrupt {suffix[1:]} document: {short_reason(exc)}") from exc
    page_count = max((p.page or 0 for p in passages), default=0) or None
    return Extraction(kind="document", passages=passages, title=title, page_count=page_count)
