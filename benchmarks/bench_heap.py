"""Peak memory and speed of indexing with glibc's default heap and with Lumen's arena limit.

Run: python3 benchmarks/bench_heap.py [--photos 48] [--runs 2] [--cache DIR]

Each run is a fresh process that indexes camera-like 12-MP JPEGs with ViT-B-32 (random
full-size weights in the Hugging Face cache layout, HF_HUB_OFFLINE=1) through ``Library.index``,
with the heap as glibc sets it up, with ``core.memory.limit_heap_growth`` (what ``lumen`` and the
window's library process do), and with a 1 MB trim threshold on top (tried, not used). It prints
photos/s once the model is loaded and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = """
import ctypes, shutil, sys
from pathlib import Path
heap, photos, cache, data = sys.argv[1:5]
if heap != "default":
    from desktop_app.core.memory import limit_heap_growth
    limit_heap_growth()
if heap == "arenas + trim":
    ctypes.CDLL("libc.so.6").mallopt(-1, 1 << 20)  # M_TRIM_THRESHOLD
from desktop_app.config import Settings
from desktop_app.core.library import Library
shutil.rmtree(data, ignore_errors=True)
settings = Settings(data_dir=Path(data), model="ViT-B-32/laion2b_s34b_b79k", device="cpu")
with Library.open(settings.replace(model_cache_dir=Path(cache))) as library:
    summary = library.index([Path(photos)])
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(summary.files_per_second, int(peak) / 1024)
"""

HEAPS = ("default", "arenas", "arenas + trim")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    args = parser.parse_args()
    from benchmarks.bench_embed import write_photos
    from benchmarks.fake_model_cache import make_fake_cache

    make_fake_cache(args.cache)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    results: dict[str, list[tuple[float, float]]] = {heap: [] for heap in HEAPS}
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        write_photos(photos, args.photos)
        for _ in range(args.runs):  # interleaved: a drifting load weighs on each alike
            for heap in HEAPS:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, heap, str(photos), str(args.cache), f"{tmp}/d"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                results[heap].append((float(out[-2]), float(out[-1])))
    print(f"{args.photos} 12-MP JPEGs, ViT-B-32, {os.cpu_count()} cores, {args.runs} runs each")
    print("| heap | photos/s | peak RSS MB |")
    print("|---|---|---|")
    for heap, rows in results.items():
        rate = statistics.median(r for r, _ in rows)
        peak = statistics.median(p for _, p in rows)
        print(f"| {heap} | {rate:.1f} | {peak:.0f} |")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
