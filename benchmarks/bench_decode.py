"""Times decoding a 12-megapixel JPEG: full decode + resize against extract_image's draft decode."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.core.extractors.images import extract_image

IMAGE_SIZE = 224
RUNS = 10
THREADED_IMAGES = 20


def make_photo(path: Path) -> None:
    """A 4000×3000 JPEG that compresses like a photo (~3.5 MB): smooth shapes plus grain."""
    rng = np.random.default_rng(0)
    height, width = 3000, 4000
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [128 + 80 * np.sin(x / 300 + c) * np.cos(y / 400 - c) for c in range(3)], axis=-1
    )
    blotches = rng.normal(0, 40, (height // 16, width // 16, 3)) + 128
    blotches_image = Image.fromarray(blotches.clip(0, 255).astype(np.uint8))
    coarse = np.asarray(blotches_image.resize((width, height), Image.Resampling.BICUBIC))
    grain = rng.normal(0, 6, (height, width, 3))
    pixels = base + coarse.astype(np.float32) - 128 + grain
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path, quality=91)


def full_decode_and_resize(path: Path) -> Image.Image:
    """What a naive loader does: decode every pixel, then shrink to the same output size."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    shortest = round(IMAGE_SIZE * 1.15)
    scale = shortest / min(rgb.size)
    size = (round(rgb.width * scale), round(rgb.height * scale))
    return rgb.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def draft_extract(path: Path) -> Image.Image:
    image = extract_image(path, IMAGE_SIZE).image
    assert image is not None
    return image


def time_ms(function: Callable[[Path], Image.Image], path: Path) -> list[float]:
    function(path)  # warm-up: plugin imports, file cache
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function(path)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def throughput(path: Path, threads: int) -> tuple[float, float]:
    """Images/s on ``threads`` threads, and how many cores the process kept busy meanwhile."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(draft_extract, [path] * threads))  # warm-up
        started, cpu_started = time.perf_counter(), time.process_time()
        list(pool.map(draft_extract, [path] * THREADED_IMAGES))
        wall = time.perf_counter() - started
        return THREADED_IMAGES / wall, (time.process_time() - cpu_started) / wall


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lumen-bench-") as folder:
        path = Path(folder) / "photo.jpg"
        make_photo(path)
        output = draft_extract(path).size
        print(
            f"Pillow {PIL.__version__}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs; {path.stat().st_size / 1e6:.1f} MB 4000×3000 JPEG "
            f"-> {output[0]}×{output[1]} RGB"
        )
        for label, function in (
            ("full decode + resize", full_decode_and_resize),
            ("extract_image (draft)", draft_extract),
        ):
            timings = time_ms(function, path)
            print(
                f"{label:<24} median {statistics.median(timings):6.1f} ms/image "
                f"(min {min(timings):.1f}, max {max(timings):.1f}, {RUNS} runs)"
            )
        for threads in (1, 2):
            rate, cores = throughput(path, threads)
            print(
                f"extract_image on {threads} thread(s): {rate:5.1f} images/s "
                f"({cores:.2f} cores busy; Pillow releases the GIL while decoding)"
            )


if __name__ == "__main__":
    main()
