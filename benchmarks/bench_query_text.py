"""Time the query text tower per keystroke: ViT-B-32's numpy text encoder, one thread.

Each way of encoding a query is timed on the same texts, one right after the other:
- ``plain``: each text through the whole tower in float32 (what every query did before the query
  tower: ``NumpyTextEncoder.encode_texts``);
- ``prefix``: the query tower in float32 (kept prefix states, the last block on one row);
- ``half``: the same with float16 weights for few rows (what the window uses once warm).

"Typed at once" texts start with nothing kept (a fresh query); "key by key" types a few realistic
queries one character at a time, as the window asks a query per key. The target is the whole
keystroke → results path's (issue 22): ≤ 100 ms p95, of which the text tower is one step.

    python benchmarks/bench_query_text.py [--modes plain,prefix,half] [--rounds 3]
        [--library DATA_DIR]

``--library`` also times the whole core path of each keystroke (``Library.search_understood``,
as the window's host calls it) on a library built with ViT-B-32 (e.g. one of
``bench_big_library.py``'s), the ways of encoding alternated in one process.

Random weights (``fake_model_cache.py``): the timings are the real model's, the vectors are not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fake_model_cache import make_fake_cache
from desktop_app.core.embedding.text_encoder import (
    NumpyTextEncoder,
    TextTowerShape,
)

TARGET_MS = 100.0  # the whole keystroke → results path, p95
AT_ONCE = (
    "dog",
    "license",
    "a photo of a dog",
    "kids on a beach at sunset",
    "invoice 2023-0147 from Müller & Söhne",
    "the quarterly report with the revenue chart and the notes from the board meeting",
)
TYPED = (
    "a photo of a dog on the beach",
    "tax return 2023",
    "birthday party with balloons",
    "GNU general public license version 3",
)
MODES = ("plain", "prefix", "half")


def encoder(weights: Path, mode: str) -> NumpyTextEncoder:
    tower = NumpyTextEncoder(weights, TextTowerShape(12, 8, 77, False), "bench")
    if mode == "half":
        tower.use_half()
    return tower


def encode_once(tower: NumpyTextEncoder, mode: str, text: str) -> float:
    """Seconds to encode ``text`` the ``mode`` way."""
    started = time.perf_counter()
    if mode == "plain":
        tower.encode_texts([text])
    else:
        tower.encode_text(text)
    return time.perf_counter() - started


def round_at_once(tower: NumpyTextEncoder, mode: str) -> list[float]:
    times = []
    for text in AT_ONCE:
        tower.forget_prefixes(start_too=False)  # a fresh query in a warm window
        times.append(encode_once(tower, mode, text))
    return times


def round_typed(tower: NumpyTextEncoder, mode: str) -> list[float]:
    times: list[float] = []
    for text in TYPED:
        tower.forget_prefixes(start_too=False)
        times.extend(encode_once(tower, mode, text[: i + 1]) for i in range(len(text)))
    return times


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):6.1f}  p95 {p95:6.1f}  max {ms[-1]:6.1f} ms  ({len(ms)})"


def check_vectors(towers: dict[str, NumpyTextEncoder]) -> None:
    """Each mode's vectors against the plain path's, typed key by key."""
    texts = [t[: i + 1] for t in TYPED for i in range(len(t))] + list(AT_ONCE)
    plain = next(iter(towers.values())).encode_texts(texts)
    for mode, tower in towers.items():
        if mode == "plain":
            continue
        tower.forget_prefixes()
        got = np.stack([tower.encode_text(t) for t in texts])
        worst = float(np.min(np.sum(got * plain, axis=1)))
        print(f"  {mode:6s} vectors vs plain: lowest cosine {worst:.7f} over {len(texts)} texts")


def _set_mode(tower: NumpyTextEncoder, mode: str, halves: list[np.ndarray | None]) -> None:
    """Make the library's own encoder answer queries the ``mode`` way."""
    linears = [linear for block in tower._query._blocks for linear in block.linears()]
    for linear, half in zip(linears, halves, strict=True):
        linear.half = half if mode == "half" else None
    if mode == "plain":
        tower.encode_text = lambda text: tower.encode_texts([text])[0]  # type: ignore[method-assign]
    else:
        tower.__dict__.pop("encode_text", None)
    tower.forget_prefixes(start_too=mode == "plain")


def library_typing(data: Path, modes: list[str], rounds: int, model: str) -> None:
    """Each keystroke's ``search_understood`` with each way of encoding, alternated."""
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.host.serve import one_blas_thread

    one_blas_thread()
    library = Library.open(Settings.load(data).replace(model=model, device="cpu"))
    try:
        library.warm_queries()
        tower = library.models.query_encoder()
        if not isinstance(tower, NumpyTextEncoder):
            print("  the library has no numpy text encoder: skipped")
            return
        if "half" in modes and not tower.shape.half_queries:
            print("  its manifest does not allow float16 queries: 'half' is float32 there")
        if tower.shape.half_queries:
            tower.use_half()
        halves = [linear.half for block in tower._query._blocks for linear in block.linears()]
        library.search_understood("warm up", 200)
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(rounds):
            for mode in modes:
                _set_mode(tower, mode, halves)
                library.query._vectors.clear()  # each text through the tower, as typed first
                for text in TYPED:
                    for end in range(1, len(text) + 1):
                        started = time.perf_counter()
                        library.search_understood(text[:end], 200)
                        times[mode].append(time.perf_counter() - started)
        print(f"core path per keystroke (search_understood, {data.name}):")
        for mode in modes:
            print(f"  {mode:6s} {summary(times[mode])}")
    finally:
        library.close()


def load_avg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated: " + ", ".join(MODES)
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    parser.add_argument("--library", type=Path, help="a library's data dir (see above)")
    parser.add_argument("--model", default="ViT-B-32/laion2b_s34b_b79k", help="its model")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    weights = make_fake_cache(args.cache)
    towers = {mode: encoder(weights, mode) for mode in modes}
    at_once: dict[str, list[float]] = {m: [] for m in modes}
    typed: dict[str, list[float]] = {m: [] for m in modes}
    print(f"ViT-B-32 text tower, one thread; load {load_avg()} at start")
    for mode, tower in towers.items():  # pages of the weights read once, outside the timings
        round_at_once(tower, mode)
    for _ in range(args.rounds):
        for mode, tower in towers.items():  # one right after the other, each round
            at_once[mode].extend(round_at_once(tower, mode))
            typed[mode].extend(round_typed(tower, mode))
    print(f"typed at once ({len(AT_ONCE)} texts of 1-16 words):")
    for mode in modes:
        print(f"  {mode:6s} {summary(at_once[mode])}")
    print(f"key by key ({len(TYPED)} queries, a query per character):")
    for mode in modes:
        print(f"  {mode:6s} {summary(typed[mode])}")
    check_vectors(towers)
    if args.library is not None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("LUMEN_MODEL_CACHE", str(args.cache))
        library_typing(args.library, modes, args.rounds, args.model)
    print(f"target: the whole keystroke → results path ≤ {TARGET_MS:.0f} ms p95; load {load_avg()}")


if __name__ == "__main__":
    main()
