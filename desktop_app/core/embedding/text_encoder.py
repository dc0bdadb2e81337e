"""A query encoder that needs neither torch nor open_clip: CLIP's text tower in numpy.

A fresh ``lumen search`` must answer in about a second, yet importing torch and open_clip alone
takes several. The text tower of a CLIP model is a small causal transformer; for a short query
its cost is reading the weights, which numpy does straight from the memory-mapped safetensors
file (only the text tower's pages and the query's embedding rows are touched).

The numpy path is only used for a library whose model was once loaded (by Lumen's own CLIP or
through open_clip): at that moment ``write_manifest`` records the text tower's shape and checks
the numpy encoder against the torch model on a few probe texts. A model whose text tower
differs in any way (another tokenizer, layer scale, other pooling) gets no manifest and keeps
the torch path.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.embedding import bf16
from desktop_app.core.embedding.clip_tokenizer import clip_tokenizer
from desktop_app.core.embedding.numpy_blocks import (
    block_weights,
    gelu,
    layer_norm,
    quick_gelu,
    residual_block,
)
from desktop_app.core.embedding.query_tower import QueryTower
from desktop_app.core.superseded import stop_if_superseded

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder

log = logging.getLogger(__name__)

MANIFEST_NAME = "text_encoder.json"
MANIFEST_VERSION = 1
PROBES = ("a", "kids on a beach at sunset", "Invoice 2023-0147 from Müller & Söhne!", "日本の猫")
MIN_PROBE_COSINE = 0.9999


# -- weights --------------------------------------------------------------------------------

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def read_safetensors(path: Path, prefix: str = "") -> dict[str, np.ndarray]:
    """The tensors of a safetensors file whose names start with ``prefix``, memory-mapped."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header: dict[str, Any] = json.loads(f.read(header_len))
    base = 8 + header_len
    # One mapping of the whole file, each tensor a view of it (a mapping per tensor cost 1 s
    # of stat and mmap calls for an image tower's 150 tensors on a busy machine).
    whole = np.memmap(path, dtype=np.uint8, mode="r")
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or not name.startswith(prefix):
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"unsupported tensor type {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end == start:
            tensors[name] = np.zeros(shape, dtype=dtype)
            continue
        if end > len(whole) - base:
            raise ValueError(f"{path} is cut short: {name} lies beyond its end")
        tensors[name] = whole[base + start : base + end].view(dtype).reshape(shape)
    return tensors


# -- the encoder ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextTowerShape:
    """What the numpy encoder must know beyond the weights themselves."""

    layers: int
    heads: int
    context_length: int
    quick_gelu: bool
    # Whether queries may take float16 weights once warm: the probes' vectors stayed within
    # MIN_PROBE_COSINE of the model's that way (``write_manifest``). Kept beside the shape in
    # the manifest: an older Lumen refuses a shape with a key it does not know.
    half_queries: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "heads": self.heads,
            "context_length": self.context_length,
            "quick_gelu": self.quick_gelu,
        }


