"""On-disk thumbnail cache keyed by content fingerprint, safe to fill from a thread pool."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.images import open_for_display

__all__ = ["Renderer", "ThumbnailCache"]

log = logging.getLogger(__name__)

Renderer = Callable[[Path, int], Image.Image]
"""Makes a picture of ``path`` whose longest side is about the given size."""

# Opaque thumbnails are JPEG (a 256-px photo is ~15 KB, a PNG of it ~120 KB); those with real
# transparency are PNG. Both are read by Qt's built-in image plugins, unlike WebP.
_JPEG_QUALITY = 85
_SUFFIXES = (".jpg", ".png")
_FINGERPRINT = re.compile(r"[0-9a-fA-F]{2,128}")
_TEMP_SUFFIX = ".tmp"
_STALE_TEMP_SECONDS = 3600.0  # a temp file this old belongs to a writer that died
_LOCK_STRIPES = 64


class ThumbnailCache:
    """Thumbnails under ``directory/<first 2 hex digits>/<fingerprint>.jpg|.png``.

    A file's fingerprint changes whenever its content does, so a cached thumbnail never goes
    stale. Safe to call from several threads: work on one fingerprint is serialised, files
    appear atomically. ``size`` is not part of the file name: use one directory per size.
    """

    def __init__(self, directory: Path, size: int = 256) -> None:
        if size < 1:
            raise ValueError(f"thumbnail size must be positive, not {size}")
        self.directory = directory
        self.size = size
        self._locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    def path_for(self, fingerprint: str) -> Path:
        """Where the thumbnail lives: the ``.png`` if one was cached, else the ``.jpg`` path.

        The file may not exist yet; ``get`` creates it.
        """
        jpeg, png = self._candidates(fingerprint)
        return png if png.exists() else jpeg

    def get(self, source: Path, fingerprint: str, render: Renderer | None = None) -> Path | None:
        """The cached thumbnail of ``source``, made first if needed; ``None`` if unreadable.

        ``render`` replaces the default (the image opened with ``open_for_display``), e.g.
        for documents. It may raise ``ExtractionError``; that is logged, not raised.
        """
        candidates = self._candidates(fingerprint)
        with self._locks[zlib.crc32(fingerprint.encode("ascii")) % _LOCK_STRIPES]:
            for candidate in candidates:
                if _non_empty(candidate):
                    return candidate
            try:
                picture = (render or open_for_display)(source, self.size)
            except ExtractionError as exc:
                log.info("no thumbnail for %s: %s", source, exc)
                return None
            try:
                return self._write(candidates, _fitted(picture, self.size))
            except OSError as exc:
                log.warning("cannot save thumbnail for %s: %s", source, exc.strerror or exc)
                return None

    def discard(self, fingerprint: str) -> None:
        """Deletes the thumbnail of ``fingerprint``, if there is one."""
        for candidate in self._candidates(fingerprint):
            candidate.unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> int:
        """Deletes thumbnails of fingerprints not in ``keep``, and abandoned temp files.

        Leaves files it did not write alone. Returns how many files it deleted.
        """
        removed = 0
        stale_before = time.time() - _STALE_TEMP_SECONDS
        try:
            shards = [entry for entry in self.directory.iterdir() if entry.is_dir()]
        except FileNotFoundError:
            return 0
        for shard in shards:
            if len(shard.name) != 2 or not _FINGERPRINT.fullmatch(shard.name):
                continue
            for entry in shard.iterdir():
                if not _is_ours(entry.name) or _is_fresh_temp(entry, stale_before):
                    continue
                stem, suffix = os.path.splitext(entry.name)
                if suffix in _SUFFIXES and stem in keep:
                    continue
                try:
                    entry.unlink()
                except FileNotFoundError:
                    continue  # a concurrent discard got there first
                removed += 1
        if removed:
            log.info("removed %d unused thumbnails from %s", removed, self.directory)
        return removed

    def _candidates(self, fingerprint: str) -> tuple[Path, Path]:
        if not _FINGERPRINT.fullmatch(fingerprint):
            raise ValueError(f"not a hex fingerprint: {fingerprint!r}")
        shard = self.directory / fingerprint[:2]
        jpeg, png = (shard / (fingerprint + suffix) for suffix in _SUFFIXES)
        return jpeg, png

    def _write(self, candidates: tuple[Path, Path], picture: Image.Image) -> Path:
        jpeg, png = candidates
        target = png if picture.mode == "RGBA" else jpeg
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=_TEMP_SUFFIX, dir=target.parent
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                if target is png:
                    picture.save(stream, format="PNG")
                else:
                    icc_profile = picture.info.get("icc_profile")
                    picture.save(
                        stream, format="JPEG", quality=_JPEG_QUALITY, icc_profile=icc_profile
                    )
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        return target


def _non_empty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _is_ours(name: str) -> bool:
    if name.startswith(".") and name.endswith(_TEMP_SUFFIX):
        return True
    stem, suffix = os.path.splitext(name)
    return suffix in _SUFFIXES and _FINGERPRINT.fullmatch(stem) is not None


def _is_fresh_temp(entry: Path, stale_before: float) -> bool:
    if not entry.name.endswith(_TEMP_SUFFIX):
        return False
    try:
        return entry.stat().st_mtime >= stale_before
    except FileNotFoundError:
        return True  # already renamed into place or removed


def _fitted(picture: Image.Image, size: int) -> Image.Image:
    """A new RGBA image if any pixel is transparent, else RGB; longest side at most ``size``.

    Only the colour profile is kept from ``picture.info``: an EXIF orientation carried over
    would make viewers turn the already upright pixels again.
    """
    has_alpha = picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        "transparency" in picture.info
    )
    if has_alpha:
        picture = picture.convert("RGBA")
        low_alpha, _high = picture.getchannel("A").getextrema()
        if isinstance(low_alpha, (int, float)) and low_alpha >= 255:
            picture = picture.convert("RGB")  # an alpha channel with nothing transparent in it
    else:
        picture = picture.convert("RGB")
    if max(picture.size) > size:
        scale = size / max(picture.size)
        picture = picture.resize(
            (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
            Image.Resampling.BICUBIC,
        )
    icc_profile = picture.info.get("icc_profile")
    picture.info = {"icc_profile": icc_profile} if icc_profile else {}
    return picture
