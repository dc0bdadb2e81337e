"""The fixed cost of an indexing run: `lumen index` of one new photo, and where its time goes.

    python benchmarks/bench_index_startup.py [--cache DIR]

ViT-B-32 with random full-size weights (HF cache layout, HF_HUB_OFFLINE=1). Three `lumen index`
commands in fresh processes on one data dir: the first photo (a new library: the tag labels are
encoded), a second new photo (the usual case: the tag vectors are on disk), and nothing new.
Then the second case again in this process under cProfile, with the costliest steps of the
calling thread (model load, tag vocabulary, catalog open, reconcile, embedding, saving).
Target: one new photo indexed in ≤ 2 s. Each figure comes with the command's CPU seconds (user
and system), which other processes on the machine do not inflate. The first photo pays torch
and the one-time checks of the numpy towers (per weights file); a few new photos after that are
embedded by the numpy towers without importing torch (see core/embedding/numpy_embedder.py).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402

MODEL = "ViT-B-32/laion2b_s34b_b79k"
TARGET_S = 2.0
STEPS = (
    "load_embedder",
    "_tag_vocabulary",
    "Catalog.open",
    "_reconcile",
    "_open_index",
    "apply_scan",
    "embed_pending",
    "_tag_pending",
    "_save_index",
)


def lumen_index(data: Path, folder: Path, cache: Path) -> tuple[float, float]:
    """Seconds of a `lumen index FOLDER` command, start to exit, and its CPU seconds (user and
    system: what it costs where other processes share the cores)."""
    env = dict(os.environ, LUMEN_MODEL_CACHE=str(cache), PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [*command, "--model", MODEL, "index", str(folder)], env=env, check=True, capture_output=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def _figure(name: str, seconds: tuple[float, float], target: str = "") -> str:
    return f"`lumen index`, {name:<28} {seconds[0]:5.2f} s ({seconds[1]:.2f} CPU-s){target}"


def profile_in_process(data: Path, folder: Path, cache: Path) -> None:
    """One more new photo, indexed in this process under cProfile: the calling thread's steps."""
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.core.storage import orm  # noqa: F401 (imported by a library's first write)

    settings = Settings(data_dir=data, model=MODEL, device="cpu", model_cache_dir=cache)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    with Library.open(settings) as library:
        library.index([folder])
    profile.disable()
    print(f"in process (imports done): {time.perf_counter() - started:.2f} s; Lumen's steps:")
    stats = pstats.Stats(profile)
    rows = []
    for (file, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if "desktop_app" in file and (name in STEPS or row[3] > 0.2):
            rows.append((row[3], f"{Path(file).stem}.{name}"))
    for seconds, name in sorted(rows, reverse=True)[:20]:
        print(f"  {name:<40} {seconds:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    args = parser.parse_args()
    make_fake_cache(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_photos(work / "photos", 4)
        photos = sorted((work / "photos").iterdir())
        folder, data = work / "library", work / "data"
        folder.mkdir()
        shutil.copy(photos[0], folder)
        first = lumen_index(data, folder, args.cache)
        shutil.copy(photos[1], folder)
        second = lumen_index(data, folder, args.cache)
        nothing = lumen_index(data, folder, args.cache)
        print(f"load average {os.getloadavg()[0]:.1f}")
        print(_figure("first photo of a new library:", first))
        print(_figure("one new photo:", second, f" (target ≤ {TARGET_S} s)"))
        print(_figure("nothing new:", nothing))
        shutil.copy(photos[2], folder)
        profile_in_process(data, folder, args.cache)


if __name__ == "__main__":
    main()
