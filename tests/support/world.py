"""Files shaped like those found in the world (not like Lumen's own): one writer per defect class.

Used by the unit tests and by ``benchmarks/bench_world_files.py``; everything is written locally.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
from PIL import Image

from tests.support.raw import write_dng
from tests.support.shapes import caption_for_text, render


def picture(
    text: str = "a red circle on the left", size: tuple[int, int] = (320, 240)
) -> Image.Image:
    """A captioned test picture (coloured shapes)."""
    return render(caption_for_text(text), size, seed=3)


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF of these objects (numbered from 1, the first the catalog) with a valid xref."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    path.write_bytes(out.getvalue())
    return path


def write_pdf_with_mediabox(path: Path, width: int, height: int, text: str = "Hello") -> Path:
    """A valid one-page PDF whose MediaBox is ``[0 0 width height]`` (a few hundred bytes)."""
    content = b"BT /F1 12 Tf 20 20 Td (%s) Tj ET" % text.encode("latin-1")
    return _write_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
                "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            ).encode(),
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
    )


def write_pdf_without_pages(path: Path) -> Path:
    """A well-formed PDF whose page tree is empty (no /Encrypt anywhere)."""
    return _write_pdf(
        path,
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"],
    )


def write_damaged_pdf(path: Path) -> Path:
    """A file that starts like a PDF and then stops: no objects, no trailer."""
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R")
    return path


def write_dng_with_exif_ifd(path: Path, sensor: Image.Image | None = None) -> Path:
    """A DNG as cameras write them: date, lens and exposure in an Exif IFD (tag 34665)."""
    return write_dng(path, sensor if sensor is not None else picture(), exif_ifd=True)


def write_truncated_raw(path: Path, keep: int = 12_000) -> Path:
    """A DNG cut after its first ``keep`` bytes (a copy interrupted, a card pulled out)."""
    full = write_dng(path, picture(size=(640, 480)), preview=picture(size=(64, 48)))
    data = full.read_bytes()
    path.write_bytes(data[:keep])
    return path


def write_grey16(path: Path, size: tuple[int, int] = (2000, 1600)) -> Path:
    """A 16-bit greyscale image (TIFF or PNG by suffix): a gradient using the whole range."""
    width, height = size
    ramp = np.linspace(0, 65535, width, dtype=np.float64)
    pixels = np.tile(ramp, (height, 1)).astype(np.uint16)
    pixels[height // 4 : height // 2, width // 4 : width // 2] = 60000
    Image.fromarray(pixels).save(path)  # uint16 → mode I;16
    return path


def write_mjpeg_video(path: Path, seconds: float = 2.0, size: tuple[int, int] = (160, 120)) -> Path:
    """A motion-JPEG video (.avi or .mov) as old cameras write: every frame a JPEG."""
    fps = 10
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p"
        for n in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.asarray(picture(size=size)), format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncate(path: Path, fraction: float) -> Path:
    """Cuts a file to ``fraction`` of its size (a download that stopped)."""
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * fraction))])
    return path


def write_picture_docx(path: Path, pictures: list[Image.Image]) -> Path:
    """A Word document holding only pictures (a scanned form, a photo report)."""
    import docx
    from docx.shared import Cm

    document = docx.Document()
    for item in pictures:
        buffer = io.BytesIO()
        item.save(buffer, "PNG")
        buffer.seek(0)
        document.add_picture(buffer, width=Cm(12))
    document.save(str(path))
    return path
