"""The plain CLIP architecture in torch alone, so indexing need not import open_clip.

``import open_clip`` brings torchvision, torch's compiler stack, timm and transformers with it:
about 1.7 s and 250 MB of a 2-core machine before a single photo is read, for a model (the
ViT image tower and the causal text tower of OpenAI's CLIP, which open_clip's ViT-B-32, ViT-B-16
and ViT-L-14 configurations are) that is a few standard torch modules. Here those modules carry
open_clip's own parameter names, so a weights file loads into them as it is, and the towers give
open_clip's vectors (``tests/unit/test_clip_native.py`` compares them, image and text). Only
configurations that hold nothing but the plain architecture's keys are built here; any other
(layer scale, attention pooling, a Hugging Face text tower…) is left to open_clip.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.embedding import bf16
from desktop_app.core.embedding.clip_tokenizer import ClipTokenizer, clip_tokenizer
from desktop_app.core.embedding.text_encoder import TextTowerShape
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.models import OPENAI_MEAN, OPENAI_STD, ModelSpec

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

# The keys of an open_clip configuration that the plain architecture has, with the values it
# needs where a key may also ask for something else (None: any value).
_TOP_KEYS = {"embed_dim": None, "vision_cfg": None, "text_cfg": None, "quick_gelu": None}
_VISION_KEYS = {
    "image_size": None,
    "layers": None,
    "width": None,
    "patch_size": None,
    "head_width": None,
    "mlp_ratio": 4.0,
}
_TEXT_KEYS = {
    "context_length": None,
    "vocab_size": 49408,  # CLIP's BPE vocabulary: the tokenizer here is that one
    "width": None,
    "heads": None,
    "layers": None,
    "mlp_ratio": 4.0,
}


@dataclass(frozen=True)
class ClipShape:
    """What building a plain CLIP needs besides its weights."""

    embed_dim: int
    image_size: int
    patch_size: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    context_length: int
    text_width: int
    text_heads: int
    text_layers: int
    quick_gelu: bool

    def text_tower(self) -> TextTowerShape:
        """The text tower's shape, as the torch-free text encoder needs it."""
        return TextTowerShape(
            layers=self.text_layers,
            heads=self.text_heads,
            context_length=self.context_length,
            quick_gelu=self.quick_gelu,
        )


def _matches(cfg: dict[str, Any], allowed: dict[str, Any]) -> bool:
    return all(
        key in allowed and (allowed[key] is None or value == allowed[key])
        for key, value in cfg.items()
    )


