"""The video extractor on real files written with PyAV: frames per scene, times, limits, failures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import document_thumbnail, extract, kind_for_path
from desktop_app.core.extractors import video as video_module
from desktop_app.core.extractors.video import (
    MAX_FRAMES,
    extract_video,
    format_time,
    frame_strip,
    video_frame,
)
from tests.support.shapes import COLOURS, all_captions, caption_for_text
from tests.support.videos import write_shape_video

RED_LEFT = caption_for_text("a red circle on the left")
BLUE_RIGHT = caption_for_text("a blue square on the right")


def _mostly(image: Image.Image, colour: str) -> bool:
    """Whether ``colour`` is the most common strong colour of the picture."""
    pixels = np.asarray(image.convert("RGB").resize((32, 32))).reshape(-1, 3).tolist()
    counts = dict.fromkeys(COLOURS, 0)
    for pixel in pixels:

        def distance(name: str, pixel: list[int] = pixel) -> int:
            return sum(abs(a - c) for a, c in zip(pixel, COLOURS[name], strict=True))

        nearest = min(COLOURS, key=distance)
        if distance(nearest) < 90:
            counts[nearest] += 1
    return max(counts, key=lambda n: counts[n]) == colour


def test_video_extensions_are_indexed_as_videos() -> None:
    for name in ("clip.mp4", "IMG_0001.MOV", "a.mkv", "b.webm", "c.avi", "d.m4v", "e.3gp"):
        assert kind_for_path(Path(name)) == "video", name


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
def test_each_scene_gives_a_frame_with_its_time(tmp_path: Path, suffix: str) -> None:
    path = write_shape_video(tmp_path / f"party{suffix}", [(RED_LEFT, 4), (BLUE_RIGHT, 4)])
    extraction = extract(path)
    assert extraction.kind == "video"
    assert extraction.image is None
    assert (extraction.width, extraction.height) == (160, 120)
    assert extraction.duration_s == pytest.approx(8.0, abs=0.2)
    times = [f.at_s for f in extraction.frames]
    assert times == sorted(times) and 2 <= len(times) <= MAX_FRAMES
    first = [f for f in extraction.frames if f.at_s < 4]
    second = [f for f in extraction.frames if f.at_s >= 4]
    assert first and all(_mostly(f.image, "red") for f in first)
    assert second and all(_mostly(f.image, "blue") for f in second)


def test_many_scenes_are_capped_and_spread_over_the_whole_video(tmp_path: Path) -> None:
    scenes = [(caption, 1.0) for caption in all_captions()]  # 72 one-second scenes
    path = write_shape_video(tmp_path / "long.mp4", scenes, size=(96, 72), fps=4)
    frames = extract_video(path).frames
    assert len(frames) == MAX_FRAMES
    assert frames[0].at_s < 8 and frames[-1].at_s > 64


def test_recording_date_is_read_from_the_container(tmp_path: Path) -> None:
    path = write_shape_video(
        tmp_path / "dated.mp4",
        [(RED_LEFT, 1)],
        metadata={"creation_time": "2024-07-14T18:30:05.000000Z"},
    )
    when = extract_video(path).taken_at
    assert when is not None
    local = datetime.fromisoformat("2024-07-14T18:30:05+00:00").astimezone().replace(tzinfo=None)
    assert when == local


def test_decoding_stops_at_its_time_budget_and_keeps_what_it_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_shape_video(tmp_path / "slow.mp4", [(RED_LEFT, 4), (BLUE_RIGHT, 4)])
    monkeypatch.setattr(video_module, "DECODE_BUDGET_S", 0.0)
    frames = extract_video(path).frames
    assert len(frames) == 1  # the first keyframe looked at, and nothing after the deadline
    assert _mostly(frames[0].image, "red")


def test_thumbnail_and_frame_at_a_time(tmp_path: Path) -> None:
    path = write_shape_video(tmp_path / "party.mp4", [(RED_LEFT, 4), (BLUE_RIGHT, 4)])
    assert _mostly(video_frame(path, 6.0, 64), "blue")
    assert _mostly(video_frame(path, 1.0, 64), "red")
    thumbnail = document_thumbnail(path, 64)
    assert max(thumbnail.size) == 64
    assert format_time(75.4) == "1:15" and format_time(3725) == "1:02:05"


def test_the_preview_strip_spans_the_video(tmp_path: Path) -> None:
    path = write_shape_video(tmp_path / "party.mp4", [(RED_LEFT, 4), (BLUE_RIGHT, 4)])
    duration, strip = frame_strip(path, 8, 64)
    assert duration == pytest.approx(8.0, abs=0.2)
    assert len(strip) == 8 and [f.at_s for f in strip] == sorted(f.at_s for f in strip)
    assert all(max(f.image.size) == 64 for f in strip)
    assert [_mostly(f.image, "red") for f in strip] == [f.at_s < 4 for f in strip]
    assert strip[-1].at_s >= 6  # the end of the video is in it
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all " * 100)
    with pytest.raises(ExtractionError):
        frame_strip(broken, 8, 64)


def _red_centre(image: Image.Image) -> tuple[float, float]:
    """Where the red shape lies, as fractions of the picture's width and height."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    rows, columns = np.nonzero(red)
    assert rows.size, "no red shape in the picture"
    return float(columns.mean()) / image.width, float(rows.mean()) / image.height


