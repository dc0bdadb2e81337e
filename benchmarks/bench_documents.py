"""Pages per second: PDF text extraction (pypdfium2), passage splitting, OCR of scanned pages.

    python benchmarks/bench_documents.py [--pages 100] [--ocr-pages 6] [--embed]

OCR figures need the optional package (pip install '.[ocr]'); Debian's tesseract is timed
beside it for comparison when its command is on PATH. ``--embed`` also times the ViT-B-32 text
tower (random weights: the cost is the same) on the passages of one long PDF.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.extractors.ocr import OcrUnavailableError, load_ocr_engine
from desktop_app.core.extractors.pdf import OCR_RENDER_SIDE, extract_pdf
from desktop_app.core.indexing.passages import PassageSplitter

WORDS = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no what "
    "invoice lease agreement tenant landlord payment amount due date account number reference "
    "insurance policy vehicle registration tax office letter refund assessment year period total"
).split()


def prose(rng: random.Random, words: int) -> str:
    """Sentences of common English words, with an occasional number."""
    out: list[str] = []
    while len(out) < words:
        sentence = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
        if rng.random() < 0.3:
            sentence.append(f"{rng.randint(1000, 9999)}-{rng.randint(1, 9999):04d}")
        out.append(" ".join(sentence).capitalize() + ".")
        out = " ".join(out).split()
    return " ".join(out[:words])


def write_text_pdf(path: Path, pages: int, words_per_page: int = 450) -> None:
    from fpdf import FPDF

    rng = random.Random(1)
    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 5, prose(rng, words_per_page))
    pdf.output(str(path))


def scanned_page(text: str, width: int = 1654) -> Image.Image:
    """An A4 page at 200 dpi with ``text`` typeset in 11-point type, as a scanner would see it."""
    height = round(width * 1.414)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    x, y, line = 140, 160, ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) > width - 280:
            draw.text((x, y), line, fill=20, font=font)
            y += 46
            line = word
            if y > height - 200:
                break
        else:
            line = candidate
    draw.text((x, y), line, fill=20, font=font)
    return page.convert("RGB")


def write_scanned_pdf(path: Path, pages: int, folder: Path) -> list[str]:
    from fpdf import FPDF

    rng = random.Random(2)
    texts = []
    pdf = FPDF()
    for n in range(pages):
        text = prose(rng, 300)
        texts.append(text)
        image_path = folder / f"scan{n}.png"
        scanned_page(text).save(image_path)
        pdf.add_page()
        pdf.image(str(image_path), x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return texts


def word_recall(expected: str, found: str) -> float:
    """Share of the expected words (lower-cased, punctuation stripped) found in the OCR text."""

    def words(text: str) -> list[str]:
        return ["".join(ch for ch in w.lower() if ch.isalnum()) for w in text.split()]

    seen = set(words(found))
    wanted = [w for w in words(expected) if w]
    return sum(w in seen for w in wanted) / max(1, len(wanted))


def bench_text_pdf(folder: Path, pages: int) -> None:
    pdf = folder / "text.pdf"
    write_text_pdf(pdf, pages)
    extract_pdf(pdf, 224)  # warm up (library load, page cache)
    started = time.perf_counter()
    extraction = extract_pdf(pdf, 224)
    elapsed = time.perf_counter() - started
    chars = sum(len(p.text) for p in extraction.passages)
    print(
        f"PDF text layer: {pages} pages ({chars / pages:.0f} chars/page) in {elapsed:.2f} s = "
        f"{pages / elapsed:.0f} pages/s (text of every page + first page rendered, one thread)"
    )

    import open_clip

    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    splitter = PassageSplitter.for_tokenizer(tokenizer, max_passages=10**9, sampled=False)
    started = time.perf_counter()
    chunks = splitter.split(extraction.passages)
    elapsed = time.perf_counter() - started
    print(
        f"Passage split (CLIP BPE, 75 tokens, overlap {splitter.overlap_tokens}): {len(chunks)} "
        f"passages, {len(chunks) / pages:.1f} per page, {pages / elapsed:.0f} pages/s"
    )


def bench_embed(folder: Path) -> None:
    import open_clip
    import torch

    from desktop_app.core.embedding.embedder import _encode_text_until_eot

    torch.set_num_threads(os.cpu_count() or 2)
    model = open_clip.create_model("ViT-B-32").eval()
    tokenizer = open_clip.get_tokenizer("ViT-B-32")
    extraction = extract_pdf(folder / "text.pdf", 224)
    chunks = PassageSplitter.for_tokenizer(tokenizer).split(extraction.passages)
    texts = [c.text for c in chunks]
    with torch.inference_mode():
        _encode_text_until_eot(model, tokenizer(texts[:8]))
        started = time.perf_counter()
        for start in range(0, len(texts), 64):
            _encode_text_until_eot(model, tokenizer(texts[start : start + 64]))
        elapsed = time.perf_counter() - started
    print(
        f"ViT-B-32 text tower: {len(texts)} passages (the per-file cap) in {elapsed:.1f} s = "
        f"{len(texts) / elapsed:.1f} passages/s, batch 64"
    )


def bench_ocr(folder: Path, pages: int) -> None:
    pdf = folder / "scanned.pdf"
    texts = write_scanned_pdf(pdf, pages, folder)
    for prefer in ("tesseract", "rapidocr"):
        try:
            engine = load_ocr_engine(prefer)
        except OcrUnavailableError:
            print(f"OCR {prefer}: not installed")
            continue
        engine.recognise(scanned_page("warm up"))  # model load, first inference
        started = time.perf_counter()
        extraction = extract_pdf(pdf, 224, engine)
        elapsed = time.perf_counter() - started
        found = {p.page: p.text for p in extraction.passages}
        recall = sum(word_recall(t, found.get(n + 1, "")) for n, t in enumerate(texts)) / pages
        print(
            f"OCR {engine.name}: {pages} scanned A4 pages (200 dpi, rendered at "
            f"{OCR_RENDER_SIDE} px) in {elapsed:.1f} s = {pages / elapsed:.2f} pages/s, "
            f"word recall {recall:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages of the text PDF")
    parser.add_argument("--ocr-pages", type=int, default=6, help="pages of the scanned PDF")
    parser.add_argument("--embed", action="store_true", help="also time the CLIP text tower")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_text_pdf(folder, args.pages)
        if args.embed:
            bench_embed(folder)
        bench_ocr(folder, args.ocr_pages)


if __name__ == "__main__":
    main()
