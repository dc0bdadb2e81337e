"""Video extractor (PyAV, the FFmpeg libraries in its wheel): a few keyframes per video, with times.

Only keyframes are decoded (the decoder skips every other frame), at most ``MAX_CANDIDATES`` of
them spread evenly over the video, within ``DECODE_BUDGET_S`` seconds of wall-clock time; of
those, one frame per scene is kept, at most ``MAX_FRAMES``. A four-hour 4K file therefore costs
about as much as a short clip: a few dozen keyframe decodes.
"""

from __future__ import annotations

import logging
import math
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.base import Extraction, VideoFrame
from desktop_app.core.extractors.exif import camera_name
from desktop_app.core.extractors.files import readable_file
from desktop_app.core.extractors.limits import check_time
from desktop_app.core.extractors.reasons import decoder_failure
from desktop_app.core.extractors.suffixes import VIDEO_EXTENSIONS

__all__ = [
    "DECODE_BUDGET_S",
    "MAX_CANDIDATES",
    "MAX_FRAMES",
    "VIDEO_EXTENSIONS",
    "extract_video",
    "format_time",
    "frame_strip",
    "video_frame",
    "video_limits",
]

log = logging.getLogger(__name__)


# Vectors kept per video at most (one per scene). Chosen by measurement
# (benchmarks/bench_video.py): each kept frame costs one image embedding, and beyond this
# a phone clip's frames repeat each other while the index grows.
MAX_FRAMES = 16
# Keyframes looked at per video at most, spread evenly, and at least (for short clips).
MAX_CANDIDATES = 48
MIN_CANDIDATES = 8
# One keyframe looked at every this many seconds, between the two bounds above.
SECONDS_PER_CANDIDATE = 2.0
# Wall-clock seconds of demuxing and decoding per video: past this, the frames found so far
# are kept and the rest of the video is not looked at.
DECODE_BUDGET_S = 20.0
# Streams larger than this are refused before decoding (8K is 33 megapixels).
MAX_FRAME_PIXELS = 80_000_000
# Two sampled frames whose 16×16 grey versions differ by less than this (mean absolute
# difference, 0-255) show the same scene; only one of them is kept.
SAME_SCENE = 10.0

_EMBED_HEADROOM = 1.15
_SIGNATURE = 16


@dataclass(frozen=True)
class _Sample:
    at_s: float
    image: Image.Image
    signature: np.ndarray


def video_limits() -> str:
    """One line saying how much of each video is indexed (for ``lumen status``)."""
    return (
        f"up to {MAX_FRAMES} frames per video (one per scene among at most {MAX_CANDIDATES} "
        f"keyframes), at most {DECODE_BUDGET_S:g} s of decoding per video"
    )


def _opening_failure(exc: Exception) -> ExtractionError:
    """Why FFmpeg could not open a file: cut short, damaged, or not a video it knows."""
    import av

    if isinstance(exc, av.error.EOFError):
        return ExtractionError("truncated video (the file ends before its data does)")
    if isinstance(exc, av.error.InvalidDataError):
        return ExtractionError("not a video, or damaged beyond its header")
    if isinstance(exc, (av.error.DecoderNotFoundError, av.error.PatchWelcomeError)):
        return ExtractionError("a video format or codec Lumen cannot read")
    return decoder_failure(exc, "video")


@contextmanager
def _opened(path: Path) -> Iterator[tuple[Any, Any]]:
    """The container and its first video stream; failures become ``ExtractionError``."""
    import av

    readable_file(path)
    try:
        container = av.open(str(path), metadata_errors="replace")
    except av.FFmpegError as exc:
        raise _opening_failure(exc) from exc
    try:
        if not container.streams.video:
            raise ExtractionError("no video stream (sound only?)")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_FRAME_PIXELS:
            raise ExtractionError(
                f"video frames are too large ({width}×{height}, limit "
                f"{MAX_FRAME_PIXELS / 1e6:g} megapixels)"
            )
        if width * height == 0:
            raise ExtractionError("damaged video (its frame size is missing)")
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "NONKEY"  # keyframes only: a fraction of the cost
        yield container, stream
    except ExtractionError:
        raise
    except av.FFmpegError as exc:
        log.debug("decoding %s failed", path, exc_info=True)
        raise decoder_failure(exc, "video") from exc
    except MemoryError as exc:
        raise ExtractionError("not enough memory to decode this video") from exc
    finally:
        container.close()


