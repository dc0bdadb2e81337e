"""Phone and camera formats found by a query: HEIC, AVIF and RAW photos, videos at the moment.

One library (the tiny model) indexes a camera roll once: a JPEG of every caption, plus
the files under test; each test asks it something a user would.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.records import RAW
from desktop_app.core.storage.catalog import FileFilter
from tests.support.photos import file_name, write_shape_photos
from tests.support.raw import write_dng
from tests.support.settings import tiny_model_settings
from tests.support.shapes import COLOURS, caption_for_text, render
from tests.support.videos import write_shape_video

pytestmark = pytest.mark.slow  # indexes a camera roll with the tiny model

BLUE_RIGHT = caption_for_text("a blue square on the right")
PHOTOS = FileFilter(kinds=frozenset({"image"}))
VIDEOS = FileFilter(kinds=frozenset({"video"}))
RAWS = FileFilter(kinds=frozenset({RAW}))


def _write_camera_roll(folder: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()  # only to write the samples
    write_shape_photos(folder / "jpegs", seeds=(101,))
    render(caption_for_text("a purple square at the top"), (320, 240), seed=5).save(
        folder / "IMG_4001.HEIC", quality=90
    )
    render(caption_for_text("a black triangle on the left"), (320, 240), seed=5).save(
        folder / "IMG_4002.avif", quality=90
    )
    sensor = render(caption_for_text("a green circle on the right"), (320, 240), seed=5)
    write_dng(folder / "DSC_5001.DNG", sensor)  # a 320×240 preview: rendered from the mosaic
    # A RAW+JPEG pair of one shot, and a Live Photo (still + short video).
    pair = render(caption_for_text("a yellow square on the left"), (320, 240), seed=6)
    write_dng(folder / "img_6001.dng", pair)  # lower-cased by the computer it was copied with
    pair.save(folder / "IMG_6001.JPG", quality=90)
    live = caption_for_text("a green square at the bottom")
    render(live, (320, 240), seed=6).save(folder / "IMG_7001.HEIC", quality=90)
    write_shape_video(folder / "IMG_7001.MOV", [(live, 2)])
    write_shape_video(
        folder / "party.mp4", [(caption_for_text("a red circle on the left"), 4), (BLUE_RIGHT, 4)]
    )
    write_shape_video(
        folder / "garden.mov",
        [
            (caption_for_text("a green triangle at the top"), 3),
            (caption_for_text("a yellow circle at the bottom"), 3),
        ],
    )


@pytest.fixture(scope="module")
def roll(
    tmp_path_factory: pytest.TempPathFactory, tiny_weights: Path, tiny_embedder: Embedder
) -> Iterator[tuple[Library, Path]]:
    base = tmp_path_factory.mktemp("camera")
    folder = base / "camera roll"
    _write_camera_roll(folder)
    library = Library.open(
        tiny_model_settings(base, tiny_weights), embedder_loader=lambda _s: tiny_embedder
    )
    summary = library.index([folder])
    assert summary.failed == 0, summary.failures
    yield library, folder
    library.close()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("a purple square at the top", "IMG_4001.HEIC"),
        ("a black triangle on the left", "IMG_4002.avif"),
    ],
)
def test_heic_avif_and_raw_photos_are_found_by_what_they_show(
    roll: tuple[Library, Path], query: str, name: str
) -> None:
    library, _folder = roll
    top = [h.file.path.name for h in library.search(query, k=2).hits]
    assert name in top, top


@pytest.mark.parametrize(
    ("query", "name", "start", "end"),
    [
        ("a red circle on the left", "party.mp4", 0.0, 4.0),
        ("a blue square on the right", "party.mp4", 4.0, 8.0),
        ("a green triangle at the top", "garden.mov", 0.0, 3.0),
        ("a yellow circle at the bottom", "garden.mov", 3.0, 6.0),
    ],
)
def test_a_query_finds_the_video_and_the_moment(
    roll: tuple[Library, Path], query: str, name: str, start: float, end: float
) -> None:
    library, _folder = roll
    top = library.search(query, k=1, file_filter=VIDEOS).hits[0]
    assert top.file.path.name == name
    assert top.file.kind == "video"
    assert top.at_s is not None and start <= top.at_s < end
    assert top.file.duration_s is not None and top.file.duration_s > 5
    # Among photos and videos together, the video's frame ranks with the matching photos.
    names = [h.file.path.name for h in library.search(query, k=3).hits]
    assert name in names, names


def test_find_similar_goes_from_a_video_frame_to_photos_and_back(
    roll: tuple[Library, Path],
) -> None:
    library, folder = roll
    party = folder / "party.mp4"
    from_frame = library.similar(party, k=1, file_filter=PHOTOS, at_s=6.0).hits[0]
    assert from_frame.file.path.name == file_name(BLUE_RIGHT, 101)
    photo = folder / "jpegs" / file_name(BLUE_RIGHT, 101)
    back = library.similar(photo, k=1, file_filter=VIDEOS).hits[0]
    assert back.file.path == party
    assert back.at_s is not None and back.at_s >= 4.0


def test_status_counts_videos(roll: tuple[Library, Path]) -> None:
    library, _folder = roll
    assert library.status().kinds == {"image": 78, "video": 3, "raw": 2}  # 2 of the images


def _mostly(picture: Path | bytes, colour: tuple[int, int, int]) -> bool:
    """Whether most of the picture's pixels are near ``colour``."""
    with Image.open(picture if isinstance(picture, Path) else io.BytesIO(picture)) as image:
        pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int32)
    near = np.abs(pixels - np.array(colour)).sum(axis=-1) < 90
    return float(near.mean()) > 0.05 and bool(
        near.sum()
        >= max(
            (np.abs(pixels - np.array(other)).sum(axis=-1) < 90).sum() for other in COLOURS.values()
        )
    )


