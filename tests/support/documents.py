"""Write real documents for tests: PDFs (text layer, scanned, encrypted, corrupt), Office, text."""

from __future__ import annotations

import zipfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def write_text_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A PDF with a text layer, one string per page (an empty string makes a blank page)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def text_image(text: str, width: int = 1240) -> Image.Image:
    """A white A4 page (150 dpi) with ``text`` in large black type: what a scanner makes."""
    page = Image.new("RGB", (width, round(width * 1.414)), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=48)
    y = 120
    for line in text.split("\n"):
        draw.text((100, y), line, fill="black", font=font)
        y += 80
    return page


def write_scanned_pdf(path: Path, text: str) -> Path:
    """A PDF whose only page is a picture of ``text`` (no text layer)."""
    from fpdf import FPDF

    image = path.with_suffix(".png")
    text_image(text).save(image)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(str(image), x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    image.unlink()
    return path


def write_encrypted_pdf(path: Path, text: str = "secret contents") -> Path:
    """A PDF that opens only with the password "secret"."""
    from fpdf import FPDF
    from fpdf.enums import EncryptionMethod

    pdf = FPDF()
    pdf.set_encryption(
        owner_password="owner", user_password="secret", encryption_method=EncryptionMethod.RC4
    )
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def write_drm_pdf(path: Path) -> Path:
    """An encrypted PDF whose security handler is not the standard one (as DRM'd books are)."""
    write_encrypted_pdf(path)
    data = path.read_bytes()
    assert data.count(b"/Standard") == 1
    path.write_bytes(data.replace(b"/Standard", b"/Unknownx"))  # same length: offsets hold
    return path


def write_corrupt_pdf(path: Path) -> Path:
    """Starts like a PDF, then garbage."""
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    return path


def write_docx(
    path: Path, heading: str, paragraphs: list[str], cells: list[str], title: str
) -> Path:
    """A Word document (python-docx) with a heading, paragraphs and a one-row table."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=len(cells))
    for cell, text in zip(table.rows[0].cells, cells, strict=True):
        cell.text = text
    document.save(str(path))
    return path


def write_odt(path: Path, heading: str, paragraphs: list[str], title: str) -> Path:
    """An OpenDocument text (odfpy) with a heading and paragraphs."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(Title(text=title))
    document.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    document.save(str(path))
    return path


_PPTX_SLIDE = (
    '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp>'
    "<p:txBody>{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
)


def write_pptx(path: Path, slides: list[list[str]]) -> Path:
    """A minimal presentation: the slide parts PowerPoint writes, each with text paragraphs."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for number, lines in enumerate(slides, start=1):
            paragraphs = "".join(f"<a:p><a:r><a:t>{line}</a:t></a:r></a:p>" for line in lines)
            slide = _PPTX_SLIDE.format(paragraphs=paragraphs)
            archive.writestr(f"ppt/slides/slide{number}.xml", slide)
    return path


_XLSX = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """A minimal workbook with one sheet; strings go through the shared-strings table."""
    strings: list[str] = []
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for value in row:
            if value.replace(".", "", 1).isdigit():
                cells.append(f"<c><v>{value}</v></c>")
            else:
                strings.append(value)
                cells.append(f'<c t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    shared = "".join(f"<si><t>{s}</t></si>" for s in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{_XLSX}">{shared}</sst>')
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{_XLSX}"><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>',
        )
    return path
