"""Optional OCR for scans and photos of paper: RapidOCR on ONNX Runtime, models in its wheel."""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any, Protocol

import numpy as np
from PIL import Image

from desktop_app.core.errors import LumenError

__all__ = [
    "OCR_MAX_SIDE",
    "OcrEngine",
    "OcrUnavailableError",
    "RapidOcrEngine",
    "load_ocr_engine",
    "ocr_available",
]

log = logging.getLogger(__name__)

# Pages and photos are scaled so their longest side is at most this before OCR: about 190 dpi
# for an A4 page, enough for body text; RapidOCR's detector works at 736 px on the short side.
OCR_MAX_SIDE = 2_000
# Lines recognised with less confidence than this are dropped (mostly noise on photos).
MIN_LINE_SCORE = 0.5

_PACKAGE = "rapidocr_onnxruntime"


class OcrUnavailableError(LumenError):
    """OCR was asked for but its optional package is not installed."""


class OcrEngine(Protocol):
    """Recognises the text in a picture, as lines in reading order."""

    def recognise(self, image: Image.Image) -> str: ...


def ocr_available() -> bool:
    """Whether the optional OCR package is installed (without importing it)."""
    return importlib.util.find_spec(_PACKAGE) is not None


class RapidOcrEngine:
    """RapidOCR (PP-OCRv4 detection + recognition, Chinese and English) on ONNX Runtime.

    The model is created on first use. Calls are serialised: ONNX Runtime already spreads one
    recognition over the cores, and a second one in parallel would only thrash them.
    """

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        try:
            module = importlib.import_module(_PACKAGE)
        except ImportError as exc:
            raise OcrUnavailableError(_advice()) from exc
        options: dict[str, Any] = {}
        if self._threads:
            options["intra_op_num_threads"] = self._threads
        return module.RapidOCR(**options)

    def recognise(self, image: Image.Image) -> str:
        """The text in ``image``, one recognised line per line, top to bottom."""
        picture = image.convert("RGB")
        if max(picture.size) > OCR_MAX_SIDE:
            picture.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE), Image.Resampling.LANCZOS)
        pixels = np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])  # RapidOCR wants BGR
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            result, _elapsed = self._engine(pixels)
        return _lines(result or [])


def _lines(result: list[Any]) -> str:
    """Recognised boxes grouped into lines (boxes whose vertical centres are close) and joined."""
    boxes = []
    for box, text, score in result:
        if float(score) < MIN_LINE_SCORE or not str(text).strip():
            continue
        ys = [point[1] for point in box]
        xs = [point[0] for point in box]
        boxes.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), str(text).strip()))
    boxes.sort()
    lines: list[list[tuple[float, str]]] = []
    last_centre, last_height = -1e9, 0.0
    for centre, height, left, text in boxes:
        if lines and abs(centre - last_centre) < 0.5 * max(height, last_height):
            lines[-1].append((left, text))
        else:
            lines.append([(left, text)])
            last_centre, last_height = centre, height
    return "\n".join(" ".join(text for _, text in sorted(line)) for line in lines)


def _advice() -> str:
    return (
        "Text recognition (OCR) needs the optional OCR package: install it with "
        "pip install 'lumen-search[ocr]', or turn OCR off in the settings."
    )


def load_ocr_engine(threads: int | None = None) -> OcrEngine:
    """The OCR engine; raises ``OcrUnavailableError`` with install advice when it is missing."""
    if not ocr_available():
        raise OcrUnavailableError(_advice())
    return RapidOcrEngine(threads)
