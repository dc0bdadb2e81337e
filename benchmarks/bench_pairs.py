"""Finding the other files of a shot (RAW+JPEG, Live Photo) for one search hit, by folder size.

Run: python3 benchmarks/bench_pairs.py [--sizes 1000 20000 100000]
A catalog holds one camera folder of N photos (every other one also kept as RAW). "one hit" is
``Catalog.files_named_like`` for one JPEG; "a page of 200" is ``files_named_like_each`` for 200
JPEGs, as ``pair_up`` does for the hits shown (the window asks for up to 200). Before catalog step
5, one lookup scanned the indexed files (SQLite chose the status index) and pair_up did one per
hit: 4.5 ms at 1,000 photos, 30 ms at 20,000 (6 s a page) on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from desktop_app.core.storage.catalog import Catalog

FOLDER = "/photos/2024/DCIM/100CANON"
LOOKUPS = 200


def _catalog(folder: Path, photos: int) -> Catalog:
    catalog = Catalog.open(folder / "catalog.sqlite3")
    rows = []
    for i in range(photos):
        for extension in (".JPG", ".cr2") if i % 2 else (".JPG",):
            name = f"IMG_{i:06d}{extension}"
            rows.append({"p": f"{FOLDER}/{name}", "n": name})
    with catalog.session() as s:  # bulk rows: the public API adds one file at a time
        s.execute(
            text(
                "INSERT INTO files (path, name, size, mtime_ns, fingerprint, kind, status, "
                "added_at) VALUES (:p, :n, 1, 1, 'f', 'image', 'indexed', 0)"
            ),
            rows,
        )
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000, 100000])
    args = parser.parse_args()
    print(f"{'photos in the folder':>22}  {'one hit (ms)':>12}  {'a page of 200 (ms)':>18}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            catalog = _catalog(Path(tmp), size)
            step = max(1, size // LOOKUPS)
            page = [Path(f"{FOLDER}/IMG_{(i * step) % size:06d}.JPG") for i in range(LOOKUPS)]
            start = time.perf_counter()
            for path in page:
                assert len(catalog.files_named_like(path)) in (1, 2)
            one = (time.perf_counter() - start) / LOOKUPS * 1000
            start = time.perf_counter()
            assert len(catalog.files_named_like_each(page)) == LOOKUPS
            batch = (time.perf_counter() - start) * 1000
            catalog.close()
        print(f"{size:>22,}  {one:>12.2f}  {batch:>18.0f}")


if __name__ == "__main__":
    main()
