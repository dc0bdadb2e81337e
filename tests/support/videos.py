"""Write real video files for tests (PyAV): scenes of coloured shapes with known captions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from tests.support.shapes import Caption, render

# Codec for each container the tests write.
_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}


def write_shape_video(
    path: Path,
    scenes: Sequence[tuple[Caption, float]],
    size: tuple[int, int] = (160, 120),
    fps: int = 12,
    metadata: dict[str, str] | None = None,
    rotation: int = 0,
    hflip: bool = False,
    vflip: bool = False,
) -> Path:
    """A video showing each caption for its number of seconds, in order; keyframe every 0.5 s.

    The shape moves a little from frame to frame (a new seed every few frames), like a
    hand-held camera. ``rotation`` (degrees counter-clockwise) goes into the stream's display
    matrix, as phones record a clip filmed upright: the pictures stay as the sensor saw them;
    ``hflip``/``vflip`` add a mirror after the turn (some front cameras).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        stream = container.add_stream(_CODECS[path.suffix.lower()], rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = max(1, fps // 2)
        if rotation or hflip or vflip:
            stream.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        for index, (caption, seconds) in enumerate(scenes):
            for n in range(round(seconds * fps)):
                picture = render(caption, size, seed=index * 100 + n // 4)
                frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
