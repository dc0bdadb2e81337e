"""Faces: the face model's speed and memory, what the face pass costs next to indexing, the
clustering threshold's evidence, and `lumen people` at 10k faces.

Run: python3 benchmarks/bench_faces.py [--photos 8] [--faces 10000] [--cache DIR]

- threshold: descriptor distances between the variants of one person (resized, cropped,
  flipped, greyscale, brighter, placed in a larger picture) and between the two people of
  tests/fixtures/faces, next to clustering.THRESHOLD and dlib's documented 0.6;
- model: seconds and resident memory to load it; detection per 12-MP photo with and without a
  face; descriptors per second;
- indexing: ``Library.index`` on 12-MP JPEGs (half with a face) with ViT-B-32 (random
  full-size weights: speed is real, vectors meaningless), photos/s with face recognition off
  and on (the face pass runs after the vectors, in the same call);
- people: listing 10k synthetic faces of 400 people in-process and as `lumen people --json`,
  and one re-cluster of them.
The load average is printed with the figures: on a shared machine it says how far to trust them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks.bench_embed import write_photos  # noqa: E402
from benchmarks.fake_model_cache import make_fake_cache  # noqa: E402
from desktop_app.config import Settings  # noqa: E402
from desktop_app.core.embedding.embedder import load_embedder  # noqa: E402
from desktop_app.core.library import Library  # noqa: E402
from desktop_app.core.people.clustering import THRESHOLD  # noqa: E402
from desktop_app.core.people.face_pass import regroup  # noqa: E402
from desktop_app.core.people.model import FaceModel, load_face_model  # noqa: E402
from desktop_app.core.people.service import People  # noqa: E402
from desktop_app.core.storage.catalog import Catalog  # noqa: E402
from tests.support.faces import PEOPLE, photo, variants  # noqa: E402

MODEL = "ViT-B-32/laion2b_s34b_b79k"


def rss_mb() -> float:
    """This process's resident memory, MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def threshold_evidence(model: FaceModel) -> None:
    found = {}
    for person in PEOPLE:
        for name, image in variants(person).items():
            faces = model.faces(image)
            if len(faces) == 1:
                found[(person, name)] = faces[0].descriptor
            else:
                print(f"  {person} {name}: {len(faces)} faces (left out)")
    within, between = [], []
    for a, b in itertools.combinations(found, 2):
        distance = float(np.linalg.norm(found[a] - found[b]))
        (within if a[0] == b[0] else between).append(distance)
    print(
        f"threshold: {len(found)} faces; same person {min(within):.2f}-{max(within):.2f} "
        f"(mean {statistics.mean(within):.2f}), two people {min(between):.2f}-{max(between):.2f} "
        f"(mean {statistics.mean(between):.2f}); THRESHOLD {THRESHOLD}, dlib's documented 0.6"
    )


def face_photo(path: Path, index: int) -> None:
    """A 12-MP JPEG with the astronaut's face about 500 px wide, beside noise."""
    rng = np.random.default_rng(index)
    base = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    canvas = Image.fromarray(base).resize((4000, 3000), Image.Resampling.BICUBIC)
    canvas.paste(photo("astronaut.jpg").resize((2800, 2800)), (1100 - index * 10, 100))
    canvas.save(path, quality=90)


def model_figures(model: FaceModel, folder: Path) -> None:
    with_face, without = folder / "face.jpg", folder / "noface.jpg"
    face_photo(with_face, 0)
    write_photos(folder / "plain", 1)
    (folder / "plain" / "photo_0000.jpg").rename(without)
    from desktop_app.core.people.face_pass import _faces_of

    for label, path in (("with a face", with_face), ("without", without)):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            faces = _faces_of(model, path)
            times.append(time.perf_counter() - started)
        print(
            f"face pass per 12-MP photo {label}: {statistics.median(times) * 1000:.0f} ms "
            f"(decode + detect + describe; {len(faces)} faces), {load()}"
        )
    image = photo("astronaut.jpg")
    assert len(model.faces(image)) == 1
    pixels = np.asarray(image)
    rect = model._detector.run(pixels, 0, 0.0)[0][0]
    started = time.perf_counter()
    for _ in range(10):
        model._describer.compute_face_descriptor(pixels, model._landmarks(pixels, rect))
    rate = 10 / (time.perf_counter() - started)
    print(f"descriptors: {rate:.1f} faces/s (landmarks + ResNet, one thread), {load()}")


