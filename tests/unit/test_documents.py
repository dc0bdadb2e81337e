"""Document extractors on real generated files, passage splitting and document thumbnails."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import open_clip
import pytest

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import (
    SUPPORTED_EXTENSIONS,
    Passage,
    document_thumbnail,
    extract,
    kind_for_path,
)
from desktop_app.core.extractors.ocr import load_ocr_engine, ocr_available
from desktop_app.core.extractors.pdf import render_pdf_page
from desktop_app.core.extractors.text import MAX_TEXT_CHARS
from desktop_app.core.indexing.passages import (
    MAX_PASSAGES_PER_FILE,
    MIN_PASSAGES_PER_FILE,
    PassageSplitter,
    passage_budget,
)
from desktop_app.core.models import MODEL_CONFIG_DIR
from desktop_app.core.thumbnails import ThumbnailCache
from tests.support.documents import (
    write_corrupt_pdf,
    write_docx,
    write_drm_pdf,
    write_encrypted_pdf,
    write_odt,
    write_pptx,
    write_scanned_pdf,
    write_text_pdf,
    write_xlsx,
)

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="no OCR engine installed")


def _tokenizer(architecture: str) -> object:
    open_clip.add_model_config(MODEL_CONFIG_DIR / "lumen-tiny.json")
    return open_clip.get_tokenizer(architecture)


def _fits(tokenizer: object, text: str) -> bool:
    """Whether CLIP's tokenizer keeps the whole text (its end-of-text token is not cut off)."""
    tokens = tokenizer([text])[0]  # type: ignore[operator]
    length = int((tokens != 0).sum())
    return length < tokens.shape[0] or int(tokens[-1]) == 49407


# -- PDF --------------------------------------------------------------------------------------


def test_pdf_pages_keep_their_numbers_and_the_first_page_is_rendered(tmp_path: Path) -> None:
    pdf = write_text_pdf(
        tmp_path / "report.pdf",
        ["Quarterly report, summary.", "", "Invoice 2023-0147 for Jane Doe."],
        title="Q3 report",
    )
    extraction = extract(pdf, 224)
    assert extraction.kind == "document" and kind_for_path(pdf) == "document"
    assert [(p.page, p.text) for p in extraction.passages] == [
        (1, "Quarterly report, summary."),
        (3, "Invoice 2023-0147 for Jane Doe."),
    ]  # the blank page has no text
    assert extraction.page_count == 3 and extraction.title == "Q3 report"
    assert extraction.image is not None and extraction.image.mode == "RGB"
    assert min(extraction.image.size) >= 224  # enough pixels for the image tower
    assert extraction.image.getpixel((5, 5)) == (255, 255, 255)  # a white page


def test_password_protected_pdf_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="password-protected"):
        extract(write_encrypted_pdf(tmp_path / "locked.pdf"))


