"""Benchmark the form results take across the pipe: the core's records vs compact ItemRow tuples.

    python benchmarks/bench_pipe_rows.py [--n 10000]

Prints pickle size and unpickle time (what the window's reader thread pays, holding the GIL).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.query.results import BY_MEANING, ResultFile
from desktop_app.core.records import INDEXED, FileRecord
from desktop_app.host.service import _row


def results(n: int) -> tuple[ResultFile, ...]:
    """``n`` typical photo results (EXIF date, size, camera), as the core returns them."""
    return tuple(
        ResultFile(
            FileRecord(
                id=i,
                folder_id=1,
                path=Path(f"/home/user/Pictures/2023/trip/IMG_{i:05d}.jpg"),
                size=2_345_678,
                mtime_ns=1_700_000_000_000_000_000 + i,
                inode=i,
                fingerprint=f"{i:032x}",
                kind="image",
                status=INDEXED,
                error=None,
                width=4000,
                height=3000,
                taken_at=datetime(2023, 5, 1, 12, 0, i % 60),
                camera="Canon EOS 80D",
                title=None,
                page_count=None,
                indexed_at=1.7e9,
            ),
            f"{i:032x}",
            BY_MEANING,
            0.31,
            True,
        )
        for i in range(n)
    )


def unpickle_ms(value: Any, repeat: int = 5) -> tuple[float, float]:
    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        pickle.loads(blob)
        best = min(best, time.perf_counter() - started)
    return len(blob) / 1e6, best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    n = parser.parse_args().n
    files = results(n)
    print(f"{'form':<28} {'MB':>6} {'unpickle ms (best of 5)':>24}")
    for name, value in (
        ("core ResultFile records", files),
        ("ItemRow tuples", tuple(_row(f) for f in files)),
    ):
        size, ms = unpickle_ms(value)
        print(f"{name:<28} {size:>6.2f} {ms:>24.1f}")


if __name__ == "__main__":
    main()
