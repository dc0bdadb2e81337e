"""Crash safety: SIGKILL `lumen index` at random moments, many times, and check the library each time.

Each round changes the photo folder (new, rewritten, renamed and deleted files), starts
`lumen index`, kills it with SIGKILL after a random delay and then checks that:
  - `PRAGMA integrity_check` is ok and no path is catalogued twice;
  - the library opens (`lumen status --json`) and its index holds exactly the catalog's vectors;
  - work committed before the kill is kept (a file indexed before, and untouched since, is
    still indexed).
At the end one run without a kill must finish the rest: the catalog holds exactly the files on
disk, each once, all indexed. Prints one line per 10 rounds and a summary table.

    python benchmarks/kill_test.py --kills 100
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.shapes import all_captions, render

REPO = Path(__file__).resolve().parent.parent
WEIGHTS = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
CAPTIONS = all_captions()


@dataclass
class Outcome:
    """What the kill test saw."""

    kills: int = 0
    killed_while_running: int = 0  # the rest had finished before the kill came
    problems: list[str] = field(default_factory=list)
    final_files: int = 0
    final_vectors: int = 0
    final_index: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def lumen(data: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "desktop_app.cli",
        "--data-dir",
        str(data),
        "--model",
        "lumen-tiny",
        "--weights",
        str(WEIGHTS),
        "--quiet",
        *args,
    ]


def environment() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))


def write_photo(path: Path, rng: random.Random) -> None:
    caption = CAPTIONS[rng.randrange(len(CAPTIONS))]
    render(caption, (96, 96), seed=rng.randrange(1_000_000)).save(path)


def churn(photos: Path, rng: random.Random, counter: list[int]) -> set[Path]:
    """Add, rewrite, rename and delete a few files; returns the paths touched or removed."""
    touched: set[Path] = set()
    existing = sorted(photos.rglob("*.png"))
    for _ in range(rng.randint(3, 12)):  # new files, some in a subfolder
        counter[0] += 1
        folder = photos / f"day{counter[0] % 3}"
        folder.mkdir(exist_ok=True)
        path = folder / f"new_{counter[0]}.png"
        write_photo(path, rng)
        touched.add(path)
    for path in rng.sample(existing, min(len(existing), rng.randint(0, 4))):
        action = rng.choice(("rewrite", "rename", "delete"))
        touched.add(path)
        if action == "rewrite":
            write_photo(path, rng)
        elif action == "rename":
            counter[0] += 1
            target = path.with_name(f"renamed_{counter[0]}.png")
            path.rename(target)
            touched.add(target)
        else:
            path.unlink()
    return touched


def catalog_state(data: Path) -> tuple[str, int, int, set[str]]:
    """(integrity_check, rows, distinct paths, indexed paths) read straight from SQLite."""
    db = sqlite3.connect(data / "catalog.sqlite3", timeout=30)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows, distinct = db.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
        indexed = {p for (p,) in db.execute("SELECT path FROM files WHERE status = 'indexed'")}
    finally:
        db.close()
    return str(integrity), int(rows), int(distinct), indexed


def status(data: Path) -> dict[str, object]:
    out = subprocess.run(
        lumen(data, "status", "--json"),
        capture_output=True,
        text=True,
        env=environment(),
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the library did not open: {out.stderr.strip()[-300:]}")
    result: dict[str, object] = json.loads(out.stdout)
    return result


def run_kill_test(kills: int, files: int, seed: int, work: Path, say: bool = True) -> Outcome:
    """Run the whole test in ``work``; returns the outcome (problems listed, never raised)."""
    rng = random.Random(seed)
    photos, data = work / "photos", work / "data"
    photos.mkdir(parents=True)
    for n in range(files):
        write_photo(photos / f"IMG_{n:04d}.png", rng)
    outcome = Outcome()
    started = time.perf_counter()
    # A first full run tells how long a run takes; kills then land anywhere up to that.
    t0 = time.perf_counter()
    subprocess.run(lumen(data, "index", str(photos)), env=environment(), timeout=600, check=False)
    full_run_s = time.perf_counter() - t0
    counter = [0]
    indexed_before: set[str] = catalog_state(data)[3]
    for round_no in range(1, kills + 1):
        touched = {str(p) for p in churn(photos, rng, counter)}
        proc = subprocess.Popen(
            lumen(data, "index"),
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, full_run_s * 1.1))
        if proc.poll() is None:
            outcome.killed_while_running += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        outcome.kills += 1
        integrity, rows, distinct, indexed = catalog_state(data)
        if integrity != "ok":
            outcome.problems.append(f"round {round_no}: integrity_check says {integrity}")
        if rows != distinct:
            outcome.problems.append(f"round {round_no}: {rows - distinct} paths catalogued twice")
        lost = (indexed_before - touched) - indexed
        lost = {p for p in lost if os.path.exists(p)}
        if lost:
            outcome.problems.append(f"round {round_no}: {len(lost)} indexed files lost")
        if round_no % 5 == 0 or round_no == kills:  # opening the library costs a few seconds
            try:
                st = status(data)
                if st["vectors"] != st["index_size"]:
                    outcome.problems.append(
                        f"round {round_no}: {st['vectors']} vectors but {st['index_size']} in index"
                    )
            except RuntimeError as exc:
                outcome.problems.append(f"round {round_no}: {exc}")
        indexed_before = indexed
        if say and round_no % 10 == 0:
            print(f"  {round_no} kills, {len(outcome.problems)} problems", flush=True)
    final = subprocess.run(
        lumen(data, "index"), capture_output=True, text=True, env=environment(), timeout=600
    )
    if final.returncode != 0:
        outcome.problems.append(f"the last run failed: {final.stderr.strip()[-300:]}")
    integrity, rows, distinct, indexed = catalog_state(data)
    on_disk = {str(p) for p in photos.rglob("*.png")}
    if integrity != "ok" or rows != distinct:
        outcome.problems.append(f"at the end: integrity {integrity}, {rows} rows, {distinct} paths")
    if indexed != on_disk:
        outcome.problems.append(
            f"at the end: {len(on_disk - indexed)} files on disk not indexed, "
            f"{len(indexed - on_disk)} indexed files not on disk"
        )
    st = status(data)
    outcome.final_files = len(on_disk)
    outcome.final_vectors = int(str(st["vectors"]))
    outcome.final_index = int(str(st["index_size"]))
    if outcome.final_vectors != outcome.final_index or outcome.final_vectors != len(on_disk):
        outcome.problems.append(
            f"at the end: {len(on_disk)} files, {outcome.final_vectors} vectors, "
            f"{outcome.final_index} in the index"
        )
    outcome.seconds = time.perf_counter() - started
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--files", type=int, default=120, help="photos to start with")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lumen-kill-") as tmp:
        outcome = run_kill_test(args.kills, args.files, args.seed, Path(tmp))
    print()
    print("| kills | killed mid-run | problems | files at end | vectors | index | time |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {outcome.kills} | {outcome.killed_while_running} | {len(outcome.problems)} | "
        f"{outcome.final_files} | {outcome.final_vectors} | {outcome.final_index} | "
        f"{outcome.seconds:.0f} s |"
    )
    for problem in outcome.problems[:20]:
        print(f"PROBLEM: {problem}")
    print("OK: nothing lost or doubled" if outcome.ok else "FAILED")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
