"""Documents indexed per second, end to end, on a folder of everyday documents; and where it goes.

    python benchmarks/bench_doc_indexing.py [--docs 120] [--folder DIR] [--stages] [--int8]

Makes (or reuses, with ``--folder``) a folder of everyday documents: plain text, Markdown, HTML,
PDF and Word files, a few pages at the median (log-normal, a long tail up to 60 pages), a quarter
of them ending in the same licence text. ``lumen index`` of that folder (``Library.index``, ViT-B-32
with random full-size weights in the Hugging Face cache layout, HF_HUB_OFFLINE=1: the speed is
real, the vectors meaningless) gives documents/s against the issue's target (10,000 documents in
15 minutes: 11.1 documents/s on 2 cores) twice: until every document is findable (its words in
the keyword index and one vector: the run's first pass) and until every chosen passage is
embedded (the second pass), with the CPU seconds of each, and how far the time left that the
progress reports said was from the time the run really took. ``--stages`` also times each step
alone, one file at a time on one thread: extraction, passage splitting, the text tower on full
passages (its bound in passages/s), the image tower on covers, and the model's bound for one
pass and the other.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402
from desktop_app.config import Settings  # noqa: E402
from desktop_app.core.indexing.two_pass import DEEP_PHASE  # noqa: E402
from desktop_app.core.library import Library  # noqa: E402
from desktop_app.core.records import Progress  # noqa: E402

MODEL = "ViT-B-32/laion2b_s34b_b79k"
TARGET_DOCS_PER_S = 10_000 / (15 * 60)
WORDS_PER_PAGE = 350

_COMMON = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not this are or from at which but have "
    "an they you were there been one all we their has would when if so no what can more about "
    "our will your other some into only its time these two may first then do any like my now "
    "over such new also after use how well where through must should because each just those"
).split()
_TOPICS = {
    "household": "invoice lease tenant landlord payment amount due rent deposit heating water "
    "electricity meter bill contract notice repair kitchen bathroom insurance claim",
    "travel": "flight hotel booking passport visa itinerary train station luggage museum beach "
    "mountain ferry reservation airport departure arrival guide map tour weather",
    "work": "meeting agenda project deadline report budget quarter customer sales figures "
    "presentation minutes team manager review proposal schedule milestone risk",
    "software": "install configure server client database query function module package "
    "release version update error message option command file directory network",
    "health": "doctor appointment prescription dose blood pressure vaccine clinic symptoms "
    "treatment therapy hospital nurse referral test result allergy medicine",
    "school": "homework lesson teacher exam grade semester course lecture essay library "
    "science history mathematics chapter exercise student class timetable",
}
LICENCE = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    "software and associated documentation files (the Software), to deal in the Software "
    "without restriction, including without limitation the rights to use, copy, modify, merge, "
    "publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons "
    "to whom the Software is furnished to do so, subject to the following conditions: The above "
    "copyright notice and this permission notice shall be included in all copies or substantial "
    "portions of the Software. THE SOFTWARE IS PROVIDED AS IS, WITHOUT WARRANTY OF ANY KIND, "
    "EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS "
    "FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT "
    "HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF "
    "CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE "
    "USE OR OTHER DEALINGS IN THE SOFTWARE."
)


def _sentence(rng: random.Random, topic: list[str]) -> str:
    words = [
        rng.choice(topic if rng.random() < 0.35 else _COMMON) for _ in range(rng.randint(7, 18))
    ]
    if rng.random() < 0.2:
        words.append(f"{rng.randint(10, 9999)}")
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, topic: list[str], words: int) -> list[str]:
    out: list[str] = []
    count = 0
    while count < words:
        paragraph = " ".join(_sentence(rng, topic) for _ in range(rng.randint(2, 6)))
        out.append(paragraph)
        count += len(paragraph.split())
    return out


def _pages(rng: random.Random) -> float:
    """A document's length in pages: median 3, a long tail (a manual), at least a note's."""
    return min(60.0, max(0.2, rng.lognormvariate(1.1, 1.0)))


def write_corpus(folder: Path, count: int, seed: int = 7) -> None:
    """``count`` everyday documents in ``folder`` (txt, md, html, pdf, docx), deterministic."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = ["txt"] * 25 + ["md"] * 20 + ["html"] * 20 + ["pdf"] * 25 + ["docx"] * 10
    for n in range(count):
        kind = rng.choice(kinds)
        name = rng.choice(list(_TOPICS))
        topic = _TOPICS[name].split()
        pages = _pages(rng)
        title = f"{name.capitalize()} {' '.join(rng.sample(topic, 2))} {n}"
        paragraphs = _paragraphs(rng, topic, round(pages * WORDS_PER_PAGE))
        if rng.random() < 0.25:
            paragraphs.append(LICENCE)
        path = folder / f"{n:05d} {name}.{kind}"
        _WRITERS[kind](path, title, paragraphs, rng)


