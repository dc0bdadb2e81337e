"""One shot, several files: a RAW beside its JPEG/HEIC, a Live Photo's still beside its short video.

Files of one folder with the same name up to the extension, where one is a RAW and the other a
processed photo, or one a photo and the other a video, are one result: the best-ranked file is
the hit and the others ride along as its ``companions``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

# (the extensions alone: the extractors import Pillow, which a search need not load)
from desktop_app.core.extractors.suffixes import PHOTO_SUFFIXES, VIDEO_EXTENSIONS
from desktop_app.core.query.query_text import SearchResults
from desktop_app.core.records import RAW_EXTENSIONS
from desktop_app.core.storage.catalog import Catalog

__all__ = ["pair_up", "same_shot"]


def _sort(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in RAW_EXTENSIONS:
        return "raw"
    if suffix in PHOTO_SUFFIXES:
        return "photo"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return "other"


def same_shot(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are two files of one shot (RAW + photo, or photo + Live video)."""
    if a == b or a.parent != b.parent or a.stem.lower() != b.stem.lower():
        return False
    sorts = {_sort(a), _sort(b)}
    return sorts in ({"raw", "photo"}, {"photo", "video"})


def pair_up(results: SearchResults, catalog: Catalog) -> SearchResults:
    """``results`` with the files of one shot merged into its best-ranked hit's ``companions``.

    Companions come from the hits themselves and from the catalog (a RAW ranked below the page
    is still offered beside its JPEG).
    """
    kept = []
    taken: set[Path] = set()
    # Only pictures and videos pair: a document's name is not looked up (a page of a docs
    # tree's "README.md" files matched every README of the library).
    shots = [hit.file.path for hit in results.hits if _sort(hit.file.path) != "other"]
    named_alike = catalog.files_named_like_each(
        shots, {hit.file.path: hit.file for hit in results.hits}
    )
    for hit in results.hits:
        if hit.file.path in taken:
            continue
        companions = [
            record.path
            for record in named_alike.get(hit.file.path, ())
            if same_shot(hit.file.path, record.path)
        ]
        taken.update(companions)
        taken.add(hit.file.path)
        alone = not companions and not hit.companions  # (most hits: no copy made)
        kept.append(
            hit if alone else dataclasses.replace(hit, companions=tuple(sorted(companions)))
        )
    merged = len(results.hits) - len(kept)
    return dataclasses.replace(results, hits=kept, hidden=max(0, results.hidden - merged))
