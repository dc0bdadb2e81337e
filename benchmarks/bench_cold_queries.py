"""The first queries after the page cache was dropped (as after a reboot), with and without the
host's read-ahead of the library's files.

    sudo python3 benchmarks/bench_cold_queries.py [--library mixed] [--rounds 2] [--wait 4]

Builds (or reuses) the 100k-file library of bench_big_library.py. Each round, for each mode in
turn, a child process drops the page cache (root only: ``/proc/sys/vm/drop_caches``), opens the
library, reads its index and catalog ahead ("ahead", as the host's warm-up does; "cold" does
not), runs the warm-up search, waits ``--wait`` seconds as a user starts typing, and times seven
common-word and seven document-heavy queries (60 files each, in process). A "warm" run comes
first. The figure that matters is the mean of the first queries, "ahead" against "cold".
On a virtual machine whose disk reads the host's page cache serves, "cold" costs less than on a
real disk after a reboot.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.big_library_build import LIBRARIES, MODEL, build_library, model_env  # noqa: E402

KINDS = ("common word", "document-heavy")
PER_KIND = 7


def child(data: Path, mode: str, wait_s: float) -> None:
    """One measurement in this fresh process (``mode``: warm, cold or ahead)."""
    from benchmarks.bench_big_library import QUERIES
    from desktop_app.host.serve import one_blas_thread

    one_blas_thread()
    if mode != "warm":
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    from desktop_app.config import Settings
    from desktop_app.core.library import Library
    from desktop_app.core.storage.read_ahead import read_ahead

    started = time.perf_counter()
    library = Library.open(Settings.load(data).replace(model=MODEL, device="cpu"))
    asked = 0
    if mode == "ahead":
        asked = read_ahead([library.settings.index_path, library.settings.catalog_path])
    library.search_understood("warm up", 1)
    ready = time.perf_counter() - started
    time.sleep(wait_s)
    means = []
    for kind in KINDS:
        times = []
        for text in QUERIES[kind][:PER_KIND]:
            began = time.perf_counter()
            library.search_understood(text, 60)
            times.append((time.perf_counter() - began) * 1000)
        means.append(sum(times) / len(times))
        shown = " ".join(f"{t:.0f}" for t in times)
        print(f"    {kind:15s} {shown}  (mean {means[-1]:.0f} ms)", flush=True)
    library.close()
    print(f"  {mode:5s} ready {ready:.2f} s, {asked / 2**20:.0f} MB read ahead; mean "
          + " / ".join(f"{m:.0f}" for m in means) + " ms", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-big"
    )
    parser.add_argument("--library", choices=sorted(LIBRARIES), default="mixed")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wait", type=float, default=4.0, help="seconds before typing starts")
    parser.add_argument("--child", choices=("warm", "cold", "ahead"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_env()
    if args.child is not None:
        child(args.data, args.child, args.wait)
        return 0
    if os.geteuid() != 0:
        print("Dropping the page cache needs root: run this benchmark with sudo.")
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = build_library(args.workdir, args.library)
    from desktop_app.config import Settings

    settings = Settings.load(data)
    sizes = sum(path.stat().st_size for path in (settings.catalog_path, settings.index_path))
    print(f"{args.library} library: catalog + index {sizes / 2**20:.0f} MB; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    modes = ["warm"] + ["cold", "ahead"] * args.rounds
    for mode in modes:
        command = [sys.executable, __file__, "--child", mode, "--data", str(data)]
        subprocess.run([*command, "--wait", str(args.wait)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
