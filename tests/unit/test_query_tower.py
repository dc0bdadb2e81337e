"""The query tower answers a query typed key by key as the whole tower would: kept prefix
states, the last block on one row and float16 weights change nothing a search would notice."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.query_tower import KEPT_PREFIXES, Linear
from desktop_app.core.embedding.text_encoder import (
    MANIFEST_NAME,
    NumpyTextEncoder,
    load_numpy_text_encoder,
    write_manifest,
)
from tests.support.shapes import all_captions

TYPED = ("a red circle on the left", "Invoice 2023-0147 from Müller & Söhne!", "猫 on a mat")


def keystrokes(text: str) -> list[str]:
    return [text[: i + 1] for i in range(len(text))]


@pytest.fixture
def tower(tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path) -> NumpyTextEncoder:
    assert write_manifest(tmp_path, tiny_embedder, tiny_weights)
    found = load_numpy_text_encoder(tmp_path, "lumen-tiny", tiny_weights, tiny_embedder.space)
    assert found is not None
    return found


def top(vectors: np.ndarray, query: np.ndarray, n: int = 5) -> list[int]:
    return [int(i) for i in np.argsort(-(vectors @ query), kind="stable")[:n]]


@pytest.mark.parametrize("half", [False, True], ids=["float32", "float16"])
def test_typing_key_by_key_finds_what_the_whole_text_finds(
    tower: NumpyTextEncoder, half: bool
) -> None:
    if half:
        tower.use_half()
    captions = tower.encode_texts([c.text for c in all_captions()[:60]])
    for text in TYPED:
        typed = [tower.encode_text(t) for t in keystrokes(text)]  # each after the one before
        whole = tower.encode_texts(keystrokes(text))
        cosine = np.sum(np.stack(typed) * whole, axis=1)
        assert cosine.min() >= 0.9999
        for got, expected in zip(typed, whole, strict=True):
            assert top(captions, got) == top(captions, expected)


def test_a_key_taken_back_and_a_text_asked_again_give_the_same_vector(
    tower: NumpyTextEncoder,
) -> None:
    first = tower.encode_text("a blue square")
    tower.encode_text("a blue squares")
    tower.encode_text("a blue squ")
    np.testing.assert_allclose(tower.encode_text("a blue square"), first, atol=1e-6)
    # The same tokens from another text (the tokenizer folds case and spaces): the kept answer.
    np.testing.assert_array_equal(tower.encode_text("A blue  Square "), first)


def test_only_the_last_few_texts_states_are_kept(tower: NumpyTextEncoder) -> None:
    for i in range(3 * KEPT_PREFIXES):
        tower.encode_text(f"photo number {i}")
    assert len(tower._query._kept) == KEPT_PREFIXES


def test_queries_from_many_threads_get_their_own_vectors(tower: NumpyTextEncoder) -> None:
    texts = [t for text in TYPED for t in keystrokes(text)]
    expected = tower.encode_texts(texts)
    tower.forget_prefixes()
    got: dict[int, np.ndarray] = {}

    def worker(offset: int) -> None:
        for i in range(offset, len(texts), 4):
            got[i] = tower.encode_text(texts[i])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cosine = np.sum(np.stack([got[i] for i in range(len(texts))]) * expected, axis=1)
    assert cosine.min() >= 0.9999


def test_the_manifest_says_whether_float16_queries_keep_the_models_vectors(
    tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    assert write_manifest(tmp_path, tiny_embedder, tiny_weights)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["half_queries"] is True
    # A manifest from before float16 queries is probed again (then says so) ...
    del manifest["half_queries"]
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    old = load_numpy_text_encoder(tmp_path, "lumen-tiny", tiny_weights, tiny_embedder.space)
    assert old is not None and not old.shape.half_queries  # ... and meanwhile keeps float32
    assert write_manifest(tmp_path, tiny_embedder, tiny_weights)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["half_queries"] is True


@pytest.mark.parametrize("rows", [1, 3, 8, 20])
@pytest.mark.parametrize("half", [False, True], ids=["float32", "float16"])
def test_each_way_of_multiplying_gives_the_plain_product_in_float32(rows: int, half: bool) -> None:
    rng = np.random.default_rng(rows)
    weight = rng.normal(size=(96, 64)).astype(np.float32)
    bias = rng.normal(size=96).astype(np.float32)
    x = rng.normal(size=(rows, 64)).astype(np.float32)
    linear = Linear(weight, bias)
    if half:
        linear.make_half()
    got = linear(x)
    assert got.dtype == np.float32 and got.flags.c_contiguous  # (float64 would stay so)
    np.testing.assert_allclose(got, x @ weight.T + bias, rtol=0, atol=0.02 if half else 1e-4)


def _halves_made(tower: NumpyTextEncoder) -> bool:
    return all(
        linear.half is not None for block in tower._query._blocks for linear in block.linears()
    )


def test_getting_ready_for_typing_makes_float16_weights_only_where_the_manifest_allows(
    tower: NumpyTextEncoder,
) -> None:
    expected = tower.encode_text("a red circle")
    tower.prepare_for_typing()
    deadline = time.monotonic() + 30
    while not _halves_made(tower) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _halves_made(tower)
    assert float(tower.encode_text("a red circle") @ expected) >= 0.9999
    refused = NumpyTextEncoder(tower.weights, replace(tower.shape, half_queries=False), "x")
    refused.prepare_for_typing()
    time.sleep(0.2)
    assert not any(linear.half is not None for linear in refused._query._blocks[0].linears())
