"""Real photos of two people (public domain, tests/fixtures/faces) and variants built from them:
resized, cropped, flipped, greyscale, brightened and placed in larger pictures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageEnhance, ImageOps

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "faces"
PEOPLE = {"astronaut": "astronaut.jpg", "hopper": "hopper.jpg"}
NO_FACES = ("cat.jpg", "coffee.jpg")
# Where each person's face is in their photo (left, top, right, bottom), for the crops.
_FACE_AREA = {"astronaut": (120, 20, 330, 230), "hopper": (10, 0, 118, 110)}


def photo(name: str) -> Image.Image:
    """A fixture photo by file name, RGB."""
    return Image.open(FIXTURES / name).convert("RGB")


def _scaled(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def _placed(face: Image.Image, beside: Image.Image, canvas: tuple[int, int]) -> Image.Image:
    """``face`` and ``beside`` side by side on a larger grey picture."""
    out = Image.new("RGB", canvas, (96, 104, 112))
    out.paste(beside, (0, canvas[1] - beside.height))
    out.paste(face, (canvas[0] - face.width, 0))
    return out


def variants(person: str) -> dict[str, Image.Image]:
    """The person's photo and its variants, by name; every one shows the face at >= 80 px."""
    base = photo(PEOPLE[person])
    if base.width < 256:  # a small portrait: its variants are enlarged first
        base = _scaled(base, 3.0)
    cat = _scaled(photo("cat.jpg"), 0.8)
    makers: dict[str, Callable[[], Image.Image]] = {
        "original": lambda: base,
        "smaller": lambda: _scaled(base, 0.7),
        "larger": lambda: _scaled(base, 1.6),
        "cropped": lambda: base.crop(_crop(person, base)),
        "flipped": lambda: ImageOps.mirror(base),
        "greyscale": lambda: ImageOps.grayscale(base).convert("RGB"),
        "brighter": lambda: ImageEnhance.Brightness(base).enhance(1.4),
        "placed": lambda: _placed(base, cat, (base.width + cat.width + 200, base.height + 300)),
    }
    return {name: make() for name, make in makers.items()}


def _crop(person: str, base: Image.Image) -> tuple[int, int, int, int]:
    scale = base.width / photo(PEOPLE[person]).width
    left, top, right, bottom = _FACE_AREA[person]
    return (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))


def write_people_photos(folder: Path) -> dict[str, list[Path]]:
    """Every variant of both people, and the photos without faces, as JPEG files in ``folder``;
    the paths by person ("" for the photos without anyone)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    for person in PEOPLE:
        for name, image in variants(person).items():
            path = folder / f"{person}-{name}.jpg"
            image.save(path, quality=92)
            out.setdefault(person, []).append(path)
    for name in NO_FACES:
        path = folder / name
        photo(name).save(path, quality=92)
        out.setdefault("", []).append(path)
    return out


def write_face_video(path: Path, person: str, seconds: float = 2.0, fps: int = 10) -> Path:
    """A short video of the person's photo slowly drifting (keyframe every half second)."""
    base = photo(PEOPLE[person])
    if base.width < 256:
        base = _scaled(base, 3.0)
    width, height = base.width + 64, base.height + 32
    width, height = width - width % 2, height - height % 2
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = max(1, fps // 2)
        for i in range(round(seconds * fps)):
            canvas = Image.new("RGB", (width, height), (40, 40, 40))
            canvas.paste(base, (i * 2 % 64, i % 32))
            frame = av.VideoFrame.from_ndarray(np.asarray(canvas), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def many_faces(count: int, face_px: int, columns: int = 20, gap: float = 2.0) -> Image.Image:
    """A picture holding ``count`` copies of a real face, each about ``face_px`` wide (a crowd),
    ``columns`` to a row, each in a cell ``gap`` times its size."""
    face = photo(PEOPLE["astronaut"]).crop((165, 65, 275, 175))  # the face and a little more
    face = face.resize((face_px, face_px))
    cell = round(face_px * gap)
    rows = -(-count // columns)
    out = Image.new("RGB", (columns * cell, rows * cell), (200, 200, 200))
    for i in range(count):
        out.paste(face, ((i % columns) * cell, (i // columns) * cell))
    return out
