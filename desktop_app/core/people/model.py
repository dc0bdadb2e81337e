"""The face model: dlib's HOG detector, 5-point landmarks and ResNet descriptor, loaded lazily.

The model files come from the ``face-recognition-models`` package (public domain, by dlib's
author); the 68-point landmark model it also ships is trained on a data set that forbids
commercial use and is never loaded. dlib is imported only when faces are looked for, so a
missing install costs nothing until then and says so in one plain line.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.config import default_model_cache_dir
from desktop_app.core.errors import LumenError

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DESCRIPTOR_DIM = 128
# Detection runs on a copy whose longest side is at most this (and a small picture is enlarged
# at most UPSCALE_MAX times): the HOG detector's window is 80 px, so faces smaller than 1/16
# of the picture's longest side are not looked for; its cost grows with the copy's pixels.
DETECT_SIDE = 1280
UPSCALE_MAX = 2.0
# Faces smaller than this in the original picture are skipped (too few pixels to recognise).
MIN_FACE_PX = 40
# The detector's score a face needs. Measured on the test photos: real faces scored 1.0-1.6,
# the one false detection (a badge on a space suit) 0.13 at most.
MIN_SCORE = 0.5
# Faces described per picture at most, the largest first, and seconds spent describing one
# picture's faces (at least one is always described): a crowd costs bounded time. A face
# costs about 0.4 s on a busy 2-core machine (benchmarks/bench_faces.py).
MAX_FACES = 24
DESCRIBE_BUDGET_S = 5.0
INSTALL_HINT = "pip install dlib-bin face-recognition-models"


class FaceModelMissingError(LumenError):
    """dlib or the face model files are not installed."""


class FaceModelError(LumenError):
    """A face model file could not be read (corrupt or truncated)."""


@dataclass(frozen=True)
class Box:
    """A face's place in the upright picture, in its own pixels."""

    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class DetectedFace:
    """One face: where it is, how sure the detector was, and its 128-d descriptor."""

    box: Box
    score: float
    descriptor: np.ndarray  # float32, (128,): faces of one person lie within ~0.6 of each other


def models_folder() -> Path:
    """Where ``face-recognition-models`` keeps its files (the package is not imported: its
    ``__init__`` needs ``pkg_resources``, which recent setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelMissingError(
            f"Face recognition is not installed (no face model found); run: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def face_model_problem() -> str | None:
    """Why faces cannot be looked for (dlib or a model file missing), or None; imports nothing."""
    try:
        if importlib.util.find_spec("dlib") is None:
            raise FaceModelMissingError(
                f"Face recognition is not installed (dlib is missing); run: {INSTALL_HINT}"
            )
        folder = models_folder()
    except (FaceModelMissingError, ImportError, ValueError) as exc:
        return str(exc)
    for name in (LANDMARKS_FILE, DESCRIPTOR_FILE):
        if not (folder / name).is_file():
            return f"The face model file {folder / name} is missing; reinstall it: {INSTALL_HINT}"
    return None


def _dlib() -> Any:
    try:
        return importlib.import_module("dlib")
    except ImportError as exc:
        raise FaceModelMissingError(
            f"Face recognition is not installed (dlib is missing); run: {INSTALL_HINT}"
        ) from exc


class FaceModel:
    """Finds faces in a picture and describes each one; built by ``load_face_model``."""

    def __init__(self, detector: Any, parts: Callable[[], tuple[Any, Any]], dlib: Any) -> None:
        self._detector = detector
        # The landmark and descriptor models (~0.25 s to read) load with the first face found:
        # a run of photos without people, a one-photo index most often, never reads them.
        self._read_parts = parts
        self._parts: tuple[Any, Any] | None = None
        self._parts_lock = threading.Lock()
        self._dlib = dlib

    def _landmarks_and_describer(self) -> tuple[Any, Any]:
        with self._parts_lock:
            if self._parts is None:
                self._parts = self._read_parts()
            return self._parts

    def faces(self, image: Image.Image) -> list[DetectedFace]:
        """The faces of ``image`` (upright), largest first, at most ``MAX_FACES``."""
        width, height = image.size
        if min(width, height) < MIN_FACE_PX:
            return []
        scale = min(DETECT_SIDE / max(width, height), UPSCALE_MAX)
        copy = image.convert("RGB")
        if abs(scale - 1.0) > 0.01:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            copy = copy.resize(size, _bilinear())
        else:
            scale = 1.0
        pixels = np.ascontiguousarray(np.asarray(copy, dtype=np.uint8))
        rects, scores, _kinds = self._detector.run(pixels, 0, 0.0)
        found = [
            (rect, float(score))
            for rect, score in zip(rects, scores, strict=True)
            if score >= MIN_SCORE and min(rect.width(), rect.height()) / scale >= MIN_FACE_PX
        ]
        if not found:
            return []
        found.sort(key=lambda item: -item[0].area())
        landmarks, describer = self._landmarks_and_describer()
        faces: list[DetectedFace] = []
        deadline = time.monotonic() + DESCRIBE_BUDGET_S
        for rect, score in found[:MAX_FACES]:
            if faces and time.monotonic() > deadline:
                break
            shape = landmarks(pixels, rect)
            descriptor = np.asarray(
                describer.compute_face_descriptor(pixels, shape), dtype=np.float32
            )
            faces.append(DetectedFace(_box(rect, scale, width, height), score, descriptor))
        return faces


def _bilinear() -> Image.Resampling:
    from PIL import Image  # (a search imports this module and looks at no picture)

    return Image.Resampling.BILINEAR


def _box(rect: Any, scale: float, width: int, height: int) -> Box:
    """``rect`` (on the detection copy) in the original picture's pixels, clipped to it."""
    left = max(0, round(rect.left() / scale))
    top = max(0, round(rect.top() / scale))
    right = min(width, round((rect.right() + 1) / scale))
    bottom = min(height, round((rect.bottom() + 1) / scale))
    return Box(left, top, max(1, right - left), max(1, bottom - top))