def index_figures(photos: int, cache: Path, work: Path) -> None:
    folder = work / "index"
    write_photos(folder, photos // 2)
    for i in range(photos - photos // 2):
        face_photo(folder / f"face_{i:03d}.jpg", i)
    embedder = load_embedder(MODEL, None, cache, "cpu")
    rates = {}
    for round_, on in enumerate((False, True, False, True)):
        settings = Settings(data_dir=work / f"data{round_}", model=MODEL, device="cpu")
        with Library.open(settings, lambda _s: embedder) as library:
            if not on:
                library.people.turn_off()
            started = time.perf_counter()
            summary = library.index([folder])
            elapsed = time.perf_counter() - started
            assert summary.failed == 0
            found = len(library.people.store.all_faces().face_ids)
        rates.setdefault(on, []).append(photos / elapsed)
        print(
            f"  index {photos} photos, faces {'on' if on else 'off'}: {photos / elapsed:.2f} "
            f"photos/s ({found} faces), {load()}",
            flush=True,
        )
    off, on_ = statistics.mean(rates[False]), statistics.mean(rates[True])
    print(f"indexing: {off:.2f} photos/s without faces, {on_:.2f} with ({off / on_ - 1:+.0%} time)")


def people_figures(count: int, work: Path) -> None:
    data_dir = work / "people"
    catalog = Catalog.open(data_dir / "catalog.sqlite3")
    people = People(catalog.session)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 0.09, (400, 128)).astype(np.float32)
    with catalog.session() as s:
        from sqlalchemy import text

        s.execute(
            text(
                "INSERT INTO files (id, path, name, size, mtime_ns, fingerprint, kind, status, "
                "added_at) VALUES (:i, :p, :n, 1, 1, :f, 'image', 'indexed', 0)"
            ),
            [
                {"i": i + 1, "p": f"/photos/{i:05d}.jpg", "n": f"{i:05d}.jpg", "f": f"fp{i}"}
                for i in range(count)
            ],
        )
    ids = [people.store.new_person() for _ in range(len(centres))]
    who = rng.zipf(1.6, count) % len(centres)  # a few people in many photos, most in few
    descriptors = centres[who] + rng.normal(0, 0.01, (count, 128)).astype(np.float32)
    with catalog.session() as s:
        s.execute(
            text(
                "INSERT INTO faces (file_id, person_id, box_left, box_top, box_width, box_height,"
                " score, pinned, descriptor) VALUES (:f, :p, 0, 0, 100, 100, 1.0, 0, :d)"
            ),
            [
                {"f": i + 1, "p": ids[int(who[i])], "d": descriptors[i].tobytes()}
                for i in range(count)
            ],
        )
    started = time.perf_counter()
    listed = people.listed()
    people.store.files_of(p.id for p in listed)
    listing = time.perf_counter() - started
    started = time.perf_counter()
    moved = regroup(people.store)
    regrouping = time.perf_counter() - started
    catalog.close()
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data_dir)]
    started = time.perf_counter()
    done = subprocess.run([*command, "people", "--json"], capture_output=True, text=True)
    whole = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    started = time.perf_counter()
    subprocess.run([*command, "--version"], capture_output=True, check=True)
    bare = time.perf_counter() - started
    print(
        f"people at {count} faces ({len(listed)} people listed): listing with files "
        f"{listing * 1000:.0f} ms in-process; `lumen people --json` {whole:.2f} s "
        f"(`lumen --version` {bare:.2f} s); re-cluster {regrouping * 1000:.0f} ms "
        f"({moved} faces moved), {load()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--faces", type=int, default=10_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "lumen-bench-models"
    )
    parser.add_argument("--skip-index", action="store_true", help="leave out the indexing runs")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {load()}")
    before = rss_mb()
    started = time.perf_counter()
    model = load_face_model()
    model.faces(photo("astronaut.jpg"))  # the first run allocates the network's buffers
    print(
        f"face model: loaded and run once in {time.perf_counter() - started:.2f} s, "
        f"+{rss_mb() - before:.0f} MB resident"
    )
    threshold_evidence(model)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_figures(model, work)
        people_figures(args.faces, work)
        if not args.skip_index:
            make_fake_cache(args.cache)
            index_figures(args.photos, args.cache, work)


if __name__ == "__main__":
    main()
