"""`lumen index` on files shaped like those found in the world: no chatter, no traceback,
plain reasons, hidden parents and picture-only documents handled."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.support import world


def lumen(data: Path, weights: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), "--model"]
    cmd += ["lumen-tiny", "--weights", str(weights), *args]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)


def _webp_tiff(path: Path) -> Path:
    """A TIFF marked WEBP-compressed: libtiff builds without WEBP print to fd 2 on it."""
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    data = bytearray(path.read_bytes())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * index
        if struct.unpack_from("<H", data, entry)[0] == 259:
            struct.pack_into("<H", data, entry + 8, 50001)
    path.write_bytes(bytes(data))
    return path


def test_indexing_odd_files_inside_a_hidden_folder(tmp_path: Path, tiny_weights: Path) -> None:
    folder = tmp_path / ".cache" / "exports"  # named by the user: indexed though hidden
    folder.mkdir(parents=True)
    world.write_dng_with_exif_ifd(folder / "camera.dng")
    world.write_grey16(folder / "scan.tif")
    world.write_truncated_raw(folder / "cut.dng")
    world.write_pdf_with_mediabox(folder / "tall.pdf", 595, 2147483647, text="")
    world.write_picture_docx(folder / "photos.docx", [world.picture()])
    _webp_tiff(folder / "webp.tif")
    (folder / "drawing.svg").write_text("<svg/>")

    done = lumen(tmp_path / "data", tiny_weights, "index", str(folder))

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "WEBP compression support" not in done.stderr  # libtiff's own line: debug log only
    assert "UserWarning" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("WARNING: Skipped")]
    reasons = "\n".join(lines)
    assert "cut.dng: truncated RAW photo" in reasons
    assert "tall.pdf: page too large to render" in reasons
    assert "webp.tif: a variant of TIFF image Lumen cannot read" in reasons
    assert len(lines) == 3, reasons  # the DNG, the 16-bit scan and the picture document indexed
    status = lumen(tmp_path / "data", tiny_weights, "status")
    assert status.returncode == 0 and "Traceback" not in status.stderr
