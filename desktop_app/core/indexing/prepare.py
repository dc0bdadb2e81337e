"""One file read and prepared for the model, and the model's step for a batch of them.

Decoding threads call ``prepare_file`` (fingerprint, decode, preprocess, cut text to size); the
model thread calls ``model_step`` for a batch; ``embedded_files`` pairs the vectors with their
files, ready to store. The image tower gives way to queries between its steps
(``install_checkpoints``) on indexing's own threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import Extraction, Passage, extract
from desktop_app.core.fingerprint import fingerprint_file
from desktop_app.core.indexing.passages import PassageSplitter
from desktop_app.core.priority import QueryPriority
from desktop_app.core.records import EmbeddedFile, FileRecord, NewText, NewVector

if TYPE_CHECKING:
    from desktop_app.core.embedding.embedder import Embedder, Pixels
    from desktop_app.core.extractors.ocr import OcrEngine

__all__ = [
    "BatchVectors",
    "Cancelled",
    "PreparedFile",
    "embed_batch",
    "embedded_files",
    "install_checkpoints",
    "model_step",
    "prepare_file",
    "set_checkpoint_priority",
]

log = logging.getLogger(__name__)

IMAGE_BATCH = 64  # pictures per model step (a batch of videos holds many frames)
# Pictures per image-tower call: a call's activations are freed before the next. On the CPU a
# call of 64 ViT-B-32 pictures peaked 190-206 MB above its inputs, one of 32 at 72-85 MB (and
# 16 at 7-48 MB, but about a fifth slower). A GPU takes IMAGE_BATCH per call.
IMAGE_CALL = 32


@dataclass
class PreparedFile:
    """One file read and preprocessed, ready for the model (or why it could not be)."""

    record: FileRecord
    extraction: Extraction | None
    pixels: Pixels | None
    file_values: dict[str, Any]
    error: str | None = None
    vanished: bool = False
    chunks: list[Passage] = field(default_factory=list)  # passages cut to the text encoder's size
    frames: list[tuple[Pixels, int]] = field(default_factory=list)  # a video's, with ms
    deferred: int = 0  # vectors left for the second pass (see ``two_pass``)

    @property
    def units(self) -> int:
        """Vectors the model makes of this file now: its passages and pictures."""
        return len(self.chunks) + (self.pixels is not None) + len(self.frames)


# What the model made of a batch: its pictures and their vectors, its passages and theirs.
BatchVectors = tuple[
    list[tuple[PreparedFile, "Pixels", int | None]],
    np.ndarray,
    list[tuple[PreparedFile, Passage]],
    np.ndarray,
]

# The query gate of the thread running the model now (set on indexing's own threads only).
_checkpoints = threading.local()


class Cancelled(Exception):
    """Raised on the model's thread at its next step once the run is cancelled."""


def set_checkpoint_priority(priority: QueryPriority, cancel: threading.Event | None = None) -> None:
    """Make the calling thread (one of indexing's) give way to ``priority``'s queries inside
    the image tower, and stop at the model's next step once ``cancel`` is set."""
    _checkpoints.priority = priority
    _checkpoints.cancel = cancel


def _give_way_to_queries(*_args: object) -> None:
    priority: QueryPriority | None = getattr(_checkpoints, "priority", None)
    if priority is not None:
        priority.checkpoint()
    stop_if_cancelled()


def stop_if_cancelled(*_args: object) -> None:
    """Raise ``Cancelled`` on an indexing thread whose run is cancelled (elsewhere: nothing)."""
    cancel: threading.Event | None = getattr(_checkpoints, "cancel", None)
    if cancel is not None and cancel.is_set():
        raise Cancelled


def install_checkpoints(embedder: Embedder) -> None:
    """Give way to queries before each step of the image tower's blocks (attention, each
    MLP layer, the norms): a query waits at most for the step that is running.

    Only indexing's threads ever wait there: on any other thread (a query embedding a picture
    for "find similar") the hook returns at once. Installed once per model. Both towers' blocks
    also stop a cancelled run's batch (Ctrl-C stops within a block, not a batch of passages).
    """
    model = embedder.model
    if getattr(model, "_lumen_checkpoints", False):
        return
    blocks = getattr(getattr(getattr(model, "visual", None), "transformer", None), "resblocks", [])
    for block in blocks:
        # the block's parts, and inside them the innermost modules (the MLP's layers one by
        # one); int8 quantisation may swap those layers later, the parts stay
        steps = [block, *block.children()]
        steps += [m for m in block.modules() if not next(m.children(), None)]
        for step in steps:
            step.register_forward_pre_hook(_give_way_to_queries)
    for block in getattr(getattr(model, "transformer", None), "resblocks", []):
        for step in (block, *block.children()):  # attention, MLP: a few per block
            step.register_forward_pre_hook(stop_if_cancelled)
    model._lumen_checkpoints = True


