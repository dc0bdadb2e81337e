"""OpenCLIP loading (cache, download or local file), device choice and batched encoding."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from desktop_app.core.embedding import bf16
from desktop_app.core.embedding.clip_native import (
    ClipPreprocess,
    ClipShape,
    ClipTokens,
    Towers,
    build_clip,
    native_shape,
)
from desktop_app.core.embedding.hf_text import prepare_hf_text
from desktop_app.core.embedding.int8 import int8_image_tower, quantize_image_tower
from desktop_app.core.embedding.passage_encoder import PassageEncoder
from desktop_app.core.embedding.weights import DownloadCallback, WeightsSource, resolve_weights
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.models import ModelSpec, get_model_spec

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

# A prepared picture, or a stack of them: a torch tensor, or a numpy array (the numpy tower's).
Pixels: TypeAlias = "torch.Tensor | np.ndarray"

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
        image_tower: Callable[[], None] | None = None,
        towers: Towers | None = None,
    ) -> None:
        """``image_tower`` loads the image tower's weights on first use (None: loaded);
        ``towers`` (Lumen's own CLIP) loads and releases the text tower's too."""
        import torch

        self.weights_path = weights_path  # the file the weights came from
        self._image_tower = image_tower
        self._image_tower_lock = threading.Lock()
        self._towers = towers
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.spec = spec
        self.device = device
        self.space = space
        self._dtype = torch.float16 if device == "cuda" else torch.float32
        native: ClipShape | None = getattr(model, "shape", None)
        if isinstance(native, ClipShape):  # Lumen's own CLIP: its text encoding is truncated
            self._can_truncate = False
            self.dim = native.embed_dim
        else:
            self._can_truncate = _supports_eot_truncation(model)
            with torch.inference_mode():
                probe = model.encode_text(tokenizer(["a"]).to(device))
            self.dim = int(probe.shape[-1])
        image_size = getattr(getattr(model, "visual", None), "image_size", 224)
        self.image_size = int(
            image_size[0] if isinstance(image_size, (tuple, list)) else image_size
        )
        self._passages = PassageEncoder(self.encode_texts, self.dim)

    def prepare_image(self, image: Image.Image) -> Pixels:
        """The model's own preprocessing (resize, crop, normalise); thread-safe, CPU only."""
        tensor: torch.Tensor = self.preprocess(image)
        return tensor

    def stack_prepared(self, pictures: Sequence[Pixels]) -> Pixels:
        """Prepared pictures as one batch for ``encode_prepared``."""
        import torch

        return torch.stack([torch.as_tensor(p) for p in pictures])

    @property
    def image_tower_loaded(self) -> bool:
        """Whether the image tower's weights are in memory (they load on the first image)."""
        return self._image_tower is None

    def load_image_tower(self) -> None:
        """Load the image tower's weights now, if they are not yet (thread-safe)."""
        with self._image_tower_lock:
            if self._image_tower is not None:
                try:
                    self._image_tower()
                except Exception as exc:
                    raise ModelUnavailableError(
                        f"The image tower of {self.spec.key} could not be loaded from "
                        f"{self.weights_path}: {type(exc).__name__}: {exc}"
                    ) from exc
                self._image_tower = None

    def encode_prepared(self, batch: Pixels) -> np.ndarray:
        """Encode a batch of prepared image tensors (N, 3, H, W) into (N, dim) float32."""
        import torch

        self.load_image_tower()
        with torch.inference_mode():
            tensor = torch.as_tensor(batch)
            features = self.model.encode_image(tensor.to(self.device, dtype=self._dtype))
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.cpu().numpy().astype(np.float32)

    def encode_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Encode PIL images into (N, dim) float32 L2-normalised vectors."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.encode_prepared(self.stack_prepared([self.prepare_image(im) for im in images]))

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
        with self._text_tower(), torch.inference_mode():
            if truncate and self._can_truncate:
                features = _encode_text_until_eot(self.model, tokens)
            else:
                features = self.model.encode_text(tokens)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.cpu().numpy().astype(np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Encode a document's (or many documents') passages into (N, dim) vectors: a passage
        seen lately (a licence in many files) is not embedded again."""
        return self._passages.encode(texts)

    def _text_tower(self) -> AbstractContextManager[None]:
        return self._towers.text() if self._towers is not None else nullcontext()

    def encode_text(self, text: str) -> np.ndarray:
        """One query's vector, shape (dim,)."""
        vector: np.ndarray = self.encode_texts([text])[0]
        return vector

    def release_text_tower(self) -> None:
        """Let the text tower's weights go until texts are encoded again (Lumen's own CLIP;
        open_clip's models keep theirs)."""
        if self._towers is not None:
            self._towers.release_text()


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
    int8: bool = False,
) -> Embedder:
    """Create the model ``model_key`` with its weights on the best available device.

    ``on_download`` hears how a download of the weights progresses, if one is needed.
    ``int8`` (CPU only): the image tower's Linear layers get int8 weights (dynamic quantisation).
    """
    started = time.perf_counter()
    spec = get_model_spec(model_key)
    if spec.config_file is None and weights is None and spec.pretrained is None:
        raise ModelUnavailableError(
            f"Model {model_key!r} names no pretrained weights; use ARCH/TAG or pass --weights FILE."
        )
    if spec.config_file is not None and weights is None and spec.pretrained is None:
        raise ModelUnavailableError(
            f"Model {model_key!r} is a local model; pass its weights file with --weights FILE."
        )
    chosen = choose_device(device)
    shape = native_shape(spec)
    source: WeightsSource | None = None
    if shape is not None and chosen == "cpu":
        source = resolve_weights(spec, weights, cache_dir, on_download)
        if source.path.suffix == ".safetensors":
            embedder = _native_embedder(spec, shape, source, int8)
            if embedder is not None:
                _log_loaded(embedder, source, started)
                return embedder
    embedder, source = _open_clip_embedder(
        spec, weights, cache_dir, chosen, source, on_download, int8
    )
    _log_loaded(embedder, source, started)
    return embedder


