"""Split extracted text into passages that fit the text encoder's context, with overlap, capped."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.extractors.base import Passage

__all__ = ["MAX_PASSAGES_PER_FILE", "MIN_PASSAGES_PER_FILE", "PassageSplitter", "passage_budget"]

# Text vectors per file. A 77-token passage costs the CLIP text tower about as much as a photo
# costs the image tower (≈ 6 GFLOP): ViT-B-32 embeds about 20 of them a second on 2 idle cores
# (about 40 where they multiply bfloat16, see core/embedding/bf16.py), so embedding every
# passage of a folder of documents takes hours (issue 22 measured 0.2-1 documents/s). A file
# gets a sample instead, about the square root of the passages its text
# would make (a letter of 4 passages: all 4; a 3-page report of ~20: 5; a 40-page manual of
# ~250: 16; never more than MAX_PASSAGES_PER_FILE), spread over its pages or blocks: the first
# piece of each chosen page, then the second, … The full text (up to MAX_TEXT_CHARS) stays
# keyword-searchable, every word of it.
MAX_PASSAGES_PER_FILE = 32
MIN_PASSAGES_PER_FILE = 4
# Characters of English prose a passage holds, about (75 CLIP tokens of ~4 characters, less
# the overlap): how many passages a text would make, estimated without tokenizing it.
CHARS_PER_PASSAGE = 250
# Tokens each passage repeats from the end of the one before, as a share of the context.
OVERLAP_SHARE = 0.15
# Start-of-text and end-of-text tokens take two places of the context.
SPECIAL_TOKENS = 2


def passage_budget(lengths: Sequence[int], cap: int = MAX_PASSAGES_PER_FILE) -> int:
    """How many passages a text of pages (or blocks) of ``lengths`` characters gets embedded:
    all of a short one, about the square root of their number for a long one, at most ``cap``."""
    pieces = max(1, sum(max(1, math.ceil(n / CHARS_PER_PASSAGE)) for n in lengths))
    return min(pieces, cap, max(MIN_PASSAGES_PER_FILE, math.ceil(math.sqrt(pieces))))


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
    # True: a file gets ``passage_budget`` passages (fewer than ``max_passages`` for most);
    # False: up to ``max_passages`` whatever its length.
    sampled: bool = False

    @classmethod
    def for_tokenizer(
        cls, tokenizer: Any, max_passages: int = MAX_PASSAGES_PER_FILE, sampled: bool = True
    ) -> PassageSplitter:
        """A splitter for an open_clip tokenizer (its ``context_length`` is the model's)."""
        context = int(getattr(tokenizer, "context_length", 77))
        budget = max(1, context - SPECIAL_TOKENS)
        count = functools.lru_cache(maxsize=65_536)(_counter(tokenizer))
        return cls(count, budget, int(budget * OVERLAP_SHARE), max_passages, sampled)

    def split(self, passages: Sequence[Passage]) -> list[Passage]:
        """Pieces of the passages that each fit the encoder, in document order: at most
        ``max_passages`` (or the text's ``passage_budget``), from pages spread evenly over the
        text, round-robin (the first piece of every chosen page, then the second, …); a piece
        equal to one already taken is skipped. Only as much text as is taken is tokenized.
        """
        blocks = [(n, p) for n, p in enumerate(passages) if p.text.strip()]
        cap = self.max_passages
        if self.sampled:
            cap = passage_budget([len(p.text) for _, p in blocks], cap)
        if len(blocks) > cap:  # more pages than passages: pages spread over the whole text
            step = (len(blocks) - 1) / max(1, cap - 1)
            blocks = [blocks[round(i * step)] for i in range(cap)]
        streams = [(n, self._pieces(p)) for n, p in blocks]
        taken: list[tuple[int, int, Passage]] = []
        seen: set[str] = set()
        round_ = 0
        while streams and len(taken) < cap:
            still = []
            for n, stream in streams:
                if len(taken) >= cap:
                    break
                piece = next(stream, None)
                if piece is None:
                    continue
                still.append((n, stream))
                if piece.text not in seen:
                    seen.add(piece.text)
                    taken.append((n, round_, piece))
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
