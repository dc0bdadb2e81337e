"""The model without torch: both towers in numpy, for an indexing run of a few files.

A run that embeds a handful of new photos would spend most of its time importing torch (about
2.5 s on 2 cores). Where the library's model was checked against its numpy towers (the text
encoder's and the image tower's manifests, written when torch last loaded the model on the
CPU), such a run embeds with them instead: the same vectors (cosine ≥ 0.9999), slower per
picture than torch, so a long run still loads torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.embedding.clip_native import ClipPreprocess, ClipTokens
from desktop_app.core.embedding.embedder import Embedder, Pixels
from desktop_app.core.embedding.image_encoder import NumpyImageTower, load_numpy_image_tower
from desktop_app.core.embedding.passage_encoder import PassageEncoder
from desktop_app.core.embedding.text_encoder import (
    NumpyTextEncoder,
    TextTowerShape,
    numpy_text_tower,
)
from desktop_app.core.models import ModelSpec, get_model_spec

if TYPE_CHECKING:
    from PIL import Image

# Files a run embeds at most with the numpy towers: beyond this, torch's faster image tower
# pays back its import (numpy ≈ 0.5 s a photo, torch ≈ 0.3 s plus 2.5-3 s to load; 2 cores).
SMALL_RUN = 8
# Texts the numpy text tower encodes at once at most (one by one, ≈ 0.15 s each on one core);
# more (a long document's passages) are the torch model's, batched (≈ 0.06 s each once loaded).
NUMPY_TEXTS = 24
# Pictures the numpy image tower embeds in a process at most (a few videos' frames can be many;
# a long-lived process that keeps indexing is better served by torch): the rest are torch's.
NUMPY_PICTURES = 16


class NumpyEmbedder(Embedder):
    """An ``Embedder`` whose towers are numpy's (see the module's docstring)."""

    def __init__(
        self,
        spec: ModelSpec,
        image: NumpyImageTower,
        text: tuple[Path, TextTowerShape],
        space: str,
        torch_model: Callable[[], Embedder] | None = None,
    ) -> None:
        """``text``: the weights file and shape of the text tower, loaded on first use (a run
        of photos needs it only when the tag labels' vectors are not on disk yet);
        ``torch_model``: the torch model (loaded on call), for more texts or pictures than the
        numpy towers are quick at (``NUMPY_TEXTS``, ``NUMPY_PICTURES``)."""
        # Not Embedder.__init__: that one needs torch.
        shape = image.shape
        self.weights_path = image.weights
        self._image_tower = None  # (memory-mapped: nothing to load)
        self._image_tower_lock = threading.Lock()
        self._towers = None
        self._can_truncate = False
        self.model = image
        self.preprocess = ClipPreprocess(shape.image_size, spec.mean, spec.std)
        self.tokenizer = ClipTokens(shape.context_length)
        self.spec = spec
        self.device = "cpu"
        self.space = space
        self.dim = shape.embed_dim
        self.image_size = shape.image_size
        self._text_files = text
        self._text: NumpyTextEncoder | None = None
        self._torch_model = torch_model
        self._pictures = 0  # embedded by the numpy tower so far
        self._passages = PassageEncoder(self.encode_texts, self.dim)

    def prepare_image(self, image: Image.Image) -> Pixels:
        """The model's own preprocessing, as a numpy array."""
        preprocess: ClipPreprocess = self.preprocess
        return preprocess.pixels(image)

    def stack_prepared(self, pictures: Sequence[Pixels]) -> Pixels:
        """Prepared pictures as one numpy batch."""
        return np.stack([np.asarray(p) for p in pictures])

    def encode_prepared(self, batch: Pixels) -> np.ndarray:
        """Encode a batch of prepared pictures (N, 3, H, W) into (N, dim) float32."""
        pixels = np.asarray(batch, dtype=np.float32)
        if self._torch_model is not None and self._pictures + len(pixels) > NUMPY_PICTURES:
            model = self._torch_model()
            if model.space == self.space:
                return model.encode_prepared(pixels)
        self._pictures += len(pixels)
        image: NumpyImageTower = self.model
        return image.encode(pixels)

    def encode_texts(self, texts: Sequence[str], truncate: bool = True) -> np.ndarray:
        """Encode texts into (N, dim) float32 L2-normalised vectors (one at a time)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._torch_model is not None and len(texts) > NUMPY_TEXTS:
            model = self._torch_model()
            if model.space == self.space:
                return model.encode_texts(texts, truncate)
        with self._image_tower_lock:
            if self._text is None:
                self._text = NumpyTextEncoder(*self._text_files, self.space)
            text = self._text
        return text.encode_texts(texts)


def load_numpy_embedder(
    data_dir: Path,
    model: str,
    weights: Path | None,
    space: str,
    torch_model: Callable[[], Embedder] | None = None,
) -> NumpyEmbedder | None:
    """The numpy model of a library whose text and image manifests both match its model and
    weights file (``space``: the library's vector space), else None. ``model``: the torch
    model, for more work than the numpy towers are quick at."""
    if not space:
        return None
    text = numpy_text_tower(data_dir, model, weights, space)
    image = load_numpy_image_tower(data_dir, model, weights, space) if text else None
    if text is None or image is None:
        return None
    return NumpyEmbedder(get_model_spec(model), image, text, space, torch_model)