def open_clip_config_path(architecture: str) -> Path | None:
    """open_clip's own configuration file for ``architecture``, found without importing it."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model_configs"
    path = path / f"{architecture}.json"
    return path if path.is_file() else None


def native_shape(spec: ModelSpec) -> ClipShape | None:
    """The shape of ``spec``'s model when Lumen builds it itself (plain CLIP; its weights known
    by name, or shipped with Lumen), else None: open_clip builds it."""
    if spec.config_file is not None:
        return plain_clip_shape(spec.config_file, spec.quick_gelu)
    if spec.hf_hub is None:
        return None  # (an architecture/tag pair Lumen does not list: open_clip knows it)
    return plain_clip_shape(open_clip_config_path(spec.architecture), spec.quick_gelu)


def plain_clip_shape(config_file: Path | None, quick_gelu: bool) -> ClipShape | None:
    """The shape of the model that ``config_file`` (an open_clip configuration) describes, when
    it is the plain CLIP architecture; None for anything else, or a file that cannot be read."""
    if config_file is None:
        return None
    try:
        cfg = json.loads(config_file.read_text(encoding="utf-8"))
        vision, text = cfg["vision_cfg"], cfg["text_cfg"]
        if not (
            _matches(cfg, _TOP_KEYS)
            and _matches(vision, _VISION_KEYS)
            and _matches(text, _TEXT_KEYS)
        ):
            return None
        head_width = int(vision.get("head_width", 64))
        width = int(vision["width"])
        if isinstance(vision["image_size"], list) or isinstance(vision["patch_size"], list):
            return None  # (non-square pictures are open_clip's)
        return ClipShape(
            embed_dim=int(cfg["embed_dim"]),
            image_size=int(vision["image_size"]),
            patch_size=int(vision["patch_size"]),
            vision_width=width,
            vision_layers=int(vision["layers"]),
            vision_heads=width // head_width,
            context_length=int(text.get("context_length", 77)),
            text_width=int(text.get("width", 512)),
            text_heads=int(text.get("heads", 8)),
            text_layers=int(text.get("layers", 12)),
            quick_gelu=bool(cfg.get("quick_gelu", False)) or quick_gelu,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("No plain CLIP shape in %s: %s", config_file, exc)
        return None


# -- the modules ----------------------------------------------------------------------------


def _layers() -> tuple[Any, Any]:
    """The classes both towers are made of: a token embedding and a transformer."""
    import torch
    from torch import nn

    class QuickGELU(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.sigmoid(1.702 * x)

    class Embedding(nn.Module):
        # nn.Embedding initialises its weight with normal_, which on the meta device goes
        # through torch's compiler stack (an import of torch._dynamo and triton: 1 s, 100 MB).
        def __init__(self, count: int, width: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.empty(count, width))

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return nn.functional.embedding(ids, self.weight)

    class Block(nn.Module):
        def __init__(self, width: int, heads: int, quick_gelu: bool) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(
                OrderedDict(
                    c_fc=nn.Linear(width, width * 4),
                    gelu=QuickGELU() if quick_gelu else nn.GELU(),
                    c_proj=nn.Linear(width * 4, width),
                )
            )
            self.compute: torch.dtype | None = None  # bfloat16: see ``bf16.adopt``

        def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
            if bf16.compute_dtype(self) is not None:
                return bf16.block_forward(self, x, attn_mask)
            h = self.ln_1(x)
            x = x + self.attn(h, h, h, need_weights=False, attn_mask=attn_mask)[0]
            out: torch.Tensor = x + self.mlp(self.ln_2(x))
            return out

    class Transformer(nn.Module):
        def __init__(self, width: int, layers: int, heads: int, quick_gelu: bool) -> None:
            super().__init__()
            self.resblocks = nn.ModuleList(Block(width, heads, quick_gelu) for _ in range(layers))

        def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
            for block in self.resblocks:
                x = block(x, attn_mask)
            return x

    return Embedding, Transformer


def _vision_tower(Transformer: Any) -> Any:
    """The image tower's class, made of ``Transformer`` layers."""
    import torch
    from torch import nn

    class Vision(nn.Module):
        def __init__(self, s: ClipShape) -> None:
            super().__init__()
            grid = s.image_size // s.patch_size
            self.image_size = s.image_size
            self.conv1 = nn.Conv2d(3, s.vision_width, s.patch_size, s.patch_size, bias=False)
            self.class_embedding = nn.Parameter(torch.empty(s.vision_width))
            self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, s.vision_width))
            self.ln_pre = nn.LayerNorm(s.vision_width)
            self.transformer = Transformer(
                s.vision_width, s.vision_layers, s.vision_heads, s.quick_gelu
            )
            self.ln_post = nn.LayerNorm(s.vision_width)
            self.proj = nn.Parameter(torch.empty(s.vision_width, s.embed_dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv1(x)
            x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
            cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
            x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
            x = self.transformer(self.ln_pre(x))
            pooled: torch.Tensor = self.ln_post(x[:, 0]) @ self.proj
            return pooled

    return Vision


def _modules() -> Any:
    """The model's class (defined on first use: importing torch is the caller's choice)."""
    import torch
    from torch import nn

    Embedding, Transformer = _layers()
    Vision = _vision_tower(Transformer)

    class Clip(nn.Module):
        """Both towers, under open_clip's parameter names."""

        def __init__(self, s: ClipShape) -> None:
            super().__init__()
            self.shape = s
            self.visual = Vision(s)
            self.context_length = s.context_length
            self.token_embedding = Embedding(49408, s.text_width)
            self.positional_embedding = nn.Parameter(torch.empty(s.context_length, s.text_width))
            self.transformer = Transformer(s.text_width, s.text_layers, s.text_heads, s.quick_gelu)
            self.ln_final = nn.LayerNorm(s.text_width)
            self.text_projection = nn.Parameter(torch.empty(s.text_width, s.embed_dim))
            self.logit_scale = nn.Parameter(torch.empty(()))

        def encode_image(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.visual(x)
            return out

        def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
            """Run only up to the batch's last end-of-text token: the causal tower's vector at
            that token cannot depend on what follows, so it is the same, for less work."""
            eot = tokens.argmax(dim=-1)  # the end-of-text token has the highest id
            length = int(eot.max().item()) + 1
            x = self.token_embedding(tokens[:, :length]) + self.positional_embedding[:length]
            mask = torch.full((length, length), float("-inf"), device=x.device).triu_(1)
            x = self.ln_final(self.transformer(x, mask.to(x.dtype)))
            pooled: torch.Tensor = x[torch.arange(x.shape[0], device=x.device), eot]
            return pooled @ self.text_projection

    return Clip


class Towers:
    """Assigns each tower's weights from the safetensors file (memory-mapped, so only the pages
    a tower uses become resident) when it is first needed, and lets the text tower's go again:
    indexing photos needs it only for the tag labels, and its 150 MB (ViT-B-32) would otherwise
    stay resident beside the image tower's for the whole run."""

    def __init__(self, model: Any, weights: Path, names: set[str]) -> None:
        self._model = model
        self._weights = weights
        self._names = names
        self._lock = threading.Lock()
        self._text_loaded = False
        self._text_users = 0
        # The towers that may try bfloat16 products once loaded (``bf16.adopt``; each once).
        self.bf16_candidates: set[bool] = set()  # visual: True, text: False

    def _assign(self, visual: bool) -> None:
        from safetensors import safe_open

        with safe_open(str(self._weights), framework="pt", device="cpu") as f:
            # A file saved in half precision is widened, as open_clip's loader does.
            tensors = {
                k: f.get_tensor(k).float() for k in self._names if k.startswith("visual.") == visual
            }
        self._put(tensors)
        if visual in self.bf16_candidates:  # (the blocks keep their choice when reloaded)
            self.bf16_candidates.discard(visual)
            bf16.adopt(self._model, visual)

    @property
    def bf16_towers(self) -> set[bool]:
        """The towers whose blocks multiply in bfloat16 (visual: True, text: False)."""
        model = self._model
        towers = {True: model.visual.transformer, False: model.transformer}
        return {visual for visual, t in towers.items() if t.resblocks[0].compute is not None}

    def _put(self, tensors: dict[str, Any]) -> None:
        # Parameter by parameter, not load_state_dict: that would visit the other tower too,
        # whose int8 layers (quantised in place) cannot be loaded from float tensors.
        import torch

        for name, tensor in tensors.items():
            owner, _, leaf = name.rpartition(".")
            module = self._model.get_submodule(owner)
            setattr(module, leaf, torch.nn.Parameter(tensor, requires_grad=False))

    def load_image(self) -> None:
        with self._lock:
            self._assign(visual=True)

    @contextmanager
    def text(self) -> Iterator[None]:
        """Hold while encoding texts: the text tower is loaded, and stays while held."""
        with self._lock:
            if not self._text_loaded:
                try:
                    self._assign(visual=False)
                except Exception as exc:  # the file went away or changed since it was loaded
                    raise ModelUnavailableError(
                        f"The text tower could not be read again from {self._weights}: "
                        f"{type(exc).__name__}: {exc}. Restart Lumen to load the model anew."
                    ) from exc
                self._text_loaded = True
            self._text_users += 1
        try:
            yield
        finally:
            with self._lock:
                self._text_users -= 1

    def release_text(self) -> None:
        """Drop the text tower's weights (they are read again from the file when next needed);
        while another thread encodes texts, they stay."""
        import torch

        with self._lock:
            if self._text_loaded and not self._text_users:
                self._put(
                    {
                        k: torch.empty(self._model.get_parameter(k).shape, device="meta")
                        for k in self._names
                        if not k.startswith("visual.")
                    }
                )
                self._text_loaded = False


def build_clip(shape: ClipShape, weights: Path) -> tuple[Any, Towers] | None:
    """The model, its weights not loaded yet (never initialised randomly either), and what
    loads them from ``weights`` (a safetensors file) tower by tower. None when the file holds
    other tensors than this model's; ValueError when they have other shapes."""
    import torch
    from safetensors import safe_open

    with torch.device("meta"):
        model = _modules()(shape)
    expected = {name: p.shape for name, p in model.state_dict().items()}
    with safe_open(str(weights), framework="pt", device="cpu") as f:
        names = set(f.keys())
        if names - {"logit_bias"} != set(expected):
            return None
        for name, wanted in expected.items():
            found = tuple(f.get_slice(name).get_shape())
            if found != tuple(wanted):
                raise ValueError(f"{name} has shape {found}; this model's is {tuple(wanted)}")
    model.eval()
    return model, Towers(model, weights, set(expected))


# -- preprocessing and tokens ---------------------------------------------------------------


class ClipPreprocess:
    """open_clip's evaluation transform for "shortest" resizing: the short side to the model's
    size (bicubic, on the PIL image), the centre cut square, RGB, scaled and normalised."""

    def __init__(
        self,
        size: int,
        mean: Sequence[float] = OPENAI_MEAN,
        std: Sequence[float] = OPENAI_STD,
    ) -> None:
        self.size = size
        self._mean = np.asarray(mean, dtype=np.float32)
        self._std = np.asarray(std, dtype=np.float32)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.pixels(image))

    def pixels(self, image: Image.Image) -> np.ndarray:
        """The prepared picture as a (3, size, size) float32 array (no torch)."""
        from PIL import Image

        size = self.size
        width, height = image.size
        short, long = (width, height) if width <= height else (height, width)
        if short != size:  # (torchvision's rounding: the long side is truncated)
            new_long = int(size * long / short)
            new = (size, new_long) if width <= height else (new_long, size)
            image = image.resize(new, Image.Resampling.BICUBIC)
            width, height = new
        if width < size or height < size:  # a tiny long side: padded with black, as torchvision
            padded = Image.new(image.mode, (max(width, size), max(height, size)))
            padded.paste(
                image, ((max(width, size) - width) // 2, (max(height, size) - height) // 2)
            )
            image, (width, height) = padded, padded.size
        top = round((height - size) / 2.0)
        left = round((width - size) / 2.0)
        image = image.crop((left, top, left + size, top + size)).convert("RGB")
        pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
        pixels = (pixels - self._mean) / self._std
        return np.ascontiguousarray(pixels.transpose(2, 0, 1))


class ClipTokens:
    """CLIP's tokenizer with open_clip's tokenizer interface (``encode``, ``context_length``,
    called with texts for an (N, context_length) tensor of ids)."""

    def __init__(self, context_length: int) -> None:
        self.context_length = context_length

    @property
    def _tokenizer(self) -> ClipTokenizer:
        # built on first use (0.2-0.4 s): a run of photos whose tag vectors are on disk has
        # no text to tokenize
        return clip_tokenizer()

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text)

    def __call__(self, texts: str | Sequence[str]) -> torch.Tensor:
        import torch

        batch = [texts] if isinstance(texts, str) else list(texts)
        return torch.from_numpy(self._tokenizer(batch, self.context_length))
