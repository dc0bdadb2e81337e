"""Optional OCR for scans and photos of paper: Tesseract when installed, else RapidOCR (ONNX).

Both ship their models with the package (Debian's ``tesseract-ocr`` + ``tesseract-ocr-eng``;
the ``rapidocr-onnxruntime`` wheel, installed by Lumen's ``[ocr]`` extra); nothing is downloaded
at run time. Tesseract is preferred: on printed Latin-script pages it was both faster and far
more accurate here (benchmarks/bench_documents.py) — RapidOCR's bundled PP-OCRv4 model is a
Chinese+English one that often drops the spaces between English words.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io
import logging
import os
import shutil
import subprocess
import threading
from typing import Any, Protocol

import numpy as np
from PIL import Image

from desktop_app.core.errors import ExtractionError, LumenError

__all__ = [
    "OCR_MAX_SIDE",
    "OcrEngine",
    "OcrUnavailableError",
    "RapidOcrEngine",
    "TesseractEngine",
    "load_ocr_engine",
    "ocr_available",
]

log = logging.getLogger(__name__)

# Pages and photos are scaled so their longest side is at most this before OCR: about 190 dpi
# for an A4 page, enough for body text.
OCR_MAX_SIDE = 2_000
# RapidOCR lines recognised with less confidence than this are dropped (mostly noise).
MIN_LINE_SCORE = 0.5
# One page that takes longer than this is given up (its text is left out, the file indexed).
TESSERACT_TIMEOUT_S = 120.0

_RAPIDOCR = "rapidocr_onnxruntime"


class OcrUnavailableError(LumenError):
    """OCR was asked for but no OCR engine is installed."""


class OcrEngine(Protocol):
    """Recognises the text in a picture, as lines in reading order.

    ``recognise`` raises ``ExtractionError`` when recognition itself fails.
    """

    name: str

    def recognise(self, image: Image.Image) -> str: ...


def _fitted(image: Image.Image) -> Image.Image:
    picture = image.convert("RGB")
    if max(picture.size) > OCR_MAX_SIDE:
        picture.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE), Image.Resampling.LANCZOS)
    return picture


class TesseractEngine:
    """The ``tesseract`` command (5.x or 4.x), fed a PNG on standard input.

    Each call runs single-threaded (``OMP_THREAD_LIMIT=1``): with OpenMP on, one page took
    8–18 s instead of 1.8 s on a busy 2-core machine (its threads spin while waiting for a
    core). Calls from several threads run in parallel, one page per core.
    """

    def __init__(self, command: str, languages: str = "eng") -> None:
        self.command = command
        self.languages = languages
        self.name = f"tesseract ({languages})"

    def recognise(self, image: Image.Image) -> str:
        """The text in ``image``, as Tesseract lays it out (automatic page segmentation)."""
        buffer = io.BytesIO()
        _fitted(image).convert("L").save(buffer, format="PNG")
        command = [self.command, "stdin", "stdout", "-l", self.languages, "--psm", "3"]
        try:
            done = subprocess.run(
                command,
                input=buffer.getvalue(),
                capture_output=True,
                timeout=TESSERACT_TIMEOUT_S,
                check=False,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(f"OCR gave up after {TESSERACT_TIMEOUT_S:.0f} s") from exc
        except OSError as exc:
            raise ExtractionError(f"cannot run tesseract: {exc.strerror or exc}") from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ExtractionError(f"OCR failed: {reason[-1] if reason else done.returncode}")
        return done.stdout.decode("utf-8", "replace")


class RapidOcrEngine:
    """RapidOCR (PP-OCRv4 detection + recognition, Chinese and English) on ONNX Runtime.

    The model is created on first use; calls are serialised (ONNX Runtime already uses the cores).
    """

    name = "rapidocr (PP-OCRv4 ch)"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def recognise(self, image: Image.Image) -> str:
        """The text in ``image``, one recognised line per line, top to bottom."""
        pixels = np.ascontiguousarray(np.asarray(_fitted(image))[:, :, ::-1])  # it wants BGR
        with self._lock:
            if self._engine is None:
                options = {"intra_op_num_threads": self._threads} if self._threads else {}
                self._engine = importlib.import_module(_RAPIDOCR).RapidOCR(**options)
            try:
                result, _elapsed = self._engine(pixels)
            except Exception as exc:  # onnxruntime and OpenCV raise their own types
                raise ExtractionError(f"OCR failed: {type(exc).__name__}: {exc}") from exc
        return _lines(result or [])


def _lines(result: list[Any]) -> str:
    """RapidOCR's boxes grouped into lines (boxes whose vertical centres are close) and joined."""
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


@functools.cache
def _tesseract_languages(command: str) -> tuple[str, ...]:
    try:
        listed = subprocess.run(
            [command, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(
        line.strip() for line in listed.splitlines()[1:] if line.strip() not in ("", "osd")
    )


def _tesseract() -> TesseractEngine | None:
    command = shutil.which("tesseract")
    if command is None:
        return None
    languages = _tesseract_languages(command)
    if not languages:
        log.warning("tesseract is installed without any language data; not using it")
        return None
    return TesseractEngine(command, "eng" if "eng" in languages else "+".join(languages[:3]))


def ocr_available() -> bool:
    """Whether an OCR engine is installed (Tesseract on PATH, or the RapidOCR package)."""
    return shutil.which("tesseract") is not None or importlib.util.find_spec(_RAPIDOCR) is not None


def load_ocr_engine(prefer: str | None = None) -> OcrEngine:
    """The best installed OCR engine (``prefer``: "tesseract" or "rapidocr" to choose one).

    Raises ``OcrUnavailableError`` with install advice when there is none.
    """
    if prefer in (None, "tesseract"):
        engine = _tesseract()
        if engine is not None:
            return engine
    if prefer in (None, "rapidocr") and importlib.util.find_spec(_RAPIDOCR) is not None:
        return RapidOcrEngine()
    raise OcrUnavailableError(
        "Text recognition (OCR) needs an OCR engine: install Tesseract (Debian/Ubuntu: "
        "apt install tesseract-ocr; macOS: brew install tesseract), or "
        "pip install 'lumen-search[ocr]'; or turn OCR off in the settings."
    )
