"""End to end: photos and documents in one library, searched by meaning and by exact words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.extractors.ocr import ocr_available
from desktop_app.core.indexing.passages import MAX_PASSAGES_PER_FILE
from desktop_app.core.library import Library
from desktop_app.core.storage.catalog import FileFilter
from tests.support.documents import (
    write_corrupt_pdf,
    write_docx,
    write_encrypted_pdf,
    write_odt,
    write_scanned_pdf,
    write_text_pdf,
)
from tests.support.photos import file_name, write_shape_photos
from tests.support.real_weights import RealWeights
from tests.support.settings import tiny_model_settings
from tests.support.shapes import caption_for_text

pytestmark = pytest.mark.slow

RED_CIRCLE = "a red circle on the left"


def write_documents(folder: Path) -> None:
    folder.mkdir(parents=True)
    write_text_pdf(
        folder / "invoice.pdf",
        [
            "ACME Ltd, 12 High Street. Thank you for your order.",
            "Invoice 2023-0147 for Jane Doe. Total due: 120 EUR by 31 March.",
        ],
        title="Invoice",
    )
    write_text_pdf(
        folder / "shapes report.pdf",
        [
            "Report on the pictures in the shared album.",
            "Terms and conditions of the survey.",
            RED_CIRCLE,  # a caption the tiny model knows, on page 3
        ],
    )
    write_text_pdf(folder / "lease.pdf", ["Lease agreement for the flat at 5 Main Street."])
    write_docx(
        folder / "car tax.docx",
        "Tax letter",
        ["About the tax for the car, registration LU-4411."],
        ["Amount", "310 EUR"],
        title="Car tax 2023",
    )
    write_odt(folder / "notes.odt", "Notes", ["the circle on the left is red"], title="Notes")
    (folder / "todo.md").write_text("# To do\n\n- call the plumber\n- a blue square at the top\n")
    (folder / "big.txt").write_text("lorem ipsum dolor sit amet consectetur " * 200_000)
    write_text_pdf(folder / "ferry guide.pdf", _guide_pages())
    write_encrypted_pdf(folder / "locked.pdf")
    write_corrupt_pdf(folder / "broken.pdf")


DIARY_TOPIC = "a green triangle at the bottom"


def _guide_pages() -> list[str]:
    """A 40-page guide that keeps coming back to one caption, and names a booking reference
    once, on page 24."""
    pages = [DIARY_TOPIC if n % 2 else f"Chapter {n // 2}: timetables." for n in range(1, 41)]
    pages[23] = "The ferry booking reference is QX-7781."
    return pages


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library")
    write_shape_photos(root / "photos", seeds=(1,))
    write_documents(root / "documents")
    return root


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, tiny_weights: Path) -> Settings:
    return tiny_model_settings(tmp_path_factory.mktemp("data"), tiny_weights)


@pytest.fixture(scope="module")
def library(folder: Path, settings: Settings, tiny_embedder: Embedder) -> Iterator[Library]:
    with Library.open(settings, lambda _s: tiny_embedder) as library:
        summary = library.index([folder])
        assert summary.embedded == 72 + 8, summary.failures
        yield library


def _names(results: object) -> list[str]:
    return [h.file.path.name for h in results.hits]  # type: ignore[attr-defined]


def test_unreadable_documents_are_skipped_with_a_reason(library: Library) -> None:
    reasons = {f.path.name: f.error for f in library.failures()}
    assert set(reasons) == {"locked.pdf", "broken.pdf"}
    assert "password-protected" in (reasons["locked.pdf"] or "")
    assert "damaged" in (reasons["broken.pdf"] or "")


def test_an_invoice_number_finds_the_invoice_and_its_page(library: Library) -> None:
    results = library.search("invoice 2023-0147", k=5)
    top = results.hits[0]
    assert top.file.path.name == "invoice.pdf" and top.file.kind == "document"
    assert top.page == 2 and top.passage is not None and "2023-0147" in top.passage
    assert "Invoice 2023-0147" in top.passage


def test_words_in_names_and_documents_lift_those_files(library: Library) -> None:
    assert _names(library.search("plumber", k=3))[0] == "todo.md"
    assert _names(library.search("LU-4411", k=3))[0] == "car tax.docx"
    assert _names(library.search("lease", k=3))[0] == "lease.pdf"


def test_quoted_phrases_match_literally(library: Library) -> None:
    literal = library.search('"circle on the left is red"', k=10, show_all=True)
    assert _names(literal) == ["notes.odt"]
    phrase = library.search(f'"{RED_CIRCLE}"', k=10, show_all=True)
    assert "shapes report.pdf" in _names(phrase) and "notes.odt" not in _names(phrase)
    assert all(RED_CIRCLE.replace(" ", "_") in n or n.endswith(".pdf") for n in _names(phrase))
    assert library.search('"invoice for the flat"', k=10, show_all=True).hits == []


def test_a_caption_in_a_pdf_is_found_by_meaning_beside_the_photos(
    library: Library, tiny_embedder: Embedder
) -> None:
    # Vector ranking only (no keywords): the PDF page and the red-circle photo come first.
    query = tiny_embedder.encode_text(RED_CIRCLE)
    by_meaning = library.similar_to_vector(query, k=5)
    names = _names(by_meaning)
    assert "shapes report.pdf" in names[:3]
    assert file_name(caption_for_text(RED_CIRCLE), 1) in names[:3]
    hit = next(h for h in by_meaning.hits if h.file.path.name == "shapes report.pdf")
    assert hit.page == 3 and hit.role == "text" and hit.passage is not None
    assert RED_CIRCLE in hit.passage
    # The full search shows both too, and the type filter keeps documents only.
    assert {"shapes report.pdf", file_name(caption_for_text(RED_CIRCLE), 1)} <= set(
        _names(library.search(RED_CIRCLE, k=5))[:3]
    )
    only_documents = FileFilter(kinds=frozenset({"document"}))
    documents = library.search(RED_CIRCLE, k=10, file_filter=only_documents)
    assert documents.hits and all(h.file.kind == "document" for h in documents.hits)
    assert documents.hits[0].file.path.name == "shapes report.pdf"


def test_related_documents_of_a_photo(library: Library, folder: Path) -> None:
    photo = folder / "photos" / file_name(caption_for_text(RED_CIRCLE), 1)
    related = library.related_documents(photo, k=3)
    top = related.hits[0]
    assert top.file.path.name == "shapes report.pdf" and top.page == 3
    assert top.role == "text" and top.passage is not None and RED_CIRCLE in top.passage
    assert all(h.file.kind == "document" for h in related.hits)


def test_find_similar_works_for_documents(library: Library, folder: Path) -> None:
    similar = library.similar(folder / "documents" / "lease.pdf", k=5, show_all=True)
    assert "lease.pdf" not in _names(similar)
    assert similar.hits[0].file.kind == "document"  # a page looks like a page, not a shape


def test_an_enormous_text_file_is_capped(library: Library, folder: Path) -> None:
    record = library.file(folder / "documents" / "big.txt")
    assert record is not None and record.status == "indexed"
    vectors = library.catalog.file_vectors(record.id, library.catalog.get_meta("space") or "")
    assert 0 < len(vectors) <= MAX_PASSAGES_PER_FILE  # a sample of its passages
    assert all(owner.role == "text" for owner, _ in vectors)  # no picture of a text file
    assert _names(library.search("consectetur", k=3))[0] == "big.txt"  # every word still found


def test_a_long_documents_topic_and_any_of_its_words_are_found(
    library: Library, folder: Path, tiny_embedder: Embedder
) -> None:
    # Only a sample of the guide's 40 pages is embedded: its topic (the caption it keeps coming
    # back to) is found by meaning; a word said once, on a page left out, by keyword.
    record = library.file(folder / "documents" / "ferry guide.pdf")
    assert record is not None
    space = library.catalog.get_meta("space") or ""
    embedded = {owner.page for owner, _ in library.catalog.file_vectors(record.id, space)}
    assert 24 not in embedded and len(embedded) < 20
    only_documents = FileFilter(kinds=frozenset({"document"}))
    query = tiny_embedder.encode_text(DIARY_TOPIC)
    assert _names(library.similar_to_vector(query, 3, only_documents))[0] == "ferry guide.pdf"
    found = library.search("QX-7781", k=3)
    assert _names(found)[0] == "ferry guide.pdf" and found.hits[0].page == 24
    assert found.hits[0].passage is not None and "QX-7781" in found.hits[0].passage


def test_cli_filters_by_type_and_shows_page_and_snippet(
    library: Library, settings: Settings, tiny_weights: Path
) -> None:
    library.close()  # the CLI opens the same data dir
    command = [
        sys.executable, "-m", "desktop_app.cli", "--data-dir", str(settings.data_dir),
        "--model", "lumen-tiny", "--weights", str(tiny_weights), "search",
    ]  # fmt: skip
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    found = subprocess.run(
        [*command, "invoice 2023-0147", "--type", "document", "-k", "3", "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip
    results = json.loads(found.stdout)["results"]
    assert results and all(r["kind"] == "document" for r in results)
    assert Path(results[0]["path"]).name == "invoice.pdf" and results[0]["page"] == 2
    shown = subprocess.run(
        [*command, "invoice 2023-0147", "-k", "1"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert "invoice.pdf  [page 2]" in shown and "Invoice 2023-0147 for Jane Doe" in shown


@pytest.mark.skipif(not ocr_available(), reason="no OCR engine installed")
def test_ocr_makes_a_scanned_pdf_findable_by_its_words(
    tmp_path: Path, settings: Settings, tiny_embedder: Embedder
) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    write_scanned_pdf(scans / "scan.pdf", "RECEIPT 7781-2234\nHardware store")
    with_ocr = settings.replace(data_dir=tmp_path / "ocr-library", ocr=True)
    with Library.open(with_ocr, lambda _s: tiny_embedder) as library:
        assert library.index([scans]).embedded == 1
        hit = library.search("receipt 7781-2234", k=1).hits[0]
        assert hit.file.path.name == "scan.pdf" and hit.page == 1
        assert hit.passage is not None and "7781-2234" in hit.passage


@pytest.mark.real_weights
def test_real_model_finds_documents_by_meaning(
    real_weights: list[RealWeights], tmp_path: Path
) -> None:
    if not real_weights:
        pytest.skip("no real weights under ../shared/models")
    weights = real_weights[0]
    documents = tmp_path / "documents"
    write_documents(documents)
    settings = Settings(
        data_dir=tmp_path / "library",
        model=weights.model,
        weights=weights.path,
        model_cache_dir=tmp_path / "models",
        device="cpu",
    )
    embedder = load_embedder(weights.model, weights.path, tmp_path / "models", "cpu")
    with Library.open(settings, lambda _s: embedder) as library:
        library.index([documents])
        only_documents = FileFilter(kinds=frozenset({"document"}))
        rental = library.search("rental contract for an apartment", k=3, file_filter=only_documents)
        assert "lease.pdf" in _names(rental)
        car = library.search("letter about vehicle taxes", k=3, file_filter=only_documents)
        assert "car tax.docx" in _names(car)
