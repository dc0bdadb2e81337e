"""Tags on files: the model's automatic ones (a vocabulary of labels) and the user's own.

The labels' text vectors are encoded once per model and kept in the data dir; photos and
videos whose tags are missing or stale are tagged from their stored image vectors. Every write
goes through the library's writer (``commit``) and says which files' tags changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.embedding.model_slot import ModelSlot, QueryEncoder
from desktop_app.core.embedding.tags import (
    TagVocabulary,
    normalise_tag,
    prompts,
    threshold_for,
    vocabulary_labels,
    vocabulary_version,
)
from desktop_app.core.errors import LumenError
from desktop_app.core.records import FileChanges, FileRecord, Tag
from desktop_app.core.storage.store import Store

__all__ = ["Tagging"]

log = logging.getLogger(__name__)

T = TypeVar("T")
LABEL_BATCH = 64  # labels encoded at once


def _at_once(write: Callable[[], T]) -> T:
    return write()


class Tagging:
    """A library's tags: who has which, tagging what is not tagged yet, the user's edits."""

    def __init__(self, store: Store, models: ModelSlot, data_dir: Path) -> None:
        self._store = store
        self._models = models
        self._cache_dir = data_dir / "tag_vectors"
        self._vocabulary: TagVocabulary | None = None

    def vocabulary(self) -> TagVocabulary:
        """The tag labels' text vectors for this library's model (kept on disk once encoded)."""
        spec = self._models.spec()
        labels = vocabulary_labels(spec)
        version = vocabulary_version(spec, self._store.space, labels)
        if self._vocabulary is not None and self._vocabulary.version == version:
            return self._vocabulary
        cache = self._cache_dir / f"{version}.npy"
        try:
            vectors: np.ndarray | None = np.load(cache, allow_pickle=False)
        except (OSError, ValueError):
            vectors = None
        if vectors is None or vectors.shape[0] != len(labels):
            vectors = self._encode(prompts(spec, labels))
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, vectors, allow_pickle=False)
            except OSError as exc:
                log.warning("Could not keep the tag vectors in %s: %s", cache, exc)
        self._vocabulary = TagVocabulary(labels, vectors, threshold_for(spec), version)
        return self._vocabulary

    def forget_vocabulary(self) -> None:
        """The library's model changed: the labels are encoded again for the new one."""
        self._vocabulary = None

    def _encode(self, texts: list[str]) -> np.ndarray:
        """The labels' vectors. A loaded model encodes the few hundred labels in a few batches;
        the numpy query encoder takes them one at a time (≈ 10 s for ViT-B-32 on 2 cores)."""
        loaded = self._models.loaded
        encoder: QueryEncoder = (
            loaded
            if loaded is not None and loaded.space == self._store.space
            else self._models.query_encoder()
        )
        self._models.check_space(encoder)
        vectors = np.concatenate(
            [
                encoder.encode_texts(texts[i : i + LABEL_BATCH])
                for i in range(0, len(texts), LABEL_BATCH)
            ]
        ).astype(np.float32)
        if isinstance(encoder, Embedder):
            encoder.release_text_tower()
        return vectors

    def tag_pending(
        self, cancel: threading.Event | None = None, commit: Callable[..., object] = _at_once
    ) -> FileChanges:
        """Tag the photos and videos whose automatic tags are missing or stale."""
        space = self._store.space
        if not space:
            return FileChanges()
        try:
            vocabulary = self.vocabulary()
        except LumenError as exc:  # tags wait for the model; indexing itself went fine
            log.warning("Photos were not tagged: %s", exc)
            return FileChanges()
        catalog = self._store.catalog
        tagged: list[int] = []
        while not (cancel and cancel.is_set()):
            ids = catalog.files_to_tag(space, vocabulary.version)
            if not ids:
                break
            vectors = catalog.image_vectors(ids, space)
            tags = {f: vocabulary.tags(vectors[f]) if f in vectors else [] for f in ids}
            commit(lambda tags=tags: catalog.store_auto_tags(vocabulary.version, tags))
            tagged += ids
        if tagged:
            log.info("Tagged %d files", len(tagged))
        paths = [r.path for r in catalog.files_by_ids(tagged).values()] if tagged else []
        return FileChanges(tags=tuple(paths))

    def counts(self) -> list[tuple[str, int]]:
        """Every tag in use with how many files carry it, most used first."""
        return self._store.catalog.tag_counts()

    def of(self, record: FileRecord) -> list[Tag]:
        """A file's tags: the user's, then the automatic ones by score."""
        return self._store.catalog.tags_of([record.id]).get(record.id, [])

    def set(self, record: FileRecord, tag: str, present: bool) -> FileChanges:
        """Give a file a tag of the user's, or take one away (an automatic tag taken away stays
        away when the photo is tagged again). Run it on the writer."""
        name = normalise_tag(tag)
        if not name:
            raise LumenError("A tag needs at least one letter or digit")
        changed = self._store.catalog.set_user_tag(record.id, name, present)
        return FileChanges(tags=(record.path,)) if changed else FileChanges()
