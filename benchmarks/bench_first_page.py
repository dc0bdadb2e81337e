"""The window's first page against a 200-file search: the same best files, and what it costs.

    python benchmarks/bench_first_page.py [--workdir DIR] [--rows 60] [--queries 7]

On ``bench_big_library.py``'s 100k-file library (built there, reused): for each of its query
texts, the files a search for ``--rows`` files shows, the first ``--rows`` of a search for 200,
and the exact best ``--rows`` (the vector index searched exhaustively). Prints each one's recall
of the exact set and the in-process time per search (text tower cached). A first page searched
with a graph beam of its own kept 0.937 of the exact best 60 here, against 0.992 for a 200-file
search (7 Dec); ``query.fetch_sizes.BEAM_FILES`` makes it look as widely as the 200-file search.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_big_library import QUERIES  # noqa: E402
from benchmarks.big_library_build import MODEL, build_library, model_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-big"
    )
    parser.add_argument("--rows", type=int, default=60, help="files on the first page")
    parser.add_argument("--queries", type=int, default=7, help="texts of each kind")
    args = parser.parse_args()
    model_env()
    data = build_library(args.workdir, "mixed")
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.host.serve import one_blas_thread

    one_blas_thread()
    library = Library.open(Settings.load(data).replace(model=MODEL, device="cpu"))
    index = library.store.index
    rows = args.rows
    kept = {"first page": 0, "200-file search": 0}
    took: dict[str, list[float]] = {"first page": [], "200-file search": []}
    wanted = 0

    def best(text: str, k: int) -> tuple[list[Path], float]:
        started = time.perf_counter()
        files = library.search_understood(text, k).files
        return [f.file.path for f in files][:rows], time.perf_counter() - started

    library.search_understood("warm up", 200)
    for kind, texts in QUERIES.items():
        for text in texts[: args.queries]:
            best(text, 200)  # the text tower's answer cached: the searches alone are timed
            page, page_s = best(text, rows)
            first, first_s = best(text, 200)
            threshold = index._exact_threshold
            index._exact_threshold = 1 << 62  # searched exhaustively
            try:
                exact = set(best(text, rows)[0])
            finally:
                index._exact_threshold = threshold
            for name, found, seconds in (
                ("first page", page, page_s),
                ("200-file search", first, first_s),
            ):
                kept[name] += len(set(found) & exact)
                took[name].append(seconds)
            wanted += len(exact)
            print(
                f"  {kind:15s} {text[:30]:30s} first page {len(set(page) & exact)}/{len(exact)}, "
                f"200-file search {len(set(first) & exact)}/{len(exact)}",
                flush=True,
            )
    library.close()
    for name in kept:
        print(
            f"{name}: recall of the exact best {rows} {kept[name] / max(1, wanted):.3f}, "
            f"p50 {1000 * statistics.median(took[name]):.0f} ms per search"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