def test_pdf_with_an_unsupported_security_handler_is_told_apart_from_a_damaged_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(ExtractionError, match="encrypted PDF of a kind Lumen cannot open"):
        extract(write_drm_pdf(tmp_path / "drm.pdf"))
    with pytest.raises(ExtractionError, match="encrypted PDF of a kind"):
        render_pdf_page(tmp_path / "drm.pdf", 64)  # thumbnails say the same


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_pdf_is_refused_clearly(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "broken.pdf"
    if damage == "garbage":
        write_corrupt_pdf(path)
    elif damage == "truncated":
        whole = write_text_pdf(tmp_path / "whole.pdf", ["some text"] * 3).read_bytes()
        path.write_bytes(whole[: len(whole) // 3])
    else:
        path.write_bytes(b"")
    reason = "empty file" if damage == "empty" else "damaged PDF, or not a PDF"
    with pytest.raises(ExtractionError, match=reason):
        extract(path)


def test_scanned_pdf_without_ocr_is_indexed_by_its_picture(tmp_path: Path) -> None:
    extraction = extract(write_scanned_pdf(tmp_path / "scan.pdf", "INVOICE 2023-0147"), 64)
    assert extraction.passages == [] and extraction.image is not None
    assert extraction.page_count == 1


@needs_ocr
def test_scanned_pdf_text_is_recognised_with_ocr(tmp_path: Path) -> None:
    scan = write_scanned_pdf(tmp_path / "scan.pdf", "INVOICE 2023-0147\nJane Doe\nTotal 120 EUR")
    extraction = extract(scan, 64, load_ocr_engine())
    assert len(extraction.passages) == 1
    passage = extraction.passages[0]
    assert (passage.page, passage.source) == (1, "ocr")
    assert "2023-0147" in passage.text and "Jane Doe" in passage.text


# -- Office and text --------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_title(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "lease.docx",
        "Lease agreement",
        ["The flat at 5 Main Street is let to Jane Doe.", "Rent is due monthly."],
        ["Monthly rent", "900 EUR"],
        title="Lease for the flat",
    )
    extraction = extract(path, 64)
    text = "\n".join(p.text for p in extraction.passages)
    for expected in ("Lease agreement", "5 Main Street", "Rent is due", "Monthly rent", "900 EUR"):
        assert expected in text
    assert extraction.title == "Lease for the flat"
    assert all(p.page is None for p in extraction.passages)
    assert extraction.image is None  # its passages are its vectors: no page picture to embed


def test_odt_text_and_title(tmp_path: Path) -> None:
    path = write_odt(
        tmp_path / "tax.odt", "Tax letter", ["About the car tax for 2023."], title="Car tax"
    )
    extraction = extract(path, 64)
    assert "Tax letter" in extraction.passages[0].text
    assert "About the car tax for 2023." in extraction.passages[0].text
    assert extraction.title == "Car tax"


def test_pptx_slides_are_pages_and_xlsx_cells_are_read(tmp_path: Path) -> None:
    slides = extract(write_pptx(tmp_path / "deck.pptx", [["Welcome"], ["Budget", "Q3 plan"]]))
    assert [(p.page, p.text) for p in slides.passages] == [(1, "Welcome"), (2, "Budget\nQ3 plan")]
    sheet = extract(write_xlsx(tmp_path / "costs.xlsx", [["Item", "Cost"], ["Paint", "42.5"]]))
    assert sheet.passages[0].text == "Item Cost\nPaint 42.5"


def test_a_presentation_without_slides_is_empty_not_damaged(tmp_path: Path) -> None:
    # python-pptx ships such files (minimal.pptx): PowerPoint's main part, no slide parts.
    path = tmp_path / "blank.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
    assert extract(path).passages == []


def test_markdown_html_rtf_and_plain_text(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text(
        "# Garden plans\n\nPlant **tomatoes** near [the shed](http://example.com).\n", "utf-8"
    )
    (tmp_path / "page.html").write_text(
        "<html><head><title>Recipes</title><style>p {color: red}</style></head><body>"
        "<h1>Pancakes</h1><p>Flour &amp; eggs</p><script>var hidden = 1;</script></body></html>",
        "utf-8",
    )
    (tmp_path / "memo.rtf").write_text(
        r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Call the {\b plumber} today.\par}",
        "ascii",
    )
    (tmp_path / "old.txt").write_bytes("Café au lait, crème brûlée".encode("cp1252"))
    md = extract(tmp_path / "notes.md")
    assert md.title == "Garden plans"
    assert md.passages[0].text == "Garden plans\n\nPlant tomatoes near the shed."
    html = extract(tmp_path / "page.html")
    assert html.title == "Recipes"
    assert html.passages[0].text == "Pancakes\n\nFlour & eggs"
    assert extract(tmp_path / "memo.rtf").passages[0].text == "Call the plumber today."
    assert extract(tmp_path / "old.txt").passages[0].text == "Café au lait, crème brûlée"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", b"\x00\x01\x02\x03 not text", "binary"),
        ("fake.docx", b"this is not a zip file", "corrupt"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "password-protected"),
        ("memo.rtf", b"plain words, no rtf header", "not an RTF"),
    ],
)
def test_unreadable_documents_are_refused_clearly(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ExtractionError, match=reason):
        extract(tmp_path / name)


def test_document_extensions_are_supported() -> None:
    for suffix in (".pdf", ".txt", ".md", ".html", ".rtf", ".docx", ".pptx", ".xlsx", ".odt"):
        assert suffix in SUPPORTED_EXTENSIONS


# -- enormous files and passage splitting -----------------------------------------------------


