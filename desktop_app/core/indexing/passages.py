"""Split extracted text into passages that fit the text encoder's context, with overlap, capped."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.extractors.base import Passage

__all__ = ["MAX_PASSAGES_PER_FILE", "PassageSplitter"]

# Text vectors per file. A 77-token passage costs the CLIP text tower about as much as a photo
# costs the image tower (≈ 6 GFLOP), so 256 passages ≈ the work of 250 photos: seconds on an idle
# 2-core CPU, about a minute on a busy one (benchmarks/bench_documents.py --embed measured 3.4
# passages/s with every core contended). The full text (up to MAX_TEXT_CHARS) stays
# keyword-searchable beyond the cap. Passages are taken round-robin over pages: the first of
# every page, then the second of every page, … so a long document is covered end to end.
MAX_PASSAGES_PER_FILE = 256
# Tokens each passage repeats from the end of the one before, as a share of the context.
OVERLAP_SHARE = 0.15
# Start-of-text and end-of-text tokens take two places of the context.
SPECIAL_TOKENS = 2


def _counter(tokenizer: Any) -> Callable[[str], int]:
    """How many tokens a piece of text becomes, without special tokens."""
    inner = getattr(tokenizer, "tokenizer", None)
    if inner is not None and hasattr(inner, "encode"):  # open_clip's HFTokenizer
        return lambda text: len(inner.encode(text, add_special_tokens=False))
    if hasattr(tokenizer, "encode"):  # open_clip's SimpleTokenizer (CLIP's BPE)
        return lambda text: len(tokenizer.encode(text))
    raise TypeError(f"cannot count tokens with {type(tokenizer).__name__}")


@dataclass(frozen=True)
class PassageSplitter:
    """Cuts passages at word boundaries into pieces of at most ``max_tokens`` tokens."""

    count_tokens: Callable[[str], int]
    max_tokens: int
    overlap_tokens: int
    max_passages: int = MAX_PASSAGES_PER_FILE

    @classmethod
    def for_tokenizer(
        cls, tokenizer: Any, max_passages: int = MAX_PASSAGES_PER_FILE
    ) -> PassageSplitter:
        """A splitter for an open_clip tokenizer (its ``context_length`` is the model's)."""
        context = int(getattr(tokenizer, "context_length", 77))
        budget = max(1, context - SPECIAL_TOKENS)
        count = functools.lru_cache(maxsize=65_536)(_counter(tokenizer))
        return cls(count, budget, int(budget * OVERLAP_SHARE), max_passages)

    def split(self, passages: Sequence[Passage]) -> list[Passage]:
        """Pieces of every passage that each fit the encoder, at most ``max_passages`` in all,
        in document order. Only as much text as the cap needs is tokenized.
        """
        streams = [(n, self._pieces(p)) for n, p in enumerate(passages) if p.text.strip()]
        taken: list[tuple[int, int, Passage]] = []
        round_ = 0
        while streams and len(taken) < self.max_passages:
            still = []
            for n, stream in streams:
                if len(taken) >= self.max_passages:
                    break
                piece = next(stream, None)
                if piece is not None:
                    taken.append((n, round_, piece))
                    still.append((n, stream))
            streams = still
            round_ += 1
        return [piece for _, _, piece in sorted(taken, key=lambda t: (t[0], t[1]))]

    def _pieces(self, passage: Passage) -> Iterator[Passage]:
        words: list[tuple[str, int]] = []
        used = 0
        for word in self._words(passage.text):
            cost = self.count_tokens(word)
            if words and used + cost > self.max_tokens:
                yield Passage(" ".join(w for w, _ in words), passage.page, passage.source)
                words, used = self._overlap(words, cost)
            words.append((word, cost))
            used += cost
        if words:
            yield Passage(" ".join(w for w, _ in words), passage.page, passage.source)

    def _overlap(
        self, words: list[tuple[str, int]], next_cost: int
    ) -> tuple[list[tuple[str, int]], int]:
        """The tail of ``words`` to repeat in the next piece (leaving room for the next word)."""
        kept: list[tuple[str, int]] = []
        used = 0
        for word, cost in reversed(words[1:]):
            if used + cost > self.overlap_tokens or used + cost + next_cost > self.max_tokens:
                break
            kept.append((word, cost))
            used += cost
        return kept[::-1], used

    def _words(self, text: str) -> Iterator[str]:
        """The words of ``text``; a word longer than the context is cut into pieces that fit."""
        for word in text.split():
            if self.count_tokens(word) <= self.max_tokens:
                yield word
                continue
            yield from self._cut(word)

    def _cut(self, word: str) -> Iterator[str]:
        rest = word
        while rest:
            low, high = 1, len(rest)
            while low < high:  # the longest prefix that fits
                middle = (low + high + 1) // 2
                if self.count_tokens(rest[:middle]) <= self.max_tokens:
                    low = middle
                else:
                    high = middle - 1
            yield rest[:low]
            rest = rest[low:]
