"""Pictures inside Office Open XML and OpenDocument files (a .docx of scans, a photo report).

A document whose content is pictures has no text to index; its largest picture becomes its
cover, embedded by the image tower as a PDF's first page is.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.images import extract_image_data
from desktop_app.core.extractors.limits import check_time

__all__ = ["MAX_PICTURE_BYTES", "largest_picture", "picture_members"]

log = logging.getLogger(__name__)

# Folders where each format keeps its embedded pictures.
_MEDIA_FOLDERS = ("word/media/", "ppt/media/", "xl/media/", "Pictures/")
# Raster pictures Pillow reads (EMF, WMF and SVG drawings are not read).
_PICTURE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".gif", ".bmp", ".tif", ".tiff", ".webp"}
)
# A picture larger than this (uncompressed) is not read; nor one that is tiny (icons, bullets).
MAX_PICTURE_BYTES = 64_000_000
_MIN_PICTURE_BYTES = 2_000
# Pictures tried, largest first, before the document is said to have none readable.
_TRIES = 3


def picture_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The embedded raster pictures worth reading, largest first."""
    found = [
        info
        for info in archive.infolist()
        if info.filename.startswith(_MEDIA_FOLDERS)
        and Path(info.filename).suffix.lower() in _PICTURE_SUFFIXES
        and _MIN_PICTURE_BYTES <= info.file_size <= MAX_PICTURE_BYTES
    ]
    return sorted(found, key=lambda info: -info.file_size)


def largest_picture(path: Path, image_size: int = 224) -> Image.Image | None:
    """The largest readable picture embedded in the document at ``path``, sized for the image
    tower (shortest side about 1.15 × ``image_size``); ``None`` when it holds none."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in picture_members(archive)[:_TRIES]:
                check_time()
                with archive.open(info) as member:
                    data = member.read(MAX_PICTURE_BYTES + 1)
                try:
                    return extract_image_data(data, image_size).image
                except ExtractionError as exc:
                    log.debug("%s: picture %s skipped: %s", path, info.filename, exc)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        log.debug("%s: pictures not read: %s", path, exc)
    return None
