"""The image tower of a plain CLIP in numpy, so a run of a few new photos needs no torch.

``import torch`` alone takes about 2.5 s of a 2-core machine, more than embedding a handful of
photos. For such a run the ViT image tower (a patch projection and a stack of transformer
blocks) is computed here with numpy from the memory-mapped safetensors file; a long run keeps
torch, whose tower is faster once imported.

Like the numpy text encoder, this path is only used for a library whose model was once loaded
by Lumen's own CLIP on the CPU: ``write_image_manifest`` then records the tower's shape and
checks this tower against the torch model on probe pictures (cosine ≥ 0.9999). Any other model,
or a weights file changed since, gets no manifest and keeps torch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.embedding import bf16
from desktop_app.core.embedding.clip_native import ClipPreprocess, ClipShape
from desktop_app.core.embedding.numpy_blocks import (
    block_weights,
    gelu,
    layer_norm,
    quick_gelu,
    residual_block,
)
from desktop_app.core.embedding.text_encoder import read_safetensors

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder

log = logging.getLogger(__name__)

MANIFEST_NAME = "image_encoder.json"
MANIFEST_VERSION = 1
MIN_PROBE_COSINE = 0.9999


class NumpyImageTower:
    """Encodes prepared pictures like the model's image tower, from its weights, with numpy."""

    def __init__(self, weights: Path, shape: ClipShape) -> None:
        self.shape = shape
        self.weights = weights
        w = read_safetensors(weights, "visual.")
        self._w = w
        width = shape.vision_width
        self._patches = np.asarray(w["visual.conv1.weight"]).reshape(width, -1).T
        self._blocks = block_weights(w, "visual.transformer.resblocks", shape.vision_layers)
        self._act = quick_gelu if shape.quick_gelu else gelu

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 3, size, size) prepared pictures → (N, dim) float32 L2-normalised vectors."""
        from threadpoolctl import threadpool_limits

        # One BLAS thread: a run's decoding threads use the other core, and OpenBLAS's threads
        # spin against them (measured 0.5 s a photo on one thread, 3-4.6 s on two, on a busy
        # 2-core machine).
        with threadpool_limits(1, user_api="blas"):
            return self._encode(pixels)

    def _encode(self, pixels: np.ndarray) -> np.ndarray:
        s, w = self.shape, self._w
        n, grid, p = len(pixels), s.image_size // s.patch_size, s.patch_size
        patches = pixels.astype(np.float32, copy=False).reshape(n, 3, grid, p, grid, p)
        x = patches.transpose(0, 2, 4, 1, 3, 5).reshape(n, grid * grid, 3 * p * p)
        x = x @ self._patches
        cls = np.broadcast_to(w["visual.class_embedding"], (n, 1, s.vision_width))
        x = np.concatenate([cls, x], axis=1) + w["visual.positional_embedding"]
        x = layer_norm(x, w["visual.ln_pre.weight"], w["visual.ln_pre.bias"])
        for block in self._blocks:
            x = residual_block(x, block, s.vision_heads, self._act)
        pooled = layer_norm(x[:, 0], w["visual.ln_post.weight"], w["visual.ln_post.bias"])
        vectors = (pooled @ w["visual.proj"]).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        out: np.ndarray = vectors / np.where(norms > 0, norms, 1.0)
        return out


# -- the manifest: when the numpy tower may stand in for the model -------------------------


def probe_pictures(preprocess: ClipPreprocess) -> np.ndarray:
    """Two prepared pictures to compare the towers on: a colour gradient and noise, not square
    (deterministic)."""
    from PIL import Image

    size = preprocess.size
    ramp = np.linspace(0, 255, size * 2, dtype=np.float32)
    gradient = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 255 - ramp[None, :]), -1)
    noise = np.random.default_rng(22).integers(0, 256, (size, size * 3 // 2, 3))
    pictures = [Image.fromarray(a.astype(np.uint8)) for a in (gradient, noise)]
    return np.stack([preprocess.pixels(p) for p in pictures])


def _file_stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_image_manifest(data_dir: Path, embedder: Embedder) -> bool:
    """Record that this library's pictures may be embedded by the numpy tower; True if so.

    Only for Lumen's own CLIP on the CPU with a safetensors file, and only when the numpy tower
    gives the torch model's vectors (cosine ≥ 0.9999) on the probe pictures; otherwise any old
    manifest is removed. Loads the model's image tower (the check needs it).
    """
    target = data_dir / MANIFEST_NAME
    shape, weights = getattr(embedder.model, "shape", None), embedder.weights_path
    usable = (
        isinstance(shape, ClipShape)
        and isinstance(embedder.preprocess, ClipPreprocess)
        and weights is not None
        and weights.suffix == ".safetensors"
        and embedder.device == "cpu"
    )
    if not usable or shape is None or weights is None:
        target.unlink(missing_ok=True)
        return False
    if _manifest(target, embedder.spec.key, embedder.space, weights) is not None:
        return True  # checked already against this very file
    try:
        probes = probe_pictures(embedder.preprocess)
        # The numpy tower first, let go (its mapped weights with it) before the model's own
        # tower loads: both resident at once were the peak of a first run (+0.3 GB).
        got = NumpyImageTower(weights, shape).encode(probes)
        with bf16.exact():  # the float32 model is the reference
            expected = embedder.encode_prepared(embedder.stack_prepared(list(probes)))
        cosine = float(np.min(np.sum(expected * got, axis=1)))
    except (OSError, KeyError, ValueError) as exc:
        log.info("No numpy image tower for %s: %s", embedder.spec.key, exc)
        cosine = 0.0
    if cosine < MIN_PROBE_COSINE:
        log.info("The numpy image tower differs from the model (cosine %.5f)", cosine)
        target.unlink(missing_ok=True)
        return False
    payload = {
        "version": MANIFEST_VERSION,
        "model": embedder.spec.key,
        "space": embedder.space,
        "weights": str(weights),
        **_file_stamp(weights),
        "shape": dataclasses.asdict(shape),
    }
    try:
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        log.info("Could not write %s: %s", target, exc)
        return False
    return True


def _manifest(target: Path, model: str, space: str, weights: Path | None) -> dict[str, Any] | None:
    """The manifest at ``target`` when it records this model, space and weights file (any file
    when ``weights`` is None), unchanged since; else None."""
    try:
        manifest: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
        path = Path(manifest["weights"])
        if (
            manifest.get("version") == MANIFEST_VERSION
            and manifest["model"] == model
            and manifest["space"] == space
            and (weights is None or weights.expanduser().absolute() == path)
            and _file_stamp(path) == {"size": manifest["size"], "mtime_ns": manifest["mtime_ns"]}
        ):
            return manifest
    except FileNotFoundError:
        return None
    except (OSError, KeyError, TypeError, ValueError) as exc:
        log.info("Ignoring the image encoder manifest %s: %s", target, exc)
    return None


def load_numpy_image_tower(
    data_dir: Path, model: str, weights: Path | None, space: str
) -> NumpyImageTower | None:
    """The numpy image tower for a library whose manifest still matches its model, else None."""
    manifest = _manifest(data_dir / MANIFEST_NAME, model, space, weights)
    if manifest is None:
        return None
    try:
        shape = ClipShape(**manifest["shape"])
        return NumpyImageTower(Path(manifest["weights"]), shape)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        log.info("Ignoring the image encoder manifest in %s: %s", data_dir, exc)
        return None
