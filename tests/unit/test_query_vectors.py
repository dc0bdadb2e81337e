"""A query text asked again is answered from its kept vector: the same vector, the same results,
and a model switch never answers with the old model's vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import ModelSlot
from desktop_app.core.library import Library
from desktop_app.core.priority import QueryPriority
from desktop_app.core.query.policy import QueryPolicy
from desktop_app.core.query.query_vectors import QueryVectors
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.store import Store
from tests.support.photos import write_shape_photos

RED = "a red circle on the left"


class Counting:
    """An encoder that says how often it ran."""

    def __init__(self, inner: Embedder, space: str | None = None) -> None:
        self._inner = inner
        self.space = space or inner.space
        self.calls: list[str] = []

    def encode_text(self, text: str) -> np.ndarray:
        self.calls.append(text)
        vector: np.ndarray = self._inner.encode_texts([text])[0]
        return vector


def test_a_kept_vector_is_the_encoders_own(tiny_embedder: Embedder) -> None:
    encoder = Counting(tiny_embedder)
    vectors = QueryVectors(kept=2)
    first = vectors.encode(encoder, RED)
    again = vectors.encode(encoder, RED)
    np.testing.assert_array_equal(again, tiny_embedder.encode_texts([RED])[0])
    np.testing.assert_array_equal(again, first)
    assert encoder.calls == [RED]  # the tower ran once
    with pytest.raises(ValueError):
        again[0] = 1.0  # shared between queries: nobody may change it


def test_only_the_last_few_texts_are_kept(tiny_embedder: Embedder) -> None:
    encoder = Counting(tiny_embedder)
    vectors = QueryVectors(kept=2)
    for text in ("a", "a b", "a b c", "a b"):
        vectors.encode(encoder, text)
    assert encoder.calls == ["a", "a b", "a b c"]
    vectors.encode(encoder, "a")  # pushed out by the two after it
    assert encoder.calls == ["a", "a b", "a b c", "a"]


def test_another_encoder_does_not_get_the_first_ones_vectors(tiny_embedder: Embedder) -> None:
    vectors = QueryVectors()
    old = Counting(tiny_embedder)
    vectors.encode(old, RED)
    new = Counting(tiny_embedder)  # e.g. the model of a switch, or the same space reloaded
    vectors.encode(new, RED)
    assert new.calls == [RED]
    other_space = Counting(tiny_embedder, space="another model")
    vectors.encode(other_space, RED)
    assert other_space.calls == [RED]


def test_a_query_asked_again_finds_the_same_files_without_the_text_tower(
    tiny_settings: Settings, tiny_embedder: Embedder, tmp_path: Path
) -> None:
    write_shape_photos(tmp_path / "photos", seeds=(1,))
    with Library.open(tiny_settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([tmp_path / "photos"])
    store = Store.open(Catalog.open(tiny_settings.catalog_path), tiny_settings.index_path)
    encoder = Counting(tiny_embedder)
    slot = ModelSlot(tiny_settings, store, lambda _s: tiny_embedder)
    slot.query_encoder = lambda: encoder  # type: ignore[method-assign]
    policy = QueryPolicy(store, slot, QueryPriority())
    try:
        first = policy.search(RED, k=20)
        policy.search("a blue square", k=20)
        again = policy.search(RED, k=20)
        assert [(h.file.path, h.score) for h in again.hits] == [
            (h.file.path, h.score) for h in first.hits
        ]
        assert encoder.calls == [RED, "a blue square"]
        with_negative = policy.search(f"{RED} -square", k=20)
        assert encoder.calls == [RED, "a blue square", "square"]  # only the new text encoded
        assert with_negative.hits
    finally:
        store.catalog.close()
