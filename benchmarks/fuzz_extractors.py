"""Fuzz the extractors with mutated bytes of real files: only ExtractionError may come out.

Seeds are small valid files of every kind Lumen reads (JPEG, PNG, WebP, GIF, TIFF, PDF, DOCX,
HTML, RTF); each iteration flips, inserts, deletes or splices bytes of one and extracts it.
Anything but a result or an ``ExtractionError`` (another exception, a crash of the process, a
hang) is a bug; the failing input is saved. The test suite runs a few dozen iterations; run
thousands here:

    python benchmarks/fuzz_extractors.py --iterations 5000
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract
from tests.support.documents import write_docx, write_text_pdf
from tests.support.shapes import caption_for_text, render


def seed_files(folder: Path) -> dict[str, bytes]:
    """One small valid file per format, by suffix."""
    picture = render(caption_for_text("a red circle on the left"), (48, 32))
    seeds: dict[str, bytes] = {}
    for suffix, fmt in ((".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"), (".gif", "GIF")):
        out = io.BytesIO()
        picture.save(out, format=fmt)
        seeds[suffix] = out.getvalue()
    out = io.BytesIO()
    picture.save(out, format="TIFF", compression="tiff_deflate")
    seeds[".tif"] = out.getvalue()
    seeds[".pdf"] = write_text_pdf(
        folder / "seed.pdf", ["Invoice 2023-0147", "page two"]
    ).read_bytes()
    docx = write_docx(folder / "seed.docx", "Heading", ["a paragraph"], ["a cell"], "Title")
    seeds[".docx"] = docx.read_bytes()
    seeds[".html"] = b"<html><head><title>t</title></head><body><p>caf\xc3\xa9</p></body></html>"
    seeds[".rtf"] = rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Hello {\b bold}\par}"
    return seeds


def mutate(data: bytes, rng: random.Random, seeds: list[bytes]) -> bytes:
    """A few random byte-level changes."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        action = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if action == 0 and buf:  # flip bits
            pos = min(pos, len(buf) - 1)
            buf[pos] ^= 1 << rng.randrange(8)
        elif action == 1:  # insert random bytes
            buf[pos:pos] = rng.randbytes(rng.randint(1, 64))
        elif action == 2:  # delete a run
            del buf[pos : pos + rng.randint(1, 256)]
        elif action == 3:  # truncate
            del buf[pos:]
        elif action == 4:  # splice in a piece of another seed
            other = rng.choice(seeds)
            start = rng.randrange(len(other))
            buf[pos:pos] = other[start : start + rng.randint(1, 512)]
        else:  # an "interesting" number in a header field
            value = rng.choice((0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF))
            width = rng.choice((1, 2, 4))
            pos = min(pos, max(0, len(buf) - width))
            buf[pos : pos + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    return bytes(buf)


def fuzz(
    iterations: int, seed: int, work: Path, say: bool = False
) -> tuple[Counter[str], list[str]]:
    """Run ``iterations`` mutated extractions; returns outcome counts and the bugs found."""
    rng = random.Random(seed)
    seeds = seed_files(work)
    pool = list(seeds.values())
    outcomes: Counter[str] = Counter()
    bugs: list[str] = []
    for n in range(iterations):
        suffix = rng.choice(sorted(seeds))
        data = mutate(seeds[suffix], rng, pool) if rng.random() > 0.05 else rng.randbytes(200)
        path = work / f"case{suffix}"
        path.write_bytes(data)
        try:
            extract(path, 64)
            outcomes["extracted"] += 1
        except ExtractionError:
            outcomes["refused with a reason"] += 1
        except Exception as exc:  # a bug: keep the input
            outcomes["BUG"] += 1
            kept = work / f"bug-{n}{suffix}"
            kept.write_bytes(data)
            bugs.append(f"{kept}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        if say and (n + 1) % 500 == 0:
            print(f"  {n + 1} inputs: {dict(outcomes)}", flush=True)
    return outcomes, bugs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="lumen-fuzz-"))
    outcomes, bugs = fuzz(args.iterations, args.seed, work, say=True)
    elapsed = time.perf_counter() - started
    print()
    print("| inputs | extracted | refused with a reason | bugs | inputs/s |")
    print("|---|---|---|---|---|")
    print(
        f"| {sum(outcomes.values())} | {outcomes['extracted']} | "
        f"{outcomes['refused with a reason']} | {outcomes['BUG']} | "
        f"{sum(outcomes.values()) / elapsed:.0f} |"
    )
    for bug in bugs[:10]:
        print("BUG:", bug)
    print(f"inputs that failed are kept in {work}" if bugs else "no bugs")
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