def _open_clip_embedder(
    spec: ModelSpec,
    weights: Path | None,
    cache_dir: Path,
    chosen: str,
    source: WeightsSource | None,
    on_download: DownloadCallback | None,
    int8: bool,
) -> tuple[Embedder, WeightsSource]:
    """open_clip's model for ``spec`` on the device ``chosen``, and where its weights came from
    (``source`` when found already, by Lumen's own CLIP that could not take the file)."""
    open_clip = _open_clip(spec)
    if spec.config_file is not None:
        open_clip.add_model_config(spec.config_file)
    if spec.architecture in open_clip.list_models():
        prepare_hf_text(spec.architecture, cache_dir)  # a multilingual text tower's tokenizer
    if spec.architecture not in open_clip.list_models():
        known = ", ".join(sorted(k for k, s in _visible_models().items()))
        raise ModelUnavailableError(f"Unknown model {spec.key!r}. Known models: {known}.")
    if source is None:
        source = resolve_weights(spec, weights, cache_dir, on_download)
    model, preprocess, image_tower = _create_open_clip(spec, source, cache_dir, chosen)
    model.eval()
    if int8 and chosen == "cpu":
        image_tower = int8_image_tower(model, image_tower)
    try:
        tokenizer = open_clip.get_tokenizer(spec.architecture)
    except Exception as exc:  # a Hugging Face tokenizer whose files are missing or damaged
        raise ModelUnavailableError(
            f"The tokenizer of {spec.key} could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    space = vector_space(spec, source.path)
    embedder = Embedder(model, preprocess, tokenizer, spec, chosen, space, source.path, image_tower)
    return embedder, source


def _create_open_clip(
    spec: ModelSpec, source: WeightsSource, cache_dir: Path, chosen: str
) -> tuple[Any, Any, Callable[[], None] | None]:
    """open_clip's model, its preprocessing, and its image tower's loader (None: loaded now)."""
    import open_clip

    tag_cfg: dict[str, Any] = (
        open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained) if spec.pretrained else {}
    ) or {}
    preprocess_cfg: dict[str, Any] = {
        k: tag_cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in tag_cfg
    }
    try:
        if chosen == "cpu" and source.path.suffix == ".safetensors":
            built = _build_from_safetensors(
                spec.architecture,
                source.path,
                bool(tag_cfg.get("quick_gelu", False)),
                preprocess_cfg,
            )
            if built is not None:
                return built
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
        raise _unloadable(spec, source, exc) from exc
    return model, preprocess, None


def _open_clip(spec: ModelSpec) -> Any:
    """open_clip, for the models Lumen's own CLIP does not build; a plain reason where it is left
    out (Lumen's CPU bundle carries only its model configurations and vocabulary, as files)."""
    try:
        import open_clip
    except ImportError:
        open_clip = None
    if not hasattr(open_clip, "create_model_and_transforms"):
        raise ModelUnavailableError(
            f"{spec.key} needs open_clip, which this installation of Lumen leaves out: it builds "
            "the plain CLIP models itself (ViT-B-32, ViT-B-16, ViT-L-14 with .safetensors "
            "weights, on the CPU). Install Lumen from source (README: From source) for this model."
        )
    return open_clip


def vector_space(spec: ModelSpec, weights: Path) -> str:
    """The name of the vector space ``weights`` make for ``spec``: vectors of different spaces
    are never compared (another model, other weights, other preprocessing)."""
    return f"{spec.key}#{fingerprint_file(weights)[:16]}#p{PREPROCESSING_VERSION}"


