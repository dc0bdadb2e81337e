"""A fresh `lumen search` and `lumen index` with full-size ViT-B-32: wall time and peak RSS.

Run: python3 benchmarks/bench_cold_search.py [--before-rev REV] [--runs 5] [--photos 8]

Each figure is a new process, as a user runs it (ViT-B-32 with random full-size weights in the
Hugging Face cache layout, HF_HUB_OFFLINE=1). Columns, measured side by side in one run:
- before: the code at ``--before-rev`` (checked out into a temporary git worktree);
- torch path: this code when the library has no numpy text-encoder manifest (the model's text
  tower loaded without random init, the image tower never);
- numpy path: this code as it normally runs after the first load (no torch import at all).
"Weights not cached" evicts the weights file from the page cache first (posix_fadvise).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal, overload

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402

MANIFEST = "text_encoder.json"


@overload
def run(
    src: Path, env: dict[str, str], *args: str, cpu: Literal[False] = False
) -> tuple[float, float, str]: ...


@overload
def run(
    src: Path, env: dict[str, str], *args: str, cpu: Literal[True]
) -> tuple[float, float, str, float]: ...


def run(
    src: Path, env: dict[str, str], *args: str, cpu: bool = False
) -> tuple[float, float, str] | tuple[float, float, str, float]:
    """Seconds, peak RSS (MB) and stdout of one fresh `lumen` process using the code in ``src``
    (and with ``cpu``, its CPU seconds: user + system)."""
    # /usr/bin/time reports the child's own peak RSS; os.wait4 here would also count the pages
    # a forked child shares with this (large) benchmark process before it execs.
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "LUMEN-TIME %e %M %U %S",
            sys.executable,
            "-m",
            "desktop_app.cli",
            *args,
        ],
        env=dict(env, PYTHONPATH=str(src)),
        cwd=src,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"lumen {args} failed:\n{proc.stdout}\n{proc.stderr}")
    line = next(x for x in proc.stderr.splitlines() if x.startswith("LUMEN-TIME"))
    _, elapsed, rss_kb, user, system = line.split()
    if cpu:
        return float(elapsed), int(rss_kb) / 1024, proc.stdout, float(user) + float(system)
    return float(elapsed), int(rss_kb) / 1024, proc.stdout


def evict(path: Path) -> None:
    """Drop ``path`` from the page cache (only this file; no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def load_avg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before-rev", help="git revision to compare with (e.g. main~3)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    args = parser.parse_args()

    weights = make_fake_cache(args.cache)
    work = Path(tempfile.mkdtemp(prefix="lumen-cold-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", LUMEN_MODEL_CACHE=str(args.cache))
    photos = work / "photos"
    write_photos(photos, args.photos)
    sources = {"after": REPO}
    if args.before_rev:
        before = work / "before-src"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before_rev],
            check=True,
            capture_output=True,
        )
        sources = {"before": before, **sources}
    rows: dict[str, dict[str, str]] = {}
    print(f"load average at start: {load_avg()}", flush=True)
    try:
        for name, src in sources.items():
            data = work / f"data-{name}"
            _, rss, _ = run(src, env, "--data-dir", str(data), "-q", "index", str(photos))
            rows.setdefault("peak RSS of `lumen index` (MB)", {})[name] = f"{rss:.0f}"
            modes = [name] if name == "before" else ["torch path", "numpy path"]
            for mode in modes:
                times: list[float] = []
                rsss: list[float] = []
                cold: list[float] = []
                for i in range(args.runs + 1):
                    if mode == "torch path":
                        (data / MANIFEST).unlink(missing_ok=True)
                    if i == 0:
                        evict(weights)
                    t, rss, out = run(src, env, "--data-dir", str(data), "search", "a cat")
                    assert "photo_" in out, out
                    (cold if i == 0 else times).append(t)
                    rsss.append(rss)
                    if mode == "numpy path" and i == 0:
                        assert (data / MANIFEST).exists()
                rows.setdefault("`lumen search`, weights not cached (s)", {})[mode] = (
                    f"{cold[0]:.2f}"
                )
                rows.setdefault(f"`lumen search`, warm, median of {args.runs} (s)", {})[mode] = (
                    f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"
                )
                rows.setdefault("peak RSS of `lumen search` (MB)", {})[mode] = (
                    f"{statistics.median(rsss):.0f}"
                )
                print(f"  done: {mode} (load {load_avg()})", flush=True)
    finally:
        if args.before_rev:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "before-src")],
                check=False,
            )
        shutil.rmtree(work, ignore_errors=True)
    columns = [*(["before"] if args.before_rev else []), "torch path", "numpy path"]
    print(f"\nViT-B-32, {os.cpu_count()} CPUs, load average at end: {load_avg()}")
    print(f"| figure | {' | '.join(columns)} |")
    print(f"|---|{'---|' * len(columns)}")
    for figure, values in rows.items():
        if figure.startswith("peak RSS of `lumen index`"):
            cells = [values.get("before", ""), values.get("after", ""), values.get("after", "")]
            cells = cells if args.before_rev else cells[1:]
        else:
            cells = [values.get(c, "") for c in columns]
        print(f"| {figure} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
