"""Videos and RAW photos: keyframes per video minute, indexing cost per video minute, how many
frames per video a scene needs to be found, and RAW preview extraction against a full render.

Run: python3 benchmarks/bench_camera.py [--minutes 2] [--vitb32] [--only window]
Videos are written with PyAV (x264, 1 s between keyframes like phone cameras); the RAW file is a
24-megapixel DNG written with tifffile. ``--vitb32`` also times ViT-B-32 (random full-size
weights in the Hugging Face cache layout; speed is real, vectors are meaningless).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import numpy as np
from PIL import Image

from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.extractors import raw as raw_module
from desktop_app.core.extractors import video as video_module
from desktop_app.core.extractors.raw import extract_raw
from desktop_app.core.extractors.video import extract_video, frame_strip, video_frame
from tests.support.raw import write_dng
from tests.support.shapes import all_captions, render

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
SCENE_S = 5


def write_video(
    path: Path, seconds: int, size: tuple[int, int], fps: int, scene_s: int = SCENE_S
) -> list[int]:
    """A phone-like clip: a new captioned scene every ``scene_s`` seconds, moving a little.

    Returns the caption index shown in each scene.
    """
    captions = all_captions()
    scenes = [(i * 29) % len(captions) for i in range(seconds // scene_s + 1)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps  # a keyframe every second
        for scene_index, caption_index in enumerate(scenes[: seconds // scene_s]):
            base = np.asarray(render(captions[caption_index], size, seed=scene_index))
            for n in range(scene_s * fps):
                shifted = np.roll(base, n // 2, axis=1)  # a slow pan
                frame = av.VideoFrame.from_ndarray(shifted, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return scenes


def timed(function: Callable[[], object], runs: int = 3) -> float:
    """Median wall-clock seconds of ``function``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def embed_seconds_per_frame(embedder: Embedder, frames: int = 32) -> float:
    images = [Image.new("RGB", (344, 258), (i * 7 % 255, 90, 160)) for i in range(frames)]
    embedder.encode_images(images[:4])  # warm up
    return timed(lambda: embedder.encode_images(images), runs=2) / frames


def bench_video_cost(work: Path, minutes: float, embedders: dict[str, Embedder]) -> None:
    seconds = round(minutes * 60)
    path = work / "clip_1080p.mp4"
    started = time.perf_counter()
    write_video(path, seconds, (1920, 1080), 30)
    print(f"wrote a {seconds} s 1080p30 clip in {time.perf_counter() - started:.0f} s\n")
    extraction = extract_video(path)
    extract_s = timed(lambda: extract_video(path), runs=3)
    looked = len(video_module._candidate_times(seconds))
    kept = len(extraction.frames)
    per_minute = kept / (seconds / 60)
    print("| video | keyframes decoded | frames kept | kept per minute | extract time |")
    print("|---|---|---|---|---|")
    print(f"| 1080p30, {seconds} s | {looked} | {kept} | {per_minute:.1f} | {extract_s:.2f} s |")
    clip4k = work / "clip_4k.mp4"
    write_video(clip4k, 10, (3840, 2160), 30)
    extract_4k = timed(lambda: extract_video(clip4k), runs=3)
    per_keyframe = extract_4k / len(video_module._candidate_times(10))
    worst = min(video_module.DECODE_BUDGET_S, per_keyframe * video_module.MAX_CANDIDATES)
    print(
        f"| 4K30, 10 s | {len(video_module._candidate_times(10))} | "
        f"{len(extract_video(clip4k).frames)} | – | {extract_4k:.2f} s |"
    )
    print(
        f"\n4K: {per_keyframe * 1000:.0f} ms per keyframe looked at, so any 4K video, however "
        f"long, costs at most {video_module.MAX_CANDIDATES} × that = "
        f"{per_keyframe * video_module.MAX_CANDIDATES:.1f} s (budget cap "
        f"{video_module.DECODE_BUDGET_S:g} s): at most {worst:.1f} s of decoding.\n"
    )
    print("| model | embed per frame | indexing cost per video minute (1080p, decode + embed) |")
    print("|---|---|---|")
    for name, embedder in embedders.items():
        per_frame = embed_seconds_per_frame(embedder)
        cost = (extract_s + kept * per_frame) / (seconds / 60)
        print(f"| {name} | {per_frame * 1000:.1f} ms | {cost:.2f} s |")
    print()