def _log_loaded(embedder: Embedder, source: WeightsSource, started: float) -> None:
    log.info(
        "Loaded %s from %s (%s) on %s in %.1f s",
        embedder.spec.key,
        source.path,
        source.origin,
        embedder.device,
        time.perf_counter() - started,
    )


def _native_embedder(
    spec: ModelSpec, shape: ClipShape, source: WeightsSource, int8: bool
) -> Embedder | None:
    """Lumen's own CLIP (no ``import open_clip``) with ``source``'s weights; None when the
    file's tensors are not a plain CLIP's (open_clip's loader then tries)."""
    try:
        built = build_clip(shape, source.path)
    except Exception as exc:
        raise _unloadable(spec, source, exc) from exc
    if built is None:
        return None
    model, towers = built
    if bf16.wanted():  # (int8 layers keep their own products)
        towers.bf16_candidates = {False} if int8 else {False, True}
    load_image_tower = towers.load_image
    if int8:

        def load_image_tower() -> None:
            towers.load_image()
            quantize_image_tower(model)

    space = vector_space(spec, source.path)
    preprocess = ClipPreprocess(shape.image_size, spec.mean, spec.std)
    tokens = ClipTokens(shape.context_length)
    return Embedder(
        model, preprocess, tokens, spec, "cpu", space, source.path, load_image_tower, towers
    )


def _unloadable(spec: ModelSpec, source: WeightsSource, exc: Exception) -> ModelUnavailableError:
    """What to tell the user of a weights file that could not be loaded, and what to do."""
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if source.origin != "file":  # Lumen's own copy (model cache): getting it again fixes it
        return ModelUnavailableError(
            f"The model cache holds a damaged copy of the weights of {spec.key}: "
            f"{source.path} ({reason}).\nDelete that file and run again: Lumen downloads "
            f"the weights again (about {spec.download_mb} MB). Or, if you have the weights "
            "file, pass it with --weights FILE."
        )
    return ModelUnavailableError(
        f"The weights file {source.path} could not be loaded as {spec.key}: {reason}\n"
        "Check that the file is complete and belongs to this model (see `lumen models`)."
    )


def _build_from_safetensors(
    architecture: str, path: Path, quick_gelu: bool, preprocess_cfg: Mapping[str, Any]
) -> tuple[Any, Any, Callable[[], None]] | None:
    """The model built without random initialisation: modules on the meta device, then the
    text tower's tensors assigned straight from the file; the image tower's on first use.

    ``open_clip.create_model`` initialises every weight randomly and then copies the file over
    them (twice the memory and time). Returns None where this model does not fit the scheme
    (other tensor names, buffers that are not in the file), for open_clip's own loader.
    """
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_kwargs
    from safetensors import safe_open

    try:
        with torch.device("meta"):
            model = open_clip.create_model(
                architecture,
                pretrained=None,
                load_weights=False,
                device="meta",
                precision="fp32",
                force_quick_gelu=quick_gelu,
                force_preprocess_cfg=merge_preprocess_kwargs(
                    {},
                    mean=preprocess_cfg.get("mean"),
                    std=preprocess_cfg.get("std"),
                    interpolation=preprocess_cfg.get("interpolation"),
                    resize_mode=preprocess_cfg.get("resize_mode"),
                ),
            )
        expected = set(model.state_dict())
        # Buffers that are not in the file: only the text tower's causal mask is rebuilt here.
        unsaved = {name for name, _ in model.named_buffers()} - expected
    except Exception as exc:  # an architecture this scheme does not know: open_clip's loader
        log.debug("Building %s on the meta device failed: %s", architecture, exc)
        return None
    # A file that cannot be read is reported (the caller says which and what to do), not
    # handed to open_clip's loader to fail there again less clearly.
    with safe_open(str(path), framework="pt", device="cpu") as f:
        if set(f.keys()) != expected:
            return None
    if unsaved - {"attn_mask"} or not isinstance(model, open_clip.CLIP):
        return None

    dtypes = {k: v.dtype for k, v in model.state_dict().items()}

    def assign(keep: Callable[[str], bool]) -> None:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            # A file saved in half precision is widened, as open_clip's loader does.
            names = list(f.keys())  # (safe_open is not iterable)
            tensors = {k: f.get_tensor(k).to(dtypes[k]) for k in names if keep(k)}
        model.load_state_dict(tensors, strict=False, assign=True)

    assign(lambda k: not k.startswith("visual."))
    if "attn_mask" in unsaved:
        n = int(model.context_length)
        mask = torch.full((n, n), float("-inf")).triu_(1)
        model.register_buffer("attn_mask", mask, persistent=False)
    model.eval()
    preprocess = image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), is_train=False)
    return model, preprocess, lambda: assign(lambda k: k.startswith("visual."))


def _visible_models() -> dict[str, ModelSpec]:
    from desktop_app.core.models import MODELS

    return {k: s for k, s in MODELS.items() if not s.hidden}
