"""The catalog's tags part: automatic tags and the user's own, each call one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from desktop_app.core.records import FileFilter, FileRecord, Tag
from desktop_app.core.storage import tag_store
from desktop_app.core.storage.catalog_db import CatalogPart


class CatalogTags(CatalogPart):
    """Tags of files (the rows live in ``tag_store``; this part gives each call its session)."""

    def files_to_tag(self, space: str, version: str, limit: int = 500) -> list[int]:
        """Indexed files with image vectors whose automatic tags are missing or out of date."""
        with self._db.session() as s:
            return tag_store.files_to_tag(s, space, version, limit)

    def image_vectors(self, file_ids: Sequence[int], space: str) -> dict[int, np.ndarray]:
        """Each file's image vectors (a photo's one, a video's frames), one row each."""
        with self._db.session() as s:
            return tag_store.image_vectors(s, file_ids, space)

    def store_auto_tags(self, version: str, tags: dict[int, list[tuple[str, float]]]) -> None:
        """Replace these files' automatic tags (the user's own stay) and mark them tagged."""
        if tags:
            with self._db.session() as s:
                tag_store.store_auto(s, version, tags)

    def tags_of(self, file_ids: Iterable[int]) -> dict[int, list[Tag]]:
        """The tags shown for each file: the user's first, then automatic ones by score."""
        return tag_store.tags_of(self._db, file_ids)

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag in use with how many files carry it, most used first."""
        with self._db.session() as s:
            return tag_store.counts(s)

    def tagged_files(
        self, file_filter: FileFilter, limit: int
    ) -> list[tuple[FileRecord, float | None]]:
        """Files with the filter's tags, surest first (a user's tag has no score)."""
        with self._db.session() as s:
            return tag_store.tagged_files(s, file_filter, limit)

    def set_user_tag(self, file_id: int, tag: str, present: bool) -> bool:
        """Add (``present``) or remove a tag of a file; whether anything changed."""
        with self._db.session() as s:
            return tag_store.set_user_tag(s, file_id, tag, present)