def _duration_s(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
        if seconds > 0:
            return seconds
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return None


# The display matrix's 2×2 part (its signs: a, b, c, d as FFmpeg stores them, x' = a·x + c·y,
# y' = b·x + d·y with y down) as the turn or mirror that shows the picture as filmed.
_MATRIX_TURNS = {
    (-1, 0, 0, 1): Image.Transpose.FLIP_LEFT_RIGHT,
    (1, 0, 0, -1): Image.Transpose.FLIP_TOP_BOTTOM,
    (-1, 0, 0, -1): Image.Transpose.ROTATE_180,
    (0, -1, 1, 0): Image.Transpose.ROTATE_90,  # counter-clockwise
    (0, 1, -1, 0): Image.Transpose.ROTATE_270,  # clockwise: a phone held upright
    (0, 1, 1, 0): Image.Transpose.TRANSPOSE,
    (0, -1, -1, 0): Image.Transpose.TRANSVERSE,
}
_ROTATION_TURNS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def _side_data(frame: Any) -> list[Any]:
    """A frame's side data entries: iterating ``frame.side_data`` gives the entries up to PyAV
    18.1.0 and their types from 18.1.1 on (a mapping of type to entry; 18.1.0's ``values()``
    fails)."""
    side = getattr(frame, "side_data", None)
    if side is None:
        return []
    return [item if hasattr(item, "type") else side[item] for item in side]


def _display_turn(frame: Any) -> Image.Transpose | None:
    """How the frame must turn (or mirror) to show as recorded: from the display matrix phones
    write, which says both the turn and a mirror (``frame.rotation`` reads a mirror as a turn).
    """
    for data in _side_data(frame):
        if getattr(data.type, "name", "") != "DISPLAYMATRIX":
            continue
        raw = bytes(data)
        if len(raw) < 36:
            break
        values = struct.unpack("=9i", raw[:36])
        a, b, c, d = (int(np.sign(round(values[i] / 65536))) for i in (0, 1, 3, 4))  # 16.16
        return _MATRIX_TURNS.get((a, b, c, d))  # None: upright, or not a multiple of 90°
    return _ROTATION_TURNS.get(int(getattr(frame, "rotation", 0) or 0) % 360)


def _upright(image: Image.Image, turn: Image.Transpose | None) -> Image.Image:
    return image if turn is None else image.transpose(turn)


def _picture(frame: Any, shortest: int | None = None, longest: int | None = None) -> Image.Image:
    """The frame as an upright RGB picture, scaled down (never up) to the size asked for."""
    width, height = frame.width, frame.height
    scale = 1.0
    if shortest is not None:
        scale = min(1.0, shortest / max(1, min(width, height)))
    if longest is not None:
        scale = min(scale, longest / max(1, width, height))
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    image: Image.Image = frame.to_image(width=size[0], height=size[1])
    return _upright(image.convert("RGB"), _display_turn(frame))


def _signature(image: Image.Image) -> np.ndarray:
    small = image.convert("L").resize((_SIGNATURE, _SIGNATURE), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32)


def _first_frame(container: Any, stream: Any) -> Any | None:
    for frame in container.decode(stream):
        return frame
    return None


def _keyframe_at(container: Any, stream: Any, at_s: float) -> Any | None:
    """The keyframe at or before ``at_s`` seconds, or None where the file cannot seek there."""
    import av

    if stream.time_base is None:
        return None
    start = stream.start_time or 0
    try:
        container.seek(start + int(at_s / stream.time_base), stream=stream, backward=True)
        return _first_frame(container, stream)
    except av.FFmpegError:
        log.debug("seek to %.1f s failed", at_s, exc_info=True)
        return None


def _from_start(container: Any, stream: Any) -> Iterator[Any]:
    """Keyframes from the start (a file without a duration, or one that cannot seek)."""
    import av

    try:
        container.seek(0)
    except av.FFmpegError:
        log.debug("seek to the start failed", exc_info=True)
    try:
        yield from container.decode(stream)
    except av.FFmpegError:  # frames before a cut are kept
        log.debug("decoding stopped early", exc_info=True)


def _spread(container: Any, stream: Any, times: list[float], deadline: float) -> Iterator[Any]:
    """The keyframe at or before each of ``times``, each once, until ``deadline``."""
    seen: set[int] = set()
    for index, at in enumerate(times):
        if index and time.monotonic() > deadline:
            log.info("video decoding stopped at its time budget (%d keyframes)", len(seen))
            return
        check_time()
        frame = _keyframe_at(container, stream, at)
        if frame is None or frame.pts is None or frame.pts in seen:
            continue  # one keyframe for two times: taken once
        seen.add(frame.pts)
        yield frame


def _candidate_times(duration: float) -> list[float]:
    count = min(MAX_CANDIDATES, max(MIN_CANDIDATES, math.ceil(duration / SECONDS_PER_CANDIDATE)))
    return [duration * (i + 0.5) / count for i in range(count)]


def _samples(container: Any, stream: Any, shortest: int, deadline: float) -> list[_Sample]:
    """Keyframes spread over the video (the one at or before each sampled time), in time order."""
    duration = _duration_s(container, stream)
    samples: list[_Sample] = []
    if duration is not None:
        for frame in _spread(container, stream, _candidate_times(duration), deadline):
            image = _picture(frame, shortest=shortest)
            samples.append(_Sample(float(frame.time or 0.0), image, _signature(image)))
    if not samples:  # no duration, or a file that cannot seek: read keyframes from the start
        for frame in _from_start(container, stream):
            if len(samples) >= MAX_CANDIDATES or (samples and time.monotonic() > deadline):
                break
            image = _picture(frame, shortest=shortest)
            samples.append(_Sample(float(frame.time or 0.0), image, _signature(image)))
    samples.sort(key=lambda s: s.at_s)
    return samples


def _one_per_scene(samples: list[_Sample]) -> list[_Sample]:
    """The middle sample of each run of similar-looking samples; at most ``MAX_FRAMES``, spread."""
    scenes: list[list[_Sample]] = []
    for sample in samples:
        if scenes:
            last = scenes[-1][-1].signature
            if float(np.abs(sample.signature - last).mean()) < SAME_SCENE:
                scenes[-1].append(sample)
                continue
        scenes.append([sample])
    kept = [scene[len(scene) // 2] for scene in scenes]
    if len(kept) > MAX_FRAMES:
        step = len(kept) / MAX_FRAMES
        kept = [kept[int(i * step + step / 2)] for i in range(MAX_FRAMES)]
    return kept


def _metadata_text(tags: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        value = tags.get(key)
        if value and value.strip():
            return value.strip()
    return None


def _recorded_at(tags: dict[str, str]) -> datetime | None:
    """When the video was recorded, as local wall-clock time like EXIF dates (None: unknown).

    Apple's ``creationdate`` carries the offset of where it was recorded: its clock time is
    kept. ``creation_time`` is UTC: it is shown in this machine's time zone.
    """
    for key in ("com.apple.quicktime.creationdate", "creation_time", "date"):
        text = _metadata_text(tags, key)
        if text is None:
            continue
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.year < 1971:  # 1904-01-01 and 1970-01-01: cameras without a clock
            continue
        if when.tzinfo is not None and key != "com.apple.quicktime.creationdate":
            when = when.astimezone()
        return when.replace(tzinfo=None)
    return None


def extract_video(path: Path, image_size: int = 224) -> Extraction:
    """Reads a video for indexing: one frame per scene (with its time), size, date and camera.

    Raises ``ExtractionError`` with a short reason for anything that is not a readable video.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, not {image_size}")
    deadline = time.monotonic() + DECODE_BUDGET_S
    shortest = round(image_size * _EMBED_HEADROOM)
    with _opened(path) as (container, stream):
        samples = _samples(container, stream, shortest, deadline)
        if not samples:
            raise ExtractionError("no frame could be decoded")
        duration = _duration_s(container, stream)
        tags = {**dict(stream.metadata), **dict(container.metadata)}
        coded = (stream.codec_context.width, stream.codec_context.height)
        width, height = samples[0].image.size
        upright = coded if (width >= height) == (coded[0] >= coded[1]) else coded[::-1]
    kept = _one_per_scene(samples)
    return Extraction(
        kind="video",
        image=None,
        frames=[VideoFrame(s.image, s.at_s) for s in kept],
        width=upright[0],
        height=upright[1],
        taken_at=_recorded_at(tags),
        camera=camera_name(
            _metadata_text(tags, "com.apple.quicktime.make", "com.android.manufacturer", "make"),
            _metadata_text(tags, "com.apple.quicktime.model", "com.android.model", "model"),
        ),
        duration_s=duration if duration is not None else (kept[-1].at_s if kept else None),
    )


def video_frame(path: Path, at_s: float | None, max_side: int) -> Image.Image:
    """The keyframe at or before ``at_s`` (a tenth into the video when ``None``), upright RGB,
    longest side at most ``max_side``; for thumbnails and previews. Raises ``ExtractionError``.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, not {max_side}")
    with _opened(path) as (container, stream):
        if at_s is None:
            duration = _duration_s(container, stream)
            at_s = duration * 0.1 if duration else 0.0
        frame = _keyframe_at(container, stream, at_s)
        if frame is None:
            frame = next(_from_start(container, stream), None)
        if frame is None:
            raise ExtractionError("no frame could be decoded")
        return _picture(frame, longest=max_side)


def frame_strip(path: Path, count: int, max_side: int) -> tuple[float | None, list[VideoFrame]]:
    """The video's duration and ``count`` keyframes spread evenly over it (the preview's strip),
    each upright with its time, longest side at most ``max_side``. Raises ``ExtractionError``.

    Bounded like indexing: at most ``count`` keyframe decodes, stopped at ``DECODE_BUDGET_S``.
    """
    if count < 1 or max_side < 1:
        raise ValueError(f"count and max_side must be positive, not {count} and {max_side}")
    deadline = time.monotonic() + DECODE_BUDGET_S
    frames: list[VideoFrame] = []
    with _opened(path) as (container, stream):
        duration = _duration_s(container, stream)
        if duration is not None:
            times = [duration * i / count for i in range(count)]
            for frame in _spread(container, stream, times, deadline):
                frames.append(VideoFrame(_picture(frame, longest=max_side), float(frame.time or 0)))
        if not frames:
            frame = next(_from_start(container, stream), None)
            if frame is None:
                raise ExtractionError("no frame could be decoded")
            frames.append(VideoFrame(_picture(frame, longest=max_side), float(frame.time or 0)))
    return duration, frames


def format_time(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, as players show a position."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