class NumpyTextEncoder:
    """Encodes queries like the model's text tower, from its weights file, with numpy only."""

    def __init__(self, weights: Path, shape: TextTowerShape, space: str) -> None:
        self.space = space
        self.shape = shape
        self.weights = weights
        w = read_safetensors(weights)
        self._w = w
        self._blocks = block_weights(w, "transformer.resblocks", shape.layers)
        self._projection = w["text_projection"]
        self.dim = int(self._projection.shape[-1])
        self._tokenizer = clip_tokenizer()
        self._act = quick_gelu if shape.quick_gelu else gelu
        self._query = QueryTower(
            self._blocks,
            shape.heads,
            self._act,
            w["token_embedding.weight"],
            w["positional_embedding"],
        )
        self._half_lock = threading.Lock()
        self._half_started = False

    def _encode_ids(self, ids: np.ndarray) -> np.ndarray:
        """One text's ids up to and including its end token → its (dim,) unnormalised vector."""
        n = len(ids)
        x = np.asarray(self._w["token_embedding.weight"][ids], dtype=np.float32)
        x = (x + self._w["positional_embedding"][:n])[None]  # a batch of one
        causal = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        for block in self._blocks:
            # A query the user typed past stops here, not after the tower (~30-50 ms a query):
            # the window's next query waits for it.
            stop_if_superseded()
            x = residual_block(x, block, self.shape.heads, self._act, causal)
        last = layer_norm(x[0, -1:], self._w["ln_final.weight"], self._w["ln_final.bias"])
        out: np.ndarray = (last @ self._projection)[0]
        return out

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32 L2-normalised vectors, as ``Embedder.encode_texts`` gives them."""
        tokens = self._tokenizer(list(texts), self.shape.context_length)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        # A query is a few rows times the weights: memory-bound, where more BLAS threads only
        # contend (measured 80 ms on one thread, 0.2-2.5 s on the default two, on a busy machine).
        with _blas_controller().limit(limits=1, user_api="blas"):
            for row, ids in enumerate(tokens):
                end = int(np.argmax(ids == self._tokenizer.eot_id))
                vectors[row] = _unit(self._encode_ids(ids[: end + 1]).astype(np.float32))
        return vectors

    def encode_text(self, text: str) -> np.ndarray:
        """One query's vector, shape (dim,): through the query tower, which reuses the states
        of the last few texts' shared leading tokens (see ``query_tower``)."""
        ids = self._tokenizer([text], self.shape.context_length)[0]
        end = int(np.argmax(ids == self._tokenizer.eot_id))
        with _blas_controller().limit(limits=1, user_api="blas"):
            row = self._query.last_row(ids[: end + 1])
        last = layer_norm(row, self._w["ln_final.weight"], self._w["ln_final.bias"])
        return _unit(np.asarray(last @ self._projection, dtype=np.float32))

    def use_half(self) -> None:
        """Answer queries with float16 copies of the weights (see ``QueryTower.use_half``)."""
        self._query.use_half()

    def forget_prefixes(self, start_too: bool = True) -> None:
        """Drop the kept states of earlier queries (see ``QueryTower.forget``)."""
        self._query.forget(start_too)

    def prepare_for_typing(self) -> None:
        """Where the manifest allows it, make the float16 weights for queries on a thread of
        their own (~90 ms of one core for ViT-B-32; queries meanwhile take float32)."""
        with self._half_lock:
            if self._half_started or not self.shape.half_queries:
                return
            self._half_started = True
        threading.Thread(target=self.use_half, name="lumen-half-weights", daemon=True).start()


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 (a zero vector as it is)."""
    norm = float(np.linalg.norm(vector))
    out: np.ndarray = vector / norm if norm > 0 else vector
    return out


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, found once (``threadpool_limits``
    looks for them again at each call: ~5 ms of a query)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# -- the manifest: when the numpy path may stand in for the model --------------------------


def _text_tower_shape(embedder: Embedder) -> TextTowerShape | None:
    """The shape of the embedder's text tower when it is the plain CLIP one, else None."""
    # Lumen's own CLIP (without open_clip) says its shape itself (``ClipShape.text_tower``):
    # this module is below ``clip_native`` and does not import it.
    native = getattr(getattr(embedder.model, "shape", None), "text_tower", None)
    if callable(native):
        shape = native()
        return shape if isinstance(shape, TextTowerShape) else None
    import open_clip
    import torch
    from open_clip import tokenizer as oc_tokenizer

    model = embedder.model
    tok = embedder.tokenizer
    if not isinstance(model, open_clip.CLIP) or type(tok) is not oc_tokenizer.SimpleTokenizer:
        return None
    if getattr(tok, "clean_fn", None) is not oc_tokenizer._clean_lower or tok.reduction_fn:
        return None
    if tok.vocab_size != 49408 or list(tok.all_special_ids) != [49406, 49407]:
        return None
    if model.text_pool_type != "argmax" or not isinstance(model.text_projection, torch.Tensor):
        return None
    blocks = list(model.transformer.resblocks)
    if not blocks:
        return None
    first = blocks[0]
    if not isinstance(first.ls_1, torch.nn.Identity) or hasattr(first, "ln_1_kv"):
        return None
    if not isinstance(first.ln_1, torch.nn.LayerNorm) or first.ln_1.eps != 1e-5:
        return None
    act = first.mlp.gelu
    quick = type(act).__name__ == "QuickGELU"
    if not quick and not (isinstance(act, torch.nn.GELU) and act.approximate == "none"):
        return None
    return TextTowerShape(
        layers=len(blocks),
        heads=int(first.attn.num_heads),
        context_length=int(model.context_length),
        quick_gelu=quick,
    )


