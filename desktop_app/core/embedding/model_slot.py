"""Which model answers for a library: loading it, the torch-free text encoder, and a switch.

A library's vectors live in one vector space (a model and its weights). The slot loads the
settings' model on first use, answers text queries with the numpy text encoder when the library
has one (no torch), and while the settings name another model than the library was built with
(a switch under way) keeps the old model to answer queries in the old space.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.image_encoder import write_image_manifest
from desktop_app.core.embedding.numpy_embedder import SMALL_RUN, NumpyEmbedder, load_numpy_embedder
from desktop_app.core.embedding.text_encoder import (
    NumpyTextEncoder,
    load_numpy_text_encoder,
    write_manifest,
)
from desktop_app.core.embedding.weights import DownloadCallback
from desktop_app.core.errors import IndexMismatchError
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.models import ModelSpec, get_model_spec
from desktop_app.core.records import Progress
from desktop_app.core.storage.store import Store

if TYPE_CHECKING:  # OCR's engine loads only when indexing asks for it (not for a search)
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = ["EmbedderLoader", "ModelSlot", "QueryEncoder", "default_embedder_loader"]

log = logging.getLogger(__name__)

EmbedderLoader = Callable[[Settings], Embedder]
QueryEncoder = NumpyTextEncoder | Embedder
WARM_QUERIES = ("a photo", "kids on a beach at sunset", "receipt")


def default_embedder_loader(
    settings: Settings, on_download: DownloadCallback | None = None
) -> Embedder:
    """Load the model the settings name (download or cache or local file).

    ``on_download`` hears a download's progress (bind it with ``functools.partial``).
    """
    return load_embedder(
        settings.model,
        settings.weights,
        settings.model_cache_dir,
        settings.device,
        on_download,
        int8=settings.int8,
    )


class ModelSlot:
    """The model of one library (loaded on first use) and what encodes its queries."""

    def __init__(self, settings: Settings, store: Store, loader: EmbedderLoader) -> None:
        self.settings = settings
        self._store = store
        self._loader = loader
        self._lock = threading.Lock()
        self.loaded: Embedder | None = None
        self._fast_text: NumpyTextEncoder | None = None
        self._fast_text_tried = False
        self._old: Embedder | None = None  # the previous model, while switching
        self._light: NumpyEmbedder | None = None  # the model in numpy, for a small run
        self._light_tried = False
        self._ocr: OcrEngine | None = None
        self.switching: Progress | None = None  # how a switch to another model stands

    def embedder(self) -> Embedder:
        """The model, loaded on first use (raises ModelUnavailableError with advice)."""
        with self._lock:
            if self.loaded is None:
                self.loaded = self._loader(self.settings)
                self._note_text_encoder(self.loaded)
                self._light = None  # (its mapped image tower would stay resident beside)
            return self.loaded

    def embedder_for_run(self, files: int | None) -> Embedder:
        """The model for a run that embeds ``files`` files (None: unknown): for a few, the
        numpy one where this library has it (no torch to import), else ``embedder()``."""
        if files is not None and files <= SMALL_RUN and self.loaded is None:
            space = self._store.space
            with self._lock:
                if not self._light_tried:
                    self._light_tried = True
                    built_with = self.built_with()
                    self._light = load_numpy_embedder(
                        self.settings.data_dir,
                        built_with.model,
                        built_with.weights,
                        space,
                        self.embedder,  # (a long document's passages: batched in torch)
                    )
                light = self._light
            if light is not None and light.space == space and self._on_the_cpu():
                return light
        return self.embedder()

    def _on_the_cpu(self) -> bool:
        # (the manifests are written only for a model that loaded on the CPU; "auto" found no
        # GPU then)
        return self.settings.device.lower() in {"auto", "cpu"}

    def note_image_encoder(self, embedder: Embedder) -> None:
        """Let later small runs embed this model's pictures without torch (see image_encoder);
        loads the image tower to check it, the first time for a weights file."""
        if isinstance(embedder, NumpyEmbedder):
            return
        try:
            write_image_manifest(self.settings.data_dir, embedder)
        except Exception:  # an optimisation only: never a reason to fail a run
            log.exception("Could not check the numpy image tower")
        with self._lock:
            self._light, self._light_tried = None, False

    def _note_text_encoder(self, embedder: Embedder) -> None:
        """Let later processes encode this model's queries without torch (see text_encoder)."""
        if embedder.weights_path is None:
            return
        try:
            write_manifest(self.settings.data_dir, embedder, embedder.weights_path)
        except Exception:  # an optimisation only: never a reason to fail loading the model
            log.exception("Could not check the numpy text encoder")
        embedder.release_text_tower()  # (queries take the numpy path; batches load it again)
        self._fast_text = None
        self._fast_text_tried = False

    @property
    def queries_ready(self) -> bool:
        """Whether a text query can be answered by meaning without waiting for a model load."""
        return self.loaded is not None or (
            self._fast_text is not None and self._fast_text.space == self._store.space
        )

    def warm_queries(self) -> str:
        """Make text queries quick (see ``query_encoder``): runs a few through it; the model key."""
        encoder = self.query_encoder()
        if isinstance(encoder, NumpyTextEncoder):
            encoder.prepare_for_typing()  # (float16 weights where the manifest allows them)
        for text in WARM_QUERIES:
            encoder.encode_text(text)
        return encoder.spec.key if isinstance(encoder, Embedder) else self.settings.model

    def query_encoder(self) -> QueryEncoder:
        """What encodes a query: the numpy text tower when this library has one (no torch, no
        waiting for the image tower), else the model. While a switch to another model runs,
        the model the library was built with (its index is the one that answers)."""
        space = self._store.space
        with self._lock:
            if not self._fast_text_tried:
                self._fast_text_tried = True
                built_with = self.built_with()
                self._fast_text = load_numpy_text_encoder(
                    self.settings.data_dir, built_with.model, built_with.weights, space
                )
            fast = self._fast_text
        if fast is not None and fast.space == space:
            return fast
        return self.space_embedder()

    def built_with(self) -> Settings:
        """The settings with the model and weights file the library's vectors were made with
        (the settings themselves unless they name another model, whose switch is pending)."""
        if not self.model_changed():
            return self.settings
        catalog = self._store.catalog
        model = catalog.get_meta("model") or self.settings.model
        weights = catalog.get_meta("weights")
        if weights is None:  # (a library from before this was recorded)
            return self.settings.replace(model=model)
        return self.settings.replace(model=model, weights=Path(weights) if weights else None)

    def space_embedder(self) -> Embedder:
        """The model of the library's vector space: the current one, or during a switch to
        another model the one the library was built with (loaded beside it)."""
        space = self._store.space
        embedder = self.loaded
        if embedder is None and not (space and self.model_changed()):
            embedder = self.embedder()  # (a search before the switch: only the old one loads)
        if embedder is not None and (embedder.space == space or not space):
            return embedder
        with self._lock:
            old = self._old
            if old is None or old.space != space:
                old = self._old = self._loader(self.built_with())
        return old

    def model_changed(self) -> bool:
        """Whether the settings name another model or weights file than the library was built with."""
        space = self._store.space
        if not space:
            return False
        if self.loaded is not None:
            return self.loaded.space != space
        if self.settings.model != self._store.catalog.get_meta("model"):
            return True
        weights = self.settings.weights
        return (
            weights is not None
            and weights.is_file()
            and fingerprint_file(weights)[:16] not in space
        )

    def switched(self) -> None:
        """The library adopted the loaded model's space: the old model and encoders go."""
        with self._lock:
            self._old = None
            self._fast_text, self._fast_text_tried = None, False
            self._light, self._light_tried = None, False

    def check_space(self, encoder: QueryEncoder) -> None:
        """Raise ``IndexMismatchError`` when ``encoder`` is not of the library's vector space."""
        if encoder.space != self._store.space:
            key = encoder.spec.key if isinstance(encoder, Embedder) else self.settings.model
            raise IndexMismatchError(
                "This library was indexed with another model "
                f"({self._store.catalog.get_meta('model')}); the current model is {key}. "
                "Run `lumen index` to re-index with it."
            )

    def spec(self) -> ModelSpec:
        """The model of the library (the loaded one, else the one its catalog names)."""
        if self.loaded is not None:
            return self.loaded.spec
        return get_model_spec(self._store.catalog.get_meta("model") or self.settings.model)

    def ocr_engine(self) -> OcrEngine | None:
        """The OCR engine when ``settings.ocr`` is on (raises with install advice if missing)."""
        if not self.settings.ocr:
            return None
        with self._lock:
            if self._ocr is None:
                from desktop_app.core.extractors.ocr import load_ocr_engine

                self._ocr = load_ocr_engine()
            return self._ocr
