"""Where a warm query's time goes in the host: the steps of ``LibraryService.query`` timed.

    python benchmarks/profile_query.py [--only docs|mixed] [--rounds 3] [--rows 60] [--cprofile N]

Opens a library ``bench_big_library.py`` built (``--workdir``, default /tmp/lumen-bench-big) as
the host does (one BLAS thread, ``LibraryService``), asks its query texts (each text encoded
afresh, as typed at once), and prints each step's mean and p95 per query kind: the text
tower, the keyword search, the vector search, scoring keyword hits, rows, snippets, tags,
pairs, names, places, the rows sent and their pickling. ``--cprofile N``: the N functions with
the most cumulative time as well. A tool to find what to make cheaper, not a figure to meet.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import math
import pickle
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_big_library import QUERIES, TYPED  # noqa: E402
from benchmarks.big_library_build import MODEL, model_env  # noqa: E402

_spans: dict[str, float] = defaultdict(float)
_clocks = {"wall": time.perf_counter, "cpu": time.thread_time}  # cpu: this thread's own time
_clock = _clocks["wall"]


def _timed(owner: Any, name: str, label: str) -> None:
    """Wrap ``owner.name`` so that its time is added to ``label``'s span."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = _clock()
        try:
            return original(*args, **kwargs)
        finally:
            _spans[label] += _clock() - started

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from desktop_app.core.people import search_hook
    from desktop_app.core.query import policy, query_vectors, search, understood
    from desktop_app.core.storage import catalog, keyword_search

    _timed(query_vectors.QueryVectors, "encode", "text tower")
    _timed(understood, "understand", "understand")
    _timed(search.SearchService, "keyword_hits", "keyword search")
    _timed(keyword_search, "_best_rows", "  keyword ranking")
    _timed(keyword_search, "snippet", "  keyword snippets")
    _timed(search.SearchService, "_vector_candidates", "vector candidates")
    _timed(search, "search_within", "  graph search")
    _timed(search.SearchService, "_score_files", "score keyword files")
    _timed(search.SearchService, "_add_passages", "passages of vector hits")
    _timed(catalog.Catalog, "files_by_ids", "file rows")
    _timed(policy.QueryPolicy, "with_tags", "tags")
    _timed(policy, "pair_up", "pairs")
    _timed(catalog.Catalog, "find_by_name", "names (pending)")
    _timed(catalog.Catalog, "places_of", "places")
    _timed(search_hook, "people_query", "people")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def profile(data: Path, rounds: int, top: int, sort: str = "cumulative", rows: int = 60) -> None:
    """Each query kind's steps, timed in the host's ``LibraryService.query`` asked for
    ``rows`` files."""
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.core.query.query_vectors import QueryVectors
    from desktop_app.host.protocol import Query
    from desktop_app.host.serve import one_blas_thread
    from desktop_app.host.service import LibraryService

    one_blas_thread()
    _instrument()
    library = Library.open(Settings.load(data).replace(model=MODEL, device="cpu"))
    service = LibraryService(library)
    service.warm_model()  # the host loads the query encoder at start
    service.query(Query(text="warm up", limit=200))
    kinds: dict[str, list[str]] = {k: list(q) * rounds for k, q in QUERIES.items()}
    kinds["typing, each key"] = [t[:end] for t in TYPED for end in range(1, len(t) + 1)]
    profiler = cProfile.Profile() if top else None
    for kind, texts in kinds.items():
        per_step: dict[str, list[float]] = defaultdict(list)
        for text in texts:
            library.query._vectors = QueryVectors()  # every text encoded afresh
            _spans.clear()
            started = _clock()
            if profiler is not None:
                profiler.enable()
            answer = service.query(Query(text=text, limit=rows))
            sent = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            if profiler is not None:
                profiler.disable()
            total = _clock() - started
            per_step["  (pickle)"].append(0.0)
            pickling = _clock()
            pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            per_step["  (pickle)"][-1] = _clock() - pickling
            per_step["ALL (query + pickle)"].append(total)
            per_step["  (rows sent)"].append(len(answer.rows) / 1000)
            per_step["  (KB sent)"].append(len(sent) / 1e6)
            for label, value in _spans.items():
                per_step[label].append(value)
        print(f"{kind} ({len(texts)} queries): step mean / p95 ms")
        for label, values in sorted(per_step.items(), key=lambda kv: -sum(kv[1])):
            values += [0.0] * (len(texts) - len(values))
            print(f"  {label:28s} {1000 * statistics.mean(values):7.1f} {1000 * _p95(values):7.1f}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats(sort).print_stats(top)
    library.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-big"
    )
    parser.add_argument("--only", default="mixed", choices=("docs", "mixed"))
    parser.add_argument("--rounds", type=int, default=1, help="times each query text is asked")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument(
        "--clock",
        default="wall",
        choices=sorted(_clocks),
        help="cpu: the query thread's CPU time (steadier on a busy machine)",
    )
    parser.add_argument(
        "--tree", type=Path, help="profile the Lumen of this source tree (e.g. main's)"
    )
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"))
    parser.add_argument(
        "--rows", type=int, default=60, help="files asked for (60: the window's first page)"
    )
    args = parser.parse_args()
    global _clock
    _clock = _clocks[args.clock]
    if args.tree is not None:  # (nothing of desktop_app is imported yet)
        assert "desktop_app" not in sys.modules
        sys.path.insert(0, str(args.tree.resolve()))
    model_env()
    data = args.workdir / f"library-{args.only}"
    if not (data / "catalog.sqlite3").exists():
        print(f"no library at {data}: build it with bench_big_library.py --build-only")
        return 1
    import desktop_app

    print(f"Lumen from {Path(desktop_app.__file__).resolve().parent.parent}")
    profile(data, args.rounds, args.cprofile, args.sort, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