def test_the_window_shows_a_video_hit_at_its_moment(roll: tuple[Library, Path]) -> None:
    from desktop_app.host.protocol import Query
    from desktop_app.host.service import LibraryService

    library, folder = roll
    service = LibraryService(library)
    answer = service.query(Query("a blue square on the right", filters=VIDEOS, limit=1))
    [item] = answer.items
    assert item.path == folder / "party.mp4" and item.kind == "video"
    assert item.at_s is not None and 4.0 <= item.at_s < 8.0  # the blue scene
    assert item.duration_s == pytest.approx(8.0, abs=0.2)
    # The grid's thumbnail is the frame that matched (blue), not the poster frame (red).
    record = library.file(item.path)
    assert record is not None
    at_moment, poster = service.thumbnails(
        [
            (item.path, item.thumb_key, "video", item.at_s),
            (item.path, record.fingerprint, "video", None),
        ]
    )
    assert at_moment is not None and poster is not None and at_moment != poster
    assert _mostly(Path(at_moment), COLOURS["blue"]) and _mostly(Path(poster), COLOURS["red"])
    picture, details = service.picture(item.path, "video", 256, item.at_s)  # the preview
    assert picture is not None and "error" not in details and _mostly(picture, COLOURS["blue"])
    # The preview's strip: frames spread over the whole video, with their times.
    duration, strip = service.video_strip(item.path, 8, 96)
    assert duration == pytest.approx(8.0, abs=0.2)
    times = [at for at, _jpeg in strip]
    assert len(strip) >= 4 and times == sorted(times) and times[0] < 1.0 and times[-1] > 6.0
    assert _mostly(strip[0][1], COLOURS["red"]) and _mostly(strip[-1][1], COLOURS["blue"])


@pytest.mark.parametrize(
    ("query", "files"),
    [
        ("a yellow square on the left", {"img_6001.dng", "IMG_6001.JPG"}),
        ("a green square at the bottom", {"IMG_7001.HEIC", "IMG_7001.MOV"}),
    ],
)
def test_the_files_of_one_shot_are_one_result(
    roll: tuple[Library, Path], query: str, files: set[str]
) -> None:
    library, _folder = roll
    hits = library.search(query, k=10, show_all=True).hits
    of_the_shot = [h for h in hits if h.file.path.name in files]
    assert len(of_the_shot) == 1, [h.file.path.name for h in hits]
    [hit] = of_the_shot
    assert {hit.file.path.name, *(p.name for p in hit.companions)} == files


def test_find_similar_does_not_offer_the_other_file_of_the_same_shot(
    roll: tuple[Library, Path],
) -> None:
    library, folder = roll
    hits = library.similar(folder / "IMG_6001.JPG", k=5).hits
    assert "img_6001.dng" not in {h.file.path.name for h in hits}


def test_the_raw_filter_finds_raw_photos_with_the_jpeg_of_their_shot(
    roll: tuple[Library, Path],
) -> None:
    library, _folder = roll
    hits = library.search("a yellow square on the left", k=10, file_filter=RAWS, show_all=True).hits
    assert {h.file.path.name for h in hits} == {"DSC_5001.DNG", "img_6001.dng"}
    [shot] = [h for h in hits if h.file.path.name == "img_6001.dng"]
    assert [p.name for p in shot.companions] == ["IMG_6001.JPG"]
    assert hits[0] is shot  # the one that shows a yellow square first
