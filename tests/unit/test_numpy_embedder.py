"""A run of a few new files embeds with the numpy towers: no torch model is loaded, and the
photos are found and tagged as the model would have them; a long run still loads the model."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.numpy_embedder import SMALL_RUN
from desktop_app.core.library import Library
from tests.support.photos import write_shape_photos
from tests.support.settings import tiny_model_settings
from tests.support.shapes import caption_for_text

REPO = Path(__file__).resolve().parents[2]
QUERIES = ["a red circle on the left", "a blue square at the top", "a green triangle"]


def _refuse_model(_settings: Settings) -> Embedder:
    raise AssertionError("the torch model was loaded for a small run")


def _index_in_two_runs(
    settings: Settings, model: Embedder, folder: Path, late: list[Path], second_loader: object
) -> bool:
    """Index ``folder`` without ``late`` (with the model), then again with them; whether the
    second run loaded the model."""
    aside = folder.parent / "aside"
    aside.mkdir()
    for path in late:
        shutil.move(path, aside / path.name)
    with Library.open(settings, lambda _s: model) as library:
        library.index([folder])
    for path in late:
        shutil.move(aside / path.name, path)
    with Library.open(settings, second_loader) as library:  # type: ignore[arg-type]
        summary = library.index([folder])
        assert summary.embedded == len(late) and not summary.failed
        return library.embedder_loaded


def test_a_small_run_finds_and_tags_its_photos_as_the_model_does(
    tiny_weights: Path, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = sorted(write_shape_photos(tmp_path / "a" / "photos", seeds=(101,)))
    shutil.copytree(tmp_path / "a" / "photos", tmp_path / "b" / "photos")
    by_model = tiny_model_settings(tmp_path / "a", tiny_weights)
    small_run = tiny_model_settings(tmp_path / "b", tiny_weights)
    with Library.open(by_model, lambda _s: tiny_embedder) as library:
        library.index([tmp_path / "a" / "photos"])
        expected = [library.search(q, k=8) for q in QUERIES]
        tags = {p.name: library.file_tags(p) for p in photos}
    late = [tmp_path / "b" / "photos" / p.name for p in photos[:SMALL_RUN]]
    folder = tmp_path / "b" / "photos"
    assert not _index_in_two_runs(small_run, tiny_embedder, folder, late, _refuse_model)
    with Library.open(small_run, _refuse_model) as library:
        got = [library.search(q, k=8) for q in QUERIES]
        for path in late:
            mine, theirs = library.file_tags(path), tags[path.name]
            assert [t.name for t in mine] == [t.name for t in theirs]
            np.testing.assert_allclose([t.score for t in mine], [t.score for t in theirs], 1e-3)
    for old, new in zip(expected, got, strict=True):
        assert [h.file.path.name for h in new.hits] == [h.file.path.name for h in old.hits]
        np.testing.assert_allclose(
            [h.score for h in new.hits], [h.score for h in old.hits], atol=1e-4
        )


def test_a_long_run_loads_the_model(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = sorted(write_shape_photos(tmp_path / "photos", seeds=(101, 102)))
    late = photos[: SMALL_RUN + 1]  # more than a small run: torch's tower is faster
    assert _index_in_two_runs(
        tiny_settings, tiny_embedder, tmp_path / "photos", late, lambda _s: tiny_embedder
    )


def test_a_model_on_a_gpu_keeps_torch(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    photos = sorted(write_shape_photos(tmp_path / "photos", seeds=(101,)))
    cuda = dataclasses.replace(tiny_settings, device="cuda")
    assert _index_in_two_runs(
        cuda, tiny_embedder, tmp_path / "photos", photos[:1], lambda _s: tiny_embedder
    )


@pytest.mark.slow
def test_lumen_index_of_one_new_photo_never_imports_torch(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    settings = tiny_model_settings(tmp_path, tiny_weights)
    shapes = write_shape_photos(tmp_path / "photos", seeds=(101,))
    late = sorted(shapes)[0]
    shutil.move(late, tmp_path / late.name)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    base = ["--data-dir", str(settings.data_dir), "--model", "lumen-tiny"]
    base += ["--weights", str(tiny_weights)]
    cli = [sys.executable, "-m", "desktop_app.cli", *base]
    # The first run, as `lumen index` makes it (in this process: the model is loaded already).
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        assert library.index([tmp_path / "photos"]).failed == 0
    settings.save()
    shutil.move(tmp_path / late.name, late)
    probe = (
        "import sys, json; from desktop_app import cli;"
        " code = cli.main(json.loads(sys.argv[1]));"
        " print('TORCH', 'torch' in sys.modules); sys.exit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, json.dumps([*base, "index", str(tmp_path / "photos")])],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 new" in proc.stdout and "TORCH False" in proc.stdout
    query = shapes[late].text
    found = subprocess.run(
        [*cli, "search", query, "--json", "-k", "1"], capture_output=True, text=True, env=env
    )
    assert json.loads(found.stdout)["results"][0]["path"] == str(late)
    assert caption_for_text(query) == shapes[late]


def test_a_small_run_of_long_documents_batches_their_passages_in_the_model(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    photos = sorted(write_shape_photos(folder, seeds=(101,)))
    words = ["harbour", "lighthouse", "ferry", "timetable", "winter", "schedule", "boats", "pier"]
    late = []
    rng = np.random.default_rng(5)
    for n in range(SMALL_RUN):  # each long enough for several passages: more than NUMPY_TEXTS
        text = " ".join(rng.choice(words, 900))  # (no two passages alike)
        late.append(folder / f"notes-{n}.txt")
        late[-1].write_text(f"Notes {n}. {text}", encoding="utf-8")
    assert photos
    assert _index_in_two_runs(tiny_settings, tiny_embedder, folder, late, lambda _s: tiny_embedder)
    with Library.open(tiny_settings, lambda _s: tiny_embedder) as library:
        found = library.search("lighthouse ferry timetable", k=20)
        assert {h.file.path for h in found.hits} >= set(late)


def test_many_pictures_go_to_the_model_with_the_same_vectors(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    from desktop_app.core.embedding.image_encoder import write_image_manifest
    from desktop_app.core.embedding.numpy_embedder import NUMPY_PICTURES, load_numpy_embedder
    from desktop_app.core.embedding.text_encoder import write_manifest

    assert write_manifest(tmp_path, tiny_embedder, tiny_weights)
    assert write_image_manifest(tmp_path, tiny_embedder)
    asked: list[int] = []

    def model() -> Embedder:
        asked.append(1)
        return tiny_embedder

    space = tiny_embedder.space
    light = load_numpy_embedder(tmp_path, "lumen-tiny", tiny_weights, space, model)
    assert light is not None
    pictures = [_photo(seed) for seed in range(NUMPY_PICTURES + 4)]
    first = light.encode_images(pictures[:NUMPY_PICTURES])
    assert not asked  # a few: the numpy tower
    rest = light.encode_images(pictures[NUMPY_PICTURES:])
    assert asked  # (a video's frames, say): the model
    expected = tiny_embedder.encode_images(pictures)
    got = np.concatenate([first, rest])
    assert np.sum(expected * got, axis=1).min() >= 0.9999


def _photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
