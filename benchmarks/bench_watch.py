"""Benchmark live folders: save-to-searchable latency, and time and memory for a burst of files."""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.config import Settings
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.library import Library
from tests.support.shapes import all_captions, render

REPO = Path(__file__).resolve().parent.parent
CAPTIONS = all_captions()


def png(index: int, size: int, seed: int = 0) -> bytes:
    """A picture of caption number ``index`` (modulo 72)."""
    buffer = io.BytesIO()
    render(CAPTIONS[index % len(CAPTIONS)], (size, size), seed=seed).save(buffer, "PNG")
    return buffer.getvalue()


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler:
    """Samples this process's resident memory every 20 ms; ``peak`` is the largest seen."""

    def __init__(self) -> None:
        self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait(condition: Any, timeout: float, poll: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=30, help="single saves to time")
    parser.add_argument("--burst", type=int, default=2000, help="files copied in at once")
    parser.add_argument("--settle", type=float, default=1.0, help="watcher settle time (s)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument(
        "--weights", type=Path, default=REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lumen-bench-watch-"))
    root = work / "photos"
    root.mkdir()
    for i in range(20):
        (root / f"background_{i}.png").write_bytes(png(i, args.size))
    settings = Settings(
        data_dir=work / "data",
        model="lumen-tiny",
        weights=args.weights,
        model_cache_dir=work / "models",
        device="cpu",
        batch_size=32,
    )
    library = Library.open(settings)
    library.add_folder(root)
    batches: list[int] = []
    update_paths = library.update_paths

    def counting(paths: Any, *rest: Any, **kw: Any) -> Any:
        paths = list(paths)
        batches.append(len(paths))
        return update_paths(paths, *rest, **kw)

    library.update_paths = counting  # type: ignore[method-assign]
    watcher = FolderWatcher(library, settle_s=args.settle, reconcile_every_s=None)
    started = time.perf_counter()
    watcher.start()
    assert watcher.wait_idle(300)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"first rescan (20 files, model load included): {time.perf_counter() - started:.1f} s")

    latencies: list[float] = []
    for i in range(args.saves):
        caption = CAPTIONS[(7 * i) % len(CAPTIONS)]
        path = root / f"save_{i:03d}.png"
        data = png(7 * i, args.size, seed=1000 + i)
        with open(path, "wb") as handle:
            handle.write(data)
        closed = time.perf_counter()

        def found(path: Path = path, text: str = caption.text) -> bool:
            return path in [h.file.path for h in library.search(text, 10, show_all=True).hits]

        if not wait(found, 60):
            print(f"save {i}: not found within 60 s", file=sys.stderr)
            return 1
        latencies.append(time.perf_counter() - closed)
    if latencies:
        print(
            f"save -> searchable over {len(latencies)} saves (settle {args.settle:g} s): "
            f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms"
        )

    payloads = [png(i, min(args.size, 32), seed=5000 + i) for i in range(min(args.burst, 500))]
    burst = root / "burst"
    burst.mkdir()
    expected = library.status().indexed + args.burst
    batches.clear()
    before = rss_mib()
    with RssSampler() as sampler:
        t0 = time.perf_counter()
        for i in range(args.burst):
            (burst / f"{i:05d}.png").write_bytes(payloads[i % len(payloads)] + i.to_bytes(4, "big"))
        copied = time.perf_counter()
        if not wait(lambda: library.status().indexed >= expected, 1800, poll=0.1):
            print("burst: not all files were indexed within 30 min", file=sys.stderr)
            return 1
        done = time.perf_counter()
    print(
        f"burst of {args.burst} files ({min(args.size, 32)} px PNG): "
        f"copied in {copied - t0:.1f} s, "
        f"all searchable {done - t0:.1f} s after the copy began "
        f"({args.burst / (done - t0):.0f} files/s), in {len(batches)} batches "
        f"(largest {max(batches, default=0)})"
    )
    print(
        f"memory: RSS {before:.0f} MiB before the burst, peak {sampler.peak:.0f} MiB during it "
        f"(+{sampler.peak - before:.0f} MiB); "
        f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    watcher.stop()
    library.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