def bench_frame_count(work: Path, tiny: Embedder) -> None:
    """How many of a video's scenes the tiny model finds at the right time, per MAX_FRAMES."""
    seconds = 120
    path = work / "scenes.mp4"
    scenes = write_video(path, seconds, (320, 240), 12)
    captions = all_captions()
    texts = tiny.encode_texts([captions[c].text for c in scenes[: seconds // SCENE_S]])
    print(f"Scenes found at the right time ({seconds // SCENE_S} scenes of {SCENE_S} s, tiny):")
    print("| MAX_FRAMES | frames kept | scenes found | vectors per video minute |")
    print("|---|---|---|---|")
    original = video_module.MAX_FRAMES
    try:
        for limit in (4, 8, 16, 32):
            video_module.MAX_FRAMES = limit
            frames = extract_video(path).frames
            vectors = tiny.encode_images([f.image for f in frames])
            best = (texts @ vectors.T).argmax(axis=1)
            found = sum(int(frames[b].at_s // SCENE_S) == i for i, b in enumerate(best.tolist()))
            print(
                f"| {limit} | {len(frames)} | {found}/{len(texts)} | "
                f"{len(frames) / (seconds / 60):.1f} |"
            )
    finally:
        video_module.MAX_FRAMES = original
    print()


def bench_raw(work: Path) -> None:
    sensor = render(all_captions()[0], (3000, 2000), seed=1)  # a 6000×4000 (24 MP) mosaic
    path = write_dng(work / "IMG_24MP.DNG", sensor, preview=sensor.resize((1620, 1080)))
    size_mb = path.stat().st_size / 1e6
    preview = timed(lambda: extract_raw(path))
    original = raw_module._preview
    raw_module._preview = lambda _raw, _min: None  # type: ignore[assignment]
    try:
        half = timed(lambda: extract_raw(path))
    finally:
        raw_module._preview = original

    def full_render() -> None:
        import rawpy

        with rawpy.imread(str(path)) as raw:
            raw.postprocess(use_camera_wb=True, output_bps=8)

    full = timed(full_render)
    print(f"RAW: a 24-megapixel DNG ({size_mb:.0f} MB, 1620×1080 preview), per file:")
    print("| path | time |")
    print("|---|---|")
    print(f"| embedded preview (what Lumen uses) | {preview * 1000:.0f} ms |")
    print(f"| half-size demosaic (fallback) | {half * 1000:.0f} ms |")
    print(f"| full-size demosaic (for comparison) | {full * 1000:.0f} ms |")


def bench_window(work: Path, minutes: float) -> None:
    """What the window asks of a video: the matched frame as a thumbnail, the preview's strip."""
    print("The window, per video (thumbnail: the frame at a time, 256 px; strip: 8 frames, 96 px):")
    print("| video | thumbnail at a time | preview strip |")
    print("|---|---|---|")
    seconds = round(minutes * 60)
    for label, size, length in (
        (f"1080p30, {seconds} s", (1920, 1080), seconds),
        ("4K30, 10 s", (3840, 2160), 10),
    ):
        path = work / f"window_{size[0]}.mp4"
        if not path.exists():
            write_video(path, length, size, 30)
        thumbnail = timed(lambda p=path, t=length: video_frame(p, t * 0.6, 256), runs=3)
        strip = timed(lambda p=path: frame_strip(p, 8, 96), runs=3)
        print(f"| {label} | {thumbnail * 1000:.0f} ms | {strip * 1000:.0f} ms |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--vitb32", action="store_true")
    parser.add_argument("--only", choices=["window"], help="run only this part")
    args = parser.parse_args()
    import torch

    print(f"PyAV {av.__version__}, {os.cpu_count()} cores, torch {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only == "window":
            bench_window(work, args.minutes)
            return
        tiny = load_embedder("lumen-tiny", TINY, work / "cache", "cpu")
        embedders = {"lumen-tiny": tiny}
        if args.vitb32:
            from benchmarks.fake_model_cache import make_fake_cache

            make_fake_cache(work / "cache")
            embedders["ViT-B-32"] = load_embedder(
                "ViT-B-32/laion2b_s34b_b79k", None, work / "cache", "cpu"
            )
        bench_video_cost(work, args.minutes, embedders)
        bench_frame_count(work, tiny)
        bench_raw(work)
        bench_window(work, args.minutes)


if __name__ == "__main__":
    main()
