"""Plain text, Markdown, HTML and RTF: bounded reads, decoded, split into page-less blocks."""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, Passage
from desktop_app.core.extractors.suffixes import (
    HTML_EXTENSIONS,
    RTF_EXTENSIONS,
    TEXT_EXTENSIONS,
)

__all__ = [
    "BLOCK_CHARS",
    "MAX_TEXT_CHARS",
    "TEXT_EXTENSIONS",
    "blocks",
    "clean_text",
    "extract_text_file",
    "read_text",
]

log = logging.getLogger(__name__)

# At most this much text is taken from one file (about 1,000 pages of prose): what lies beyond
# is neither embedded nor keyword-indexed, and memory stays bounded whatever the file's size.
MAX_TEXT_CHARS = 2_000_000
# Markup (HTML, RTF) is read up to this many bytes before it is turned into text.
MAX_MARKUP_BYTES = 16_000_000
# Text is stored for keyword search in blocks of about this size (page-less formats).
BLOCK_CHARS = 2_000


_READ_CHUNK = 1 << 16
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Text with control characters dropped, runs of spaces folded and blank lines squeezed."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def blocks(text: str, size: int = BLOCK_CHARS) -> Iterator[str]:
    """``text`` in pieces of at most about ``size`` characters, cut at paragraph or word breaks."""
    start = 0
    while start < len(text):
        end = start + size
        if end >= len(text):
            piece = text[start:]
            end = len(text)
        else:
            cut = max(text.rfind("\n\n", start, end), text.rfind("\n", start, end))
            if cut <= start + size // 2:
                cut = text.rfind(" ", start, end)
            if cut <= start + size // 4:
                cut = end
            piece, end = text[start:cut], cut
        piece = piece.strip()
        if piece:
            yield piece
        start = end


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _read_decoded(
    stream: BinaryIO, encoding: str, errors: str, limit_bytes: int, limit_chars: int
) -> str:
    """Decodes from the stream's position until ``limit_chars`` characters or ``limit_bytes``."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    parts: list[str] = []
    chars = read = 0
    while chars < limit_chars and read < limit_bytes:
        chunk = stream.read(min(_READ_CHUNK, limit_bytes - read))
        if not chunk:
            break
        read += len(chunk)
        # Not final: a multi-byte character cut by the read limit is dropped, not an error.
        part = decoder.decode(chunk)
        parts.append(part)
        chars += len(part)
    return "".join(parts)[:limit_chars]


def read_text(
    path: Path, limit_bytes: int = MAX_TEXT_CHARS * 4, limit_chars: int = MAX_TEXT_CHARS
) -> str:
    """The start of a text file, decoded (UTF-8 or a BOM's encoding, else Windows-1252).

    At most ``limit_bytes`` are read and ``limit_chars`` kept: memory stays bounded.
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(8192)
            for bom, encoding in _BOMS:
                if head.startswith(bom):
                    stream.seek(len(bom))
                    return _read_decoded(stream, encoding, "replace", limit_bytes, limit_chars)
            if b"\x00" in head:
                raise ExtractionError("not a text file (binary data)")
            try:
                stream.seek(0)
                return _read_decoded(stream, "utf-8", "strict", limit_bytes, limit_chars)
            except UnicodeDecodeError:
                stream.seek(0)
                return _read_decoded(stream, "cp1252", "replace", limit_bytes, limit_chars)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc


# -- Markdown ---------------------------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~|`+)")
_MD_QUOTE_OR_BULLET = re.compile(r"^\s*(?:>+|[-*+]|\d+[.)])\s+", re.MULTILINE)
_MD_TITLE = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_TAG = re.compile(r"<[^>\n]{1,200}>")


def _markdown_to_text(text: str) -> tuple[str, str | None]:
    found = _MD_TITLE.search(text)
    title = found.group(1).strip() if found else None
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_QUOTE_OR_BULLET.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    return _TAG.sub(" ", text), title


# -- HTML -------------------------------------------------------------------------------------

_HTML_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HTML_BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr", "dt", "dd",
    }
)  # fmt: skip


class _HtmlText(HTMLParser):
    """Collects the visible text and the <title> of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.size = 0
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _HTML_SKIPPED:
            self._skip_depth += 1
        elif tag in _HTML_BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _HTML_SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _HTML_BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth and self.size < MAX_TEXT_CHARS:
            self.parts.append(data)
            self.size += len(data)


def _html_to_text(source: str) -> tuple[str, str | None]:
    parser = _HtmlText()
    parser.feed(source)
    parser.close()
    title = " ".join("".join(parser.title_parts).split()) or None
    return "".join(parser.parts), title


# -- RTF --------------------------------------------------------------------------------------


def _rtf_to_text(source: str) -> str:
    if not source.lstrip().startswith("{\\rtf"):
        raise ExtractionError("not an RTF file (no {\\rtf header)")
    from striprtf.striprtf import rtf_to_text

    try:
        text: str = rtf_to_text(source, errors="replace")  # type: ignore[no-untyped-call]
    except (ValueError, IndexError, LookupError) as exc:
        raise ExtractionError(f"corrupt RTF file: {exc}") from exc
    return text


# -- entry point ------------------------------------------------------------------------------


def extract_text_file(path: Path) -> Extraction:
    """Reads a text-like document into blocks of text (page-less); raises ``ExtractionError``."""
    suffix = path.suffix.lower()
    title: str | None = None
    if suffix in HTML_EXTENSIONS:
        text, title = _html_to_text(read_text(path, MAX_MARKUP_BYTES, MAX_MARKUP_BYTES))
    elif suffix in RTF_EXTENSIONS:
        text = _rtf_to_text(read_text(path, MAX_MARKUP_BYTES, MAX_MARKUP_BYTES))
    else:
        text = read_text(path)
        if suffix in (".md", ".markdown"):
            text, title = _markdown_to_text(text)
    text = clean_text(text[:MAX_TEXT_CHARS])
    passages = [Passage(block) for block in blocks(text)]
    return Extraction(kind="document", passages=passages, title=title)