def load_face_model(folder: Path | None = None, detector_cache: Path | None = None) -> FaceModel:
    """The face model from ``folder`` (default: the installed ``face-recognition-models``);
    its detector kept ready in ``detector_cache`` (default: Lumen's model cache).

    Raises ``FaceModelMissingError`` when dlib or a model file is not there; a model file
    that cannot be read raises ``FaceModelError`` naming it when the first face is described.
    """
    dlib = _dlib()
    folder = models_folder() if folder is None else folder
    for name in (LANDMARKS_FILE, DESCRIPTOR_FILE):
        if not (folder / name).is_file():
            raise FaceModelMissingError(
                f"The face model file {folder / name} is missing; reinstall it: {INSTALL_HINT}"
            )
    cache = default_model_cache_dir() if detector_cache is None else detector_cache
    parts = functools.partial(_read_parts, dlib, folder)
    return FaceModel(frontal_detector(dlib, cache), parts, dlib)


def _read_parts(dlib: Any, folder: Path) -> tuple[Any, Any]:
    """The landmark and descriptor models (``FaceModelError`` naming a file that cannot be read)."""
    loaded = []
    for name, build in (
        (LANDMARKS_FILE, dlib.shape_predictor),
        (DESCRIPTOR_FILE, dlib.face_recognition_model_v1),
    ):
        path = folder / name
        try:
            loaded.append(build(str(path)))
        except (RuntimeError, OSError, ValueError) as exc:
            raise FaceModelError(
                f"The face model file {path} cannot be read (damaged or incomplete?); "
                f"reinstall it: pip install --force-reinstall face-recognition-models"
            ) from exc
    return loaded[0], loaded[1]


def frontal_detector(dlib: Any, cache_dir: Path) -> Any:
    """dlib's HOG face detector: built from the text dlib carries the first time (0.3-0.6 s
    of a run that indexes one photo), then read from the copy saved in ``cache_dir`` (1 ms).
    A copy that cannot be read is built and saved again."""
    path = cache_dir / f"dlib-{dlib.__version__}-frontal-face-detector.svm"
    if path.is_file():
        try:
            return dlib.fhog_object_detector(str(path))
        except Exception as exc:  # (dlib says RuntimeError; a damaged file is rebuilt anyway)
            log.info("Rebuilding the face detector's copy %s: %s", path, exc)
    detector = dlib.get_frontal_face_detector()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        detector.save(str(tmp))
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # a cache only: the next run builds it again
        log.info("Could not keep a copy of the face detector in %s: %s", cache_dir, exc)
        tmp.unlink(missing_ok=True)
    return detector
