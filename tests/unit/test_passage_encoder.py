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


def test_a_passage_gets_the_same_vector_whether_its_batch_is_trimmed_or_padded(
    tiny_embedder: Embedder,
) -> None:
    # Batches stop at their longest passage's end-of-text token: short passages alone run on
    # a few tokens, beside a full one on the whole context; the causal tower gives the same.
    short = ["a cat", "invoice for the flat", "the ferry leaves at nine from the harbour"]
    full = " ".join(["word"] * 200)  # cut to the whole context
    alone = np.stack([tiny_embedder.encode_texts([text])[0] for text in short])
    padded = tiny_embedder.encode_texts([*short, full])[:3]
    np.testing.assert_allclose(alone, padded, atol=1e-5)
