"""A keyword's cost against how common it is: the catalog's keyword search on many passages.

    python benchmarks/bench_keyword_search.py [--files 3000] [--passages 8] [--repeat 5]

Builds a catalog (no model: keyword rows only) of ``files`` documents with ``passages`` blocks of
~1,500 characters each; "licence" is in every passage of every file (a word of the system's
documentation tree), "harbour" in one passage of every 10th file, "qx7781" in one file. Prints
the median time of ``Catalog.keyword_search`` (the first 50 files, best first, with snippets)
for each word: a common word should cost about what a rare one costs (target: a keystroke's
whole search ≤ 100 ms p95, of which this is one part).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.records import EmbeddedFile, NewText
from desktop_app.core.storage.catalog import Catalog

FILLER = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not this are or from at which but have "
    "install configure server client database query function module package release version"
).split()
WORDS = ("licence", "harbour", "qx7781")
TARGET_MS = 100.0


def _block(rng: random.Random, extra: str) -> str:
    words = [rng.choice(FILLER) for _ in range(230)]
    words[rng.randrange(len(words))] = "licence"
    if extra:
        words[rng.randrange(len(words))] = extra
    return " ".join(words)


def build(catalog: Catalog, root: Path, files: int, passages: int) -> int:
    """Catalogue ``files`` indexed documents with their keyword rows; returns the row count."""
    rng = random.Random(3)
    folder = catalog.add_folder(root)
    batch: list[EmbeddedFile] = []
    for n in range(files):
        file_id = catalog.add_file(
            folder_id=folder.id,
            path=root / f"doc{n:06d}.txt",
            size=1,
            mtime_ns=1,
            inode=None,
            fingerprint=f"{n:016x}",
            kind="document",
        )
        texts = []
        for p in range(passages):
            extra = "harbour" if n % 10 == 0 and p == passages // 2 else ""
            extra = "qx7781" if n == files // 2 and p == 1 else extra
            texts.append(NewText(_block(rng, extra), p + 1))
        batch.append(EmbeddedFile(file_id, [], texts, {}))
        if len(batch) == 200:
            catalog.store_embedded_files("bench", batch)
            batch = []
    if batch:
        catalog.store_embedded_files("bench", batch)
    return files * passages


def time_search(catalog: Catalog, word: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds of a keyword search for ``word`` (50 files), and the hits."""
    times = []
    hits = []
    for _ in range(repeat):
        started = time.perf_counter()
        hits = catalog.keyword_search(word, 50)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--passages", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--catalog", type=Path, help="keep the catalog here (reused if there)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.catalog or Path(tmp) / "catalog.db"
        fresh = not path.exists()
        catalog = Catalog.open(path)
        started = time.perf_counter()
        if fresh:
            rows = build(catalog, Path(tmp) / "docs", args.files, args.passages)
            built = time.perf_counter() - started
            print(f"{args.files} files, {rows} keyword rows built in {built:.0f} s")
        else:
            print(f"reusing {path}")
        for word in WORDS:
            ms, hits = time_search(catalog, word, args.repeat)
            print(f"keyword_search({word!r}): {ms:.1f} ms median, {hits} files shown")
        catalog.close()
    print(f"target: a keystroke's whole search ≤ {TARGET_MS:.0f} ms p95")


if __name__ == "__main__":
    main()
