"""One query's pass through CLIP's text tower, quick while a person types.

A query is a handful of tokens, so the tower's cost is mostly reading its weights (151 MB in
float32 for ViT-B-32) and BLAS's set-up for tiny matrices. Four things cut it, none of which
changes the answer beyond float rounding:

- **Prefix states.** The tower is causal: a token's states depend only on the tokens before
  it. Typing "a photo of a do" after "a photo of a d" shares every token but the last word's
  and the end token, so the keys and values each layer computed for the shared tokens are
  kept (the last few texts' worth) and only the new tokens go through the tower.
- **Only the end token's row in the last block**: the vector is read from it, so the last
  block's attention output, out-projection and MLP run for one row (its keys and values are
  still computed for every new token, for the texts typed after).
- **A few rows by numkong's kernels** (usearch's): the weight streamed once against the rows
  packed. BLAS takes 11-14 ms a ViT-B-32 tower for one row but 23-35 ms for 2-4 (its matrix
  product's set-up), numkong 18-22 ms for 2-4 rows in float32.
- **Half-precision weights for few rows** (``use_half``): a float16 copy of the weights,
  multiplied the same way, halves the bytes read (13-16 ms for 1-4 rows); BLAS is as quick
  from about a dozen rows. Whether a model's vectors stay within the manifest's cosine with it
  is checked once per weights file (``text_encoder.write_manifest``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numkong
import numpy as np

from desktop_app.core.embedding.numpy_blocks import layer_norm
from desktop_app.core.superseded import stop_if_superseded

__all__ = ["HALF_ROWS", "KEPT_PREFIXES", "QueryTower"]

# Texts whose per-layer keys and values are kept (12 layers x 2 x 512 floats = 48 KB a token
# for ViT-B-32: a 10-token query 0.5 MB, a full 77-token one 3.8 MB).
KEPT_PREFIXES = 8
# Up to this many new tokens the float16 kernel is quicker than float32 BLAS (measured on one
# core: 14-19 vs 32-40 ms a tower for 2-4 tokens, 24 vs 34 for 8, even at 16).
HALF_ROWS = 12
# Between these many rows numkong's float32 kernel beats BLAS (18-22 vs 23-35 ms a tower; for
# one row BLAS's matrix-vector product is quicker, from 6 its matrix product).
FEW_ROWS = (2, 4)


class Linear:
    """``x @ weight.T + bias``, with a float16 copy of ``weight`` for a few rows once made."""

    __slots__ = ("bias", "half", "weight")

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight = weight
        self.bias = bias
        self.half: np.ndarray | None = None  # set once, whole (read without a lock)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        half = self.half
        if half is not None and len(x) <= HALF_ROWS:
            return self._streamed(half, x, "f16")
        if FEW_ROWS[0] <= len(x) <= FEW_ROWS[1] and self.weight.dtype == np.float32:
            return self._streamed(self.weight, x, "f32")
        plain: np.ndarray = x @ self.weight.T + self.bias
        return plain

    def _streamed(
        self, weight: np.ndarray, x: np.ndarray, kind: Literal["f16", "f32"]
    ) -> np.ndarray:
        """The product by numkong: the weight (out, in) streamed once against the few rows
        packed, (out, rows)."""
        dtype = np.float16 if kind == "f16" else np.float32
        rows = numkong.dots_pack(np.ascontiguousarray(x, dtype=dtype), dtype=kind)
        product = np.asarray(numkong.dots_packed(weight, rows))  # (float64 for float32)
        out: np.ndarray = np.add(product.T, self.bias, order="C", dtype=np.float32)
        return out

    def make_half(self) -> None:
        """Make the float16 copy of the weight (kept in memory beside the mapped file)."""
        # (numkong's own cast where it has one, 7.8 but not 7.5: 87 ms for ViT-B-32's text
        # tower where numpy's took 400)
        cast = getattr(numkong, "astype", None)
        half = np.asarray(cast(self.weight, "f16")) if cast is not None else self.weight
        if half.dtype != np.float16 or not half.flags.c_contiguous:
            half = np.ascontiguousarray(self.weight, dtype=np.float16)
        half.flags.writeable = False
        self.half = half


@dataclass(frozen=True)
class TowerBlock:
    """One residual block's tensors, its four products as ``Linear``."""

    ln_1: tuple[np.ndarray, np.ndarray]
    qkv: Linear
    out: Linear
    ln_2: tuple[np.ndarray, np.ndarray]
    fc: Linear
    proj: Linear

    @classmethod
    def of(cls, b: Mapping[str, np.ndarray]) -> TowerBlock:
        """From a block's tensors keyed as ``numpy_blocks.BLOCK_KEYS``."""
        return cls(
            ln_1=(b["ln_1.weight"], b["ln_1.bias"]),
            qkv=Linear(b["attn.in_proj_weight"], b["attn.in_proj_bias"]),
            out=Linear(b["attn.out_proj.weight"], b["attn.out_proj.bias"]),
            ln_2=(b["ln_2.weight"], b["ln_2.bias"]),
            fc=Linear(b["mlp.c_fc.weight"], b["mlp.c_fc.bias"]),
            proj=Linear(b["mlp.c_proj.weight"], b["mlp.c_proj.bias"]),
        )

    def linears(self) -> tuple[Linear, ...]:
        return (self.qkv, self.out, self.fc, self.proj)


@dataclass(frozen=True)
class _Prefix:
    """A text's token ids and, per layer, the keys and values of all its tokens."""

    ids: np.ndarray
    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]
    row: np.ndarray | None = None  # the last block's output for the last token

    def shared_with(self, ids: np.ndarray) -> int:
        """How many leading tokens ``ids`` shares with this text."""
        n = min(len(ids), len(self.ids))
        differ = np.flatnonzero(self.ids[:n] != ids[:n])
        return int(differ[0]) if len(differ) else n


