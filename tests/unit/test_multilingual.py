"""A model with a Hugging Face (multilingual) text tower: its tokenizer and settings come from the
model cache like weights, queries in other scripts are tokenized and answered, and a library can
switch to it while the old model answers (plumbing: the tiny model's weights are random)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.indexing.model_switch import REEMBEDDING
from desktop_app.core.library import Library
from desktop_app.core.models import get_model_spec
from desktop_app.core.records import IndexSummary, Progress
from tests.support.multilingual import TINY_ARCHITECTURE, TINY_REPO, tiny_multilingual_model
from tests.support.photos import file_name, write_shape_photos
from tests.support.shapes import caption_for_text

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow

QUERIES = ("海边的日落", "Sonnenuntergang am Meer", "sunset at the sea")


def test_the_tokenizer_comes_from_the_model_cache_and_reads_other_scripts(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    weights = tiny_multilingual_model(tmp_path / "model", cache)
    embedder = load_embedder(TINY_ARCHITECTURE, weights, cache, "cpu")
    unknown = embedder.tokenizer.tokenizer.unk_token_id  # type: ignore[attr-defined]
    for query in QUERIES:
        ids = embedder.tokenizer([query])[0].tolist()
        assert unknown not in ids, query  # every character is known to the tokenizer
    vectors = embedder.encode_texts(list(QUERIES))
    assert vectors.shape == (3, 32)
    assert len({tuple(v.round(4)) for v in vectors}) == 3  # three different queries

    # Another cache (another machine) without the files and no hub: a clear message, no trace.
    import huggingface_hub.constants

    offline = pytest.MonkeyPatch()
    offline.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    try:
        tiny_multilingual_model(tmp_path / "again", tmp_path / "scratch")  # registers the config
        with pytest.raises(ModelUnavailableError, match=f"tokenizer .* of {TINY_REPO}"):
            load_embedder(TINY_ARCHITECTURE, weights, tmp_path / "empty", "cpu")
    finally:
        offline.undo()


def test_a_library_switches_to_the_multilingual_model_while_the_old_one_answers(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    cache = tmp_path / "models"
    weights = tiny_multilingual_model(tmp_path / "model", cache)
    multilingual = load_embedder(TINY_ARCHITECTURE, weights, cache, "cpu")
    assert get_model_spec("xlm-roberta-base-ViT-B-32/laion5b_s13b_b90k").dim == 512  # offered
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(1,))

    def loader(settings: Settings) -> Embedder:
        return multilingual if settings.model == TINY_ARCHITECTURE else tiny_embedder

    with Library.open(tiny_settings, loader) as library:
        assert library.index([photos]).embedded == 72

    midway, go_on = threading.Event(), threading.Event()
    outcome: list[IndexSummary] = []

    def progress(p: Progress) -> None:
        if p.phase == REEMBEDDING and p.done >= 16 and not midway.is_set():
            midway.set()
            assert go_on.wait(120)

    switched = tiny_settings.replace(model=TINY_ARCHITECTURE, weights=weights)
    with Library.open(switched, loader) as library:
        worker = threading.Thread(target=lambda: outcome.append(library.index(progress=progress)))
        worker.start()
        try:
            assert midway.wait(300)
            during = library.search("a red circle on the left").hits  # the old model answers
            assert during[0].file.path.name == file_name(
                caption_for_text("a red circle on the left"), 1
            )
            assert library.search("ein roter Kreis links", show_all=True).hits
        finally:
            go_on.set()
            worker.join()
        assert outcome and not outcome[0].cancelled
        assert library.catalog.get_meta("model") == TINY_ARCHITECTURE
        for query in QUERIES:  # the new model reads them all
            assert len(library.search(query, k=100, show_all=True).hits) == 72