def _write_txt(path: Path, title: str, paragraphs: list[str], _rng: random.Random) -> None:
    path.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def _write_md(path: Path, title: str, paragraphs: list[str], rng: random.Random) -> None:
    lines = [f"# {title}", ""]
    for n, paragraph in enumerate(paragraphs):
        if n and rng.random() < 0.3:
            lines += [f"## {' '.join(paragraph.split()[:4]).rstrip('.')}", ""]
        lines += [paragraph, ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_html(path: Path, title: str, paragraphs: list[str], _rng: random.Random) -> None:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    nav = (
        "<nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/contact'>Contact</a></nav>"
    )
    path.write_text(
        f"<html><head><title>{title}</title><style>p {{margin: 1em}}</style></head>"
        f"<body>{nav}<h1>{title}</h1>\n{body}\n<footer>Copyright 2024</footer></body></html>",
        encoding="utf-8",
    )


def _write_pdf(path: Path, title: str, paragraphs: list[str], _rng: random.Random) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 5, title + "\n\n" + "\n\n".join(paragraphs))
    pdf.output(str(path))


def _write_docx(path: Path, title: str, paragraphs: list[str], _rng: random.Random) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


_WRITERS = {
    "txt": _write_txt,
    "md": _write_md,
    "html": _write_html,
    "pdf": _write_pdf,
    "docx": _write_docx,
}


