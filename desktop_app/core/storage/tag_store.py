"""The catalog's tags table: automatic tags and the user's own, read and written in a session.

The catalog calls these inside its transactions, so a file's tags and its keyword-index rows
(where tags are searchable words) change together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.records import INDEXED, FileFilter, FileRecord, Tag
from desktop_app.core.storage import fast_reads
from desktop_app.core.storage.catalog_db import CatalogDb
from desktop_app.core.storage.catalog_values import decode_vector

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Where a tag came from: the model ("auto"), the user ("user"), or an automatic tag the user
# removed ("hidden": kept so that tagging again does not bring it back).
AUTO, USER, HIDDEN = "auto", "user", "hidden"
_SHOWN = (AUTO, USER)


def files_to_tag(s: Session, space: str, version: str, limit: int) -> list[int]:
    """Indexed files with image vectors whose automatic tags are missing or out of date."""
    from desktop_app.core.storage.orm import FileRow, VectorRow, select

    has_image = select(VectorRow.file_id).where(VectorRow.space == space, VectorRow.role == "image")
    query = (
        select(FileRow.id)
        .where(FileRow.status == INDEXED, FileRow.id.in_(has_image))
        .where((FileRow.tags_version.is_(None)) | (FileRow.tags_version != version))
        .order_by(FileRow.id)
        .limit(limit)
    )
    return list(s.scalars(query))


def image_vectors(s: Session, file_ids: Sequence[int], space: str) -> dict[int, np.ndarray]:
    """Each file's image vectors (a photo's one, a video's frames), one row each."""
    from desktop_app.core.storage.orm import VectorRow, select

    found: dict[int, list[np.ndarray]] = {}
    rows = s.execute(
        select(VectorRow.file_id, VectorRow.embedding).where(
            VectorRow.file_id.in_(list(file_ids)),
            VectorRow.space == space,
            VectorRow.role == "image",
        )
    )
    for file_id, blob in rows:
        found.setdefault(file_id, []).append(decode_vector(blob))
    return {f: np.stack(v) for f, v in found.items()}


def store_auto(s: Session, version: str, tags: Mapping[int, Sequence[tuple[str, float]]]) -> None:
    """Replace the automatic tags of these files; the user's own and those they removed stay."""
    from desktop_app.core.storage import keyword_index
    from desktop_app.core.storage.orm import FileRow, TagRow, delete, select, update

    ids = list(tags)
    s.execute(delete(TagRow).where(TagRow.file_id.in_(ids), TagRow.source == AUTO))
    kept = {
        (f, t)
        for f, t in s.execute(select(TagRow.file_id, TagRow.tag).where(TagRow.file_id.in_(ids)))
    }
    s.add_all(
        TagRow(file_id=file_id, tag=tag, source=AUTO, score=score)
        for file_id, file_tags in tags.items()
        for tag, score in file_tags
        if (file_id, tag) not in kept
    )
    s.execute(update(FileRow).where(FileRow.id.in_(ids)).values(tags_version=version))
    s.flush()
    keyword_index.refresh_tags(s, ids)


def tags_of(db: CatalogDb, file_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """The tags shown for each file: the user's first, then automatic ones by score (plain
    SQL: every search reads the tags of its page of results)."""
    out: dict[int, list[Tag]] = {}
    sql = (
        "SELECT file_id, tag, source, score FROM tags WHERE file_id IN ({ids}) "
        "AND source IN (?, ?) ORDER BY file_id, source = ? DESC, score DESC, tag"
    )
    for file_id, tag, source, score in fast_reads.rows_by_ids(db, sql, file_ids, (*_SHOWN, USER)):
        out.setdefault(file_id, []).append(Tag(tag, source, score))
    return out


def counts(s: Session) -> list[tuple[str, int]]:
    """Every tag in use with how many indexed files carry it, most used first."""
    from desktop_app.core.storage.orm import FileRow, TagRow, func, select

    n = func.count(TagRow.file_id)
    query = (
        select(TagRow.tag, n)
        .join(FileRow, FileRow.id == TagRow.file_id)
        .where(TagRow.source.in_(_SHOWN), FileRow.status == INDEXED)
        .group_by(TagRow.tag)
        .order_by(n.desc(), TagRow.tag)
    )
    return [(tag, int(count)) for tag, count in s.execute(query)]


def tagged_files(
    s: Session, file_filter: FileFilter, limit: int
) -> list[tuple[FileRecord, float | None]]:
    """Indexed files passing ``file_filter`` (which names tags), surest first: the user's
    tags, then by the automatic tags' scores."""
    from desktop_app.core.storage.orm import FileRow, TagRow, apply_filter, func, select

    best = (
        select(TagRow.file_id, func.max(func.coalesce(TagRow.score, 1e9)).label("score"))
        .where(TagRow.tag.in_(sorted(file_filter.tags)), TagRow.source.in_(_SHOWN))
        .group_by(TagRow.file_id)
        .subquery()
    )
    query = select(FileRow, best.c.score).join(best, best.c.file_id == FileRow.id)
    query = apply_filter(query.where(FileRow.status == INDEXED), file_filter)
    rows = s.execute(query.order_by(best.c.score.desc(), FileRow.path).limit(limit))
    return [(FileRecord.from_row(row), None if score >= 1e9 else score) for row, score in rows]


def set_user_tag(s: Session, file_id: int, tag: str, present: bool) -> bool:
    """Give a file a tag of the user's, or take one away (an automatic one stays away).

    Returns whether anything changed.
    """
    from desktop_app.core.storage import keyword_index
    from desktop_app.core.storage.orm import TagRow

    row = s.get(TagRow, (file_id, tag))
    if present:
        if row is not None and row.source == USER:
            return False
        if row is None:
            s.add(TagRow(file_id=file_id, tag=tag, source=USER, score=None))
        else:
            row.source, row.score = USER, None
    else:
        if row is None or row.source == HIDDEN:
            return False
        if row.source == USER:
            s.delete(row)
        else:
            row.source = HIDDEN
    s.flush()
    keyword_index.refresh_tags(s, [file_id])
    return True
