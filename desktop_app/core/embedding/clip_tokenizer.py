"""CLIP's byte-level BPE tokenizer in plain Python (no torch, no open_clip import).

Both the numpy query encoder (``text_encoder``) and Lumen's own CLIP (``clip_native``) use it; it
lives apart from both so that neither imports the other for it.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

_N_MERGES = 49152 - 256 - 2
_SPECIALS = ("<start_of_text>", "<end_of_text>")


def _byte_alphabet() -> dict[int, str]:
    """Each byte as one printable character: printable Latin-1 bytes as themselves, the rest
    (controls, space, …) moved to code points from 256 up, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    alphabet = {b: chr(b) for b in printable}
    extra = 256
    for b in range(256):
        if b not in alphabet:
            alphabet[b] = chr(extra)
            extra += 1
    return alphabet


def _bpe_vocab_path() -> Path:
    """open_clip's BPE merge list, found without importing open_clip (or torch)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "bpe_simple_vocab_16e6.txt.gz"


class ClipTokenizer:
    """CLIP's byte-level BPE tokenizer (lower-cased, ftfy-cleaned), giving open_clip's token ids."""

    def __init__(self, vocab_path: Path | None = None) -> None:
        import regex

        # The merge list as one text, split once: line 1 + r is merge r, "first second".
        text = gzip.decompress((vocab_path or _bpe_vocab_path()).read_bytes()).decode("utf-8")
        merges = text.split("\n", _N_MERGES + 1)[1 : _N_MERGES + 1]
        # Ranks keyed by the line itself (no pair tuples for 49k merges). The vocabulary is the
        # 256 byte symbols, each again with "</w>", then each merge's token (all distinct), so a
        # merged token's id is 512 + its rank: no table of 49k ids to build.
        self._rank = dict(zip(merges, range(len(merges)), strict=True))
        self._bytes = _byte_alphabet()
        symbols = list(self._bytes.values())
        self._symbol_ids = {s: i for i, s in enumerate(symbols)}
        self._symbol_ids.update({s + "</w>": len(symbols) + i for i, s in enumerate(symbols)})
        self._first_merge_id = 2 * len(symbols)
        self.sot_id = self._first_merge_id + len(merges)
        self.eot_id = self.sot_id + 1
        self._pattern = regex.compile(
            "|".join(_SPECIALS) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )
        self._cache: dict[str, list[int]] = {
            _SPECIALS[0]: [self.sot_id],
            _SPECIALS[1]: [self.eot_id],
        }

    def _word_ids(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = [*word[:-1], word[-1] + "</w>"]
        ids = [self._symbol_ids[p] for p in parts]
        while len(parts) > 1:
            ranked = [
                (self._rank.get(f"{parts[i]} {parts[i + 1]}", _N_MERGES), i)
                for i in range(len(parts) - 1)
            ]
            best, _ = min(ranked)
            if best == _N_MERGES:
                break
            pair = next(
                (parts[i], parts[i + 1]) for r, i in ranked if r == best
            )  # the lowest-ranked pair, merged everywhere it occurs (left to right)
            merged: list[str] = []
            merged_ids: list[int] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    merged_ids.append(self._first_merge_id + best)
                    i += 2
                else:
                    merged.append(parts[i])
                    merged_ids.append(ids[i])
                    i += 1
            parts, ids = merged, merged_ids
        self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without start/end tokens."""
        if text.isascii() and text.isprintable() and "&" not in text:
            # Nothing ftfy or html.unescape would change: a typed query needs neither (ftfy's
            # import alone is a tenth of a fresh `lumen search`).
            cleaned = text.strip()
        else:
            import ftfy

            cleaned = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
        cleaned = " ".join(cleaned.split()).lower()
        ids: list[int] = []
        for piece in self._pattern.findall(cleaned):
            word = "".join(self._bytes[b] for b in piece.encode("utf-8"))
            ids.extend(self._word_ids(word))
        return ids

    def __call__(self, texts: Sequence[str], context_length: int) -> np.ndarray:
        """(N, context_length) int64 ids: start, text (cut to fit), end, zeros."""
        out = np.zeros((len(texts), context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [*[self.sot_id, *self.encode(text)][: context_length - 1], self.eot_id]
            out[row, : len(ids)] = ids
        return out


@lru_cache(maxsize=1)
def clip_tokenizer() -> ClipTokenizer:
    """The process's one tokenizer (building it reads the 49k-entry merge list)."""
    return ClipTokenizer()
