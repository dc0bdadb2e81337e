"""The two libraries ``bench_big_library.py`` and ``bench_clear_field.py`` measure, built once.

Built through the storage layer's own write API (``Store.store_embedded``), with clustered random
512-d vectors in the space of the default model (ViT-B-32, random weights in the Hugging Face
cache layout, ``HF_HUB_OFFLINE=1``); see ``bench_big_library.py`` for what they hold.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODEL = "ViT-B-32/laion2b_s34b_b79k"
MODEL_ARGS = ["--model", MODEL, "--device", "cpu"]
DIM = 512

LIBRARIES = {
    # name: (files, documents, mean passages per document)
    "docs": (3_000, 1_000, 24),
    "mixed": (100_000, 10_000, 8),
}

_WORDS = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not this are or from at which but "
    "have install configure server client database query function module package release "
    "version system file directory option command user manual page section example output "
    "input default value set list read write mode path network address port service daemon "
    "kernel driver device memory process thread signal error warning message log debug build "
    "source binary library header include link compile test document text format encoding "
    "unicode character string number integer float array table index key record field type "
    "class object method interface protocol socket stream buffer cache lock file-system "
    "permission owner group access control security policy certificate key-pair password "
    "account session login shell terminal editor window display screen font color image icon"
).split()


# -- building -------------------------------------------------------------------------------


def model_env() -> dict[str, str]:
    cache = Path(tempfile.gettempdir()) / "lumen-bench-models"
    from benchmarks.fake_model_cache import make_fake_cache

    make_fake_cache(cache)
    os.environ.update(HF_HUB_OFFLINE="1", LUMEN_MODEL_CACHE=str(cache))
    return dict(os.environ)


def _vocabulary(rng: np.random.Generator, size: int = 6000) -> np.ndarray:
    """Common words plus made-up ones, drawn with Zipf-like frequencies."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    made = ["".join(rng.choice(letters, rng.integers(4, 10))) for _ in range(size)]
    return np.array(list(_WORDS) + made)


def _passages(rng: np.random.Generator, vocab: np.ndarray, count: int) -> list[str]:
    """``count`` passages of ~150 words; ~40 % hold "license", 1 in 400 "harbour"."""
    ranks = np.arange(1, len(vocab) + 1)
    p = 1.0 / ranks
    p /= p.sum()
    words = rng.choice(vocab, size=(count, 150), p=p)
    out = []
    for row in words:
        row = list(row)
        if rng.random() < 0.4:
            row[int(rng.integers(len(row)))] = "license"
        if rng.random() < 0.0025:
            row[int(rng.integers(len(row)))] = "harbour"
        out.append(" ".join(row))
    return out


def _clustered(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    vectors = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.normal(size=(n, DIM))
    vectors = vectors.astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _seed_library(data: Path, work: Path) -> None:
    """A library whose space is the default model's: one small text file indexed for real."""
    seed = work / "seed"
    seed.mkdir(parents=True, exist_ok=True)
    (seed / "hello.txt").write_text("A first note to start the library.\n")
    command = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), *MODEL_ARGS]
    subprocess.run([*command, "-q", "index", str(seed)], check=True, cwd=REPO, env=model_env())


def _roots(work: Path) -> tuple[Path, Path]:
    """The watched folders the libraries' files are in (there, empty: the files are not)."""
    roots = work / "tree" / "doc", work / "tree" / "photos"
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
    return roots


def _relocate(data: Path, work: Path) -> None:
    """Move a library built under /bench (an earlier version of this benchmark) to the roots,
    and pause its folders: the window's host would otherwise scan them, find the files
    missing on disk and forget them."""
    import sqlite3

    with sqlite3.connect(data / "catalog.sqlite3") as db:
        db.execute("UPDATE folders SET paused = 1")
        for old, new in zip(("/bench/doc", "/bench/photos"), _roots(work), strict=True):
            for table in ("folders", "files"):
                db.execute(
                    f"UPDATE {table} SET path = ? || substr(path, ?) WHERE path LIKE ?",
                    (str(new), len(old) + 1, old + "%"),
                )


def build_library(work: Path, name: str) -> Path:
    """The data dir of library ``name`` (built once, reused when it is there)."""
    data = work / f"library-{name}"
    if (data / "ready").exists():
        _relocate(data, work)
        _probe_half_queries(data)
        return data
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    _seed_library(data, work)
    files, documents, per_doc = LIBRARIES[name]
    _fill(data, files, documents, per_doc)
    _relocate(data, work)
    _probe_half_queries(data)
    (data / "ready").touch()
    print(f"  (built library {name!r} in {time.perf_counter() - started:.0f} s)", flush=True)
    return data


