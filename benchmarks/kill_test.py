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

    rounds: int = 0
    kills: int = 0  # SIGKILLs of a running `lumen index` (other rounds finished first)
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


def start_index(data: Path, fork: bool) -> int:
    """Start `lumen index` on ``data``; returns the pid of the process to kill.

    With ``fork`` the child is forked from this process, which has imported torch and Lumen
    already (a fresh interpreter spends seconds importing them, and kills would mostly land
    there); it then runs the real command line in a real process of its own.
    """
    if not fork:
        proc = subprocess.Popen(
            lumen(data, "index"),
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return proc.pid
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            from desktop_app.cli import main as lumen_main

            code = lumen_main(lumen(data, "index")[3:])
        finally:
            os._exit(code)
    return pid


def wait_for(pid: int, timeout: float) -> int | None:
    """The exit status of ``pid`` once it ends (None if still running after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


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


def catalog_state(data: Path) -> tuple[str, int, int, dict[str, tuple[int, int]]]:
    """(integrity_check, rows, distinct paths, indexed path -> (size, mtime_ns)) from SQLite."""
    db = sqlite3.connect(data / "catalog.sqlite3", timeout=30)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows, distinct = db.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
        indexed = {
            p: (size, mtime)
            for p, size, mtime in db.execute(
                "SELECT path, size, mtime_ns FROM files WHERE status = 'indexed'"
            )
        }
    finally:
        db.close()
    return str(integrity), int(rows), int(distinct), indexed


def disk_stat(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def file_status(data: Path, path: str) -> str:
    """A file's status and error in the catalog, for a problem report."""
    db = sqlite3.connect(data / "catalog.sqlite3", timeout=30)
    try:
        row = db.execute("SELECT status, error FROM files WHERE path = ?", (path,)).fetchone()
    finally:
        db.close()
    return "not catalogued" if row is None else f"{row[0]}: {row[1]}"


def status(data: Path, fork: bool = False) -> dict[str, object]:
    """`lumen status --json` (in a forked child when ``fork``, to skip the imports)."""
    if fork:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read_end)
                os.dup2(write_end, 1)
                errors = os.open(data.parent / "status-stderr.txt", os.O_WRONLY | os.O_CREAT)
                os.ftruncate(errors, 0)
                os.dup2(errors, 2)
                from desktop_app.cli import main as lumen_main

                code = lumen_main(lumen(data, "status", "--json")[3:])
                sys.stdout.flush()
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            output = pipe.read()
        exit_status = wait_for(pid, 120)
        if exit_status != 0:
            said = (data.parent / "status-stderr.txt").read_text(errors="replace").strip()
            raise RuntimeError(f"the library did not open (status {exit_status}): {said[-300:]}")
        forked: dict[str, object] = json.loads(output)
        return forked
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


def run_kill_test(
    kills: int, files: int, seed: int, work: Path, say: bool = True, fork: bool = False
) -> Outcome:
    """Run the whole test in ``work``; returns the outcome (problems listed, never raised)."""
    rng = random.Random(seed)
    photos, data = work / "photos", work / "data"
    photos.mkdir(parents=True)
    for n in range(files):
        write_photo(photos / f"IMG_{n:04d}.png", rng)
    outcome = Outcome()
    started = time.perf_counter()
    # A first full run tells how long a run takes; kills then land anywhere up to that.
    subprocess.run(lumen(data, "index", str(photos)), env=environment(), timeout=600, check=False)
    churn(photos, random.Random(seed + 1), [10_000])
    t0 = time.perf_counter()
    wait_for(start_index(data, fork), 600)
    full_run_s = time.perf_counter() - t0
    counter = [0]
    indexed_before = catalog_state(data)[3]
    round_no = 0
    while outcome.kills < kills and round_no < kills * 3:
        round_no += 1
        touched = {str(p) for p in churn(photos, rng, counter)}
        pid = start_index(data, fork)
        if wait_for(pid, rng.uniform(0.05, full_run_s)) is None:
            outcome.kills += 1
            os.kill(pid, signal.SIGKILL)
            wait_for(pid, 60)
        outcome.rounds += 1
        integrity, rows, distinct, indexed = catalog_state(data)
        if integrity != "ok":
            outcome.problems.append(f"round {round_no}: integrity_check says {integrity}")
        if rows != distinct:
            outcome.problems.append(f"round {round_no}: {rows - distinct} paths catalogued twice")
        # Committed work: files indexed as they are on disk now (a file changed in an earlier
        # round whose change no run has noticed yet may rightly go back to pending).
        lost = {
            p
            for p, seen in indexed_before.items()
            if p not in touched and p not in indexed and os.path.exists(p) and seen == disk_stat(p)
        }
        if lost:
            example = sorted(lost)[0]
            outcome.problems.append(
                f"round {round_no}: {len(lost)} indexed files lost, e.g. {example} "
                f"({file_status(data, example)})"
            )
        if round_no % 5 == 0:  # opening the library costs a moment
            try:
                st = status(data)  # a fresh process: nothing inherited from this one
                if st["vectors"] != st["index_size"]:
                    outcome.problems.append(
                        f"round {round_no}: {st['vectors']} vectors but {st['index_size']} in index"
                    )
            except RuntimeError as exc:
                outcome.problems.append(f"round {round_no}: {exc}")
        indexed_before = indexed
        if say and round_no % 10 == 0:
            print(
                f"  {round_no} rounds, {outcome.kills} kills, {len(outcome.problems)} problems",
                flush=True,
            )
    final = subprocess.run(
        lumen(data, "index"), capture_output=True, text=True, env=environment(), timeout=600
    )
    if final.returncode != 0:
        outcome.problems.append(f"the last run failed: {final.stderr.strip()[-300:]}")
    integrity, rows, distinct, indexed = catalog_state(data)
    on_disk = {str(p) for p in photos.rglob("*.png")}
    if integrity != "ok" or rows != distinct:
        outcome.problems.append(f"at the end: integrity {integrity}, {rows} rows, {distinct} paths")
    if set(indexed) != on_disk:
        outcome.problems.append(
            f"at the end: {len(on_disk - set(indexed))} files on disk not indexed, "
            f"{len(set(indexed) - on_disk)} indexed files not on disk"
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
    parser.add_argument(
        "--spawn", action="store_true", help="start each run as a fresh interpreter, not a fork"
    )
    args = parser.parse_args()
    fork = not args.spawn and hasattr(os, "fork")
    if fork:  # what each forked run would otherwise import itself
        import open_clip  # noqa: F401
        import torch  # noqa: F401

        import desktop_app.cli  # noqa: F401
    with tempfile.TemporaryDirectory(prefix="lumen-kill-") as tmp:
        outcome = run_kill_test(args.kills, args.files, args.seed, Path(tmp), fork=fork)
    print()
    print("| rounds | SIGKILLs mid-run | problems | files at end | vectors | index | time |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {outcome.rounds} | {outcome.kills} | {len(outcome.problems)} | "
        f"{outcome.final_files} | {outcome.final_vectors} | {outcome.final_index} | "
        f"{outcome.seconds:.0f} s |"
    )
    for problem in outcome.problems[:20]:
        print(f"PROBLEM: {problem}")
    print("OK: nothing lost or doubled" if outcome.ok else "FAILED")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