def model_step(batch: list[PreparedFile], embedder: Embedder) -> BatchVectors:
    """The model's step for a batch (on the model thread): every picture's and passage's vector."""
    # Every picture to embed: a photo's or a document page's, and each frame of a video.
    pictures: list[tuple[PreparedFile, Pixels, int | None]] = []
    for item in batch:
        if item.pixels is not None:
            pictures.append((item, item.pixels, None))
        pictures += [(item, pixels, at_ms) for pixels, at_ms in item.frames]
    image_vectors = []
    step = IMAGE_CALL if embedder.device == "cpu" else IMAGE_BATCH
    for start in range(0, len(pictures), step):
        stop_if_cancelled()
        stack = embedder.stack_prepared([pixels for _, pixels, _ in pictures[start : start + step]])
        image_vectors.append(embedder.encode_prepared(stack))
    passages = [(item, passage) for item in batch for passage in item.chunks]
    stop_if_cancelled()  # the text tower's blocks stop a cancelled run too (install_checkpoints)
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    return (
        pictures,
        np.concatenate(image_vectors) if image_vectors else empty,
        passages,
        embedder.encode_passages([p.text for _, p in passages]) if passages else empty,
    )


def embedded_files(batch: Sequence[PreparedFile], vectors: BatchVectors) -> list[EmbeddedFile]:
    """Each file of a batch with its vectors and the text its keyword index holds."""
    pictures, picture_vectors, passages, passage_vectors = vectors
    vectors_of: dict[int, list[NewVector]] = {id(item): [] for item in batch}
    for (item, _, at_ms), vector in zip(pictures, picture_vectors, strict=True):
        vectors_of[id(item)].append(NewVector("image", vector, page=None, at_ms=at_ms))
    for (item, passage), vector in zip(passages, passage_vectors, strict=True):
        vectors_of[id(item)].append(NewVector("text", vector, passage.page, passage.text))
    return [
        EmbeddedFile(
            item.record.id,
            vectors_of[id(item)],
            # the text the keyword index holds for this file
            [
                NewText(p.text, p.page)
                for p in (item.extraction.passages if item.extraction else [])
            ],
            item.file_values,
        )
        for item in batch
    ]


def embed_batch(batch: Sequence[PreparedFile], embedder: Embedder) -> list[EmbeddedFile]:
    """The vectors (and keyword-index text) of a batch of prepared files, in order (a model
    switch stores them beside the old model's)."""
    return embedded_files(batch, model_step(list(batch), embedder))


def prepare_file(
    record: FileRecord,
    embedder: Embedder,
    splitter: PassageSplitter | None = None,
    ocr: OcrEngine | None = None,
) -> PreparedFile:
    """Worker-thread step: fingerprint, decode and preprocess one file, cut its text to size."""
    path = record.path
    try:
        st = path.stat()
        fingerprint = fingerprint_file(path)
        extraction = extract(path, embedder.image_size, ocr)
        pixels = embedder.prepare_image(extraction.image) if extraction.image is not None else None
        frames = [
            (embedder.prepare_image(f.image), round(f.at_s * 1000)) for f in extraction.frames
        ]
        chunks = splitter.split(extraction.passages) if splitter else extraction.passages
    except FileNotFoundError:
        return PreparedFile(record, None, None, {}, "file vanished", vanished=True)
    except PermissionError:
        return PreparedFile(record, None, None, {}, "permission denied")
    except ExtractionError as exc:
        if not path.exists():
            return PreparedFile(record, None, None, {}, "file vanished", vanished=True)
        return PreparedFile(record, None, None, {}, str(exc))
    except OSError as exc:
        return PreparedFile(record, None, None, {}, f"cannot read file: {exc.strerror or exc}")
    except Exception as exc:  # a bug in a decoder must not stop the run
        log.exception("Unexpected error while reading %s", path)
        return PreparedFile(
            record, None, None, {}, f"unexpected error: {type(exc).__name__}: {exc}"
        )
    if pixels is None and not frames and not extraction.passages:
        return PreparedFile(record, None, None, {}, "nothing to index (no image and no text)")
    values: dict[str, Any] = {
        "fingerprint": fingerprint,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "width": extraction.width,
        "height": extraction.height,
        "taken_at": extraction.taken_at,
        "camera": extraction.camera,
        "title": extraction.title,
        "page_count": extraction.page_count,
        "duration_s": extraction.duration_s,
    }
    # The pictures are prepared tensors now: the decoded copies need not wait for the model.
    extraction.image, extraction.frames = None, []
    return PreparedFile(record, extraction, pixels, values, chunks=chunks, frames=frames)