def cpu_seconds() -> float:
    """CPU time this process has used, every thread (on a busy machine, steadier than wall)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timeline:
    """When the run's passes began and ended, from its progress reports, and what the first
    pass said of the time left (to hold against the time it really took)."""

    def __init__(self) -> None:
        self.first_embedding: float | None = None  # the first pass's start (after the model)
        self.deeper: float | None = None  # the second pass's first report: all are findable
        self.guesses: list[tuple[float, float]] = []  # (when, seconds left it said)

    def __call__(self, progress: Progress) -> None:
        now = time.perf_counter()
        if progress.phase == "loading model" and self.first_embedding is None:
            self.first_embedding = now
        if progress.phase == DEEP_PHASE and self.deeper is None:
            self.deeper = now
        if progress.phase in ("indexing", DEEP_PHASE) and progress.eta_s is not None:
            self.guesses.append((now, progress.eta_s))


def index_corpus(
    folder: Path, data_dir: Path, cache: Path, int8: bool
) -> tuple[dict[str, float], dict[str, int], Timeline]:
    """``Library.index`` of ``folder``: the seconds (after the model loaded) until every
    document was findable and until it was fully embedded, the CPU seconds, and how many
    vectors of each role it stored."""
    from desktop_app.core.embedding.embedder import load_embedder

    embedder = load_embedder(MODEL, None, cache, "cpu", int8=int8)
    embedder.load_image_tower()
    embedder.encode_texts(["warm up"])
    settings = Settings(data_dir=data_dir, model=MODEL, device="cpu", int8=int8)
    timeline = Timeline()
    with Library.open(settings, lambda _s: embedder) as library:
        cpu = cpu_seconds()
        cpu_findable: float | None = None

        def progress(p: Progress) -> None:
            nonlocal cpu_findable
            if p.phase == DEEP_PHASE and cpu_findable is None:
                cpu_findable = cpu_seconds() - cpu
            timeline(p)

        summary = library.index([folder], progress)
        cpu = cpu_seconds() - cpu
    assert summary.failed == 0, summary.failures
    with sqlite3.connect(settings.catalog_path) as db:
        roles = dict(db.execute("SELECT role, count(*) FROM vectors GROUP BY role").fetchall())
        roles["keyword rows"] = db.execute("SELECT count(*) FROM keyword_index").fetchone()[0]
    # from the start of the embedding (the model was loaded before), as ``embed_s``
    start = timeline.first_embedding or 0.0
    seconds = {
        "findable": timeline.deeper - start if timeline.deeper else summary.embed_s,
        "full": summary.embed_s,
        "cpu": cpu,
        "cpu_findable": cpu if cpu_findable is None else cpu_findable,
        "end": start + summary.embed_s,
    }
    return seconds, {"docs": summary.embedded, **roles}, timeline


def stages(folder: Path, cache: Path, int8: bool) -> None:
    """Each step alone, one file at a time, one thread (the text tower uses every core)."""
    import torch

    from desktop_app.core.embedding.embedder import load_embedder
    from desktop_app.core.extractors import extract
    from desktop_app.core.indexing.passages import PassageSplitter

    embedder = load_embedder(MODEL, None, cache, "cpu", int8=int8)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    started = time.perf_counter()
    extractions = [extract(p, embedder.image_size) for p in files]
    extract_s = time.perf_counter() - started
    splitter = PassageSplitter.for_tokenizer(embedder.tokenizer)
    started = time.perf_counter()
    chunks = [splitter.split(e.passages) for e in extractions]
    split_s = time.perf_counter() - started
    passages = [c.text for file in chunks for c in file]
    covers = [e.image for e in extractions if e.image is not None]
    full = [t for t in passages if len(t.split()) > 40][:128] or passages[:128]
    embedder.encode_texts(full[:8])
    started = time.perf_counter()
    for start in range(0, len(full), 64):
        embedder.encode_texts(full[start : start + 64])
    text_rate = len(full) / (time.perf_counter() - started)
    pixels = torch.stack([embedder.prepare_image(im) for im in covers[:64]])
    embedder.encode_prepared(pixels[:2])
    started = time.perf_counter()
    embedder.encode_prepared(pixels)
    image_rate = len(pixels) / (time.perf_counter() - started)
    n = len(files)
    print(f"stages, one thread each ({n} documents, {len(passages)} passages after splitting):")
    print(f"  extraction (incl. cover render): {n / extract_s:.1f} docs/s")
    print(f"  passage splitting:               {n / split_s:.1f} docs/s")
    print(f"  text tower, full passages:       {text_rate:.1f} passages/s (batch 64, all cores)")
    print(f"  image tower, covers:             {image_rate:.1f} covers/s ({len(covers)} covers)")
    per_doc = len(passages) / n / text_rate + len(covers) / n / image_rate
    print(f"  model bound at these counts:     {1 / per_doc:.2f} docs/s (every chosen passage)")
    with_text = sum(1 for c in chunks if c) / n  # a first pass embeds one passage of each
    first = with_text / text_rate + (1 - with_text) / image_rate
    print(f"  model bound of a first pass:     {1 / first:.2f} docs/s (one vector each)")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--folder", type=Path, help="reuse (or make) the corpus here")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    parser.add_argument("--int8", action="store_true", help="int8 towers (settings.int8)")
    parser.add_argument("--stages", action="store_true", help="also time each step alone")
    args = parser.parse_args()
    make_fake_cache(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "documents"
        if not folder.exists() or not any(folder.iterdir()):
            write_corpus(folder, args.docs)
        files = sorted(folder.iterdir())
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"{len(files)} documents, {size:.1f} MB; load average {os.getloadavg()[0]:.1f}")
        if args.stages:
            stages(folder, args.cache, args.int8)
        seconds, counts, timeline = index_corpus(folder, Path(tmp) / "data", args.cache, args.int8)
    report(counts, seconds, timeline)


def report(counts: dict[str, int], seconds: dict[str, float], timeline: Timeline) -> None:
    """The figures, each beside the issue's target."""
    docs = counts["docs"]
    text = counts.get("text", 0)
    cores = os.cpu_count() or 1
    print(f"vectors: {counts}; load average {os.getloadavg()[0]:.1f}")
    for name, wall, cpu in (
        ("findable (words + one vector)", seconds["findable"], seconds["cpu_findable"]),
        ("fully embedded", seconds["full"], seconds["cpu"]),
    ):
        print(
            f"documents {name}: {docs / wall:.2f} docs/s ({docs} in {wall:.1f} s; "
            f"target ≥ {TARGET_DOCS_PER_S:.1f} docs/s); per CPU-second {docs / cpu:.2f} docs "
            f"({cpu:.0f} CPU-s), on {cores} idle cores at most {cores * docs / cpu:.2f} docs/s"
        )
    print(f"text vectors: {text / seconds['full']:.1f}/s, {text / seconds['cpu']:.1f} per CPU-s")
    if timeline.guesses:
        end = seconds["end"]
        worst = max(abs(left - (end - when)) for when, left in timeline.guesses)
        first_said = timeline.guesses[0]
        print(
            f"time left as the progress said it: first {first_said[1]:.0f} s when "
            f"{end - first_said[0]:.0f} s were left; worst miss {worst:.0f} s "
            f"over {len(timeline.guesses)} reports"
        )


if __name__ == "__main__":
    main()