def test_enormous_text_file_gives_bounded_text_passages_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = ("lorem ipsum dolor sit amet invoice 2023-0147 " * 2 + "\n").encode()
    block = line * (1_048_576 // len(line))
    with path.open("wb") as stream:
        for _ in range(48):  # 48 MB
            stream.write(block)
    tracemalloc.start()
    try:
        extraction = extract(path, 32)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40_000_000, f"extraction took {peak / 1e6:.0f} MB for a 48 MB file"
    assert sum(len(p.text) for p in extraction.passages) <= MAX_TEXT_CHARS
    tokenizer = _tokenizer("lumen-tiny")
    pieces = PassageSplitter.for_tokenizer(tokenizer).split(extraction.passages)
    assert 0 < len(pieces) <= MAX_PASSAGES_PER_FILE
    assert len({p.text for p in pieces}) == len(pieces)  # its one line repeated: embedded once
    assert all(_fits(tokenizer, p.text) for p in pieces)


@pytest.mark.parametrize("architecture", ["lumen-tiny", "ViT-B-32"])
def test_passages_fit_the_context_with_overlap(architecture: str) -> None:
    tokenizer = _tokenizer(architecture)
    splitter = PassageSplitter.for_tokenizer(tokenizer, 10**6, sampled=False)  # every piece
    words = [f"word{n} invoice 2023-{n:04d}." for n in range(60)]
    text = " ".join(words) + " " + "x" * 600  # and one word longer than the whole context
    pieces = splitter.split([Passage(text, page=4)])
    assert len(pieces) > 3 and all(p.page == 4 for p in pieces)
    assert all(_fits(tokenizer, p.text) for p in pieces)
    kept = {w for p in pieces for w in p.text.split()}
    assert all(w in kept for w in " ".join(words).split())  # nothing lost at the cuts
    if architecture == "ViT-B-32":  # 11 tokens of overlap (the tiny model's 2 fit no word here)
        first, second = pieces[0].text.split(), pieces[1].text.split()
        assert second[0] in first[-4:]  # the cut overlaps


def test_capped_passages_are_spread_over_all_pages() -> None:
    splitter = PassageSplitter(lambda text: 1, max_tokens=5, overlap_tokens=0, max_passages=6)
    pages = [Passage(" ".join(f"p{n}w{i}" for i in range(20)), page=n) for n in range(1, 4)]
    pieces = splitter.split(pages)
    assert [p.page for p in pieces] == [1, 1, 2, 2, 3, 3]  # two from each page, in order
    assert pieces[0].text == "p1w0 p1w1 p1w2 p1w3 p1w4"


def _report_pages(pages: int) -> list[Passage]:
    """A report of ``pages`` pages, each about 1,500 characters of its own prose."""
    return [
        Passage(" ".join(f"page{n} sentence{i} about the budget review." for i in range(40)), n)
        for n in range(1, pages + 1)
    ]


def test_a_long_document_embeds_a_sample_spread_over_all_its_pages() -> None:
    splitter = PassageSplitter.for_tokenizer(_tokenizer("ViT-B-32"))
    pages = _report_pages(40)
    pieces = splitter.split(pages)
    budget = passage_budget([len(p.text) for p in pages])
    assert len(pieces) == budget < MAX_PASSAGES_PER_FILE  # far fewer than the ~300 it makes
    found = [p.page or 0 for p in pieces]
    assert found == sorted(found)  # in document order
    assert found[0] == 1 and found[-1] == 40  # the beginning and the end
    assert any(15 <= page <= 25 for page in found)  # and the middle


def test_a_short_document_embeds_every_passage() -> None:
    splitter = PassageSplitter.for_tokenizer(_tokenizer("ViT-B-32"))
    pages = [
        Passage(f"Page {n} of the lease for the flat at 5 Main Street.", n)
        for n in range(1, MIN_PASSAGES_PER_FILE + 1)
    ]
    assert [p.text for p in splitter.split(pages)] == [p.text for p in pages]


def test_a_passage_repeated_in_a_document_is_embedded_once() -> None:
    splitter = PassageSplitter.for_tokenizer(_tokenizer("ViT-B-32"))
    footer = "Confidential. Company registered in Luxembourg, number B 123456."
    pages = [Passage(footer, n) for n in range(1, 4)] + [Passage("The quarterly figures.", 4)]
    assert [p.text for p in splitter.split(pages)] == [footer, "The quarterly figures."]


# -- thumbnails -------------------------------------------------------------------------------


def test_document_thumbnails_show_the_first_page(tmp_path: Path) -> None:
    pdf = write_text_pdf(tmp_path / "a.pdf", ["First page", "Second page"])
    docx = write_docx(tmp_path / "b.docx", "Heading", ["Body"], ["x", "y"], title="B")
    cache = ThumbnailCache(tmp_path / "thumbs", size=128)
    for path, fingerprint in ((pdf, "aa01"), (docx, "bb02")):
        thumbnail = cache.get(path, fingerprint, render=document_thumbnail)
        assert thumbnail is not None
        from PIL import Image

        with Image.open(thumbnail) as picture:
            assert max(picture.size) == 128 and picture.height > picture.width  # a portrait page
    locked = write_encrypted_pdf(tmp_path / "locked.pdf")
    assert cache.get(locked, "cc03", render=document_thumbnail) is None


def test_a_page_with_a_huge_mediabox_is_refused_without_rendering_it(tmp_path: Path) -> None:
    """A 340-byte PDF whose page is 2^31 points tall took 15 GB to render for its cover."""
    from tests.support.world import write_pdf_with_mediabox

    path = write_pdf_with_mediabox(tmp_path / "tall.pdf", 595, 2147483647, text="")
    with pytest.raises(ExtractionError, match="page too large to render"):
        extract(path)
    with pytest.raises(ExtractionError, match="page too large to render"):
        render_pdf_page(path, 256)  # its thumbnail says the same


def test_page_renders_are_capped_by_pixels_and_the_text_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.extractors import limits
    from tests.support.world import write_pdf_with_mediabox

    monkeypatch.setattr(limits, "MAX_RENDER_PIXELS", 100_000)
    path = write_pdf_with_mediabox(tmp_path / "long.pdf", 595, 20_000, "A very long receipt roll")
    extraction = extract(path)
    assert [p.text for p in extraction.passages] == ["A very long receipt roll"]
    cover = extraction.image
    assert cover is not None and cover.width * cover.height <= 100_000 * 1.01  # within the cap
    assert render_pdf_page(path, 256).size[1] == 256  # a thumbnail is small anyway


def test_a_pdf_is_never_given_another_files_reason(tmp_path: Path) -> None:
    """PDFium's last error outlives the document it belongs to (never reset)."""
    from tests.support.world import write_pdf_without_pages

    with pytest.raises(ExtractionError, match="password"):
        extract(write_encrypted_pdf(tmp_path / "locked.pdf"))
    with pytest.raises(ExtractionError) as refused:
        extract(write_pdf_without_pages(tmp_path / "empty-tree.pdf"))
    assert str(refused.value) == "PDF has no pages"


def test_a_damaged_pdf_alone_gets_a_plain_reason(tmp_path: Path) -> None:
    from tests.support.world import write_damaged_pdf

    with pytest.raises(ExtractionError) as refused:
        extract(write_damaged_pdf(tmp_path / "cut.pdf"))
    assert str(refused.value).startswith("damaged PDF")
    assert "Success" not in str(refused.value)


@pytest.mark.parametrize("name", ["photos.docx"])
def test_an_office_file_of_pictures_is_indexed_by_its_pictures(tmp_path: Path, name: str) -> None:
    """A .docx holding only pictures (scans, a photo report) has no text but is not empty."""
    import numpy as np

    from tests.support.world import picture, write_picture_docx

    small = picture("a blue square on the right", (160, 120))
    large = picture("a red circle on the left", (640, 480))
    path = write_picture_docx(tmp_path / name, [small, large])
    extraction = extract(path)
    assert extraction.passages == []
    assert extraction.image is not None and min(extraction.image.size) >= 224
    pixels = np.asarray(extraction.image.convert("RGB"), dtype=np.int32)
    red = (pixels[..., 0] - pixels[..., 1:].max(axis=-1) > 80).mean()
    assert red > 0.02  # the largest picture (the red circle) is the cover
    assert max(document_thumbnail(path, 128).size) == 128