class QueryTower:
    """A text's ids → the tower's output row of its last token, reusing kept prefix states;
    thread-safe (the kept states are read-only once kept)."""

    def __init__(
        self,
        blocks: Sequence[Mapping[str, np.ndarray]],
        heads: int,
        act: Callable[[np.ndarray], np.ndarray],
        token_embedding: np.ndarray,
        positional: np.ndarray,
        kept: int = KEPT_PREFIXES,
    ) -> None:
        self._blocks = [TowerBlock.of(b) for b in blocks]
        self._heads = heads
        self._act = act
        self._tokens = token_embedding
        self._positions = positional
        self._size = kept
        self._kept: OrderedDict[bytes, _Prefix] = OrderedDict()
        self._first: _Prefix | None = None  # kept always, whatever the kept texts
        self._lock = threading.Lock()

    def use_half(self) -> None:
        """Multiply few rows by float16 copies of the weights from now on (block by block;
        ~90 ms of conversion for ViT-B-32, ~75 MB kept)."""
        for block in self._blocks:
            for linear in block.linears():
                if linear.half is None:
                    linear.make_half()

    def forget(self, start_too: bool = True) -> None:
        """Drop the kept texts' states (and the start token's unless ``start_too`` is False)."""
        with self._lock:
            self._kept.clear()
            if start_too:
                self._first = None

    def last_row(self, ids: np.ndarray) -> np.ndarray:
        """The last block's output for the last token of ``ids`` (shape (width,)), before
        the final layer norm."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        key = ids.tobytes()
        with self._lock:  # the same tokens again ("tax " after "tax", "Tax" after "tax")
            same = self._kept.get(key)
            if same is not None:
                self._kept.move_to_end(key)
        if same is not None and same.row is not None:
            return same.row.copy()
        prefix, start = self._longest_prefix(ids)
        x = (
            np.asarray(self._tokens[ids[start:]], dtype=np.float32)
            + self._positions[start : len(ids)]
        )
        keys: list[np.ndarray] = []
        values: list[np.ndarray] = []
        last = len(self._blocks) - 1
        for layer, block in enumerate(self._blocks):
            # A query the user typed past stops here (the window's next one waits for it).
            stop_if_superseded()
            past = None if prefix is None else (prefix.keys[layer], prefix.values[layer], start)
            x, k, v = self._block(block, x, past, only_last=layer == last)
            keys.append(k)
            values.append(v)
        row: np.ndarray = x[-1]
        self._keep(_Prefix(ids, tuple(keys), tuple(values), row))
        return row.copy()

    def _longest_prefix(self, ids: np.ndarray) -> tuple[_Prefix | None, int]:
        """The kept text sharing most leading tokens with ``ids``, and how many it shares
        (at most all but the last: at least one token goes through the tower)."""
        best: _Prefix | None = None
        shared = 0
        with self._lock:
            for prefix in (self._first, *self._kept.values()):
                if prefix is None:
                    continue
                n = prefix.shared_with(ids)
                if n > shared:
                    best, shared = prefix, n
        shared = min(shared, len(ids) - 1)
        return (best, shared) if shared > 0 else (None, 0)

    def _keep(self, prefix: _Prefix) -> None:
        for array in (prefix.ids, *prefix.keys, *prefix.values):
            array.flags.writeable = False
        if prefix.row is not None:
            prefix.row.flags.writeable = False
        key = prefix.ids.tobytes()
        with self._lock:
            if self._first is None:  # (the start token's states: the same for every text)
                self._first = _Prefix(
                    prefix.ids[:1],
                    tuple(k[:1] for k in prefix.keys),
                    tuple(v[:1] for v in prefix.values),
                )
            self._kept[key] = prefix
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def _block(
        self,
        b: TowerBlock,
        x: np.ndarray,
        past: tuple[np.ndarray, np.ndarray, int] | None,
        only_last: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pre-norm block on the new tokens' rows ``x`` (m, width) after ``past``'s kept
        keys and values (of the first ``start`` tokens); → the new rows (only the last one
        when ``only_last``), and the keys and values of all tokens so far."""
        width = x.shape[1]
        heads = self._heads
        head_dim = width // heads
        qkv = b.qkv(layer_norm(x, *b.ln_1))
        q, k, v = qkv[:, :width], qkv[:, width : 2 * width], qkv[:, 2 * width :]
        start = 0
        if past is not None:
            start = past[2]
            k = np.concatenate([past[0][:start], k])
            v = np.concatenate([past[1][:start], v])
        else:
            k, v = np.ascontiguousarray(k), np.ascontiguousarray(v)
        if only_last:
            q, x = q[-1:], x[-1:]
        rows = len(q)
        total = len(k)
        qh = q.reshape(rows, heads, head_dim).transpose(1, 0, 2)
        kh = k.reshape(total, heads, head_dim).transpose(1, 2, 0)
        vh = v.reshape(total, heads, head_dim).transpose(1, 0, 2)
        scores = (qh @ kh) * np.float32(1 / np.sqrt(head_dim))  # (heads, rows, total)
        if rows > 1:  # (the last token sees every position)
            # Row i is the token at position total - rows + i: it sees the positions up to it.
            seen = np.arange(total)[None, :] <= np.arange(total - rows, total)[:, None]
            scores = np.where(seen, scores, np.float32(-np.inf))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = (scores @ vh).transpose(1, 0, 2).reshape(rows, width)
        x = x + b.out(attended)
        h = b.fc(layer_norm(x, *b.ln_2))
        x = x + b.proj(self._act(h))
        return x, k, v