def _probe_half_queries(data: Path) -> None:
    """Have the library's text encoder manifest say whether float16 queries match the model,
    as a library indexed today has it: a library built before that was known answers the
    window's queries through the float32 tower (~26 vs ~18 ms a key) until a run loads the
    model, which this benchmark's runs never do."""
    import json

    manifest = data / "text_encoder.json"
    try:
        if "half_queries" in json.loads(manifest.read_text(encoding="utf-8")):
            return
    except (OSError, ValueError):
        pass
    from desktop_app.config import Settings
    from desktop_app.core.library import Library

    library = Library.open(Settings.load(data).replace(model=MODEL, device="cpu"))
    try:
        library.embedder()  # loading the model probes the encoder and writes the manifest
    finally:
        library.close()
    print(f"  (the text encoder of {data.name} probed for float16 queries)", flush=True)


def _fill(data: Path, files: int, documents: int, per_doc: int) -> None:
    from sqlalchemy import func, insert, select

    from desktop_app.config import Settings
    from desktop_app.core.records import EmbeddedFile, NewText, NewVector
    from desktop_app.core.storage.catalog import Catalog
    from desktop_app.core.storage.catalog_tables import FileRow
    from desktop_app.core.storage.store import Store

    settings = Settings.load(data)
    store = Store.open(Catalog.open(settings.catalog_path), settings.index_path)
    catalog, space = store.catalog, store.space
    assert space, "the seed library has no vector space"
    rng = np.random.default_rng(22)
    vocab = _vocabulary(rng)
    centres = rng.normal(size=(max(8, files // 200), DIM))
    docs_root, photos_root = _roots(data.parent)
    doc_folder = catalog.add_folder(docs_root).id
    photo_folder = catalog.add_folder(photos_root).id
    base = int(time.time() * 1e9) - files * 10**9
    with catalog.session() as s:
        first_id = 1 + int(s.scalar(select(func.max(FileRow.id))) or 0)
    rare_doc = documents // 2
    batch = 500
    for start in range(0, files, batch):
        ids = range(start, min(files, start + batch))
        rows = []
        for n in ids:
            is_doc = n < documents
            if is_doc:
                path = (
                    docs_root
                    / f"pkg{n // 5:05d}"
                    / ("copyright", "README.md", "NEWS", "changelog.html", "manual.pdf")[n % 5]
                )
            elif n % 3 == 0:
                path = photos_root / "icons" / f"{n // 400:03d}" / f"icon_{n:06d}.png"
            else:
                path = photos_root / f"{2010 + n % 14}" / f"IMG_{n:07d}.jpg"
            rows.append(
                {
                    "id": first_id + n,
                    "folder_id": doc_folder if is_doc else photo_folder,
                    "path": str(path),
                    "name": path.name,
                    "size": 1000 + n,
                    "mtime_ns": base + n * 10**9,
                    "fingerprint": f"{n:032x}",
                    "kind": "document" if is_doc else "image",
                    "status": "pending",
                    "added_at": time.time(),
                }
            )
        with catalog.session() as s:
            s.execute(insert(FileRow), rows)
        embedded = []
        for n in ids:
            if n < documents:
                count = max(1, int(rng.poisson(per_doc)))
                texts = _passages(rng, vocab, count)
                if n == rare_doc:
                    texts[0] += " qx7781"
                picked = np.linspace(
                    0, count - 1, min(count, max(4, min(32, round(math.sqrt(count)))))
                )
                picked = sorted({round(float(i)) for i in picked})
                vecs = _clustered(rng, len(picked), centres)
                vectors = [
                    NewVector("text", v, page=p + 1, passage=texts[p][:400])
                    for p, v in zip(picked, vecs, strict=True)
                ]
                new_texts = [NewText(t, p + 1) for p, t in enumerate(texts)]
                values = {"page_count": count, "title": f"Package {n // 5} documentation"}
            else:
                vectors = [NewVector("image", _clustered(rng, 1, centres)[0])]
                new_texts = []
                values = {"width": 4000, "height": 3000}
            embedded.append(EmbeddedFile(first_id + n, vectors, new_texts, values))
        store.store_embedded(space, embedded)
        if start % 10_000 == 0:
            print(f"  ({start + len(ids)} of {files} files)", flush=True)
    store.save()
    catalog.close()


# -- measuring --------------------------------------------------------------------------------
