"""Passages through the text tower: the same vectors as one by one, each distinct text once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.passage_encoder import PassageEncoder

LICENCE = "Permission is hereby granted, free of charge, to any person obtaining a copy."


def test_passages_get_the_vectors_their_texts_get_alone(tiny_embedder: Embedder) -> None:
    texts = ["a red circle on the left", LICENCE, "a blue square at the top " * 6, LICENCE]
    got = tiny_embedder.encode_passages(texts)
    alone = np.stack([tiny_embedder.encode_text(t) for t in texts])
    np.testing.assert_allclose(got, alone, atol=1e-5)


def test_a_licence_in_many_files_is_embedded_once(tiny_embedder: Embedder) -> None:
    embedded: list[str] = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        embedded.extend(texts)
        return tiny_embedder.encode_texts(texts)

    encoder = PassageEncoder(encode, tiny_embedder.dim, batch=2)
    first = encoder.encode([LICENCE, "invoice 2023-0147", LICENCE])
    later = encoder.encode(["lease for the flat", LICENCE])  # the next batch of files
    assert sorted(embedded) == sorted([LICENCE, "invoice 2023-0147", "lease for the flat"])
    np.testing.assert_allclose(later[1], first[0])
    np.testing.assert_allclose(first[0], first[2])


def test_only_the_latest_passages_are_remembered(tiny_embedder: Embedder) -> None:
    embedded: list[str] = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        embedded.extend(texts)
        return tiny_embedder.encode_texts(texts)

    encoder = PassageEncoder(encode, tiny_embedder.dim, remembered=2)
    encoder.encode(["one", "two", "three"])
    encoder.encode(["one"])  # forgotten: embedded again
    assert embedded.count("one") == 2
