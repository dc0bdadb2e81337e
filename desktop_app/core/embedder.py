"""OpenCLIP loading (cache, download or local file), device choice and batched encoding."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.models import ModelSpec, get_model_spec
from desktop_app.core.weights import DownloadCallback, resolve_weights

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

# Bumped when Lumen's own preprocessing changes, so old vectors are re-embedded.
PREPROCESSING_VERSION = 1


def choose_device(preference: str = "auto") -> str:
    """``cuda`` if present, then Apple ``mps``, then ``cpu``; an explicit choice wins if available."""
    import torch

    preference = preference.lower()
    if preference not in {"auto", "cpu", "cuda", "gpu", "mps"}:
        raise ValueError(f"unknown device {preference!r} (use auto, cpu, cuda or mps)")
    if preference == "cpu":
        return "cpu"
    if preference in {"auto", "cuda", "gpu"} and torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if preference in {"auto", "mps", "gpu"} and mps is not None and mps.is_available():
        return "mps"
    if preference != "auto":
        log.warning("Device %r is not available here; using the CPU", preference)
    return "cpu"


class Embedder:
    """Encodes images and text into one L2-normalised vector space."""

    def __init__(
        self,
        model: Any,
        preprocess: Any,
        tokenizer: Any,
        spec: ModelSpec,
        device: str,
        space: str,
        weights_path: Path | None = None,
    ) -> None:
        import torch

        self.weights_path = weights_path  # the file the weights came from
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.spec = spec
        self.device = device
        self.space = space
        self._dtype = torch.float16 if device == "cuda" else torch.float32
        self._can_truncate = _supports_eot_truncation(model)
        with torch.inference_mode():
            probe = model.encode_text(tokenizer(["a"]).to(device))
        self.dim = int(probe.shape[-1])
        image_size = getattr(getattr(model, "visual", None), "image_size", 224)
        self.image_size = int(
            image_size[0] if isinstance(image_size, (tuple, list)) else image_size
        )

    def prepare_image(self, image: Image.Image) -> torch.Tensor:
        """The model's own preprocessing (resize, crop, normalise); thread-safe, CPU only."""
        tensor: torch.Tensor = self.preprocess(image)
        return tensor

    def encode_prepared(self, batch: torch.Tensor) -> np.ndarray:
        """Encode a batch of prepared image tensors (N, 3, H, W) into (N, dim) float32."""
        import torch

        with torch.inference_mode():
            features = self.model.encode_image(batch.to(self.device, dtype=self._dtype))
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.cpu().numpy().astype(np.float32)

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Encode PIL images into (N, dim) float32 L2-normalised vectors."""
        import torch

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.encode_prepared(torch.stack([self.prepare_image(im) for im in images]))

    def encode_texts(self, texts: Sequence[str], truncate: bool = True) -> np.ndarray:
        """Encode texts into (N, dim) float32 L2-normalised vectors.

        With ``truncate`` the causal text tower runs only up to the longest end-of-text token of
        the batch: tokens after it cannot influence it, so the vector is the same, for a fraction
        of the work on short queries.
        """
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokens = self.tokenizer(list(texts)).to(self.device)
        with torch.inference_mode():
            if truncate and self._can_truncate:
                features = _encode_text_until_eot(self.model, tokens)
            else:
                features = self.model.encode_text(tokens)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.cpu().numpy().astype(np.float32)

    def encode_text(self, text: str) -> np.ndarray:
        """One query's vector, shape (dim,)."""
        vector: np.ndarray = self.encode_texts([text])[0]
        return vector


def _supports_eot_truncation(model: Any) -> bool:
    import open_clip

    return (
        isinstance(model, open_clip.CLIP)
        and getattr(model, "text_pool_type", "argmax") == "argmax"
        and getattr(model, "attn_mask", None) is not None
    )


def _encode_text_until_eot(model: Any, tokens: torch.Tensor) -> torch.Tensor:
    import torch

    eot = tokens.argmax(dim=-1)  # the end-of-text token has the highest id in CLIP's vocabulary
    length = int(eot.max().item()) + 1
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens[:, :length]).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), eot]
    if model.text_projection is not None:
        if isinstance(model.text_projection, torch.nn.Linear):
            x = model.text_projection(x)
        else:
            x = x @ model.text_projection
    pooled: torch.Tensor = x
    return pooled


def load_embedder(
    model_key: str,
    weights: Path | None,
    cache_dir: Path,
    device: str = "auto",
    on_download: DownloadCallback | None = None,
) -> Embedder:
    """Create the model ``model_key`` with its weights on the best available device.

    ``on_download`` hears how a download of the weights progresses, if one is needed.
    """
    started = time.perf_counter()
    spec = get_model_spec(model_key)
    if spec.config_file is None and weights is None and spec.pretrained is None:
        raise ModelUnavailableError(
            f"Model {model_key!r} names no pretrained weights; use ARCH/TAG or pass --weights FILE."
        )
    import open_clip

    if spec.config_file is not None:
        open_clip.add_model_config(spec.config_file)
    if spec.architecture not in open_clip.list_models():
        known = ", ".join(sorted(k for k, s in _visible_models().items()))
        raise ModelUnavailableError(f"Unknown model {model_key!r}. Known models: {known}.")
    if spec.config_file is not None and weights is None:
        raise ModelUnavailableError(
            f"Model {model_key!r} is a local model; pass its weights file with --weights FILE."
        )
    source = resolve_weights(spec, weights, cache_dir, on_download)
    chosen = choose_device(device)
    tag_cfg: dict[str, Any] = (
        open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained) if spec.pretrained else {}
    ) or {}
    preprocess_cfg = {
        k: tag_cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in tag_cfg
    }
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.architecture,
            pretrained=str(source.path),
            device=chosen,
            precision="fp16" if chosen == "cuda" else "fp32",
            force_quick_gelu=bool(tag_cfg.get("quick_gelu", False)),
            image_mean=preprocess_cfg.get("mean"),
            image_std=preprocess_cfg.get("std"),
            image_interpolation=preprocess_cfg.get("interpolation"),
            image_resize_mode=preprocess_cfg.get("resize_mode"),
            cache_dir=str(cache_dir),
        )
    except Exception as exc:
        raise ModelUnavailableError(
            f"The weights file {source.path} could not be loaded as {spec.key}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
            "Check that the file is complete and belongs to this model (see `lumen models`)."
        ) from exc
    model.eval()
    tokenizer = open_clip.get_tokenizer(spec.architecture)
    space = f"{spec.key}#{fingerprint_file(source.path)[:16]}#p{PREPROCESSING_VERSION}"
    embedder = Embedder(model, preprocess, tokenizer, spec, chosen, space, source.path)
    log.info(
        "Loaded %s from %s (%s) on %s in %.1f s",
        spec.key,
        source.path,
        source.origin,
        chosen,
        time.perf_counter() - started,
    )
    return embedder


def _visible_models() -> dict[str, ModelSpec]:
    from desktop_app.core.models import MODELS

    return {k: s for k, s in MODELS.items() if not s.hidden}