# A phone writes the sensor's landscape pictures plus a turn in the stream's display matrix
# (degrees counter-clockwise), sometimes with a mirror. The red shape is where the person filming
# saw it once the turn is applied.
@pytest.mark.parametrize(
    ("caption", "rotation", "mirror", "shape", "where"),
    [
        ("a red circle on the left", 0, "", (160, 120), "left"),
        ("a red circle on the left", -90, "", (120, 160), "top"),  # an iPhone held upright
        ("a red circle on the left", 90, "", (120, 160), "bottom"),  # upside down in portrait
        ("a red circle on the left", 180, "", (160, 120), "right"),  # button on the left
        ("a red circle at the top", 0, "h", (160, 120), "top"),  # mirrored left to right
        ("a red circle at the top", 0, "v", (160, 120), "bottom"),  # mirrored top to bottom
        ("a red circle at the top", -90, "h", (120, 160), "left"),  # portrait, mirrored
    ],
)
def test_a_phone_clip_with_a_rotation_comes_out_as_filmed(
    tmp_path: Path, caption: str, rotation: int, mirror: str, shape: tuple[int, int], where: str
) -> None:
    path = write_shape_video(
        tmp_path / "portrait.mov",
        [(caption_for_text(caption), 2)],
        rotation=rotation,
        hflip=mirror == "h",
        vflip=mirror == "v",
    )
    extraction = extract(path)
    assert (extraction.width, extraction.height) == shape  # what the catalog and window show
    pictures = [f.image for f in extraction.frames]
    pictures += [video_frame(path, 1.0, 80), document_thumbnail(path, 80)]  # preview, grid
    for picture in pictures:
        assert (picture.width > picture.height) == (shape[0] > shape[1])
        x, y = _red_centre(picture)
        side = {"left": x < 0.4, "right": x > 0.6, "top": y < 0.4, "bottom": y > 0.6}
        assert side[where], (where, x, y)
        assert [name for name, true in side.items() if true] == [where]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "video"),
        (b"not a video at all " * 100, "video"),
    ],
)
def test_broken_videos_fail_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=reason):
        extract(path)


def test_truncated_video_keeps_the_frames_before_the_cut_or_fails_cleanly(tmp_path: Path) -> None:
    path = write_shape_video(tmp_path / "cut.mkv", [(RED_LEFT, 4), (BLUE_RIGHT, 4)])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    try:
        frames = extract(path).frames
    except ExtractionError:
        return
    assert frames and _mostly(frames[0].image, "red")


def test_sound_only_file_is_not_a_video(tmp_path: Path) -> None:
    import av

    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.zeros((1, 16000), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(ExtractionError, match="no video stream"):
        extract(path)


def _reason(path: Path) -> str:
    with pytest.raises(ExtractionError) as refused:
        extract(path)
    return str(refused.value)


@pytest.mark.parametrize("suffix", [".avi", ".mov"])
def test_a_motion_jpeg_video_is_indexed(tmp_path: Path, suffix: str) -> None:
    """Old cameras write MJPEG: every frame a keyframe."""
    from tests.support.world import write_mjpeg_video

    extraction = extract(write_mjpeg_video(tmp_path / f"clip{suffix}"))
    assert extraction.kind == "video" and extraction.frames


def test_a_trimmed_motion_jpeg_avi_keeps_the_frames_before_the_cut(tmp_path: Path) -> None:
    from tests.support.world import truncate, write_mjpeg_video

    path = truncate(write_mjpeg_video(tmp_path / "clip.avi", seconds=3.0), 0.6)
    assert extract(path).frames


def test_video_reasons_are_plain_words(tmp_path: Path) -> None:
    """Never an errno, a library's repr or the file's path."""
    from tests.support.world import truncate, write_mjpeg_video

    trimmed_mov = truncate(write_mjpeg_video(tmp_path / "trimmed.mov"), 0.5)
    cut_mkv = truncate(
        write_shape_video(
            tmp_path / "cut.mkv", [(caption_for_text("a red circle on the left"), 2.0)]
        ),
        0.05,
    )
    wmv = tmp_path / "fake.wmv"
    wmv.write_bytes(b"0&\xb2u\x8ef\xcf\x11" + bytes(200))  # an ASF header, then nothing
    for path in (trimmed_mov, cut_mkv, wmv):
        reason = _reason(path)
        assert "Errno" not in reason and str(tmp_path) not in reason, reason
        assert "Operation not permitted" not in reason, reason


class _Entry:
    def __init__(self, name: str, payload: bytes) -> None:
        self.type = type("Type", (), {"name": name})()
        self.payload = payload


class _Frame:
    def __init__(self, side_data: object) -> None:
        self.side_data = side_data


def test_a_frames_side_data_reads_the_same_from_either_pyav_form() -> None:
    matrix, other = _Entry("DISPLAYMATRIX", b"m"), _Entry("SEI_UNREGISTERED", b"s")
    # Up to PyAV 18.1.0 iterating the container gives the entries; from 18.1.1 it is a mapping
    # of type to entry, and iterating it gives the types.
    as_entries = _Frame([other, matrix])
    as_mapping = _Frame({other.type: other, matrix.type: matrix})
    for frame in (as_entries, as_mapping):
        assert video_module._side_data(frame) == [other, matrix]
    assert video_module._side_data(_Frame(None)) == []
