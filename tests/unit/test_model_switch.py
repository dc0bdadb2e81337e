"""Switching a library to another model: everything is embedded again in the background while
the old index keeps answering searches, with progress; then the new model answers alone."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.indexing.model_switch import REEMBEDDING
from desktop_app.core.library import Library
from desktop_app.core.records import IndexSummary, Progress
from tests.support.photos import file_name, write_shape_photos
from tests.support.shapes import caption_for_text

pytestmark = pytest.mark.slow

RED = caption_for_text("a red circle on the left")


def _other_weights(weights: Path, out: Path) -> Path:
    """The tiny model's weights nudged a little: another model file (another vector space) that
    still knows the shapes."""
    rng = np.random.default_rng(0)
    tensors = load_file(str(weights))
    nudged = {
        k: np.asarray(v * (1 + 0.01 * rng.standard_normal(v.shape)), dtype=v.dtype).reshape(v.shape)
        if v.dtype.kind == "f"
        else v
        for k, v in tensors.items()
    }
    save_file(nudged, str(out))
    return out


def test_a_model_switch_reembeds_while_the_old_index_answers(
    tiny_settings: Settings, tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1,))  # 72 photos
    new_weights = _other_weights(tiny_weights, tmp_path / "tiny-2.safetensors")
    new_embedder = load_embedder("lumen-tiny", new_weights, tmp_path / "cache", "cpu")
    assert new_embedder.space != tiny_embedder.space

    def loader(settings: Settings) -> Embedder:
        assert settings.weights is not None
        same = settings.weights.resolve() == tiny_weights.resolve()
        return tiny_embedder if same else new_embedder

    with Library.open(tiny_settings, loader) as library:
        assert library.index([photos]).embedded == 72
    switched = tiny_settings.replace(weights=new_weights)

    midway, go_on = threading.Event(), threading.Event()
    seen: list[Progress] = []
    answers: list[list[str]] = []
    outcome: list[IndexSummary] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.phase == REEMBEDDING and p.done >= 32 and not midway.is_set():
            midway.set()
            assert go_on.wait(120)

    with Library.open(switched, loader) as library:
        worker = threading.Thread(target=lambda: outcome.append(library.index(progress=progress)))
        worker.start()
        try:
            assert midway.wait(300), "the switch never got under way"
            # Half-way through: the old index answers, by the old model, with every photo.
            during = library.search("a red circle on the left", k=100, show_all=True)
            answers.append([h.file.path.name for h in during.hits])
            state = library.model_switch()
            assert state is not None and state.phase == REEMBEDDING
            assert (state.done, state.total) == (32, 72)
            assert library.catalog.get_meta("space") == tiny_embedder.space
        finally:
            go_on.set()
            worker.join()
        assert outcome and not outcome[0].cancelled
        assert answers[0][0] == file_name(RED, 1) and len(answers[0]) == 72

        switch = [p for p in seen if p.phase == REEMBEDDING]
        assert [p.done for p in switch] == sorted(p.done for p in switch)
        assert switch[-1].done == switch[-1].total == 72
        assert library.model_switch() is None
        assert library.catalog.get_meta("space") == new_embedder.space
        status = library.status()
        assert (status.indexed, status.vectors, status.index_size, status.pending) == (
            72,
            72,
            72,
            0,
        )
        after = library.search("a red circle on the left").hits
        assert after[0].file.path.name == file_name(RED, 1)

    # The switch is remembered: the next process searches with the new model, nothing to redo.
    with Library.open(Settings.load(switched.data_dir), loader) as library:
        assert library.search("a red circle on the left").hits[0].file.path.name == file_name(
            RED, 1
        )
        assert library.index().embedded == 0


def test_an_interrupted_switch_goes_on_where_it_stopped(
    tiny_settings: Settings, tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1,))
    new_weights = _other_weights(tiny_weights, tmp_path / "tiny-2.safetensors")
    new_embedder = load_embedder("lumen-tiny", new_weights, tmp_path / "cache", "cpu")

    def loader(settings: Settings) -> Embedder:
        assert settings.weights is not None
        same = settings.weights.resolve() == tiny_weights.resolve()
        return tiny_embedder if same else new_embedder

    with Library.open(tiny_settings, loader) as library:
        library.index([photos])
    switched = tiny_settings.replace(weights=new_weights)
    cancel = threading.Event()

    def stop_early(p: Progress) -> None:
        if p.phase == REEMBEDDING and p.done >= 16:
            cancel.set()

    with Library.open(switched, loader) as library:
        assert library.index(progress=stop_early, cancel=cancel).cancelled
        # Still the old model's library, answering as before.
        assert library.catalog.get_meta("space") == tiny_embedder.space
        switching = library.status().switching
        assert switching is not None and (switching.done, switching.total) == (16, 72)
        assert library.search("a red circle on the left").hits[0].file.path.name == file_name(
            RED, 1
        )
    # Another process (here: the command line, with the old model) says so too.
    status = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(switched.data_dir), "status"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "switching to lumen-tiny: 16 of 72 files embedded again" in status
    seen: list[Progress] = []
    with Library.open(switched, loader) as library:
        library.index(progress=seen.append)
        first = next(p for p in seen if p.phase == REEMBEDDING)
        assert first.total == 72 - 16  # what the first run did is kept
        assert library.catalog.get_meta("space") == new_embedder.space
        assert library.status().vectors == 72
        assert library.status().switching is None


def test_a_search_before_the_switch_loads_only_the_old_model(
    tiny_settings: Settings, tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1,))
    new_weights = _other_weights(tiny_weights, tmp_path / "tiny-2.safetensors")
    loaded: list[Path] = []

    def loader(settings: Settings) -> Embedder:
        assert settings.weights is not None
        loaded.append(settings.weights.resolve())
        assert settings.weights.resolve() == tiny_weights.resolve(), "the new model was loaded"
        return tiny_embedder

    with Library.open(tiny_settings, loader) as library:
        library.index([photos])
    (tiny_settings.data_dir / "text_encoder.json").unlink(missing_ok=True)  # the torch path
    loaded.clear()
    # The settings already name the new model (the window saved them), the switch has not run.
    with Library.open(tiny_settings.replace(weights=new_weights), loader) as library:
        hits = library.search("a red circle on the left").hits
        assert hits[0].file.path.name == file_name(RED, 1)
    assert loaded == [tiny_weights.resolve()]  # the old model only, once