def _file_stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_manifest(data_dir: Path, embedder: Embedder, weights: Path) -> bool:
    """Record that this library's queries may be encoded by the numpy path; True if so.

    Written only when the text tower is the plain CLIP one and the numpy encoder gives the
    torch model's vectors (cosine ≥ 0.9999) on a few probe texts; otherwise any old manifest
    is removed.
    """
    target = data_dir / MANIFEST_NAME
    if _manifest_matches(target, embedder, weights):
        return True  # checked already against this very file (probing costs seconds)
    try:
        shape = _text_tower_shape(embedder) if weights.suffix == ".safetensors" else None
        if shape is not None:
            shape = _probed_shape(NumpyTextEncoder(weights, shape, embedder.space), embedder)
    except (OSError, KeyError, ValueError) as exc:
        log.info("No numpy text encoder for %s: %s", embedder.spec.key, exc)
        shape = None
    if shape is None:
        target.unlink(missing_ok=True)
        return False
    payload = {
        "version": MANIFEST_VERSION,
        "model": embedder.spec.key,
        "space": embedder.space,
        "weights": str(weights),
        **_file_stamp(weights),
        "text_tower": shape.as_json(),
        "half_queries": shape.half_queries,
    }
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        log.info("Could not write %s: %s", target, exc)
        return False
    return True


def _probed_shape(fast: NumpyTextEncoder, embedder: Embedder) -> TextTowerShape | None:
    """``fast``'s shape, with ``half_queries`` set when its float16 queries pass the probes
    too; None when its float32 vectors (a batch's or a query's) differ from the model's."""
    with bf16.exact():  # the float32 model is the reference
        expected = embedder.encode_texts(list(PROBES))

    def lowest_cosine(got: np.ndarray) -> float:
        return float(np.min(np.sum(expected * got, axis=1)))

    def typed(text: str) -> np.ndarray:  # half the text first: the rest after kept states
        fast.encode_text(text[: len(text) // 2])
        return fast.encode_text(text)

    batch = lowest_cosine(fast.encode_texts(list(PROBES)))
    queries = lowest_cosine(np.stack([typed(t) for t in PROBES]))
    if min(batch, queries) < MIN_PROBE_COSINE:
        log.info("The numpy text encoder differs from the model (cosine %.5f)", min(batch, queries))
        return None
    fast.use_half()
    fast.forget_prefixes()
    half = lowest_cosine(np.stack([typed(t) for t in PROBES]))
    if half < MIN_PROBE_COSINE:
        log.info("Float16 queries differ from the model (cosine %.5f): float32 kept", half)
    return replace(fast.shape, half_queries=half >= MIN_PROBE_COSINE)


def _manifest_matches(target: Path, embedder: Embedder, weights: Path) -> bool:
    """Whether ``target`` already records this model and weights file, unchanged since."""
    try:
        manifest = json.loads(target.read_text(encoding="utf-8"))
        return bool(
            manifest.get("version") == MANIFEST_VERSION
            and manifest["model"] == embedder.spec.key
            and manifest["space"] == embedder.space
            and Path(manifest["weights"]) == weights
            and _file_stamp(weights) == {"size": manifest["size"], "mtime_ns": manifest["mtime_ns"]}
            # (a manifest from before float16 queries: probed again once, to know)
            and "half_queries" in manifest
        )
    except (OSError, KeyError, TypeError, ValueError):
        return False


def numpy_text_tower(
    data_dir: Path, model: str, weights: Path | None, space: str
) -> tuple[Path, TextTowerShape] | None:
    """The weights file and text tower shape a library's manifest records when it still
    matches its model, else None (reads the manifest only: nothing is loaded).

    ``model``/``weights`` are what the settings ask for, ``space`` what the catalog holds; any
    difference (another model, a replaced weights file) means the torch path must be used.
    """
    try:
        manifest = json.loads((data_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        path = Path(manifest["weights"])
        if (
            manifest.get("version") != MANIFEST_VERSION
            or manifest["model"] != model
            or manifest["space"] != space
            or (weights is not None and weights.expanduser().absolute() != path)
            or _file_stamp(path) != {"size": manifest["size"], "mtime_ns": manifest["mtime_ns"]}
        ):
            return None
        half = manifest.get("half_queries") is True
        return path, TextTowerShape(**manifest["text_tower"], half_queries=half)
    except FileNotFoundError:
        return None
    except (OSError, KeyError, TypeError, ValueError) as exc:
        log.info("Ignoring the text encoder manifest in %s: %s", data_dir, exc)
        return None


def load_numpy_text_encoder(
    data_dir: Path, model: str, weights: Path | None, space: str
) -> NumpyTextEncoder | None:
    """The numpy encoder for a library whose manifest still matches its model, else None."""
    found = numpy_text_tower(data_dir, model, weights, space)
    if found is None:
        return None
    try:
        return NumpyTextEncoder(found[0], found[1], space)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        log.info("Ignoring the text encoder manifest in %s: %s", data_dir, exc)
        return None
