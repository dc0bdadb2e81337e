"""The vector index's native library must not break the photo libraries loaded after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_AFTER_THE_INDEX = """
import sys
import desktop_app.core.storage.vector_graph  # the index's graph library, loaded first
import pillow_heif
from PIL import Image
pillow_heif.register_heif_opener()
Image.new("RGB", (64, 48), (200, 30, 30)).save(sys.argv[1], format="HEIF", quality=90)
with Image.open(sys.argv[1]) as read:
    print(read.size, read.convert("RGB").getpixel((10, 10)))
"""


def test_a_heic_photo_is_written_and_read_after_the_index_library_loads(tmp_path: Path) -> None:
    # A fresh process: which native library loads first decides the outcome.
    photo = tmp_path / "phone.heic"
    done = subprocess.run(
        [sys.executable, "-c", _AFTER_THE_INDEX, str(photo)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    size, pixel = done.stdout.strip().split(") (")
    assert size == "(64, 48"
    red, green, blue = (int(v) for v in pixel.rstrip(")").split(","))
    assert red > 150 and green < 90 and blue < 90
