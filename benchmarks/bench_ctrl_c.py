"""Seconds from Ctrl-C to the end of `lumen index`, pressed at several moments of a run.

    python benchmarks/bench_ctrl_c.py [--model lumen-tiny|ViT-B-32] [--at 4 10 20 40]

Each round indexes a fresh library of long text notes (about 250 passages each) and 12-MP
photos, sends SIGINT ``--at`` seconds after the start, and prints the phase the run was in,
the seconds until the summary was printed and until the process ended, its exit status,
whether a traceback was printed and how many files were kept. Target: both within 2 s,
exit 130, no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402

WORDS = (  # noqa: SIM905
    "river mountain invoice contract garden bicycle harbour lantern orchard meadow violin "
    "thunder pepper marble canyon copper tulip glacier tenant payment policy refund period"
).split()
TINY = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"


def write_notes(folder: Path, count: int) -> None:
    """``count`` text files of 60 paragraphs each."""
    rng = random.Random(3)
    folder.mkdir(parents=True)
    for i in range(count):
        paragraphs = [
            "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) + "." for _ in range(6))
            for _ in range(60)
        ]
        (folder / f"notes_{i:03d}.txt").write_text("\n\n".join(paragraphs))


def one_round(corpus: Path, work: Path, model: list[str], env: dict[str, str], at_s: float) -> str:
    """Start `lumen index`, press Ctrl-C after ``at_s`` seconds; one row of the table."""
    data = work / f"data-{at_s:g}"
    lumen = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), *model]
    proc = subprocess.Popen(
        [*lumen, "index", str(corpus)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    said: list[str] = []
    summary_at: list[float] = []

    def read_errors() -> None:
        assert proc.stderr is not None
        said.extend(iter(proc.stderr.readline, ""))

    def read_output() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            if line.startswith(("Seen ", "Stopped while starting")):
                summary_at.append(time.monotonic())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_errors, read_output)]
    for reader in readers:
        reader.start()
    time.sleep(at_s)
    if proc.poll() is not None:
        return f"{at_s:6g}  (the run had ended)"
    lines = [line for line in said if line[:2].isdigit()]  # the plain progress lines
    phase = lines[-1].split(" ", 1)[1].split("(")[0].split(":")[0].strip() if lines else "start-up"
    pressed = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=600)
    exited_s = time.monotonic() - pressed
    for reader in readers:
        reader.join(timeout=5)
    summary = f"{summary_at[0] - pressed:7.2f}" if summary_at else "     no"
    status = subprocess.run(
        [*lumen, "status", "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    kept = json.loads(status.stdout)["files"]["indexed"] if status.returncode == 0 else "?"
    traceback = "YES" if any("Traceback" in line for line in said) else "no"
    return (
        f"{at_s:6g}  {phase[:40]:40}  {summary}  {exited_s:7.2f}  {proc.returncode:4}  "
        f"{traceback:9}  {kept}"
    )


def model_stops(model: str, weights: Path | None, cache: Path) -> None:
    """Seconds from a cancel to the model's stop, inside a text and an image batch."""
    import threading as th

    import torch

    from desktop_app.core.embedding.embedder import load_embedder
    from desktop_app.core.indexing import pipeline

    embedder = load_embedder(model, weights, cache, "cpu")
    pipeline._install_checkpoints(embedder)
    embedder.load_image_tower()
    texts = [" ".join(random.Random(i).choice(WORDS) for _ in range(60)) for i in range(64)]
    pixels = torch.zeros((64, 3, embedder.image_size, embedder.image_size))
    print("model stop (s): cancel 1 s into a batch of 64 → the model's thread free again")
    for what, step in (
        ("passages", lambda: embedder.encode_texts(texts)),
        ("pictures", lambda: embedder.encode_prepared(pixels)),
    ):
        started = time.monotonic()
        step()
        whole = time.monotonic() - started
        cancel, done = th.Event(), th.Event()

        def run(step=step, cancel=cancel, done=done) -> None:  # type: ignore[no-untyped-def]
            pipeline._checkpoints.cancel = cancel
            try:
                step()
            except pipeline._Cancelled:
                pass
            finally:
                done.set()

        th.Thread(target=run).start()
        time.sleep(min(1.0, whole / 2))
        cancel.set()
        pressed = time.monotonic()
        done.wait()
        print(f"  {what}: whole batch {whole:6.2f} s, stopped {time.monotonic() - pressed:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="lumen-tiny", choices=["lumen-tiny", "ViT-B-32"])
    parser.add_argument("--at", type=float, nargs="+", default=[4.0, 10.0, 20.0, 40.0])
    parser.add_argument("--notes", type=int, default=96)
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--model-only", action="store_true", help="only the model's stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lumen-ctrl-c-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
        if args.model == "lumen-tiny":
            model = ["--model", "lumen-tiny", "--weights", str(TINY)]
        else:
            make_fake_cache(work / "models")
            env["LUMEN_MODEL_CACHE"] = str(work / "models")
            model = ["--model", "ViT-B-32/laion2b_s34b_b79k"]
        if args.model_only:
            cache = work / "models"
            weights = TINY if args.model == "lumen-tiny" else None
            key = "lumen-tiny" if weights else "ViT-B-32/laion2b_s34b_b79k"
            model_stops(key, weights, cache)
            return
        corpus = work / "corpus"
        write_notes(corpus / "notes", args.notes)
        write_photos(corpus / "photos", args.photos)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
        print(f"model: {args.model}; {args.notes} notes, {args.photos} photos")
        print(
            f"{'at (s)':>6}  {'phase (last progress line)':40}  summary  exited  code  "
            "traceback  kept   (seconds after Ctrl-C)"
        )
        for at_s in args.at:
            print(one_round(corpus, work, model, env, at_s), flush=True)
        print("target: summary and exit ≤ 2 s after Ctrl-C, code 130, no traceback")


if __name__ == "__main__":
    main()
